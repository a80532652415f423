"""Which llama.cpp server runs the embedded model, and with what command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hugginggpt import embedded
from hugginggpt.settings import SettingsError
from hugginggpt_cli.command import main


def test_llama_server_gets_a_context_per_slot_and_the_project_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "llama_server_binary", lambda: Path("/opt/llama-server"))
    command = embedded.server_command(Path("m.gguf"), "m", "127.0.0.1", 8080, 8192, 2, "llama-server", parallel=4)
    assert command[0] == "/opt/llama-server"
    assert command[command.index("--ctx-size") + 1] == str(8192 * 4)
    assert command[command.index("--parallel") + 1] == "4"
    assert command[command.index("--alias") + 1] == "m"
    assert command[command.index("--batch-size") + 1] == str(embedded.LLM_BATCH)


def test_each_server_is_spoken_to_in_its_own_structured_output_dialect() -> None:
    assert set(embedded.SCHEMA_DIALECTS) == set(embedded.SERVERS)
    assert embedded.SCHEMA_DIALECTS["llama-cpp-python"] == "json_object"  # it rejects json_schema


def test_the_server_kind_comes_from_the_environment() -> None:
    assert embedded.server_kind({}) == embedded.SERVERS[0]
    assert embedded.server_kind({"HUGGINGGPT_LLM_SERVER": "llama-cpp-python"}) == "llama-cpp-python"
    with pytest.raises(SettingsError, match="HUGGINGGPT_LLM_SERVER must be one of"):
        embedded.server_kind({"HUGGINGGPT_LLM_SERVER": "ollama"})


def test_a_wrong_server_setting_is_a_clear_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("HUGGINGGPT_LLM_SERVER", "ollama")
    monkeypatch.setenv("HUGGINGGPT_RUN_DIR", str(tmp_path))
    assert main(["status"]) == 2
    assert "HUGGINGGPT_LLM_SERVER must be one of" in capsys.readouterr().err

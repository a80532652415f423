"""The whole stack as in production (separate processes, real LLM, real models): the demo request end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEMO = ("What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list the "
        "named entities in it.")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    run_dir = tmp_path_factory.mktemp("stack")
    env = dict(os.environ, HUGGINGGPT_RUN_DIR=str(run_dir), HUGGINGGPT_PORT_OFFSET="1000")
    env.pop("HUGGINGGPT_LLM_BASE_URL", None)
    cli = [sys.executable, "-m", "hugginggpt_cli"]
    up = subprocess.run([*cli, "up"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield env
    finally:
        subprocess.run([*cli, "down"], env=env, cwd=ROOT, capture_output=True, timeout=60)
        for log in sorted(run_dir.glob("*.log")):
            sys.stderr.write(f"--- {log.name} (tail)\n{log.read_text(errors='replace')[-1500:]}\n")


def ask(env: dict[str, str], request: str, *files: str, out: Path) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "hugginggpt_cli", "ask", request, "--out", str(out)]
    for name in files:
        args += ["--file", str(ROOT / "examples" / "media" / name)]
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_demo_request_is_planned_run_and_answered(stack: dict[str, str], tmp_path: Path) -> None:
    result = ask(stack, DEMO, "invoice_text.png", "speech_fox.wav", out=tmp_path)
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    # Both files are read by the right real models...
    assert re.search(r"task \d+ document-question-answering succeeded on hugginggpt/llm-expert", output), output
    assert re.search(r"task \d+ automatic-speech-recognition succeeded on openai/whisper-tiny.en", output), output
    # ...and the answer carries the total and the transcript, whatever else the 0.5B model writes.
    answer = output.split("answer:", 1)[-1]
    assert "42.50" in answer, output
    assert re.search(r"quick brown fox", answer, re.IGNORECASE), output
    assert "failed" not in re.findall(r"task \d+ \S+ (\w+)", output)
    # The full plan: a question about the invoice image (tesseract reads it, the LLM as expert answers) and
    # speech recognition -> token classification, each step on its real model (the entities on spaCy).
    planned = set(re.findall(r"^planned  task \d+ (\S+)", output, re.MULTILINE))
    wanted = {"document-question-answering", "automatic-speech-recognition", "token-classification"}
    sys.stderr.write(f"demo plan: {sorted(planned)}\n")
    assert planned == wanted, output
    assert re.search(r"task \d+ token-classification succeeded on spacy/en_core_web_md", output), output


def test_a_file_that_does_not_exist_is_a_clear_error(stack: dict[str, str], tmp_path: Path) -> None:
    result = ask(stack, "Describe missing.png", "missing.png", out=tmp_path)
    assert result.returncode != 0
    assert "missing.png" in result.stderr and "Traceback" not in result.stderr

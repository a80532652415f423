"""A process whose port is still held when it starts (a killed server's connections in TIME_WAIT) is started again."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from hugginggpt_cli import launcher
from hugginggpt_cli.launcher import Proc, Stack, StackSettings

# Fails like llama-server on its first start (a marker file remembers it), then serves /ok on the port.
SERVER = """
import http.server, pathlib, sys
marker = pathlib.Path(sys.argv[2])
if not marker.exists():
    marker.write_text("tried")
    print("E srv start: couldn't bind HTTP server socket, hostname: 127.0.0.1", flush=True)
    sys.exit(1)
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proc: Proc) -> Stack:
    monkeypatch.setenv("HUGGINGGPT_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("HUGGINGGPT_STARTUP_TIMEOUT_SECONDS", "30")
    monkeypatch.setattr(launcher, "processes", lambda s: ([proc], "-"))
    monkeypatch.setattr(launcher, "stack_env", lambda s, alias: {})
    return Stack(StackSettings.from_env())


def test_a_server_whose_port_was_busy_is_started_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    proc = Proc("web", (sys.executable, str(script), str(port), str(tmp_path / "marker")), port, False, "/ok")
    stack = _stack(tmp_path, monkeypatch, proc)
    try:
        assert stack.up(out=None) == {"web": f"127.0.0.1:{port}"}
        assert "couldn't bind" in (tmp_path / "web.log").read_text()  # it failed once, then came up
    finally:
        stack.down(grace=2)


def test_a_server_that_fails_for_another_reason_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = Proc("web", (sys.executable, "-c", "print('model file missing'); raise SystemExit(1)"), _free_port(),
                False, "/ok")
    stack = _stack(tmp_path, monkeypatch, proc)
    with pytest.raises(RuntimeError, match="(?s)web exited during start-up.*model file missing"):
        stack.up(out=None)

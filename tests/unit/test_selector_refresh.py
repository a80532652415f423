"""catalog refresh against recorded Hub responses served by a local HTTP server (never the internet)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from services.selector import catalog_refresh

RECORDED = [{"id": "Helsinki-NLP/opus-mt-de-en", "_id": "1", "modelId": "Helsinki-NLP/opus-mt-de-en",
             "pipeline_tag": "translation", "downloads": 240106, "likes": 10, "tags": ["translation", "license:cc"],
             "cardData": {"language": ["de", "en"], "license": "cc-by-4.0"}}]


class Hub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps(RECORDED if self.path.startswith("/api/models") else {}).encode()
        self.send_response(200 if self.path.startswith("/api/models") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test suite runs with HF_HUB_OFFLINE=1; these tests talk to a local fake Hub only."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


def test_refresh_writes_a_catalogue_from_the_hub(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "catalog.jsonl"
    try:
        code = catalog_refresh.main(["--output", str(out), "--task", "translation",
                                     "--endpoint", f"http://127.0.0.1:{server.server_port}"])
    finally:
        server.shutdown()
    assert code == 0
    row = json.loads(out.read_text().splitlines()[0])
    assert row["id"] == "Helsinki-NLP/opus-mt-de-en" and row["language"] == ["de", "en"]
    assert "from German to English" in row["description"] and "license:cc" not in row["tags"]


def test_refresh_fails_cleanly_when_the_hub_is_unreachable(tmp_path: Path) -> None:
    out = tmp_path / "catalog.jsonl"
    assert catalog_refresh.main(["--output", str(out), "--task", "translation",
                                 "--endpoint", "http://127.0.0.1:9"]) == 1
    assert not out.exists()

"""A scripted OpenAI-compatible chat endpoint on loopback, for tests and benchmarks that must not wait on an LLM.

Rules map a substring of the prompt to a reply; the first rule whose key occurs in the prompt answers, "" is the
default. Streaming (SSE) and usage are supported. Run standalone:
`python -m tests.doubles.fake_llm --port 9999 --rules rules.json`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Replier = Callable[[list[dict[str, Any]]], str]


def rule_replier(rules: dict[str, str]) -> Replier:
    """A replier answering with the value of the first key found in the prompt."""

    def reply(messages: list[dict[str, Any]]) -> str:
        prompt = "\n".join(str(m.get("content", "")) for m in messages)
        for key, value in rules.items():
            if key and key in prompt:
                return value
        return rules.get("", "")

    return reply


class FakeLlm:
    """The server; `calls` records every request body it received."""

    def __init__(self, replier: Replier, model: str = "fake-llm", delay: float = 0.0) -> None:
        self.replier = replier
        self.model = model
        self.delay = delay
        self.interrupted = False  # streams end with [DONE] but no finish reason, as an interrupted one does
        self.calls: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeLlm:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._json({"object": "list", "data": [{"id": fake.model, "object": "model", "owned_by": "me"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.calls.append(body)
                if fake.delay:
                    time.sleep(fake.delay)
                text = fake.replier(body.get("messages", []))
                usage = {"prompt_tokens": 10, "completion_tokens": max(1, len(text) // 4),
                         "total_tokens": 10 + max(1, len(text) // 4)}
                if body.get("stream"):
                    self._stream(text, usage)
                else:
                    self._json({"id": "c", "object": "chat.completion", "created": 0, "model": fake.model,
                                "choices": [{"index": 0, "finish_reason": "stop",
                                             "message": {"role": "assistant", "content": text}}],
                                "usage": usage})

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text: str, usage: dict[str, int]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [text[i:i + 8] for i in range(0, len(text), 8)] or [""]
                for index, piece in enumerate(pieces):
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": fake.model,
                             "choices": [{"index": 0, "delta": {"content": piece},
                                          "finish_reason": "stop" if index == len(pieces) - 1
                                          and not fake.interrupted else None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                final = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": fake.model,
                         "choices": [], "usage": usage}
                self.wfile.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rules", required=True, help="JSON file mapping prompt substrings to replies")
    parser.add_argument("--model", default="fake-llm")
    args = parser.parse_args()
    with open(args.rules) as f:
        rules = json.load(f)
    fake = FakeLlm(rule_replier(rules), args.model)
    fake._server.server_close()
    fake._server = ThreadingHTTPServer(("127.0.0.1", args.port), fake._handler())
    fake._server.serve_forever()


if __name__ == "__main__":
    main()

"""Writes the gateway's events as OpenAI chat completions and SSE chunks, stage events as an extension."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from google.protobuf.json_format import MessageToDict

from hugginggpt.artifacts import SCHEME
from hugginggpt.v1 import common_pb2, gateway_pb2

EXTENSION = "hugginggpt"  # the extension field carrying stage events, the session and the files
FILES_ROUTE = "v1/files"


def event_dict(event: gateway_pb2.ChatResponse) -> dict[str, Any]:
    """The event as JSON, with the proto's field names (what the web UI reads)."""
    return MessageToDict(event, preserving_proto_field_name=True)


def file_url(base_url: str, uri: str) -> str:
    """Where the edge serves an artifact over HTTP."""
    key, _, name = uri.removeprefix(SCHEME).partition("/")
    return f"{base_url.rstrip('/')}/{FILES_ROUTE}/{quote(key)}/{quote(name)}"


def file_entry(base_url: str, artifact: common_pb2.Artifact) -> dict[str, Any]:
    return {"uri": artifact.uri, "name": artifact.name, "media_type": artifact.media_type,
            "size_bytes": artifact.size_bytes, "url": file_url(base_url, artifact.uri)}


def message_dict(base_url: str, message: common_pb2.Message) -> dict[str, Any]:
    """A stored message as the web UI shows it: role, text, files with their URLs."""
    role = common_pb2.Role.Name(message.role).removeprefix("ROLE_").lower()
    return {"role": role, "content": message.content,
            "attachments": [file_entry(base_url, a) for a in message.attachments]}


def links(base_url: str, artifacts: Sequence[common_pb2.Artifact]) -> str:
    """The generated files as Markdown links, after the answer."""
    if not artifacts:
        return ""
    lines = "\n".join(f"- [{a.name}]({file_url(base_url, a.uri)})" for a in artifacts)
    return f"\n\nGenerated files:\n{lines}"


def usage(summary: gateway_pb2.ChatSummary) -> dict[str, int]:
    prompt, completion = summary.usage.prompt_tokens, summary.usage.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class Reply:
    """The completion being written for one request: its id, model and the extension's contents."""

    def __init__(self, model: str, base_url: str) -> None:
        self.model, self.base_url = model, base_url
        self.created = int(time.time())
        self.id = "chatcmpl-pending"
        self.session_id = ""
        self.answered = False  # whether any answer text was streamed yet
        self.text = ""  # the reply's content as the client has it so far

    def saw(self, event: gateway_pb2.ChatResponse) -> None:
        self.id, self.session_id = f"chatcmpl-{event.request_id}", event.session_id

    def extension(self, summary: gateway_pb2.ChatSummary, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {"session_id": self.session_id, "request_id": self.id.removeprefix("chatcmpl-"),
                "files": [file_entry(self.base_url, a) for a in summary.artifacts], "events": events}

    def completion(self, events: Sequence[gateway_pb2.ChatResponse]) -> dict[str, Any]:
        """The whole reply of a non-streaming request (the last event is the summary)."""
        for event in events:
            self.saw(event)
        summary = events[-1].summary
        text = self.text = summary.answer + links(self.base_url, summary.artifacts)
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": usage(summary),
            EXTENSION: self.extension(summary, [event_dict(e) for e in events]),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None, extra: dict[str, Any] | None = None) -> bytes:
        """One SSE message of a streaming reply; `extra` adds top-level fields (usage, the extension)."""
        body = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **(extra or {})}
        return sse(body)

    def chunks_for(self, event: gateway_pb2.ChatResponse) -> list[bytes]:
        """The SSE messages one gateway event becomes: answer text as content, everything as the extension."""
        self.saw(event)
        kind = event.WhichOneof("event")
        if kind == "answer_delta":
            self.answered = True
            self.text += event.answer_delta
            return [self.chunk({"content": event.answer_delta}, extra={EXTENSION: event_dict(event)})]
        if kind != "summary":
            return [self.chunk({}, extra={EXTENSION: event_dict(event)})]
        summary = event.summary
        tail = ("" if self.answered else summary.answer) + links(self.base_url, summary.artifacts)
        self.text += tail
        out = [self.chunk({"content": tail}) if tail else b""]
        final = {**event_dict(event), **self.extension(summary, [])}
        final.pop("events")
        out.append(self.chunk({}, "stop", {"usage": usage(summary), EXTENSION: final}))
        return [c for c in out if c]


def sse(body: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()


DONE = b"data: [DONE]\n\n"

"""Reads an OpenAI chat-completions body into one turn for the gateway: text, files, model, streaming."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from edge.errors import ApiError, bad_request, too_large
from hugginggpt.artifacts import is_artifact_uri
from hugginggpt.v1 import common_pb2

# Model names a client may ask for, and where each lets models run.
MODELS = {
    "hugginggpt": common_pb2.INFERENCE_MODE_UNSPECIFIED,
    "hugginggpt-local": common_pb2.INFERENCE_MODE_LOCAL,
    "hugginggpt-hybrid": common_pb2.INFERENCE_MODE_HYBRID,
    "hugginggpt-huggingface": common_pb2.INFERENCE_MODE_HUGGINGFACE,
}
AUDIO_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
              "image/bmp": "bmp", "audio/wav": "wav", "audio/mpeg": "mp3", "audio/flac": "flac",
              "audio/ogg": "ogg", "audio/webm": "webm"}


@dataclass(frozen=True)
class Upload:
    """A file sent inline, to be stored before the turn starts."""

    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class CompletionRequest:
    """What one chat-completions request asks of the gateway."""

    model: str
    mode: int
    content: str
    stream: bool = False
    session_id: str = ""
    uploads: list[Upload] = field(default_factory=list)
    artifact_uris: list[str] = field(default_factory=list)
    # (role, text) of every message, the new one last: what names the conversation when no session_id is sent.
    said: list[tuple[str, str]] = field(default_factory=list)


def parse_turn(body: bytes, max_attachment_bytes: int) -> CompletionRequest:
    """The turn a request body asks for; ApiError (400, 404, 413) naming what is wrong otherwise."""
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise bad_request("the body must be a JSON object with 'model' and 'messages'")
    model = doc.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required; GET /v1/models lists the names", param="model")
    if model not in MODELS:
        raise ApiError(404, f"the model {model!r} does not exist; use one of {', '.join(MODELS)}",
                       "invalid_request_error", "model", "model_not_found")
    text, uploads, uris = _last_user_message(doc.get("messages"), max_attachment_bytes)
    session_id = doc.get("session_id", "")
    if not isinstance(session_id, str):
        raise bad_request("'session_id' must be a string (from an earlier reply's hugginggpt.session_id)",
                          param="session_id")
    said = [(str(m.get("role", "")), _text_of(m.get("content"))) for m in doc["messages"] if isinstance(m, dict)]
    stream = bool(doc.get("stream", False))
    return CompletionRequest(model, MODELS[model], text, stream, session_id, uploads, uris, said)


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content if isinstance(content, str) else ""


def _last_user_message(messages: Any, limit: int) -> tuple[str, list[Upload], list[str]]:
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty list", param="messages")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise bad_request("the last message must be the user's ({'role': 'user', 'content': ...})",
                          param="messages")
    content = last.get("content")
    if isinstance(content, str):
        return _require_text(content), [], []
    if not isinstance(content, list):
        raise bad_request("a message's 'content' must be a string or a list of parts", param="messages")
    texts: list[str] = []
    uploads: list[Upload] = []
    uris: list[str] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            _image(part.get("image_url"), index, limit, uploads, uris)
        elif kind == "input_audio":
            uploads.append(_audio(part.get("input_audio"), index, limit))
        else:
            raise bad_request(f"content part {index} has type {kind!r}; this API takes 'text', 'image_url' "
                              "(a data: URL or an artifact:// URI) and 'input_audio'", param="messages")
    return _require_text(" ".join(t for t in texts if t.strip())), uploads, uris


def _require_text(text: str) -> str:
    if not text.strip():
        raise bad_request("the user's message has no text; say what to do with the files", param="messages")
    return text


def _image(image_url: Any, index: int, limit: int, uploads: list[Upload], uris: list[str]) -> None:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str):
        raise bad_request(f"content part {index}: image_url needs a 'url'", param="messages")
    if is_artifact_uri(url):
        uris.append(url)
        return
    if not url.startswith("data:"):
        raise bad_request(f"content part {index}: only data: URLs and artifact:// URIs are accepted; the edge "
                          "fetches nothing from the network", param="messages")
    media_type, data = _data_url(url, index, limit)
    if not media_type.startswith(("image/", "audio/")):
        raise bad_request(f"content part {index} is {media_type}; attach an image or audio file",
                          param="messages", code="unsupported_media_type")
    uploads.append(Upload(_name(index, media_type), media_type, data))


def _audio(audio: Any, index: int, limit: int) -> Upload:
    if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
        raise bad_request(f"content part {index}: input_audio needs 'data' (base64) and 'format'",
                          param="messages")
    media_type = AUDIO_FORMATS.get(str(audio.get("format", "")).lower())
    if media_type is None:
        raise bad_request(f"content part {index}: audio format {audio.get('format')!r} is not one of "
                          f"{', '.join(AUDIO_FORMATS)}", param="messages", code="unsupported_media_type")
    return Upload(_name(index, media_type), media_type, _decode(audio["data"], index, limit))


def _data_url(url: str, index: int, limit: int) -> tuple[str, bytes]:
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise bad_request(f"content part {index}: a data URL must be data:<type>;base64,<data>", param="messages")
    return header[5:-7].lower() or "application/octet-stream", _decode(payload, index, limit)


def _decode(payload: str, index: int, limit: int) -> bytes:
    if len(payload) * 3 // 4 > limit + 2:
        raise too_large(f"content part {index} is larger than the limit of {limit} bytes", param="messages")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"content part {index}: the data is not valid base64", param="messages") from None
    if len(data) > limit:
        raise too_large(f"content part {index} is larger than the limit of {limit} bytes", param="messages")
    if not data:
        raise bad_request(f"content part {index} is empty", param="messages")
    return data


def _name(index: int, media_type: str) -> str:
    return f"part-{index}.{EXTENSIONS.get(media_type, media_type.split('/')[-1] or 'bin')}"

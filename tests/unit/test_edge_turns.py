"""The edge's translation, without a server: OpenAI request bodies into turns, gateway events into replies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from edge.errors import ApiError
from edge.history import SessionMemory
from edge.replies import Reply, file_url, links
from edge.turns import parse_turn
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import gateway_pb2


def body(content: Any, **extra: Any) -> bytes:
    return json.dumps({"model": "hugginggpt", "messages": [{"role": "user", "content": content}], **extra}).encode()


def test_plain_text_with_mode_stream_and_session() -> None:
    raw = json.dumps({"model": "hugginggpt-hybrid", "stream": True, "session_id": "s1",
                      "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "hello"}]})
    turn = parse_turn(raw.encode(), 100)
    assert (turn.content, turn.mode, turn.stream, turn.session_id) == ("hello", pb.INFERENCE_MODE_HYBRID, True, "s1")
    assert turn.uploads == [] and turn.artifact_uris == []


def test_parts_become_text_uploads_and_uris() -> None:
    png, wav = b"\x89PNG fake", b"RIFF fake"
    uri = "artifact://" + "A" * 24 + "/invoice.png"
    turn = parse_turn(body([
        {"type": "text", "text": "what is"}, {"type": "text", "text": "in these?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}},
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "WAV"}},
        {"type": "image_url", "image_url": {"url": uri}},
    ]), 100)
    assert turn.content == "what is in these?"
    assert [(u.name, u.media_type, u.data) for u in turn.uploads] == [
        ("part-2.png", "image/png", png), ("part-3.wav", "audio/wav", wav)]
    assert turn.artifact_uris == [uri]


def test_a_huge_part_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(ApiError) as caught:
        parse_turn(body([{"type": "text", "text": "x"},
                         {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 4000}}]), 100)
    assert caught.value.status == 413 and caught.value.code == "request_too_large"


def test_unknown_model_is_a_404_naming_the_choices() -> None:
    with pytest.raises(ApiError) as caught:
        parse_turn(json.dumps({"model": "gpt-4o", "messages": []}).encode(), 100)
    assert caught.value.status == 404 and caught.value.param == "model" and "hugginggpt-local" in caught.value.message


def test_files_are_linked_with_safe_urls() -> None:
    artifact = pb.Artifact(uri="artifact://" + "k" * 24 + "/my speech.wav", name="my speech.wav")
    assert file_url("http://edge/", artifact.uri) == "http://edge/v1/files/" + "k" * 24 + "/my%20speech.wav"
    assert links("http://edge/", [artifact]) == (
        "\n\nGenerated files:\n- [my speech.wav](http://edge/v1/files/" + "k" * 24 + "/my%20speech.wav)")
    assert links("http://edge/", []) == ""


def test_a_direct_answer_without_deltas_still_reaches_the_stream() -> None:
    reply = Reply("hugginggpt", "http://edge/")
    summary = gateway_pb2.ChatResponse(request_id="r1", session_id="s1",
                                       summary=gateway_pb2.ChatSummary(answer="Hello there."))
    chunks = [json.loads(c.decode().removeprefix("data: ")) for c in reply.chunks_for(summary)]
    assert chunks[0]["choices"][0]["delta"] == {"content": "Hello there."}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["id"] == "chatcmpl-r1"
    assert chunks[-1]["hugginggpt"]["session_id"] == "s1"


def test_session_memory_knows_a_history_it_answered_and_forgets_the_oldest() -> None:
    memory = SessionMemory(capacity=2)
    said = [("system", "be brief"), ("user", "transcribe it")]
    memory.remember(said, "The  transcript.", "s1")
    assert memory.session_for([*said, ("assistant", "The transcript.")]) == "s1"  # whitespace does not matter
    assert memory.session_for([*said, ("assistant", "Another answer.")]) == ""
    assert memory.session_for([]) == ""
    memory.remember([("user", "b")], "B.", "s2")
    memory.remember([("user", "c")], "C.", "s3")
    assert memory.session_for([*said, ("assistant", "The transcript.")]) == ""  # evicted
    assert memory.session_for([("user", "c"), ("assistant", "C.")]) == "s3"

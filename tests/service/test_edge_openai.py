"""The HTTP edge through the official openai client: completions, streaming, files, models, the extension."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openai
import pytest
from edge_fakes import EdgeServer
from gateway_fakes import Stack, task

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.v1 import common_pb2 as pb


@pytest.fixture
async def edge(stack: Stack) -> AsyncIterator[EdgeServer]:
    e = await EdgeServer(stack).start()
    yield e
    await e.stop()


def client(edge: EdgeServer, key: str = "unused") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{edge.base_url}/v1", api_key=key, max_retries=0, timeout=20)


def data_url(path: Path, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


async def test_openai_client_gets_the_answer_and_stage_events(stack: Stack, edge: EdgeServer) -> None:
    stack.script.tasks = [task(1, "image-to-text"), task(2, "question-answering", deps=(1,))]
    async with client(edge) as c:
        reply = await c.chat.completions.create(model="hugginggpt", messages=[
            {"role": "system", "content": "ignored"}, {"role": "user", "content": "what is in it?"}])
    assert reply.choices[0].message.content == "The answer."
    assert reply.choices[0].finish_reason == "stop" and reply.object == "chat.completion"
    assert reply.usage is not None and reply.usage.prompt_tokens == 300  # plan, batched selection, answer
    extension = (reply.model_extra or {})["hugginggpt"]
    kinds = [next(k for k in e if k in {"planned_task", "plan", "selections", "task", "answer_delta", "summary"})
             for e in extension["events"]]
    assert kinds[0] == "planned_task" and kinds[-1] == "summary" and "task" in kinds
    assert extension["session_id"] and reply.id == f"chatcmpl-{extension['request_id']}"
    assert stack.record.plan_requests[0].messages[-1].content == "what is in it?"


async def test_streaming_yields_answer_deltas_then_stop(stack: Stack, edge: EdgeServer) -> None:
    stack.script.tasks = [task(1, "image-to-text")]
    stack.script.answer_parts = ("It ", "is ", "a cat.")
    async with client(edge) as c:
        stream = await c.chat.completions.create(model="hugginggpt-local", stream=True,
                                                 messages=[{"role": "user", "content": "describe"}])
        chunks = [chunk async for chunk in stream]
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks)
    assert text == "It is a cat."
    assert chunks[-1].choices[0].finish_reason == "stop"
    events = [(ch.model_extra or {}).get("hugginggpt", {}) for ch in chunks]
    assert any("plan" in e for e in events) and any("task" in e for e in events)
    assert events[-1]["summary"]["tasks_succeeded"] == 1 and events[-1]["session_id"]
    assert stack.record.select_requests  # the turn really ran through the stages


async def test_a_session_continues_through_the_extension_field(stack: Stack, edge: EdgeServer) -> None:
    async with client(edge) as c:
        first = await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": "a"}])
        session = (first.model_extra or {})["hugginggpt"]["session_id"]
        await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": "b"}],
                                        extra_body={"session_id": session})
    history = [m.content for m in stack.record.plan_requests[-1].messages]
    assert history[0] == "a" and history[-1] == "b"
    async with httpx.AsyncClient(base_url=edge.base_url) as http:
        stored = (await http.get(f"/v1/sessions/{session}")).json()
        unknown = await http.get("/v1/sessions/no-such-session")
    assert [(m["role"], m["content"]) for m in stored["messages"]] == [
        ("user", "a"), ("assistant", "The answer."), ("user", "b"), ("assistant", "The answer.")]
    assert unknown.status_code == 404 and "no-such-session" in unknown.json()["error"]["message"]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_client_resending_the_history_continues_its_session(stack: Stack, edge: EdgeServer,
                                                                   stream: bool) -> None:
    async def ask(c: openai.AsyncOpenAI, messages: list[dict[str, str]]) -> str:
        if not stream:
            reply = await c.chat.completions.create(model="hugginggpt", messages=messages)  # type: ignore[arg-type]
            return reply.choices[0].message.content or ""
        chunks = await c.chat.completions.create(model="hugginggpt", messages=messages, stream=True)  # type: ignore
        return "".join([ch.choices[0].delta.content or "" async for ch in chunks])

    system = {"role": "system", "content": "You are helpful."}
    async with client(edge) as c:
        first = await ask(c, [system, {"role": "user", "content": "transcribe it"}])
        await ask(c, [system, {"role": "user", "content": "transcribe it"}, {"role": "assistant", "content": first},
                      {"role": "user", "content": "now translate that"}])
        await ask(c, [system, {"role": "user", "content": "transcribe it"},
                      {"role": "assistant", "content": "an answer this edge never gave"},
                      {"role": "user", "content": "and this?"}])
    continued, fresh = stack.record.plan_requests[1], stack.record.plan_requests[2]
    assert [m.content for m in continued.messages] == ["transcribe it", first, "now translate that"]
    assert [m.content for m in fresh.messages] == ["and this?"]  # an unknown history starts a new session


async def test_image_and_audio_parts_are_uploaded_and_attached(stack: Stack, edge: EdgeServer,
                                                               media: Path) -> None:
    wav = base64.b64encode((media / "speech_fox.wav").read_bytes()).decode()
    async with client(edge) as c:
        await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": [
            {"type": "text", "text": "what fruit, and what is said?"},
            {"type": "image_url", "image_url": {"url": data_url(media / "fruits.jpg", "image/jpeg")}},
            {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}},
        ]}])
    current = stack.record.plan_requests[0].messages[-1]
    assert current.content == "what fruit, and what is said?"
    assert [a.media_type for a in current.attachments] == ["image/jpeg", "audio/wav"]
    stored = ArtifactStore(stack.config.artifact_dir, 10**8)
    assert stored.read_bytes(current.attachments[0].uri) == (media / "fruits.jpg").read_bytes()


async def test_an_artifact_uri_part_attaches_an_uploaded_file(stack: Stack, edge: EdgeServer, media: Path) -> None:
    uploaded = ArtifactStore(stack.config.artifact_dir, 10**8).put_bytes(
        "invoice.png", (media / "invoice_text.png").read_bytes())
    async with client(edge) as c:
        await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": [
            {"type": "text", "text": "the total?"}, {"type": "image_url", "image_url": {"url": uploaded.uri}}]}])
    assert stack.record.plan_requests[0].messages[-1].attachments[0].uri == uploaded.uri


async def test_generated_files_are_linked_and_served(stack: Stack, edge: EdgeServer, media: Path) -> None:
    store = ArtifactStore(stack.config.artifact_dir, 10**8)
    audio = store.put_bytes("speech.wav", (media / "speech_fox.wav").read_bytes())
    stack.script.tasks = [task(1, "text-to-speech")]
    stack.script.make_artifact = lambda t: pb.Artifact(uri=audio.uri, name="speech.wav", media_type="audio/wav",
                                                       size_bytes=audio.size_bytes, kind=pb.VALUE_KIND_AUDIO)
    async with client(edge) as c:
        reply = await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": "say"}])
    files = (reply.model_extra or {})["hugginggpt"]["files"]
    assert [f["name"] for f in files] == ["speech.wav"]
    assert f"[speech.wav]({files[0]['url']})" in (reply.choices[0].message.content or "")
    async with httpx.AsyncClient() as http:
        got = await http.get(files[0]["url"])
        missing = await http.get(files[0]["url"].replace("speech.wav", "other.wav"))
    assert got.status_code == 200 and got.headers["content-type"] == "audio/wav"
    assert got.content == (media / "speech_fox.wav").read_bytes()
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"


async def test_models_are_listed_and_an_unknown_one_is_404(edge: EdgeServer) -> None:
    async with client(edge) as c:
        names = [m.id async for m in c.models.list()]
        assert names[0] == "hugginggpt" and "hugginggpt-hybrid" in names
        assert (await c.models.retrieve("hugginggpt-local")).id == "hugginggpt-local"
        with pytest.raises(openai.NotFoundError) as caught:
            await c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found" and "hugginggpt-local" in caught.value.message

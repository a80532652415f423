"""The gateway under hostile or heavy use: bounded requests and sessions, no lost turns, backpressure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from gateway_fakes import Stack, task

from gateway.sessions import ANSWERED, CANCELLED, FAILED, SqliteSessionStore, StoredMessage
from hugginggpt.artifacts import ArtifactStore
from hugginggpt.convert import artifact_to_pb
from hugginggpt_cli.gateway_client import GatewayClient


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    s = await Stack(tmp_path, max_session_messages=6).start()
    s.script.tasks = [task(1, "summarization")]
    yield s
    await s.stop()


async def _code(call: AsyncIterator[object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        [e async for e in call]
    return caught.value.code(), caught.value.details() or ""


async def _turn(client: GatewayClient, content: str, session_id: str = "") -> str:
    events = [e async for e in client.chat(content, session_id=session_id)]
    return events[-1].session_id


async def _eventually(attempt: Callable[[], Awaitable[str]]) -> str:
    """The attempt's result once the server has seen the cancelled requests end (within 5 s)."""
    for _ in range(50):
        try:
            return await attempt()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("the concurrency slots were never given back")


async def _stored(stack: Stack, session_id: str) -> list[StoredMessage]:
    """The session as another gateway process (or this one after a kill -9) would read it from disk."""
    store = SqliteSessionStore(Path(stack.config.session_store.removeprefix("sqlite:///")))
    try:
        return await store.messages(session_id)
    finally:
        await store.close()


async def test_ten_thousand_attachments_are_refused_before_any_is_opened(stack: Stack) -> None:
    store = ArtifactStore(stack.config.artifact_dir, stack.config.artifact_max_bytes)
    photo = artifact_to_pb(store.put_bytes("photo.png", b"\x89PNG fake"))
    async with GatewayClient(stack.address) as client:
        code, message = await _code(client.chat("look", attachments=[photo] * 10_000))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "10000 attachments; the limit is 16 (HUGGINGGPT_GATEWAY_MAX_ATTACHMENTS)" in message
        events = [e async for e in client.chat("look", attachments=[photo] * 3)]  # one file, named thrice
    assert [a.uri for a in stack.record.plan_requests[-1].messages[-1].attachments] == [photo.uri]
    assert events[-1].summary


async def test_a_full_session_is_refused_naming_the_limit(stack: Stack) -> None:
    async with GatewayClient(stack.address) as client:
        session_id = await _turn(client, "one")
        for content in ("two", "three"):
            await _turn(client, content, session_id)
        code, message = await _code(client.chat("four", session_id=session_id))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "holds 6 messages; the limit is 6 (HUGGINGGPT_GATEWAY_MAX_SESSION_MESSAGES)" in message
    assert len(await _stored(stack, session_id)) == 6


async def test_a_turn_is_stored_when_it_starts_and_a_gateway_kill_leaves_it_unfinished(stack: Stack) -> None:
    async with GatewayClient(stack.address) as client:
        session_id = await _turn(client, "first request")
        stack.script.hang_planner = True
        running = asyncio.create_task(_turn(client, "second request", session_id))
        while len(stack.record.plan_requests) < 2:
            await asyncio.sleep(0.01)
        # What a gateway killed right now (kill -9) leaves on disk: the user's message, no outcome yet.
        mid_turn = await _stored(stack, session_id)
        assert [(m.role, m.content, m.status) for m in mid_turn[2:]] == [("user", "second request", "")]
        await stack.stop_gateway()  # a graceful stop cancels the turn, which is then marked so
        with pytest.raises(grpc.aio.AioRpcError):
            await running
    stored = await _stored(stack, session_id)
    assert [(m.role, m.status) for m in stored] == [
        ("user", ""), ("assistant", ANSWERED), ("user", ""), ("assistant", CANCELLED)]
    await stack.start_gateway()
    stack.script.hang_planner = False
    async with GatewayClient(stack.address) as client:
        await _turn(client, "third request", session_id)
        messages = await client.session(session_id)
    assert [m.content for m in messages][-2:] == ["third request", "The answer."]


async def test_a_failed_turn_keeps_the_message_and_the_reason(stack: Stack) -> None:
    async with GatewayClient(stack.address) as client:
        session_id = await _turn(client, "hello")
        stack.script.plan_error = (grpc.StatusCode.UNAVAILABLE, "the LLM server is down")
        code, _ = await _code(client.chat("summarize this", session_id=session_id))
    assert code == grpc.StatusCode.UNAVAILABLE
    last_two = (await _stored(stack, session_id))[-2:]
    assert [(m.role, m.content) for m in last_two][0] == ("user", "summarize this")
    assert last_two[1].status == FAILED and last_two[1].content.startswith("(the request failed: UNAVAILABLE")
    assert "the LLM server is down" in last_two[1].content


async def test_concurrent_requests_over_the_limit_are_refused_not_queued(tmp_path: Path) -> None:
    stack = await Stack(tmp_path, max_concurrent_requests=2).start()
    stack.script.tasks = [task(1, "summarization")]
    stack.script.hang_planner = True
    try:
        async with GatewayClient(stack.address) as client:
            held = [asyncio.create_task(_turn(client, f"slow {i}")) for i in range(2)]
            while len(stack.record.plan_requests) < 2:
                await asyncio.sleep(0.01)
            code, message = await _code(client.chat("one too many"))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "limit of 2 concurrent requests (HUGGINGGPT_GATEWAY_MAX_CONCURRENT_REQUESTS)" in message
            for t in held:
                t.cancel()
            await asyncio.gather(*held, return_exceptions=True)
            stack.script.hang_planner = False
            assert await _eventually(lambda: _turn(client, "room again"))  # the slots were given back
    finally:
        await stack.stop()


async def test_a_turn_whose_deadline_passes_is_stored_as_failed_not_cancelled(stack: Stack) -> None:
    async with GatewayClient(stack.address) as client:
        session_id = await _turn(client, "hello")
        stack.script.hang_planner = True
        code, _ = await _code(client.chat("this will take too long", session_id=session_id, timeout=1.0))
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    for _ in range(50):  # the gateway stores the end as its handler unwinds
        last = (await _stored(stack, session_id))[-1]
        if last.role == "assistant":
            break
        await asyncio.sleep(0.1)
    assert last.status == FAILED and "DEADLINE_EXCEEDED" in last.content


async def test_the_deadline_counts_from_when_the_call_came_in(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    slow_create = SqliteSessionStore.create

    async def create(self: SqliteSessionStore) -> str:
        await asyncio.sleep(1.0)  # a session store under load
        return await slow_create(self)

    monkeypatch.setattr(SqliteSessionStore, "create", create)
    stack.script.hang_planner = True
    async with GatewayClient(stack.address) as client:
        code, _ = await _code(client.chat("this will take too long", timeout=2.0))
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    store = SqliteSessionStore(Path(stack.config.session_store.removeprefix("sqlite:///")))
    try:
        for _ in range(50):
            ids = await store.idle_since(float("inf"))
            stored = await store.messages(ids[0]) if ids else []
            if len(stored) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await store.close()
    assert stored[1].status == FAILED and "DEADLINE_EXCEEDED" in stored[1].content

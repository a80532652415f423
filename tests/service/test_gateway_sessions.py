"""Multi-turn sessions survive a gateway restart, in SQLite and in a real redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from gateway_fakes import Stack, task

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.convert import artifact_to_pb
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt_cli.gateway_client import GatewayClient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


REDIS_PASSWORD = "p" * 32


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    yield from _redis_server(tmp_path)


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[str]:
    """A redis-server that requires a password, as the Kubernetes base runs it (--requirepass from the Secret)."""
    yield from _redis_server(tmp_path, "--requirepass", REDIS_PASSWORD)


def _redis_server(tmp_path: Path, *extra: str) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", "",
         "--appendonly", "no", "--protected-mode", "yes", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start listening within 10 s")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def two_turns_across_restart(stack: Stack, tmp_path: Path) -> None:
    store = ArtifactStore(stack.config.artifact_dir, stack.config.artifact_max_bytes)
    generated = artifact_to_pb(store.put_bytes("caption.wav", b"RIFF....", "audio/wav"))
    stack.script.tasks = [task(1, "image-to-text")]
    stack.script.make_artifact = lambda t: generated
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG fake")
    async with GatewayClient(stack.address) as client:
        first = [e async for e in client.chat("describe this photo", files=[photo])]
    session_id = first[-1].session_id
    assert session_id and [a.uri for a in first[-1].summary.artifacts] == [generated.uri]

    await stack.restart_gateway()
    async with GatewayClient(stack.address) as client:
        second = [e async for e in client.chat("now read the audio you made aloud", session_id=session_id)]
        assert second[-1].session_id == session_id
        messages = await client.session(session_id)
    history = stack.record.plan_requests[-1].messages
    assert [m.role for m in history] == [pb.ROLE_USER, pb.ROLE_ASSISTANT, pb.ROLE_USER]
    assert history[0].attachments[0].name == "photo.png"
    assert history[1].content == "The answer." and history[1].attachments[0].uri == generated.uri
    assert [m.content for m in messages] == [
        "describe this photo", "The answer.", "now read the audio you made aloud", "The answer."]


async def test_sqlite_sessions_survive_a_restart(tmp_path: Path) -> None:
    stack = await Stack(tmp_path).start()
    try:
        await two_turns_across_restart(stack, tmp_path)
    finally:
        await stack.stop()


async def test_redis_sessions_survive_a_restart(tmp_path: Path, redis_url: str) -> None:
    stack = await Stack(tmp_path, session_store=redis_url).start()
    try:
        await two_turns_across_restart(stack, tmp_path)
    finally:
        await stack.stop()


async def test_redis_with_a_password_keeps_sessions_when_the_gateway_has_it(
        tmp_path: Path, redis_with_password: str) -> None:
    stack = await Stack(tmp_path, session_store=redis_with_password, session_store_password=REDIS_PASSWORD).start()
    try:
        await two_turns_across_restart(stack, tmp_path)
    finally:
        await stack.stop()


@pytest.mark.parametrize("password", [None, "wrong-password"])
async def test_a_missing_or_wrong_redis_password_is_unavailable_with_what_to_set(
        tmp_path: Path, redis_with_password: str, password: str | None) -> None:
    details = await _refused_chat(
        Stack(tmp_path, session_store=redis_with_password, session_store_password=password))
    assert "HUGGINGGPT_SESSION_STORE_PASSWORD" in details and REDIS_PASSWORD not in details


async def test_an_unreachable_redis_is_unavailable_not_internal(tmp_path: Path) -> None:
    assert "cannot be reached" in await _refused_chat(Stack(tmp_path, session_store=f"redis://127.0.0.1:{free_port()}/0"))


async def _refused_chat(unstarted: Stack) -> str:
    """A chat through the stack, which must fail with UNAVAILABLE; its details."""
    stack = await unstarted.start()
    try:
        async with GatewayClient(stack.address) as client:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                [e async for e in client.chat("hello")]
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        return caught.value.details() or ""
    finally:
        await stack.stop()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    s = await Stack(tmp_path).start()
    yield s
    await s.stop()


@pytest.mark.parametrize(("session_id", "code"), [
    ("", grpc.StatusCode.INVALID_ARGUMENT),
    ("../../etc", grpc.StatusCode.INVALID_ARGUMENT),
    ("feedfacefeedface", grpc.StatusCode.NOT_FOUND),
])
async def test_get_session_bad_ids(stack: Stack, session_id: str, code: grpc.StatusCode) -> None:
    async with GatewayClient(stack.address) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.session(session_id)
    assert caught.value.code() == code


async def test_attachments_must_be_uploaded_artifacts(stack: Stack) -> None:
    cases = [
        (pb.Artifact(uri="/etc/passwd", name="passwd"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.Artifact(uri="https://example.com/x.png", name="x.png"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.Artifact(uri="artifact://AAAAAAAAAAAAAAAAAAAAAAAA/x.png", name="x.png"), grpc.StatusCode.NOT_FOUND),
    ]
    async with GatewayClient(stack.address) as client:
        for attachment, code in cases:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                [e async for e in client.chat("look", attachments=[attachment])]
            assert caught.value.code() == code, attachment.uri
    assert stack.record.plan_requests == []

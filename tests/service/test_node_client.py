"""The Node client (examples/node/chat.js, @grpc/grpc-js loading protos/) against a real gateway with fakes."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gateway_fakes import Stack, task

from hugginggpt.artifacts import ArtifactStore

NODE = shutil.which("node")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "node"
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (Debian: apt-get install nodejs npm)")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    assert (EXAMPLE / "node_modules" / "@grpc" / "grpc-js").is_dir(), \
        "examples/node has no node_modules: run `make setup` (it runs `npm ci` there)"
    s = await Stack(tmp_path, auth_token="node-token").start()
    yield s
    await s.stop()


async def node(stack: Stack, *args: str, token: str = "node-token") -> tuple[int, str, str]:
    env = {**os.environ, "HUGGINGGPT_GATEWAY_ADDRESS": stack.address, "HUGGINGGPT_GATEWAY_AUTH_TOKEN": token}
    assert NODE is not None
    proc = await asyncio.create_subprocess_exec(NODE, "chat.js", *args, cwd=EXAMPLE, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def test_streams_a_chat_with_an_uploaded_file(stack: Stack, media: Path) -> None:
    stack.script.tasks = [task(1, "image-to-text"), task(2, "summarization", deps=(1,))]
    stack.script.answer_parts = ("Two ", "apples.")
    code, out, err = await node(stack, "what fruit is this?", "--file", str(media / "fruits.jpg"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("uploaded ") and "artifact://" in lines[0]
    assert "planned  task 1 image-to-text dep []" in lines and "planned  task 2 summarization dep [1]" in lines
    assert "task 2 summarization succeeded" in lines
    assert lines.index("task 1 image-to-text started") < lines.index("task 2 summarization started")
    assert "Two apples." in out and "done: 2 succeeded, 0 failed" in out
    current = stack.record.plan_requests[0].messages[-1]
    assert current.content == "what fruit is this?" and current.attachments[0].media_type == "image/jpeg"
    stored = ArtifactStore(stack.config.artifact_dir, 10**8).read_bytes(current.attachments[0].uri)
    assert stored == (media / "fruits.jpg").read_bytes()


async def test_continues_a_session(stack: Stack) -> None:
    code, out, _ = await node(stack, "first")
    session = next(line.split()[-1] for line in out.splitlines() if line.startswith("session: "))
    code, _, err = await node(stack, "second", "--session", session)
    assert code == 0, err
    assert [m.content for m in stack.record.plan_requests[-1].messages][::2] == ["first", "second"]


async def test_a_refused_file_type_is_reported_in_words(stack: Stack, tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    archive.write_bytes(b"PK\x03\x04 not media")
    code, out, err = await node(stack, "unpack this", "--file", str(archive))
    assert code == 1 and "error: INVALID_ARGUMENT:" in err and "only image, audio, video and text" in err
    assert not stack.record.plan_requests


async def test_a_wrong_token_is_unauthenticated(stack: Stack) -> None:
    code, _, err = await node(stack, "hello", token="wrong")
    assert code == 1 and "error: UNAUTHENTICATED:" in err and "bearer token" in err


async def test_no_request_prints_the_usage(stack: Stack) -> None:
    code, _, err = await node(stack)
    assert code == 1 and "usage: node chat.js" in err

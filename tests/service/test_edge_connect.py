"""GatewayService through the edge over Connect and gRPC-Web (generated code), from Python and from a browser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.protocol import ProtocolType
from edge_fakes import EdgeServer, until
from gateway_fakes import Stack, task

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.v1 import gateway_pb2 as pb
from hugginggpt.v1.gateway_connect import GatewayServiceClient

PROTOCOLS = [ProtocolType.CONNECT, ProtocolType.GRPC_WEB]


@pytest.fixture
async def edge(stack: Stack) -> AsyncIterator[EdgeServer]:
    e = await EdgeServer(stack, max_streams=2).start()
    yield e
    await e.stop()


def client(edge: EdgeServer, protocol: ProtocolType) -> GatewayServiceClient:
    return GatewayServiceClient(edge.base_url, protocol=protocol)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_chat_streams_every_event(edge: EdgeServer, stack: Stack, protocol: ProtocolType) -> None:
    stack.script.tasks = [task(1, "image-to-text"), task(2, "summarization", deps=(1,))]
    async with client(edge, protocol) as c:
        events = [e async for e in c.chat(pb.ChatRequest(content="caption, then summarise"))]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "planned_task" and kinds[-1] == "summary" and kinds.count("task") == 4
    assert events[-1].summary.answer == "The answer." and events[-1].summary.tasks_succeeded == 2
    assert stack.record.plan_requests[0].messages[-1].content == "caption, then summarise"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_upload_plan_session_and_download(edge: EdgeServer, stack: Stack, protocol: ProtocolType,
                                               media: Path) -> None:
    data = (media / "fruits.jpg").read_bytes()

    async def upload() -> AsyncIterator[pb.UploadArtifactRequest]:
        yield pb.UploadArtifactRequest(metadata=pb.UploadMetadata(name="fruits.jpg", media_type="image/jpeg"))
        for start in range(0, len(data), 16384):
            yield pb.UploadArtifactRequest(chunk=data[start:start + 16384])

    stack.script.tasks = [task(1, "image-to-text")]
    async with client(edge, protocol) as c:
        artifact = (await c.upload_artifact(upload())).artifact
        plan = await c.plan_tasks(pb.PlanTasksRequest(content="what fruit?", attachments=[artifact]))
        done = [e async for e in c.chat(pb.ChatRequest(content="what fruit?", attachments=[artifact]))]
        session = await c.get_session(pb.GetSessionRequest(session_id=done[-1].session_id))
        parts = [m async for m in c.download_artifact(pb.DownloadArtifactRequest(uri=artifact.uri))]
    assert ArtifactStore(stack.config.artifact_dir, 10**8).read_bytes(artifact.uri) == data
    assert [t.type for t in plan.plan.plan.tasks] == ["image-to-text"]
    assert [m.content for m in session.messages] == ["what fruit?", "The answer."]
    assert parts[0].artifact.name == "fruits.jpg" and b"".join(p.chunk for p in parts[1:]) == data


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_errors_keep_the_gateways_code_and_words(edge: EdgeServer, stack: Stack,
                                                      protocol: ProtocolType) -> None:
    stack.script.plan_error = (grpc.StatusCode.INVALID_ARGUMENT, "the request names no task the planner knows")
    async with client(edge, protocol) as c:
        with pytest.raises(ConnectError) as caught:
            [e async for e in c.chat(pb.ChatRequest(content="hi"))]
        assert caught.value.code == Code.INVALID_ARGUMENT and "no task the planner knows" in caught.value.message
        with pytest.raises(ConnectError) as missing:
            await c.get_session(pb.GetSessionRequest(session_id="no-such-session"))
        assert missing.value.code == Code.NOT_FOUND


async def test_the_token_is_checked_like_the_gateways(tmp_path: Path) -> None:
    stack = await Stack(tmp_path, auth_token="s3cret").start()
    edge = await EdgeServer(stack).start()
    try:
        async with client(edge, ProtocolType.CONNECT) as c:
            with pytest.raises(ConnectError) as caught:
                await c.plan_tasks(pb.PlanTasksRequest(content="hi"), headers={"authorization": "Bearer wrong"})
            assert caught.value.code == Code.UNAUTHENTICATED and "bearer token" in caught.value.message
            ok = await c.plan_tasks(pb.PlanTasksRequest(content="hi"), headers={"authorization": "Bearer s3cret"})
        assert ok.plan.usage.calls == 1
    finally:
        await edge.stop()
        await stack.stop()


async def test_chats_share_the_edges_bound(edge: EdgeServer, stack: Stack) -> None:
    stack.script.hang_planner = True
    async with client(edge, ProtocolType.CONNECT) as c:
        streams = [c.chat(pb.ChatRequest(content=f"chat {i}")) for i in range(2)]
        waiting = [asyncio.create_task(anext(s)) for s in streams]  # type: ignore[arg-type]
        await until(lambda: edge.app.state.edge.slots.used == 2)  # both chats hold a slot (slow on a loaded machine)
        with pytest.raises(ConnectError) as caught:
            [e async for e in c.chat(pb.ChatRequest(content="one more"))]
        assert caught.value.code == Code.RESOURCE_EXHAUSTED and "HUGGINGGPT_EDGE_MAX_STREAMS" in caught.value.message
        for t in waiting:
            t.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        for s in streams:
            await s.aclose()  # type: ignore[attr-defined]
    # The clients left: the edge cancels their gateway calls, so the planner stops and the slots come back.
    await asyncio.wait_for(stack.record.cancelled["planner"].wait(), 30)
    await until(lambda: edge.app.state.edge.slots.used == 0)

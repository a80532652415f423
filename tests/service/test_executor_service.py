"""Service tests: the real ExecutorService on port 0, running inferences through a fake router server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.json_format import MessageToDict

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.server import ServerSpec, build_server
from hugginggpt.tasktypes import load_task_types
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2 as epb
from hugginggpt.v1 import executor_pb2_grpc, router_pb2, router_pb2_grpc
from services.executor.clients import RouterClient
from services.executor.config import ExecutorConfig
from services.executor.engine import Executor
from services.executor.servicer import ExecutorServicer
from services.executor.validation import store_lookup

IMAGE = pb.Artifact(uri="artifact://" + "q" * 24 + "/gen.png", name="gen.png", media_type="image/png",
                    kind=pb.VALUE_KIND_IMAGE)


class FakeRouter(router_pb2_grpc.ModelRouterServiceServicer):
    """Answers Infer like the router would: "bad" fails, "slow" hangs, text-to-image makes an image."""

    def __init__(self) -> None:
        self.calls: list[router_pb2.Inference] = []
        self.request_ids: list[str] = []
        self.cancelled = asyncio.Event()

    async def Infer(self, request: router_pb2.InferRequest,  # noqa: N802
                    context: grpc.aio.ServicerContext) -> router_pb2.InferResponse:
        inference = request.inference
        self.calls.append(inference)
        self.request_ids.append(dict(context.invocation_metadata() or ()).get("x-request-id", ""))
        if inference.model_id == "bad":
            await context.abort(grpc.StatusCode.INTERNAL, "model bad raised ValueError")
        if inference.model_id == "slow":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        if inference.task_type == "text-to-image":
            result = pb.TaskResult(artifacts=[IMAGE])
        else:
            result = pb.TaskResult(labels=[pb.Label(label="cat", score=0.9)])
        return router_pb2.InferResponse(outcome=router_pb2.InferenceOutcome(
            result=result, replica_id="r1", site=pb.INFERENCE_SITE_LOCAL, inference_seconds=0.02))


Stack = tuple[executor_pb2_grpc.ExecutorServiceStub, FakeRouter]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    fake = FakeRouter()
    router_server, _, router_port = build_server(ServerSpec(
        "127.0.0.1:0", ["hugginggpt.v1.ModelRouterService"],
        lambda s: router_pb2_grpc.add_ModelRouterServiceServicer_to_server(fake, s)))
    await router_server.start()
    config = ExecutorConfig.from_env({"HUGGINGGPT_ROUTER_ADDRESS": f"127.0.0.1:{router_port}",
                                      "HUGGINGGPT_ARTIFACT_DIR": str(tmp_path)})
    client = RouterClient(config.router_address)
    store = ArtifactStore(tmp_path, 1024)
    servicer = ExecutorServicer(Executor(client, load_task_types(), store_lookup(store)), config)
    server, _, port = build_server(ServerSpec(
        "127.0.0.1:0", ["hugginggpt.v1.ExecutorService"],
        lambda s: executor_pb2_grpc.add_ExecutorServiceServicer_to_server(servicer, s)))
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield executor_pb2_grpc.ExecutorServiceStub(channel), fake
    await channel.close()
    await server.stop(None)
    await client.close()
    await router_server.stop(None)


def task(task_id: int, task_type: str, deps: tuple[int, ...] = (), **arg: str | int) -> pb.Task:
    (slot, value), = arg.items()
    argument = pb.Argument(name=slot, task_ref=value) if isinstance(value, int) else (
        pb.Argument(name=slot, literal=value))
    return pb.Task(id=task_id, type=task_type, dependencies=list(deps), arguments=[argument])


def selection(task_id: int, model: str, *fallbacks: str) -> pb.Selection:
    def local(model_id: str) -> pb.ModelCandidate:
        return pb.ModelCandidate(model_id=model_id, site=pb.INFERENCE_SITE_LOCAL)

    return pb.Selection(task_id=task_id, chosen=local(model), fallbacks=[local(f) for f in fallbacks])


def finals(events: list[epb.TaskEvent]) -> dict[int, epb.TaskEvent]:
    return {e.task_id: e for e in events if e.state != epb.TASK_STATE_STARTED}


async def test_execute_chains_an_image_and_renders_labels(stack: Stack) -> None:
    stub, fake = stack
    draw = task(1, "text-to-image", text="a cat")
    draw.parameters.update({"steps": 2})
    request = epb.ExecuteRequest(
        tasks=[draw, task(2, "image-classification", (1,), image=1), task(3, "summarization", (2,), text=2)],
        selections=[selection(1, "sd"), selection(2, "vit"), selection(3, "llm")],
        mode=pb.INFERENCE_MODE_LOCAL)
    call = stub.Execute(request, timeout=10, metadata=(("x-request-id", "req-42"),))
    events = [r.event async for r in call]
    final = finals(events)
    assert [final[i].state for i in (1, 2, 3)] == [epb.TASK_STATE_SUCCEEDED] * 3
    assert final[2].result.labels[0].label == "cat" and final[2].inference_seconds == pytest.approx(0.02)
    assert final[2].site == pb.INFERENCE_SITE_LOCAL and final[2].model_id == "vit" and final[2].attempts == 1
    assert fake.calls[1].inputs[0].artifact_uri == IMAGE.uri
    assert fake.calls[2].inputs[0].text == "labels: cat (0.90)"
    assert MessageToDict(fake.calls[0].parameters) == {"steps": 2}
    assert fake.calls[0].mode == pb.INFERENCE_MODE_LOCAL
    assert fake.request_ids == ["req-42"] * 3


async def test_execute_falls_back_when_the_router_reports_a_failure(stack: Stack) -> None:
    stub, fake = stack
    request = epb.ExecuteRequest(tasks=[task(1, "summarization", text="x")],
                                 selections=[selection(1, "bad", "good")], mode=pb.INFERENCE_MODE_LOCAL)
    final = finals([r.event async for r in stub.Execute(request, timeout=10)])[1]
    assert (final.state, final.model_id, final.attempts) == (epb.TASK_STATE_SUCCEEDED, "good", 2)
    assert [c.model_id for c in fake.calls] == ["bad", "good"]


@pytest.mark.parametrize("value", ["/etc/passwd", "../secrets", "http://example.com/x.png"])
async def test_execute_refuses_outside_resources_before_calling_anything(stack: Stack, value: str) -> None:
    stub, fake = stack
    argument = pb.Argument(name="image", resource_uri=value)
    bad = pb.Task(id=1, type="image-classification", arguments=[argument])
    request = epb.ExecuteRequest(tasks=[bad], selections=[selection(1, "vit")])
    with pytest.raises(grpc.aio.AioRpcError) as info:
        [r async for r in stub.Execute(request, timeout=10)]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert value in (info.value.details() or "")
    assert fake.calls == []


async def test_execute_refuses_a_task_without_selection(stack: Stack) -> None:
    stub, _ = stack
    request = epb.ExecuteRequest(tasks=[task(1, "summarization", text="x")])
    with pytest.raises(grpc.aio.AioRpcError) as info:
        [r async for r in stub.Execute(request, timeout=10)]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no model selection for task(s) [1]" in (info.value.details() or "")


async def _requests(*messages: epb.ExecuteStreamRequest, pause: float = 0.0) -> AsyncIterator[
        epb.ExecuteStreamRequest]:
    for message in messages:
        yield message
        await asyncio.sleep(pause)


def scheduled(t: pb.Task, s: pb.Selection) -> epb.ExecuteStreamRequest:
    return epb.ExecuteStreamRequest(task=epb.ScheduledTask(task=t, selection=s))


async def test_execute_stream_accepts_tasks_out_of_order(stack: Stack) -> None:
    stub, fake = stack
    call = stub.ExecuteStream(_requests(
        epb.ExecuteStreamRequest(options=epb.ExecuteOptions(mode=pb.INFERENCE_MODE_LOCAL)),
        scheduled(task(2, "image-classification", (1,), image=1), selection(2, "vit")),
        scheduled(task(1, "text-to-image", text="a cat"), selection(1, "sd")),
        scheduled(task(3, "summarization", (9,), text=9), selection(3, "llm")),
        epb.ExecuteStreamRequest(complete=epb.PlanComplete(task_count=3)),
        pause=0.05), timeout=10)
    events = [r.event async for r in call]
    final = finals(events)
    assert final[1].state == final[2].state == epb.TASK_STATE_SUCCEEDED
    assert final[3].state == epb.TASK_STATE_FAILED and "never included" in final[3].reason
    assert [c.model_id for c in fake.calls] == ["sd", "vit"]


async def test_execute_stream_refuses_a_bad_task_with_invalid_argument(stack: Stack) -> None:
    stub, _ = stack
    call = stub.ExecuteStream(_requests(
        epb.ExecuteStreamRequest(options=epb.ExecuteOptions()),
        scheduled(task(1, "teleportation", text="x"), selection(1, "m"))), timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        [r async for r in call]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown task type 'teleportation'" in (info.value.details() or "")


async def test_cancelling_the_rpc_cancels_the_inference(stack: Stack) -> None:
    stub, fake = stack
    request = epb.ExecuteRequest(tasks=[task(1, "summarization", text="x")],
                                 selections=[selection(1, "slow")], mode=pb.INFERENCE_MODE_LOCAL)
    call = stub.Execute(request, timeout=30)
    first = await call.read()
    assert first.event.state == epb.TASK_STATE_STARTED
    await asyncio.sleep(0.1)
    call.cancel()
    await asyncio.wait_for(fake.cancelled.wait(), timeout=5)


async def test_task_timeout_reaches_the_client_as_a_failed_event(stack: Stack) -> None:
    stub, _ = stack
    request = epb.ExecuteRequest(tasks=[task(1, "summarization", text="x")],
                                 selections=[selection(1, "slow")], mode=pb.INFERENCE_MODE_LOCAL)
    request.task_timeout_seconds = 0.3
    final = finals([r.event async for r in stub.Execute(request, timeout=10)])[1]
    assert final.state == epb.TASK_STATE_FAILED and "timed out" in final.reason

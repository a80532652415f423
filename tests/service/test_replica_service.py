"""ModelReplicaService over a real in-process gRPC server on port 0, and its registration with a router."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2

from hugginggpt.server import ServerSpec, build_server
from hugginggpt.v1 import common_pb2, replica_pb2, replica_pb2_grpc, router_pb2, router_pb2_grpc
from services.replica.__main__ import SERVICE, create
from services.replica.clients import RouterRegistration
from services.replica.config import ReplicaConfig
from services.replica.replica import Replica
from services.replica.servicer import ReplicaServicer
from tests.doubles.sleep_model import SLEEP_MODEL as SLEEP
from tests.doubles.sleep_model import sleep_model


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[replica_pb2_grpc.ModelReplicaServiceStub, Replica]]:
    env = {
        "HUGGINGGPT_ARTIFACT_DIR": str(tmp_path),
        "HUGGINGGPT_REPLICA_ID": "replica-test",
        "HUGGINGGPT_REPLICA_DEVICE": "cpu",
    }
    replica, pool = create(ReplicaConfig.from_env(env), extra_models=sleep_model())

    def register(server: grpc.aio.Server) -> None:
        replica_pb2_grpc.add_ModelReplicaServiceServicer_to_server(ReplicaServicer(replica), server)

    server, _, port = build_server(ServerSpec("127.0.0.1:0", [SERVICE], register))
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield replica_pb2_grpc.ModelReplicaServiceStub(channel), replica
    await server.stop(0)
    await replica.manager.close()
    pool.shutdown(wait=False)


def _inference(model: str, task: str, text: str = "", uri: str = "", **params: object) -> replica_pb2.PredictRequest:
    parameters = struct_pb2.Struct()
    parameters.update(params)
    value = router_pb2.InferenceInput(
        name="image" if uri else "text", **({"artifact_uri": uri} if uri else {"text": text})
    )
    return replica_pb2.PredictRequest(
        inference=router_pb2.Inference(model_id=model, task_type=task, inputs=[value], parameters=parameters)
    )


async def test_predict_loads_lazily_and_answers_typed(served) -> None:  # type: ignore[no-untyped-def]
    stub, _ = served
    listed = await stub.ListModels(replica_pb2.ListModelsRequest())
    assert listed.replica_id == "replica-test"
    assert {m.model_id for m in listed.models} >= {SLEEP, "openai/whisper-tiny.en", "hugginggpt/llm-expert"}
    assert not any(m.loaded for m in listed.models)
    reply = await stub.Predict(_inference(SLEEP, "text-generation", "ping", seconds=0.05), timeout=5)
    assert reply.outcome.result.text == "slept 0.05 s: ping"
    assert reply.outcome.replica_id == "replica-test"
    assert reply.outcome.site == common_pb2.INFERENCE_SITE_LOCAL
    assert reply.outcome.inference_seconds >= 0.05
    listed = await stub.ListModels(replica_pb2.ListModelsRequest())
    assert [m.model_id for m in listed.models if m.loaded] == [SLEEP]


async def test_load_and_unload(served) -> None:  # type: ignore[no-untyped-def]
    stub, _ = served
    loaded = await stub.LoadModel(replica_pb2.LoadModelRequest(model_id=SLEEP))
    assert loaded.model.loaded and loaded.model.model_id == SLEEP
    again = await stub.LoadModel(replica_pb2.LoadModelRequest(model_id=SLEEP))
    assert again.load_seconds == 0.0
    assert (await stub.UnloadModel(replica_pb2.UnloadModelRequest(model_id=SLEEP))).was_loaded
    assert not (await stub.UnloadModel(replica_pb2.UnloadModelRequest(model_id=SLEEP))).was_loaded


async def test_concurrent_sleeps_overlap(served) -> None:  # type: ignore[no-untyped-def]
    stub, _ = served
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(
        *(stub.Predict(_inference(SLEEP, "text-generation", str(i), seconds=0.3), timeout=5) for i in range(8))
    )
    assert loop.time() - started < 1.2  # eight 0.3 s inferences run side by side, not one after another


async def test_bad_requests_get_clear_statuses(served) -> None:  # type: ignore[no-untyped-def]
    stub, replica = served
    cases = [
        (_inference("hugginggpt/no-such-model", "text-generation", "x"), grpc.StatusCode.NOT_FOUND, "not served"),
        (
            _inference("google/efficientnet-lite0", "image-classification", "a squirrel"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "needs an image",
        ),
        (
            _inference("google/efficientnet-lite0", "image-classification", uri="artifact://abcdefghijklmnopqr/x.png"),
            grpc.StatusCode.NOT_FOUND,
            "does not exist",
        ),
        (_inference(SLEEP, "text-generation", "x", seconds="soon"), grpc.StatusCode.INVALID_ARGUMENT, "number"),
        (_inference(SLEEP, "text-generation", "x", seconds=0, fail=True), grpc.StatusCode.INTERNAL, "asked to fail"),
        (_inference(SLEEP, "image-classification", "x"), grpc.StatusCode.INVALID_ARGUMENT, "serves text-generation"),
    ]
    for request, code, words in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Predict(request, timeout=30)
        assert caught.value.code() == code, caught.value.details()
        assert words in (caught.value.details() or "")
    # The replica still serves after all of that.
    assert (await stub.Predict(_inference(SLEEP, "text-generation", "ok", seconds=0), timeout=5)).outcome.result.text


async def test_a_hanging_model_hits_the_callers_deadline(served) -> None:  # type: ignore[no-untyped-def]
    stub, _ = served
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Predict(_inference(SLEEP, "text-generation", "x", seconds=5), timeout=0.3)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


class FakeRouter(router_pb2_grpc.ModelRouterServiceServicer):
    def __init__(self) -> None:
        self.registered: list[router_pb2.ReplicaInfo] = []
        self.heartbeats = 0

    async def RegisterReplica(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        self.registered.append(request.replica)
        return router_pb2.RegisterReplicaResponse(heartbeat_interval_seconds=0.05)

    async def Heartbeat(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        self.heartbeats += 1
        return router_pb2.HeartbeatResponse(known=self.heartbeats != 2)  # forgets the replica once


async def test_registers_heartbeats_and_reregisters_when_forgotten(served) -> None:  # type: ignore[no-untyped-def]
    _, replica = served
    router = FakeRouter()
    name = router_pb2.DESCRIPTOR.services_by_name["ModelRouterService"].full_name
    server, _, port = build_server(
        ServerSpec("127.0.0.1:0", [name], lambda s: router_pb2_grpc.add_ModelRouterServiceServicer_to_server(router, s))
    )
    await server.start()
    registration = RouterRegistration(f"127.0.0.1:{port}", replica, "10.0.0.7:50055")
    registration.start()
    for _ in range(100):
        if len(router.registered) >= 2 and router.heartbeats >= 3:
            break
        await asyncio.sleep(0.05)
    await registration.close()
    await server.stop(0)
    assert len(router.registered) >= 2 and router.heartbeats >= 3
    info = router.registered[0]
    assert info.replica_id == "replica-test" and info.address == "10.0.0.7:50055" and info.max_in_flight > 0
    assert SLEEP in {m.model_id for m in info.models}


async def test_router_down_does_not_stop_the_replica(served) -> None:  # type: ignore[no-untyped-def]
    stub, replica = served
    registration = RouterRegistration("127.0.0.1:1", replica, "127.0.0.1:50055")
    registration.start()
    await asyncio.sleep(0.5)
    assert registration._task is not None and not registration._task.done()
    assert (await stub.Predict(_inference(SLEEP, "text-generation", "up", seconds=0), timeout=5)).outcome.result.text
    await registration.close()

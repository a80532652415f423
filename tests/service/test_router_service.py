"""Service tests of the model router: real aio server on port 0, fake replicas as real gRPC servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from prometheus_client import REGISTRY

from hugginggpt.domain import InferenceMode
from hugginggpt.rpc import channel
from hugginggpt.server import ServerSpec, build_server
from hugginggpt.v1 import common_pb2, replica_pb2, replica_pb2_grpc, router_pb2, router_pb2_grpc
from services.router.clients import ReplicaClients
from services.router.registry import Registry
from services.router.routing import Router
from services.router.servicer import RouterServicer


@dataclass
class FakeReplica(replica_pb2_grpc.ModelReplicaServiceServicer):
    """A replica that sleeps, records each request key it completes, and can die mid-request."""

    replica_id: str
    delay: float = 0.0
    completed: list[str] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    request_ids: list[str] = field(default_factory=list)
    deadlines: list[float] = field(default_factory=list)

    async def Predict(self, request: replica_pb2.PredictRequest, context: grpc.aio.ServicerContext
                      ) -> replica_pb2.PredictResponse:
        self.request_ids.append(dict(context.invocation_metadata() or ()).get("x-request-id", ""))
        self.deadlines.append(context.time_remaining() or -1.0)
        self.started.set()
        await asyncio.sleep(self.delay)
        key = request.inference.inputs[0].text if request.inference.inputs else ""
        self.completed.append(key)
        result = common_pb2.TaskResult(text=f"{self.replica_id}:{key}")
        outcome = router_pb2.InferenceOutcome(result=result, replica_id=self.replica_id)
        return replica_pb2.PredictResponse(outcome=outcome)

    async def ListModels(self, request: replica_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
                         ) -> replica_pb2.ListModelsResponse:
        models = [router_pb2.ModelStatus(model_id="m", task_types=["text-classification"])]
        return replica_pb2.ListModelsResponse(replica_id=self.replica_id, models=models)


@dataclass
class Stack:
    router: Router
    stub: router_pb2_grpc.ModelRouterServiceStub
    clients: ReplicaClients
    servers: list[grpc.aio.Server] = field(default_factory=list)

    async def start_replica(self, fake: FakeReplica) -> tuple[grpc.aio.Server, str]:
        server = grpc.aio.server()
        replica_pb2_grpc.add_ModelReplicaServiceServicer_to_server(fake, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self.servers.append(server)
        return server, f"127.0.0.1:{port}"


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    clients = ReplicaClients()
    router = Router(Registry(ttl_seconds=30), clients, None, InferenceMode.LOCAL)
    servicer = RouterServicer(router, heartbeat_seconds=1.0, default_max_in_flight=4, timeout_seconds=30)
    spec = ServerSpec(
        listen="127.0.0.1:0",
        service_names=["hugginggpt.v1.ModelRouterService"],
        register=lambda s: router_pb2_grpc.add_ModelRouterServiceServicer_to_server(servicer, s),
    )
    server, _health, port = build_server(spec)
    await server.start()
    chan = channel(f"127.0.0.1:{port}")
    stack = Stack(router, router_pb2_grpc.ModelRouterServiceStub(chan), clients)
    yield stack
    for replica_server in stack.servers:
        await replica_server.stop(None)
    await chan.close()
    await clients.close()


def infer_request(key: str, model: str = "m", task: str = "text-classification") -> router_pb2.InferRequest:
    inference = router_pb2.Inference(model_id=model, task_type=task,
                                     inputs=[router_pb2.InferenceInput(name="text", text=key)])
    return router_pb2.InferRequest(inference=inference)


async def register(stack: Stack, replica_id: str, address: str, max_in_flight: int = 4) -> None:
    models = [router_pb2.ModelStatus(model_id="m", task_types=["text-classification"])]
    info = router_pb2.ReplicaInfo(replica_id=replica_id, address=address, models=models,
                                  max_in_flight=max_in_flight)
    reply = await stack.stub.RegisterReplica(router_pb2.RegisterReplicaRequest(replica=info), timeout=5)
    assert reply.heartbeat_interval_seconds == 1.0


async def test_infer_runs_on_a_registered_replica_with_request_id_and_deadline(stack: Stack) -> None:
    fake = FakeReplica("r0")
    server, address = await stack.start_replica(fake)
    await register(stack, "r0", address)
    reply = await stack.stub.Infer(infer_request("k1"), timeout=10, metadata=(("x-request-id", "req-42"),))
    assert reply.outcome.result.text == "r0:k1"
    assert reply.outcome.site == common_pb2.INFERENCE_SITE_LOCAL
    assert fake.request_ids == ["req-42"]
    assert 8 < fake.deadlines[0] < 11  # the caller's deadline, not the router's 30 s default
    listing = await stack.stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=5)
    assert [s.replica.replica_id for s in listing.replicas] == ["r0"]
    assert listing.replicas[0].replica.models[0].loaded  # the router knows r0 holds m now
    assert not listing.hosted_available


async def test_replica_dying_mid_request_is_rerouted_without_loss_or_duplicate(stack: Stack) -> None:
    dying, survivor = FakeReplica("r0", delay=5.0), FakeReplica("r1")
    dying_server, dying_address = await stack.start_replica(dying)
    survivor_server, survivor_address = await stack.start_replica(survivor)
    await register(stack, "r0", dying_address)
    await register(stack, "r1", survivor_address)
    reroutes_before = REGISTRY.get_sample_value("hugginggpt_router_reroutes_total", {"reason": "replica_gone"}) or 0
    call = asyncio.ensure_future(stack.stub.Infer(infer_request("k1"), timeout=10))
    await asyncio.wait_for(dying.started.wait(), 5)
    await dying_server.stop(0)  # the replica goes away with the request in flight
    reply = await call
    assert reply.outcome.replica_id == "r1"
    assert dying.completed == [] and survivor.completed == ["k1"]
    assert stack.router.registry.get("r0").suspect  # type: ignore[union-attr]
    reroutes = REGISTRY.get_sample_value("hugginggpt_router_reroutes_total", {"reason": "replica_gone"})
    assert reroutes == reroutes_before + 1
    assert REGISTRY.get_sample_value("hugginggpt_router_replica_in_flight", {"replica": "r1"}) == 0


async def test_unknown_model_is_not_found_and_lists_deployed_models(stack: Stack) -> None:
    fake = FakeReplica("r0")
    server, address = await stack.start_replica(fake)
    await register(stack, "r0", address)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(infer_request("k", model="org/missing"), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "org/missing" in (info.value.details() or "") and "deployed models: m" in (info.value.details() or "")


async def test_no_replicas_is_unavailable_with_a_remedy(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(infer_request("k"), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "python -m services.replica" in (info.value.details() or "")


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (router_pb2.InferRequest(), "model_id is required"),
        (router_pb2.InferRequest(inference=router_pb2.Inference(model_id="m")), "task_type is required"),
    ],
)
async def test_bad_inferences_are_invalid_argument(stack: Stack, request_: router_pb2.InferRequest,
                                                  fragment: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(request_, timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in (info.value.details() or "")


async def test_bad_registrations_are_invalid_argument(stack: Stack) -> None:
    for info in (router_pb2.ReplicaInfo(address="h:1"), router_pb2.ReplicaInfo(replica_id="r", address="nohost")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stack.stub.RegisterReplica(router_pb2.RegisterReplicaRequest(replica=info), timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_heartbeat_keeps_a_replica_and_unknown_ones_are_told_to_register(stack: Stack) -> None:
    reply = await stack.stub.Heartbeat(router_pb2.HeartbeatRequest(replica_id="ghost"), timeout=5)
    assert reply.known is False
    await register(stack, "r0", "127.0.0.1:1")
    reply = await stack.stub.Heartbeat(router_pb2.HeartbeatRequest(replica_id="r0"), timeout=5)
    assert reply.known is True


async def test_full_replica_gives_resource_exhausted_when_the_deadline_is_too_short(stack: Stack) -> None:
    fake = FakeReplica("r0", delay=0.4)
    server, address = await stack.start_replica(fake)
    await register(stack, "r0", address, max_in_flight=1)
    await stack.stub.Infer(infer_request("warm"), timeout=5)
    busy = asyncio.ensure_future(stack.stub.Infer(infer_request("k1"), timeout=5))
    await asyncio.sleep(0.1)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(infer_request("k2"), timeout=0.3)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "in-flight limit" in (info.value.details() or "")
    await busy
    assert fake.completed == ["warm", "k1"]


async def test_silent_replica_is_dropped_after_the_ttl(stack: Stack) -> None:
    stack.router.registry.ttl_seconds = 0.3
    expiry = asyncio.create_task(stack.router.expire_forever(0.1))
    fake = FakeReplica("r0")
    _server, address = await stack.start_replica(fake)
    await register(stack, "r0", address)
    await asyncio.sleep(0.2)
    assert (await stack.stub.Heartbeat(router_pb2.HeartbeatRequest(replica_id="r0"), timeout=5)).known
    await asyncio.sleep(0.6)
    expiry.cancel()
    listing = await stack.stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=5)
    assert list(listing.replicas) == []
    assert not (await stack.stub.Heartbeat(router_pb2.HeartbeatRequest(replica_id="r0"), timeout=5)).known
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(infer_request("k"), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE

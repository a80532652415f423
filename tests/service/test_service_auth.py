"""Trust nobody: the service token on real servers, the gateway's token on every RPC, registration, modes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from gateway_fakes import Stack as GatewayStack
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from hugginggpt.auth import SERVICE_TOKEN_ENV, SERVICE_TOKEN_KEY
from hugginggpt.domain import InferenceMode
from hugginggpt.rpc import channel, outbound_metadata
from hugginggpt.server import ServerSpec, build_server, set_serving
from hugginggpt.v1 import common_pb2, gateway_pb2, router_pb2, router_pb2_grpc
from hugginggpt_cli.ask import Connection, ask
from services.router.clients import ReplicaClients
from services.router.registry import Registry
from services.router.routing import Router
from services.router.servicer import RouterServicer

SERVICE_TOKEN = "a-service-token-for-tests-0123456789"
GATEWAY_TOKEN = "a-gateway-token"
ROUTER = "hugginggpt.v1.ModelRouterService"


@pytest.fixture
async def router() -> AsyncIterator[str]:
    """A real router server that requires the service token, as `python -m services.router` builds it."""
    clients = ReplicaClients()
    core = Router(Registry(ttl_seconds=30), clients, None, InferenceMode.LOCAL)
    servicer = RouterServicer(core, heartbeat_seconds=1.0, default_max_in_flight=4, timeout_seconds=30)
    spec = ServerSpec(listen="127.0.0.1:0", service_names=[ROUTER], service_token=SERVICE_TOKEN,
                      register=lambda s: router_pb2_grpc.add_ModelRouterServiceServicer_to_server(servicer, s))
    server, health, port = build_server(spec)
    await server.start()
    await set_serving(health, spec.service_names, True)
    yield f"127.0.0.1:{port}"
    await server.stop(None)
    await clients.close()


def registration(replica_id: str, address: str) -> router_pb2.RegisterReplicaRequest:
    models = [router_pb2.ModelStatus(model_id="m", task_types=["text-classification"])]
    return router_pb2.RegisterReplicaRequest(
        replica=router_pb2.ReplicaInfo(replica_id=replica_id, address=address, models=models))


async def _code(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code()


async def test_registration_from_an_unauthenticated_caller_is_refused(router: str) -> None:
    async with channel(router) as chan:
        stub = router_pb2_grpc.ModelRouterServiceStub(chan)
        for metadata in ((), ((SERVICE_TOKEN_KEY, "wrong-token-wrong-token"),), (("authorization", SERVICE_TOKEN),)):
            call = stub.RegisterReplica(registration("r0", "10.0.0.1:50055"), timeout=5, metadata=metadata)
            assert await _code(call) == grpc.StatusCode.UNAUTHENTICATED
        listing = await stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=5,
                                             metadata=((SERVICE_TOKEN_KEY, SERVICE_TOKEN),))
        assert list(listing.replicas) == []
        health = await health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING  # probes need no token


async def test_peers_send_the_token_from_the_environment(router: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVICE_TOKEN_ENV, SERVICE_TOKEN)
    async with channel(router) as chan:
        stub = router_pb2_grpc.ModelRouterServiceStub(chan)
        await stub.RegisterReplica(registration("r0", "10.0.0.1:50055"), timeout=5, metadata=outbound_metadata())
        listing = await stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=5,
                                             metadata=outbound_metadata())
    assert [s.replica.address for s in listing.replicas] == ["10.0.0.1:50055"]


async def test_a_replica_id_held_by_another_address_is_not_taken_over(router: str) -> None:
    metadata = ((SERVICE_TOKEN_KEY, SERVICE_TOKEN),)
    async with channel(router) as chan:
        stub = router_pb2_grpc.ModelRouterServiceStub(chan)
        await stub.RegisterReplica(registration("r0", "10.0.0.1:50055"), timeout=5, metadata=metadata)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.RegisterReplica(registration("r0", "10.6.6.6:50055"), timeout=5, metadata=metadata)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "10.0.0.1:50055" in (caught.value.details() or "")
        await stub.RegisterReplica(registration("r0", "10.0.0.1:50055"), timeout=5, metadata=metadata)  # itself
        listing = await stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=5, metadata=metadata)
    assert [s.replica.address for s in listing.replicas] == ["10.0.0.1:50055"]


async def test_reflection_needs_the_service_token_too(router: str) -> None:
    async with channel(router) as chan:
        stub = reflection_pb2_grpc.ServerReflectionStub(chan)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            [r async for r in stub.ServerReflectionInfo(iter([request]), timeout=5)]
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        replies = [r async for r in stub.ServerReflectionInfo(
            iter([request]), timeout=5, metadata=((SERVICE_TOKEN_KEY, SERVICE_TOKEN),))]
    assert ROUTER in {s.name for s in replies[0].list_services_response.service}


async def test_a_hosted_mode_the_deployment_forbids_is_refused(router: str) -> None:
    metadata = ((SERVICE_TOKEN_KEY, SERVICE_TOKEN),)
    async with channel(router) as chan:
        stub = router_pb2_grpc.ModelRouterServiceStub(chan)
        for mode in (common_pb2.INFERENCE_MODE_HUGGINGFACE, common_pb2.INFERENCE_MODE_HYBRID):
            inference = router_pb2.Inference(model_id="m", task_type="text-classification", mode=mode,
                                             inputs=[router_pb2.InferenceInput(name="text", text="x")])
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Infer(router_pb2.InferRequest(inference=inference), timeout=5, metadata=metadata)
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "locally only" in (caught.value.details() or "")


def _empty_call(chan: grpc.aio.Channel, method: object) -> object:
    """Calls a GatewayService method with an empty request, whatever its streaming shape."""
    path = f"/{method.containing_service.full_name}/{method.name}"  # type: ignore[attr-defined]
    request = b""
    if method.client_streaming and method.server_streaming:  # type: ignore[attr-defined]
        return _drain(chan.stream_stream(path)(iter([request]), timeout=5))
    if method.client_streaming:  # type: ignore[attr-defined]
        return chan.stream_unary(path)(iter([request]), timeout=5)
    if method.server_streaming:  # type: ignore[attr-defined]
        return _drain(chan.unary_stream(path)(request, timeout=5))
    return chan.unary_unary(path)(request, timeout=5)


async def _drain(call: grpc.aio.Call) -> None:
    async for _ in call:  # type: ignore[attr-defined]
        pass


async def test_every_gateway_rpc_and_reflection_refuse_a_missing_or_wrong_token(tmp_path: Path) -> None:
    stack = await GatewayStack(tmp_path, auth_token=GATEWAY_TOKEN).start()
    methods = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"].methods
    assert {"Chat", "UploadArtifact", "DownloadArtifact", "PlanTasks", "RunTasks"} <= {m.name for m in methods}
    try:
        for metadata in ((), (("authorization", "Bearer wrong"),), (("authorization", GATEWAY_TOKEN),)):
            async with grpc.aio.insecure_channel(stack.address) as chan:
                chan_with = _WithMetadata(chan, metadata)
                for method in methods:
                    assert await _code(_empty_call(chan_with, method)) == grpc.StatusCode.UNAUTHENTICATED, method.name
                stub = reflection_pb2_grpc.ServerReflectionStub(chan)
                request = reflection_pb2.ServerReflectionRequest(list_services="")
                call = _drain(stub.ServerReflectionInfo(iter([request]), timeout=5, metadata=metadata))
                assert await _code(call) == grpc.StatusCode.UNAUTHENTICATED
        assert stack.record.plan_requests == [] and stack.record.execute_items == []
    finally:
        await stack.stop()


class _WithMetadata:
    """A channel whose multi-callables send fixed metadata."""

    def __init__(self, chan: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...]) -> None:
        self._chan, self._metadata = chan, metadata

    def __getattr__(self, kind: str) -> object:
        def factory(path: str) -> object:
            callable_ = getattr(self._chan, kind)(path)
            return lambda request, timeout: callable_(request, timeout=timeout, metadata=self._metadata)

        return factory


async def test_ask_sends_the_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = await GatewayStack(tmp_path, auth_token=GATEWAY_TOKEN).start()
    try:
        stack.script.direct_answer = "hello back"
        assert await ask(Connection(stack.address), "hello", [], "", tmp_path / "out", 10) == 1
        assert "pass --token" in capsys.readouterr().err
        assert await ask(Connection(stack.address, GATEWAY_TOKEN), "hello", [], "", tmp_path / "out", 10) == 0
        assert "hello back" in capsys.readouterr().out
    finally:
        await stack.stop()

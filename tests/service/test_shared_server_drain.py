"""Long streams outlive connection ageing, and SIGTERM lets in-flight requests finish (rolling restarts)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator

import grpc
import pytest

from hugginggpt.server import ServerSpec, run
from hugginggpt.v1 import responder_pb2, responder_pb2_grpc

SERVICE = responder_pb2.DESCRIPTOR.services_by_name["ResponderService"].full_name
STEPS, STEP_SECONDS = 30, 0.2  # a 6 s stream: longer than the connection age plus the old 5 s grace


class Slow(responder_pb2_grpc.ResponderServiceServicer):
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def Respond(self, request: responder_pb2.RespondRequest, context: grpc.aio.ServicerContext  # noqa: N802
                      ) -> AsyncIterator[responder_pb2.RespondResponse]:
        self.started.set()
        for i in range(STEPS):
            yield responder_pb2.RespondResponse(delta=f"{i} ")
            await asyncio.sleep(STEP_SECONDS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_stream_older_than_the_connection_age_survives_it_and_a_sigterm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUGGINGGPT_SERVICE_OPEN", "true")  # no service token in this test
    servicer, address = Slow(), f"127.0.0.1:{free_port()}"
    spec = ServerSpec(listen=address, service_names=[SERVICE], max_connection_age_seconds=0.5,
                      register=lambda s: responder_pb2_grpc.add_ResponderServiceServicer_to_server(servicer, s))
    serving = asyncio.create_task(run(spec))
    loop = asyncio.get_running_loop()
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            await channel.channel_ready()
            stub = responder_pb2_grpc.ResponderServiceStub(channel)
            stream = stub.Respond(responder_pb2.RespondRequest(), timeout=30)
            received = asyncio.create_task(_deltas(stream))
            await servicer.started.wait()
            await asyncio.sleep(1.0)  # the connection is now past its maximum age
            os.kill(os.getpid(), signal.SIGTERM)  # a rolling restart begins
            await asyncio.sleep(0.3)
            assert not serving.done()  # still draining
            deltas = await received
        assert deltas == [f"{i} " for i in range(STEPS)]  # every part arrived: neither cut the stream
        await asyncio.wait_for(serving, 5)  # and the server stopped once its request was done
    finally:
        serving.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _deltas(stream: AsyncIterator[responder_pb2.RespondResponse]) -> list[str]:
    return [part.delta async for part in stream]


async def test_a_stage_at_its_limit_refuses_more_requests_but_still_answers_health() -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from hugginggpt.admission import concurrency_limit, concurrency_setting
    from hugginggpt.server import build_server, set_serving

    limit = concurrency_limit("planner", {"HUGGINGGPT_PLANNER_MAX_CONCURRENT_REQUESTS": "1"})
    servicer = Slow()
    spec = ServerSpec(listen="127.0.0.1:0", service_names=[SERVICE], max_concurrent_requests=limit,
                      concurrency_setting=concurrency_setting("planner"),
                      register=lambda s: responder_pb2_grpc.add_ResponderServiceServicer_to_server(servicer, s))
    server, health, port = build_server(spec)
    await server.start()
    await set_serving(health, spec.service_names, True)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = responder_pb2_grpc.ResponderServiceStub(channel)
            first = stub.Respond(responder_pb2.RespondRequest(), timeout=30)
            await first.read()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Respond(responder_pb2.RespondRequest(), timeout=5).read()
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "limit of 1 concurrent requests (HUGGINGGPT_PLANNER_MAX_CONCURRENT_REQUESTS)" in (
                caught.value.details() or "")
            check = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert check.status == health_pb2.HealthCheckResponse.SERVING
            first.cancel()
    finally:
        await server.stop(None)


@pytest.mark.parametrize("client", ["service", "gateway client"])
async def test_a_peer_that_restarts_is_used_again_within_a_second_or_two(client: str) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from hugginggpt.rpc import channel
    from hugginggpt.server import build_server, set_serving
    from hugginggpt_cli.gateway_client import GatewayClient

    address = f"127.0.0.1:{free_port()}"

    async def start() -> grpc.aio.Server:
        spec = ServerSpec(listen=address, service_names=[SERVICE], register=lambda s: None)
        server, health, _ = build_server(spec)
        await server.start()
        await set_serving(health, [SERVICE], True)
        return server

    async def check(stub: health_pb2_grpc.HealthStub) -> bool:
        try:
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
        except grpc.aio.AioRpcError:
            return False
        return True

    server = await start()
    async with channel(address) if client == "service" else GatewayClient(address)._channel as peer:
        stub = health_pb2_grpc.HealthStub(peer)
        assert await check(stub)
        await server.stop(None)
        down_until = asyncio.get_running_loop().time() + 6.0  # down long enough for the default backoff to grow
        while asyncio.get_running_loop().time() < down_until:
            assert not await check(stub)
            await asyncio.sleep(0.2)
        server = await start()
        back = asyncio.get_running_loop().time()
        while not await check(stub):
            await asyncio.sleep(0.05)
        assert asyncio.get_running_loop().time() - back < 1.5
    await server.stop(None)

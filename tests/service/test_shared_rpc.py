"""The shared server plumbing: errors become statuses a person can act on, health and reflection are served."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hugginggpt.embedded import server_command
from hugginggpt.errors import InvalidRequest, Unavailable
from hugginggpt.llm import LlmClient, LlmSettings, Usage
from hugginggpt.server import ServerSpec, build_server, set_serving
from hugginggpt.v1 import responder_pb2, responder_pb2_grpc
from tests.doubles.fake_llm import FakeLlm


class Failing(responder_pb2_grpc.ResponderServiceServicer):
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def Respond(self, request: responder_pb2.RespondRequest, context: grpc.aio.ServicerContext
                      ) -> AsyncIterator[responder_pb2.RespondResponse]:
        yield responder_pb2.RespondResponse(delta="partial ")
        raise self.exc


async def start(exc: Exception) -> tuple[grpc.aio.Server, int]:
    spec = ServerSpec(
        listen="127.0.0.1:0",
        service_names=[responder_pb2.DESCRIPTOR.services_by_name["ResponderService"].full_name],
        register=lambda server: responder_pb2_grpc.add_ResponderServiceServicer_to_server(Failing(exc), server),
    )
    server, health, port = build_server(spec)
    await server.start()
    await set_serving(health, spec.service_names, True)
    return server, port


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (InvalidRequest("the request is empty"), grpc.StatusCode.INVALID_ARGUMENT, "the request is empty"),
        (Unavailable("LLM down"), grpc.StatusCode.UNAVAILABLE, "LLM down"),
        (KeyError("secret internals"), grpc.StatusCode.INTERNAL, "internal error"),
    ],
)
async def test_errors_map_to_statuses_without_internals(exc: Exception, code: grpc.StatusCode, message: str) -> None:
    server, port = await start(exc)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            call = responder_pb2_grpc.ResponderServiceStub(ch).Respond(responder_pb2.RespondRequest(), timeout=5)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                async for _ in call:
                    pass
        assert info.value.code() == code
        assert message in (info.value.details() or "")
        assert "secret internals" not in (info.value.details() or "")
        assert "Traceback" not in (info.value.details() or "")
    finally:
        await server.stop(None)


async def test_health_is_served() -> None:
    server, port = await start(InvalidRequest("x"))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            reply = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await server.stop(None)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_llm_endpoint_down_is_unavailable_quickly() -> None:
    settings = LlmSettings.from_env("test", env={"HUGGINGGPT_LLM_BASE_URL": f"http://127.0.0.1:{_closed_port()}/v1"})
    client = LlmClient(settings)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot be reached"):
        await client.complete([{"role": "user", "content": "hi"}], Usage(), timeout=5)
    assert time.monotonic() - started < 5
    await client.close()


@pytest.mark.parametrize("interrupted", [False, True])
async def test_a_stream_cut_short_by_the_endpoint_is_reported(interrupted: bool,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeLlm(lambda messages: '{"tasks": []}').start()
    fake.interrupted = interrupted
    client = LlmClient(LlmSettings.from_env("test", env={"HUGGINGGPT_LLM_BASE_URL": fake.base_url}))
    try:
        text = "".join([p async for p in client.stream([{"role": "user", "content": "hi"}], Usage())])
    finally:
        await client.close()
        fake.stop()
    assert text == '{"tasks": []}'
    assert ("without a finish reason" in caplog.text) == interrupted


def test_the_embedded_llm_server_lets_queued_requests_wait() -> None:
    command = server_command(Path("m.gguf"), "m", "127.0.0.1", 8080, 8192, 2, "llama-cpp-python")
    assert command[command.index("--interrupt_requests") + 1] == "false"
    assert command[command.index("--cache") + 1] == "false"


async def test_calls_are_greedy_unless_the_settings_ask_for_sampling() -> None:
    fake = FakeLlm(lambda messages: "ok").start()
    greedy = LlmSettings.from_env("test", env={"HUGGINGGPT_LLM_BASE_URL": fake.base_url})
    clients = [LlmClient(greedy), LlmClient(replace(greedy, temperature=0.8))]
    try:
        for client in clients:
            assert await client.complete([{"role": "user", "content": "hi"}], Usage()) == "ok"
    finally:
        for client in clients:
            await client.close()
        fake.stop()
    assert [call["temperature"] for call in fake.calls] == [0.0, 0.8]

"""Operations: bearer token, TLS, one trace per request across services, gateway-level metrics."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from gateway_fakes import Stack, task
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from hugginggpt import tracing
from hugginggpt_cli.gateway_client import GatewayClient

TOKEN = "s3cret-token"


async def test_bearer_token_is_required_except_for_health(tmp_path: Path) -> None:
    stack = await Stack(tmp_path, auth_token=TOKEN).start()
    try:
        stack.script.direct_answer = "hi"
        for client in (GatewayClient(stack.address), GatewayClient(stack.address, token="wrong")):
            async with client:
                for call in (client.session("feedfacefeedface"), client.upload(__file__)):
                    with pytest.raises(grpc.aio.AioRpcError) as caught:
                        await call
                    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    [e async for e in client.chat("hello")]
                assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert stack.record.plan_requests == []
        async with grpc.aio.insecure_channel(stack.address) as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
        async with GatewayClient(stack.address, token=TOKEN) as client:
            events = [e async for e in client.chat("hello")]
        assert events[-1].summary.answer == "hi"
    finally:
        await stack.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed; it makes the test's self-signed certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


async def test_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    stack = await Stack(tmp_path, tls_cert=cert, tls_key=key, auth_token=TOKEN).start()
    try:
        stack.script.direct_answer = "over TLS"
        async with GatewayClient(stack.address, token=TOKEN, root_certificates=cert.read_bytes()) as client:
            events = [e async for e in client.chat("hello")]
        assert events[-1].summary.answer == "over TLS"
        async with GatewayClient(stack.address, token=TOKEN) as plaintext:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await plaintext.session("feedfacefeedface", timeout=3)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await stack.stop()


async def test_one_trace_per_request_across_services(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    traces = tracing.setup("gateway-test", exporter=exporter, set_global=False)
    try:
        stack = await Stack(tmp_path).start(tracer=traces.tracer("gateway"))
        try:
            stack.script.tasks = [task(1, "automatic-speech-recognition"), task(2, "summarization", deps=(1,))]
            async with GatewayClient(stack.address) as client:
                [e async for e in client.chat("trace me")]
        finally:
            await stack.stop()
        spans = exporter.get_finished_spans()
    finally:
        await traces.shutdown()
    assert len({s.context.trace_id for s in spans}) == 1
    names = [s.name for s in spans]
    for stage in ("gateway.request", "gateway.plan", "gateway.select", "gateway.execute", "gateway.respond"):
        assert stage in names, stage
    assert sorted(s.attributes["hugginggpt.task.id"] for s in spans if s.name == "gateway.task") == [1, 2]
    servers = {s.name for s in spans if s.kind == SpanKind.SERVER}
    for method in ("GatewayService/Chat", "PlannerService/StreamPlan", "SelectorService/Select",
                   "ExecutorService/ExecuteStream", "ResponderService/Respond"):
        assert f"/hugginggpt.v1.{method}" in servers, method
    assert not any("Health" in name for name in names)


def test_tracing_is_off_without_configuration() -> None:
    traces = tracing.setup("x", env={})
    assert not traces.enabled
    assert not traces.tracer("x").start_span("s").get_span_context().is_valid


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_gateway_metrics(tmp_path: Path) -> None:
    stack = await Stack(tmp_path).start()
    try:
        stack.script.tasks = [task(1, "automatic-speech-recognition"), task(2, "summarization", deps=(1,))]
        before_tasks = metric("hugginggpt_gateway_tasks_total", state="succeeded")
        before_calls = metric("hugginggpt_gateway_llm_calls_per_request_sum", rpc="Chat")
        before_latency = metric("hugginggpt_gateway_request_seconds_count", rpc="Chat", outcome="ok")
        async with GatewayClient(stack.address) as client:
            [e async for e in client.chat("count me")]
    finally:
        await stack.stop()
    assert metric("hugginggpt_gateway_tasks_total", state="succeeded") - before_tasks == 2
    assert metric("hugginggpt_gateway_llm_calls_per_request_sum", rpc="Chat") - before_calls == 3
    assert metric("hugginggpt_gateway_request_seconds_count", rpc="Chat", outcome="ok") - before_latency == 1
    assert metric("hugginggpt_gateway_llm_tokens_total", stage="planner", kind="prompt") >= 100

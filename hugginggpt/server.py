"""Runs an asyncio gRPC server with health, reflection, metrics and graceful SIGTERM handling."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from hugginggpt.admission import AdmissionInterceptor
from hugginggpt.auth import service_interceptor, service_token
from hugginggpt.rpc import MAX_MESSAGE_BYTES, ServiceInterceptor

logger = logging.getLogger(__name__)

OVERALL = ""
# Health name for liveness probes: SERVING while the process runs, even when not ready (loading, draining).
LIVENESS = "liveness"


@dataclass
class ServerSpec:
    """What a service's __main__ hands to run(): where to listen and what to serve."""

    listen: str
    service_names: Sequence[str]
    register: Callable[[grpc.aio.Server], None]
    metrics_port: int = 0
    # The longest a request may run: connections are aged out only after their streams had this long
    # to finish, and SIGTERM drains in-flight requests for up to this long.
    max_request_seconds: float = 600.0
    max_connection_age_seconds: float = 300.0
    ready: Callable[[], Awaitable[bool]] | None = None
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Interceptors that run before the shared one (outermost first), for example an auth check.
    interceptors: Sequence[grpc.aio.ServerInterceptor] = ()
    # TLS credentials; None serves plaintext.
    credentials: grpc.ServerCredentials | None = None
    # The token callers must send (hugginggpt.auth); None: run() reads HUGGINGGPT_SERVICE_TOKEN; "": open
    # (the gateway, a public entry point with its own check, and tests of one service alone).
    service_token: str | None = None
    # Requests handled at once (0: no limit); over it a request is refused naming concurrency_setting.
    max_concurrent_requests: int = 0
    concurrency_setting: str = ""


def build_server(spec: ServerSpec) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """Creates the server with interceptors, health and reflection; returns it with its bound port."""
    checks = [service_interceptor(spec.service_token)] if spec.service_token else []
    admission = [AdmissionInterceptor(spec.max_concurrent_requests, spec.concurrency_setting)] if (
        spec.max_concurrent_requests > 0) else []
    server = grpc.aio.server(
        interceptors=[*checks, *spec.interceptors, ServiceInterceptor(), *admission],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # Clients reconnect (and rebalance onto new pods) after this long.
            ("grpc.max_connection_age_ms", int(spec.max_connection_age_seconds * 1000)),
            # A stream still running when its connection ages out keeps it as long as a request may last.
            ("grpc.max_connection_age_grace_ms", int((spec.max_request_seconds + 5) * 1000)),
        ],
    )
    spec.register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [*spec.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
    reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
    if spec.credentials is not None:
        port = server.add_secure_port(spec.listen, spec.credentials)
    else:
        port = server.add_insecure_port(spec.listen)
    if port == 0:
        raise OSError(f"cannot listen on {spec.listen}")
    return server, health_servicer, port


async def set_serving(health_servicer: health.aio.HealthServicer, names: Sequence[str], up: bool) -> None:
    """Marks the whole server and each named service SERVING or NOT_SERVING."""
    status = health_pb2.HealthCheckResponse.SERVING if up else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in [OVERALL, *names]:
        await health_servicer.set(name, status)


async def _watch_readiness(spec: ServerSpec, health_servicer: health.aio.HealthServicer) -> None:
    assert spec.ready is not None
    while True:
        await set_serving(health_servicer, spec.service_names, await spec.ready())
        await asyncio.sleep(1.0)


async def run(spec: ServerSpec) -> None:
    """Serves until SIGTERM or SIGINT, then reports NOT_SERVING and stops with a grace period."""
    if spec.service_token is None:
        spec.service_token = service_token()  # SettingsError, naming the variables, when neither is set
        if not spec.service_token:
            logger.warning("HUGGINGGPT_SERVICE_OPEN=true: accepting calls from anyone who can reach %s",
                           spec.listen)
    server, health_servicer, port = build_server(spec)
    if spec.metrics_port:
        start_http_server(spec.metrics_port, addr="0.0.0.0")
    await server.start()
    await set_serving(health_servicer, spec.service_names, spec.ready is None)
    await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    watcher = asyncio.create_task(_watch_readiness(spec, health_servicer)) if spec.ready else None
    logger.info("listening on %s (port %d)", spec.listen, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    logger.info("stopping: draining in-flight requests for up to %.1f s", spec.max_request_seconds)
    if watcher:
        watcher.cancel()
    await set_serving(health_servicer, spec.service_names, False)
    await server.stop(spec.max_request_seconds)
    for hook in spec.on_stop:
        await hook()
    logger.info("stopped")

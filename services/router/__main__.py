"""Wiring for `python -m services.router`: settings -> registry, clients, hosted backend -> server."""

from __future__ import annotations

import asyncio
import contextlib

from hugginggpt import logs, tracing
from hugginggpt.admission import concurrency_setting
from hugginggpt.artifacts_s3 import open_artifact_store
from hugginggpt.domain import InferenceMode
from hugginggpt.server import ServerSpec, run
from hugginggpt.v1 import router_pb2, router_pb2_grpc
from services.router.clients import ReplicaClients
from services.router.config import RouterConfig
from services.router.hosted import HostedInference
from services.router.registry import Registry
from services.router.routing import Router
from services.router.servicer import RouterServicer


def _kubernetes_api() -> object:
    from kubernetes import client, config

    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.CoreV1Api()


def hosted_backend(cfg: RouterConfig) -> HostedInference | None:
    """Hosted inference, with the artifact store it writes to, only where the deployment allows it."""
    if cfg.mode is InferenceMode.LOCAL or not cfg.hf_token:
        return None  # no store opened: a local-mode router touches no artifact (its pod mounts none)
    return HostedInference(cfg.hf_endpoint, cfg.hf_token,
                           open_artifact_store(root=cfg.artifact_dir, max_bytes=cfg.artifact_max_bytes))


async def main() -> None:
    logs.configure("router")
    traces = tracing.setup("router")  # no-op unless HUGGINGGPT_OTEL_ENABLED; before any channel
    cfg = RouterConfig.from_env()
    clients = ReplicaClients()
    router = Router(Registry(cfg.replica_ttl_seconds), clients, hosted_backend(cfg), cfg.mode, cfg.max_attempts)
    servicer = RouterServicer(router, cfg.heartbeat_seconds, cfg.default_max_in_flight, cfg.timeout_seconds)
    background = [asyncio.create_task(router.expire_forever(cfg.heartbeat_seconds / 2))]
    if cfg.discovery == "kubernetes":
        from services.router.discovery import KubernetesDiscovery

        discovery = KubernetesDiscovery(
            router, clients.list_models, _kubernetes_api(), cfg.namespace,  # type: ignore[arg-type]
            cfg.replica_selector, cfg.replica_port, cfg.default_max_in_flight,
            resync_seconds=cfg.heartbeat_seconds,
        )
        background.append(asyncio.create_task(discovery.run()))

    async def stop_background() -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await clients.close()

    name = router_pb2.DESCRIPTOR.services_by_name["ModelRouterService"].full_name
    await run(ServerSpec(
        listen=cfg.listen,
        service_names=[name],
        register=lambda server: router_pb2_grpc.add_ModelRouterServiceServicer_to_server(servicer, server),
        metrics_port=cfg.metrics_port,
        max_concurrent_requests=cfg.max_concurrent_requests,
        concurrency_setting=concurrency_setting("router"),
        on_stop=[traces.shutdown, stop_background],
    ))


if __name__ == "__main__":
    asyncio.run(main())

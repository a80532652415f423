"""Discovery against the real kubernetes client and a loopback API server replaying recorded pod objects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from aiohttp import web
from kubernetes import client

from hugginggpt.domain import InferenceMode
from hugginggpt.v1 import replica_pb2, replica_pb2_grpc, router_pb2
from services.router.clients import ReplicaClients
from services.router.discovery import KubernetesDiscovery
from services.router.registry import Registry
from services.router.routing import Router

SELECTOR = "app.kubernetes.io/component=model-replica"


def pod(name: str, port: int, ready: bool, phase: str = "Running") -> dict[str, Any]:
    """A V1Pod as the API server returns it (trimmed to the fields discovery reads)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ml", "resourceVersion": "100",
                     "labels": {"app.kubernetes.io/component": "model-replica"}},
        "spec": {"containers": [{"name": "replica", "image": "hugginggpt-replica:0.1.0",
                                 "ports": [{"name": "metrics", "containerPort": 9100},
                                           {"name": "grpc", "containerPort": port}]}]},
        "status": {"phase": phase, "podIP": "127.0.0.1",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


class Replica(replica_pb2_grpc.ModelReplicaServiceServicer):
    def __init__(self, replica_id: str) -> None:
        self.replica_id = replica_id

    async def ListModels(self, request: replica_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
                         ) -> replica_pb2.ListModelsResponse:
        models = [router_pb2.ModelStatus(model_id="m", task_types=["text-classification"], loaded=True)]
        return replica_pb2.ListModelsResponse(replica_id=self.replica_id, models=models)


class FakeApiServer:
    """Answers list and watch of pods from a script; records the queries the client made."""

    def __init__(self, listings: list[list[dict[str, Any]]], events: list[dict[str, Any]]) -> None:
        self.listings = listings
        self.events = events
        self.queries: list[dict[str, str]] = []

    async def pods(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        if request.query.get("watch") in ("true", "True", "1"):
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            events, self.events = self.events, []
            for event in events:
                await asyncio.sleep(0.3)  # time for the test to see the state before each event
                await response.write((json.dumps(event) + "\n").encode())
            await response.write_eof()
            return response
        items = self.listings.pop(0) if len(self.listings) > 1 else self.listings[0]
        return web.json_response({"apiVersion": "v1", "kind": "PodList", "items": items,
                                  "metadata": {"resourceVersion": "100"}})


async def start_replica(replica_id: str) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    replica_pb2_grpc.add_ModelReplicaServiceServicer_to_server(Replica(replica_id), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def start_api(api: FakeApiServer) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_get("/api/v1/namespaces/{ns}/pods", api.pods)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def until(predicate: Any, seconds: float = 8.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[int, int]]:
    (server_a, port_a), (server_b, port_b) = await start_replica("replica-a"), await start_replica("replica-b")
    yield port_a, port_b
    await server_a.stop(None)
    await server_b.stop(None)


async def test_ready_pods_join_and_deleted_or_unready_pods_leave(replicas: tuple[int, int]) -> None:
    port_a, port_b = replicas
    api = FakeApiServer(
        listings=[[pod("replica-a", port_a, True), pod("replica-b", port_b, False, "Pending")],
                  [pod("replica-b", port_b, True)]],
        events=[{"type": "MODIFIED", "object": pod("replica-b", port_b, True)},
                {"type": "DELETED", "object": pod("replica-a", port_a, True)}],
    )
    runner, api_port = await start_api(api)
    router = Router(Registry(ttl_seconds=30), ReplicaClients(), None, InferenceMode.LOCAL)
    config = client.Configuration(host=f"http://127.0.0.1:{api_port}")
    core = client.CoreV1Api(client.ApiClient(config))
    clients = ReplicaClients()
    discovery = KubernetesDiscovery(router, clients.list_models, core, "ml", SELECTOR, 50055, 4,
                                    resync_seconds=0.2, watch_timeout_seconds=5)
    task = asyncio.create_task(discovery.run())
    seen: list[list[str]] = []

    def ids() -> list[str]:
        current = [r.replica_id for r in router.registry.replicas()]
        if not seen or seen[-1] != current:
            seen.append(current)
        return current

    try:
        await until(lambda: ids() == ["replica-b"])
    finally:
        task.cancel()
        await clients.close()
        await runner.cleanup()
    assert ["replica-a"] in seen and ["replica-a", "replica-b"] in seen  # a joined, b joined once ready
    replica_b = router.registry.get("replica-b")
    assert replica_b is not None and replica_b.address == f"127.0.0.1:{port_b}"  # the port named "grpc"
    assert replica_b.pinned and replica_b.holds("m")
    assert all(q.get("labelSelector") == SELECTOR for q in api.queries)
    assert any(q.get("watch") for q in api.queries) and any(not q.get("watch") for q in api.queries)


async def test_forbidden_watch_keeps_retrying_without_crashing() -> None:
    async def forbidden(request: web.Request) -> web.Response:
        body = {"kind": "Status", "status": "Failure", "reason": "Forbidden", "code": 403,
                "message": 'pods is forbidden: User "system:serviceaccount:ml:router" cannot list resource "pods"'}
        return web.json_response(body, status=403)

    app = web.Application()
    app.router.add_get("/api/v1/namespaces/{ns}/pods", forbidden)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    router = Router(Registry(ttl_seconds=30), ReplicaClients(), None, InferenceMode.LOCAL)
    core = client.CoreV1Api(client.ApiClient(client.Configuration(host=f"http://127.0.0.1:{port}")))
    discovery = KubernetesDiscovery(router, ReplicaClients().list_models, core, "ml", SELECTOR, 50055, 4)
    task = asyncio.create_task(discovery.run())
    await asyncio.sleep(0.5)
    assert not task.done() and router.registry.replicas() == []
    task.cancel()
    await runner.cleanup()

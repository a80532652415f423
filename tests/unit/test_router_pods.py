"""Unit tests of discovery's pod rules and event handling with V1Pod objects and a fake probe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kubernetes import client

from hugginggpt.domain import InferenceMode
from hugginggpt.v1 import replica_pb2, router_pb2
from services.router.discovery import KubernetesDiscovery, pod_address, pod_ready
from services.router.registry import Registry
from services.router.routing import ReplicaGone, Router


def make_pod(name: str = "replica-0", ready: bool = True, ip: str = "10.0.0.7", phase: str = "Running",
             deleting: bool = False, port_name: str = "grpc") -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, deletion_timestamp=datetime.now(UTC) if deleting else None),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="replica", ports=[client.V1ContainerPort(name=port_name, container_port=6000)])]),
        status=client.V1PodStatus(phase=phase, pod_ip=ip, conditions=[
            client.V1PodCondition(type="Ready", status="True" if ready else "False")]),
    )


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (make_pod(), True),
        (make_pod(ready=False), False),
        (make_pod(phase="Pending"), False),
        (make_pod(ip=""), False),
        (make_pod(deleting=True), False),
    ],
)
def test_only_running_ready_pods_with_an_ip_count(pod: client.V1Pod, expected: bool) -> None:
    assert pod_ready(pod) is expected


def test_address_uses_the_named_port_else_the_default() -> None:
    assert pod_address(make_pod(), "grpc", 50055) == "10.0.0.7:6000"
    assert pod_address(make_pod(port_name="http"), "grpc", 50055) == "10.0.0.7:50055"


class Probe:
    def __init__(self) -> None:
        self.down: set[str] = set()

    async def __call__(self, address: str, timeout: float) -> replica_pb2.ListModelsResponse:
        if address in self.down:
            raise ReplicaGone(f"{address}: connection refused")
        return replica_pb2.ListModelsResponse(replica_id=f"id-{address}",
                                              models=[router_pb2.ModelStatus(model_id="m")])


async def test_events_add_ready_pods_and_drop_unready_or_deleted_ones() -> None:
    router = Router(Registry(ttl_seconds=30), None, None, InferenceMode.LOCAL)  # type: ignore[arg-type]
    probe = Probe()
    discovery = KubernetesDiscovery(router, probe, None, "ml", "app=r", 50055, 4)  # type: ignore[arg-type]
    await discovery.handle("ADDED", make_pod("a", ip="10.0.0.1"))
    await discovery.handle("ADDED", make_pod("b", ip="10.0.0.2", ready=False))
    assert [r.replica_id for r in router.registry.replicas()] == ["id-10.0.0.1:6000"]
    await discovery.handle("MODIFIED", make_pod("a", ip="10.0.0.1", ready=False))
    assert router.registry.replicas() == []
    probe.down.add("10.0.0.3:6000")
    await discovery.handle("ADDED", make_pod("c", ip="10.0.0.3"))
    assert discovery.pending == {"c": "10.0.0.3:6000"} and router.registry.replicas() == []
    await discovery.sync([make_pod("d", ip="10.0.0.4")])  # a fresh listing without c
    assert discovery.pending == {} and list(discovery.known) == ["d"]
    await discovery.handle("DELETED", make_pod("d", ip="10.0.0.4"))
    assert router.registry.replicas() == []

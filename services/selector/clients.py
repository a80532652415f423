"""Outbound: the model router's registry (what is deployed) and the offline fallback view of it."""

from __future__ import annotations

import json
from pathlib import Path

from hugginggpt.rpc import channel, outbound_metadata
from hugginggpt.v1 import router_pb2, router_pb2_grpc
from services.selector.deployments import Deployments


class DeploymentsClient:
    """Asks ModelRouterService.ListDeployments; one channel for the process."""

    def __init__(self, address: str, timeout: float = 2.0) -> None:
        self._channel = channel(address)
        self._stub = router_pb2_grpc.ModelRouterServiceStub(self._channel)
        self._timeout = timeout

    async def deployments(self) -> Deployments:
        response = await self._stub.ListDeployments(
            router_pb2.ListDeploymentsRequest(), timeout=self._timeout, metadata=outbound_metadata()
        )
        return deployments_from_pb(response)

    async def close(self) -> None:
        await self._channel.close(grace=None)


def deployments_from_pb(response: router_pb2.ListDeploymentsResponse) -> Deployments:
    """Models without an error on any live replica, with the task types each serves."""
    local: dict[str, set[str]] = {}
    for state in response.replicas:
        for status in state.replica.models:
            if not status.error:
                local.setdefault(status.model_id, set()).update(status.task_types)
    return Deployments({k: frozenset(v) for k, v in local.items()}, response.hosted_available, True)


def offline_fallback(offline_models: Path) -> Deployments:
    """What a default deployment serves: the offline models on local replicas (router unreachable)."""
    entries = json.loads(offline_models.read_text(encoding="utf-8"))["models"]
    local = {e["id"]: frozenset(e.get("tasks", [])) for e in entries}
    return Deployments(local, hosted_available=False, reachable=False)


"""What the model router says is deployed now, cached briefly; a fallback view when it is unreachable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from hugginggpt.refreshed import Refreshed


@dataclass(frozen=True)
class Deployments:
    """Models served by local replicas (id -> task types; empty set = any), and whether hosted works."""

    local: Mapping[str, frozenset[str]] = field(default_factory=dict)
    hosted_available: bool = False
    reachable: bool = True

    def serves(self, model_id: str, task: str) -> bool:
        tasks = self.local.get(model_id)
        return tasks is not None and (not tasks or task in tasks)


Fetch = Callable[[], Awaitable[Deployments]]


class DeploymentCache:
    """Asks the router at most once per `ttl` seconds; when it cannot, uses the fallback and says so."""

    def __init__(self, fetch: Fetch, fallback: Deployments, ttl: float = 5.0) -> None:
        self._cache: Refreshed[None, Deployments] = Refreshed(
            lambda _: fetch(), lambda _: fallback, ttl,
            source="the model router", instead="assuming only offline models are deployed")

    async def get(self) -> Deployments:
        return await self._cache.get(None)

"""What the model router says is deployed now, cached briefly; a fallback view when it is unreachable."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import grpc

logger = logging.getLogger(__name__)


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
        self._fetch = fetch
        self._fallback = fallback
        self._ttl = ttl
        self._value: Deployments | None = None
        self._at = 0.0

    async def get(self) -> Deployments:
        now = time.monotonic()
        if self._value is not None and now - self._at < self._ttl:
            return self._value
        try:
            value = await self._fetch()
        except Exception as exc:  # noqa: BLE001 - any failure to ask the router means the same here
            detail = exc.details() if isinstance(exc, grpc.aio.AioRpcError) else str(exc)
            logger.warning("model router unreachable (%s); assuming only offline models are deployed", detail)
            value = self._fallback
        self._value, self._at = value, now
        return value

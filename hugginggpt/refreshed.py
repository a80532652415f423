"""A value per key asked of another service at most once per TTL; when it cannot be asked, a named fallback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import grpc

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Refreshed(Generic[K, V]):
    """Fetches a key's value at most once per `ttl` seconds (concurrent callers share one fetch); a failed fetch
    is logged, and `fallback` stands in for that key until the TTL passes."""

    def __init__(self, fetch: Callable[[K], Awaitable[V]], fallback: Callable[[K], V], ttl: float, *,
                 source: str, instead: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._fallback = fallback
        self._ttl = ttl
        self._source = source  # who is asked, for the log ("the model router")
        self._instead = instead  # what the fallback means, for the log
        self._clock = clock
        self._values: dict[K, tuple[float, V]] = {}
        self._lock = asyncio.Lock()

    async def get(self, key: K) -> V:
        held = self._values.get(key)
        if held is not None and self._clock() - held[0] < self._ttl:
            return held[1]
        async with self._lock:
            held = self._values.get(key)  # another caller may have fetched it while this one waited
            if held is not None and self._clock() - held[0] < self._ttl:
                return held[1]
            try:
                value = await self._fetch(key)
            except Exception as exc:  # noqa: BLE001 - any failure to ask means the same here
                detail = exc.details() if isinstance(exc, grpc.aio.AioRpcError) else str(exc)
                logger.warning("%s could not be asked (%s); %s", self._source, detail, self._instead)
                value = self._fallback(key)
            self._values[key] = (self._clock(), value)
            return value

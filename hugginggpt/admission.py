"""Backpressure: a server refuses requests over its concurrency limit with RESOURCE_EXHAUSTED, never queues them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import grpc
from prometheus_client import Counter

from hugginggpt.errors import ResourceExhausted
from hugginggpt.settings import SettingsError, env_int

REFUSED = Counter("hugginggpt_rpc_refused_total", "RPCs refused at the concurrency limit", ["method"])
_UNARY = ("unary_unary", "stream_unary")
_FIELDS = (*_UNARY, "unary_stream", "stream_stream")


class AdmissionInterceptor(grpc.aio.ServerInterceptor):
    """Admits at most `limit` RPCs of the service at once (health and reflection are never counted)."""

    def __init__(self, limit: int, setting: str) -> None:
        self.limit = limit
        self.setting = setting
        self.in_flight = 0

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith("/grpc."):
            return handler
        kind = next(f for f in _FIELDS if getattr(handler, f) is not None)
        wrap = self._unary if kind in _UNARY else self._stream
        return handler._replace(**{kind: wrap(getattr(handler, kind), method)})

    def _enter(self, method: str) -> None:
        if self.in_flight >= self.limit:
            REFUSED.labels(method).inc()
            raise ResourceExhausted(
                f"this server is handling its limit of {self.limit} concurrent requests ({self.setting}); "
                "retry in a moment"
            )
        self.in_flight += 1

    def _unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def admitted(request: Any, context: grpc.aio.ServicerContext) -> Any:
            self._enter(method)
            try:
                return await behavior(request, context)
            finally:
                self.in_flight -= 1

        return admitted

    def _stream(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def admitted(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            self._enter(method)
            try:
                async for item in behavior(request, context):
                    yield item
            finally:
                self.in_flight -= 1

        return admitted


DEFAULT_CONCURRENCY = 128


def concurrency_setting(service: str) -> str:
    """The variable that sets a service's limit on concurrent requests."""
    return f"HUGGINGGPT_{service.upper()}_MAX_CONCURRENT_REQUESTS"


def concurrency_limit(service: str, env: Mapping[str, str] | None = None, default: int = DEFAULT_CONCURRENCY) -> int:
    """The service's limit on concurrent requests from its setting (0: no limit)."""
    limit = env_int(concurrency_setting(service), default, env)
    if limit < 0:
        raise SettingsError(f"{concurrency_setting(service)} must be 0 (no limit) or more")
    return limit

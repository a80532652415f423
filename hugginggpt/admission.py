"""Backpressure: a server refuses requests over its concurrency limit with RESOURCE_EXHAUSTED, never queues them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from prometheus_client import Counter

from hugginggpt.errors import ResourceExhausted

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

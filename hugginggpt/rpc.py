"""gRPC plumbing shared by every service: the error/metrics interceptor, channels, deadlines, request ids."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from prometheus_client import Counter, Gauge, Histogram

from hugginggpt.auth import SERVICE_TOKEN_ENV, SERVICE_TOKEN_KEY
from hugginggpt.errors import HuggingGPTError
from hugginggpt.logs import request_id_var

logger = logging.getLogger(__name__)

REQUEST_ID_KEY = "x-request-id"

RPC_REQUESTS = Counter("hugginggpt_rpc_requests_total", "RPCs handled", ["method"])
RPC_ERRORS = Counter("hugginggpt_rpc_errors_total", "RPCs that ended with an error", ["method", "code"])
RPC_LATENCY = Histogram(
    "hugginggpt_rpc_latency_seconds",
    "Time to handle an RPC",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
RPC_IN_FLIGHT = Gauge("hugginggpt_rpc_in_flight", "RPCs being handled now", ["method"])


def _status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    if isinstance(exc, HuggingGPTError):
        return exc.code, exc.message
    if isinstance(exc, grpc.aio.AioRpcError):
        # A downstream stage already chose a status and a message for a person; pass both on.
        return exc.code(), exc.details() or exc.code().name
    if isinstance(exc, TimeoutError):
        return grpc.StatusCode.DEADLINE_EXCEEDED, "the request ran out of time"
    logger.exception("unhandled error")
    return grpc.StatusCode.INTERNAL, "internal error; the service log has the details"


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Maps exceptions to statuses, sets the request id, and records Prometheus metrics per RPC."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        request_id = str(metadata.get(REQUEST_ID_KEY) or uuid.uuid4().hex[:16])
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method, request_id),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _wrap_unary(handler.stream_unary, method, request_id),
                handler.request_deserializer,
                handler.response_serializer,
            )
        behavior = handler.unary_stream or handler.stream_stream
        factory = grpc.unary_stream_rpc_method_handler if handler.unary_stream else (
            grpc.stream_stream_rpc_method_handler
        )
        return factory(
            _wrap_stream(behavior, method, request_id),
            handler.request_deserializer,
            handler.response_serializer,
        )


async def _finish_error(exc: BaseException, context: grpc.aio.ServicerContext, method: str) -> None:
    code, message = _status_for(exc)
    RPC_ERRORS.labels(method, code.name).inc()
    await context.abort(code, message)


def _wrap_unary(behavior: Callable[..., Any], method: str, request_id: str) -> Callable[..., Any]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        request_id_var.set(request_id)
        RPC_REQUESTS.labels(method).inc()
        started = time.perf_counter()
        with RPC_IN_FLIGHT.labels(method).track_inprogress():
            try:
                return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001 - every error becomes a status, never a trace
                await _finish_error(exc, context, method)
            finally:
                RPC_LATENCY.labels(method).observe(time.perf_counter() - started)

    return wrapped


def _wrap_stream(behavior: Callable[..., Any], method: str, request_id: str) -> Callable[..., Any]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        request_id_var.set(request_id)
        RPC_REQUESTS.labels(method).inc()
        started = time.perf_counter()
        with RPC_IN_FLIGHT.labels(method).track_inprogress():
            try:
                async for item in behavior(request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001
                await _finish_error(exc, context, method)
            finally:
                RPC_LATENCY.labels(method).observe(time.perf_counter() - started)

    return wrapped


_RETRY_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
        "loadBalancingConfig": [{"round_robin": {}}],
    }
)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# A peer that restarts is used again within about a second of coming back: gRPC's default reconnect backoff
# grows to minutes while the peer is down, and every call fails at once meanwhile (channels to one address
# in a process share that state, so even a new channel does).
RECONNECT_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def channel(address: str) -> grpc.aio.Channel:
    """An insecure channel to a peer, with retries on UNAVAILABLE and per-request round robin."""
    return grpc.aio.insecure_channel(
        address,
        options=[
            ("grpc.service_config", _RETRY_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            *RECONNECT_OPTIONS,
        ],
    )


def outbound_metadata() -> tuple[tuple[str, str], ...]:
    """Metadata for a call to a peer: the current request's id, and the deployment's service token if set."""
    pairs = ((REQUEST_ID_KEY, request_id_var.get()),)
    token = os.environ.get(SERVICE_TOKEN_ENV, "").strip()
    return (*pairs, (SERVICE_TOKEN_KEY, token)) if token else pairs


def remaining(context: grpc.aio.ServicerContext | None, default: float) -> float:
    """Seconds left of the caller's deadline (minus a small margin), or the default when it set none."""
    if context is None:
        return default
    left = context.time_remaining()
    if left is None:
        return default
    return max(0.05, min(default, left - 0.05))

"""The edge's guards: bearer token, body size, a bound on concurrent chats, and client disconnects."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from edge.errors import ApiError, too_large

T = TypeVar("T")
logger = logging.getLogger(__name__)


class ClientGone(Exception):
    """The client closed the connection before the reply was ready."""


def check_token(request: Request, token: str) -> None:
    """Refuses a request without `Authorization: Bearer <token>` when a token is configured."""
    if not token:
        return
    given = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(given, f"Bearer {token}".encode()):
        raise ApiError(401, "missing or wrong bearer token; send the header 'Authorization: Bearer <token>' "
                       "(the gateway's HUGGINGGPT_GATEWAY_AUTH_TOKEN)", "authentication_error",
                       code="invalid_api_key")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed the limit."""
    declared = request.headers.get("content-length", "")
    message = f"the request body is larger than the limit of {limit} bytes (HUGGINGGPT_EDGE_MAX_BODY_BYTES)"
    if declared.isdigit() and int(declared) > limit:
        raise too_large(message)
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise too_large(message)
        parts.append(part)
    return b"".join(parts)


class ChatSlots:
    """At most `limit` chats at once; one more is refused with 429 rather than queued."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise ApiError(429, f"{self.used} chats are running, the most this edge takes at once "
                           "(HUGGINGGPT_EDGE_MAX_STREAMS); retry in a moment", "rate_limit_error",
                           code="too_many_streams")
        self.used += 1

    def give(self) -> None:
        self.used -= 1


class ReleasingStreamingResponse(StreamingResponse):
    """Streams until done or until the client leaves (noticed at once, not at the next write), then
    awaits `on_close`, however it ended and even if the body was never iterated."""

    def __init__(self, content: Any, on_close: Callable[[], Awaitable[None]], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.ensure_future(self.stream_response(send))
        watching = asyncio.ensure_future(self.listen_for_disconnect(receive))
        try:
            await asyncio.wait({streaming, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for job in (streaming, watching):
                job.cancel()
            await asyncio.gather(streaming, watching, return_exceptions=True)
            await self._on_close()
        failure = None if streaming.cancelled() else streaming.exception()
        if failure is not None and not isinstance(failure, OSError):  # OSError: the client went away
            logger.error("a streamed reply failed", exc_info=failure)


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """The work's result; cancels the work and raises ClientGone when the client leaves first."""
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)  # lets the gateway call close before we go on
    if task.cancelled():
        raise ClientGone()
    return task.result()

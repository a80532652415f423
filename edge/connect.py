"""The gateway's own contract for browsers: GatewayService over Connect, gRPC-Web and gRPC, from code generated
from protos/ (hugginggpt/v1/gateway_connect.py); each call is passed on to the gateway over gRPC."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from typing import Any

import grpc
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.clients import GatewayLink
from edge.errors import ApiError
from edge.limits import ChatSlots
from hugginggpt.v1 import gateway_pb2 as pb
from hugginggpt.v1.gateway_connect import GatewayServiceASGIApplication

ROUTE = "/hugginggpt.v1.GatewayService"


def _code(status: grpc.StatusCode) -> Code:
    name = "CANCELED" if status == grpc.StatusCode.CANCELLED else status.name
    return Code[name] if name in Code.__members__ else Code.UNKNOWN


def _passed_on(exc: grpc.aio.AioRpcError) -> ConnectError:
    """The gateway's status and message, unchanged."""
    return ConnectError(_code(exc.code()), exc.details() or exc.code().name.lower())


class ConnectGateway:
    """GatewayService as the generated Connect code expects it, forwarding to the gateway."""

    def __init__(self, gateway: GatewayLink, token: str, slots: ChatSlots, timeout: float) -> None:
        self.gateway, self.slots, self.timeout = gateway, slots, timeout
        self._expected = f"Bearer {token}".encode() if token else b""

    def _check(self, ctx: RequestContext[Any, Any]) -> None:
        if not self._expected:
            return
        given = (ctx.request_headers().get("authorization") or "").encode()
        if not hmac.compare_digest(given, self._expected):
            raise ConnectError(Code.UNAUTHENTICATED, "missing or wrong bearer token; send the header "
                               "'Authorization: Bearer <token>' (the gateway's HUGGINGGPT_GATEWAY_AUTH_TOKEN)")

    async def _unary(self, method: str, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        self._check(ctx)
        try:
            return await self.gateway.unary(method, request, self.timeout)
        except grpc.aio.AioRpcError as exc:
            raise _passed_on(exc) from None

    async def _stream(self, method: str, request: Any, ctx: RequestContext[Any, Any]) -> AsyncIterator[Any]:
        self._check(ctx)
        try:
            async for item in self.gateway.stream(method, request, self.timeout):
                yield item
        except grpc.aio.AioRpcError as exc:
            raise _passed_on(exc) from None

    async def chat(self, request: pb.ChatRequest, ctx: RequestContext[Any, Any]) -> AsyncIterator[pb.ChatResponse]:
        self._check(ctx)
        try:
            self.slots.take()
        except ApiError as exc:  # the same limit and words as the OpenAI route's 429
            raise ConnectError(Code.RESOURCE_EXHAUSTED, exc.message) from None
        try:
            async for event in self._stream("Chat", request, ctx):
                yield event
        finally:
            self.slots.give()

    async def plan_tasks(self, request: pb.PlanTasksRequest, ctx: RequestContext[Any, Any]) -> pb.PlanTasksResponse:
        return await self._unary("PlanTasks", request, ctx)  # type: ignore[no-any-return]

    async def run_tasks(self, request: pb.RunTasksRequest, ctx: RequestContext[Any, Any]) -> pb.RunTasksResponse:
        return await self._unary("RunTasks", request, ctx)  # type: ignore[no-any-return]

    async def upload_artifact(self, request: AsyncIterator[pb.UploadArtifactRequest],
                              ctx: RequestContext[Any, Any]) -> pb.UploadArtifactResponse:
        return await self._unary("UploadArtifact", request, ctx)  # type: ignore[no-any-return]

    def download_artifact(self, request: pb.DownloadArtifactRequest, ctx: RequestContext[Any, Any]
                          ) -> AsyncIterator[pb.DownloadArtifactResponse]:
        return self._stream("DownloadArtifact", request, ctx)

    async def get_session(self, request: pb.GetSessionRequest, ctx: RequestContext[Any, Any]
                          ) -> pb.GetSessionResponse:
        return await self._unary("GetSession", request, ctx)  # type: ignore[no-any-return]


def cancel_on_disconnect(app: ASGIApp) -> ASGIApp:
    """Runs each request as a task cancelled the moment its client disconnects, so that a call waiting on the
    gateway (which writes nothing meanwhile) stops there too; the app reads its body through a queue."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        work = asyncio.ensure_future(app(scope, inbox.get, send))

        async def pump() -> None:
            while True:
                message = await receive()
                await inbox.put(message)
                if message["type"] == "http.disconnect":
                    work.cancel()  # a no-op once the reply is complete
                    return

        pumping = asyncio.ensure_future(pump())
        try:
            await work
        except asyncio.CancelledError:
            if not pumping.done():
                raise  # cancelled from outside (shutdown), not by the client leaving
        finally:
            pumping.cancel()
            work.cancel()

    return wrapped


def connect_app(gateway: GatewayLink, token: str, slots: ChatSlots, timeout: float, max_bytes: int) -> ASGIApp:
    """The ASGI app serving GatewayService at /hugginggpt.v1.GatewayService/METHOD."""
    service = ConnectGateway(gateway, token, slots, timeout)
    return cancel_on_disconnect(GatewayServiceASGIApplication(service, read_max_bytes=max_bytes))

"""The HTTP edge: OpenAI-compatible chat completions and models, generated files, health and the web UI."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import grpc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from edge.clients import GatewayLink
from edge.config import EdgeConfig
from edge.connect import ROUTE, connect_app
from edge.errors import ApiError, from_rpc
from edge.history import SessionMemory
from edge.limits import ChatSlots, ClientGone, ReleasingStreamingResponse, check_token, read_body, unless_disconnected
from edge.metrics import count_chats, instrument
from edge.replies import DONE, Reply, message_dict, sse
from edge.turns import MODELS, CompletionRequest, parse_turn
from hugginggpt.artifacts import SCHEME, is_artifact_uri
from hugginggpt.v1 import common_pb2, gateway_pb2

logger = logging.getLogger(__name__)
# What browsers on an allowed origin may send and read: the OpenAI API's, Connect's and gRPC-Web's headers.
CORS_REQUEST_HEADERS = ["authorization", "content-type", "connect-protocol-version", "connect-timeout-ms",
                        "grpc-timeout", "x-grpc-web", "x-user-agent"]
CORS_RESPONSE_HEADERS = ["grpc-status", "grpc-message", "grpc-status-details-bin"]
CLIENT_CLOSED = 499  # nginx's status for a request the client abandoned; nobody reads it
Events = AsyncGenerator[gateway_pb2.ChatResponse, None]


class Edge:
    """The routes' handlers, over one gateway link; translation only, the work is the gateway's."""

    def __init__(self, config: EdgeConfig, gateway: GatewayLink) -> None:
        self.config, self.gateway = config, gateway
        self.slots = ChatSlots(config.max_streams)
        self.memory = SessionMemory()

    async def models(self, request: Request) -> Response:
        check_token(request, self.config.auth_token)
        return JSONResponse({"object": "list", "data": [_model(name) for name in MODELS]})

    async def model(self, request: Request) -> Response:
        check_token(request, self.config.auth_token)
        name = request.path_params["name"]
        if name not in MODELS:
            raise ApiError(404, f"the model {name!r} does not exist; use one of {', '.join(MODELS)}",
                           "invalid_request_error", "model", "model_not_found")
        return JSONResponse(_model(name))

    async def completions(self, request: Request) -> Response:
        check_token(request, self.config.auth_token)
        turn = parse_turn(await read_body(request, self.config.max_body_bytes), self.config.max_attachment_bytes)
        if not turn.session_id:  # a client resending the whole history continues the session it began
            turn = replace(turn, session_id=self.memory.session_for(turn.said[:-1]))
        reply = Reply(turn.model, str(request.base_url))

        def remember() -> None:
            self.memory.remember(turn.said, reply.text, reply.session_id)
            logger.info("answered %s (model %s, session %s, %s)", reply.id, turn.model, reply.session_id,
                        "streamed" if turn.stream else "whole")

        self.slots.take()
        handed_on = False
        try:
            events = self._events(turn)
            if not turn.stream:
                completion = reply.completion(await unless_disconnected(request, _all(events)))
                remember()
                return JSONResponse(completion)
            first = await unless_disconnected(request, _first(events))
            handed_on = True

            async def close() -> None:
                self.slots.give()
                await events.aclose()  # cancels the gateway call, also when the stream never started

            return ReleasingStreamingResponse(_sse(reply, first, events, remember), close,
                                              media_type="text/event-stream",
                                              headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        except ClientGone:
            logger.info("the client left before the reply was ready; the gateway call was cancelled")
            return Response(status_code=CLIENT_CLOSED)
        finally:
            if not handed_on:
                self.slots.give()

    async def _events(self, turn: CompletionRequest) -> Events:
        attachments = [await self.gateway.upload(u.name, u.media_type, u.data) for u in turn.uploads]
        attachments += [common_pb2.Artifact(uri=uri) for uri in turn.artifact_uris]
        request = gateway_pb2.ChatRequest(session_id=turn.session_id, content=turn.content,
                                          attachments=attachments, mode=turn.mode)  # type: ignore[arg-type]
        async for event in self.gateway.chat(request, self.config.request_timeout_seconds):
            yield event

    async def files(self, request: Request) -> Response:
        check_token(request, self.config.auth_token)
        uri = f"{SCHEME}{request.path_params['key']}/{request.path_params['name']}"
        if not is_artifact_uri(uri):
            raise ApiError(404, "no such file", "not_found_error", code="file_not_found")
        content = self.gateway.download(uri)
        try:
            artifact = await anext(content)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc(exc) from None
        assert isinstance(artifact, common_pb2.Artifact)
        headers = {"content-length": str(artifact.size_bytes), "cache-control": "private, max-age=3600"}
        return StreamingResponse(_bytes(content), media_type=artifact.media_type, headers=headers)

    async def session(self, request: Request) -> Response:
        check_token(request, self.config.auth_token)
        session_id = request.path_params["session_id"]
        try:
            messages = await self.gateway.session(session_id)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc(exc) from None
        base = str(request.base_url)
        return JSONResponse({"id": session_id, "messages": [message_dict(base, m) for m in messages]})

    async def alive(self, request: Request) -> Response:
        """Liveness: the process answers, whatever the gateway's state (readiness is /healthz)."""
        return JSONResponse({"status": "alive"})

    async def health(self, request: Request) -> Response:
        serving = await self.gateway.serving()
        return JSONResponse({"status": "serving" if serving else "gateway not serving"},
                            status_code=200 if serving else 503)


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "hugginggpt"}


async def _first(events: Events) -> gateway_pb2.ChatResponse:
    try:
        return await anext(events)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    except StopAsyncIteration:
        raise ApiError(502, "the gateway ended the chat without an event", "server_error") from None


async def _all(events: Events) -> list[gateway_pb2.ChatResponse]:
    try:
        collected = [event async for event in events]
    except grpc.aio.AioRpcError as exc:
        raise from_rpc(exc) from None
    if not collected or collected[-1].WhichOneof("event") != "summary":
        raise ApiError(502, "the gateway ended the chat without an answer", "server_error")
    return collected


async def _sse(reply: Reply, first: gateway_pb2.ChatResponse, events: Events,
               done: Callable[[], None]) -> AsyncIterator[bytes]:
    """The SSE stream; an error after the first byte goes out as an error message, as OpenAI's API does."""
    try:
        reply.saw(first)
        yield reply.chunk({"role": "assistant", "content": ""})
        for chunk in reply.chunks_for(first):
            yield chunk
        async for event in events:
            for chunk in reply.chunks_for(event):
                yield chunk
        done()
        yield DONE
    except grpc.aio.AioRpcError as exc:
        yield sse(from_rpc(exc).body())
    finally:
        await events.aclose()  # cancels the gateway call when the client left mid-stream


async def _bytes(content: AsyncIterator[common_pb2.Artifact | bytes]) -> AsyncIterator[bytes]:
    async for item in content:
        if isinstance(item, bytes):
            yield item


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    logger.info("refused %s %s with %d: %s", request.method, request.url.path, exc.status, exc.message)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
    return JSONResponse(ApiError(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}", kind)
                        .body(), status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s", request.url.path)
    return JSONResponse(ApiError(500, "internal error; the edge log has the details", "server_error").body(),
                        status_code=500)


def build_app(config: EdgeConfig, gateway: GatewayLink) -> Starlette:
    """The ASGI app; CORS only for the origins configured (none by default)."""
    edge = Edge(config, gateway)
    api = [
        Route("/chat/completions", edge.completions, methods=["POST"]),
        Route("/models", edge.models, methods=["GET"]),
        Route("/models/{name}", edge.model, methods=["GET"]),
        Route("/files/{key}/{name}", edge.files, methods=["GET"]),
        Route("/sessions/{session_id}", edge.session, methods=["GET"]),
    ]
    connect = connect_app(gateway, config.auth_token, edge.slots, config.request_timeout_seconds,
                          config.max_body_bytes)
    routes: list[Route | Mount] = [  # the APIs are mounts, so the UI's catch-all never answers under them
        Mount("/v1", routes=api),
        Mount(ROUTE, app=connect),
        Route("/healthz", edge.health, methods=["GET"]),
        Route("/livez", edge.alive, methods=["GET"]),
    ]
    if (config.ui_dir / "index.html").is_file():
        routes.append(Mount("/", StaticFiles(directory=config.ui_dir, html=True), name="ui"))
    middleware = [Middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST"],
                             allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_RESPONSE_HEADERS)
                  ] if config.cors_origins else []
    handlers = {ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)  # type: ignore[arg-type]
    app.state.edge = edge  # for tests and probes: the open chat count
    count_chats(lambda: edge.slots.used)
    return app


def build_asgi(config: EdgeConfig, gateway: GatewayLink) -> ASGIApp:
    """The app as served: every request counted and timed for Prometheus."""
    return instrument(build_app(config, gateway))

"""Who may call: the per-deployment service token between services, bearer tokens, and allowed inference modes."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from typing import Any

import grpc

from hugginggpt.errors import PermissionDenied
from hugginggpt.settings import SettingsError, env_bool

SERVICE_TOKEN_ENV = "HUGGINGGPT_SERVICE_TOKEN"
SERVICE_OPEN_ENV = "HUGGINGGPT_SERVICE_OPEN"
# A key of its own, so a user's bearer token to the gateway is never mistaken for the services' token.
SERVICE_TOKEN_KEY = "x-hugginggpt-service-token"
# Probes (kubelet, `hugginggpt up`) carry no credentials; health says nothing a caller could misuse.
OPEN_PREFIXES = ("/grpc.health.v1.Health/",)


def service_token(env: Mapping[str, str] | None = None) -> str:
    """The token every internal service requires of its callers and sends to its peers ("" when open).

    Raises SettingsError when none is set and HUGGINGGPT_SERVICE_OPEN does not say, in so many words,
    that the services accept anyone.
    """
    source = os.environ if env is None else env
    token = source.get(SERVICE_TOKEN_ENV, "").strip()
    if token:
        if len(token) < 16:
            raise SettingsError(f"{SERVICE_TOKEN_ENV} must be at least 16 characters (openssl rand -hex 32)")
        return token
    if env_bool(SERVICE_OPEN_ENV, False, source):
        return ""
    raise SettingsError(
        f"{SERVICE_TOKEN_ENV} is not set: internal services accept only callers holding the deployment's "
        f"service token; set it (the same random value, openssl rand -hex 32, for every service), or set "
        f"{SERVICE_OPEN_ENV}=true to accept unauthenticated calls"
    )


class TokenInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls whose metadata `key` does not carry `expected` with UNAUTHENTICATED (health stays open)."""

    def __init__(self, key: str, expected: str, refusal: str) -> None:
        if not expected:
            raise ValueError("an empty token would let everyone in")
        self._key = key
        self._expected = expected.encode()
        self._refusal = refusal

    def _allowed(self, details: grpc.HandlerCallDetails) -> bool:
        if details.method.startswith(OPEN_PREFIXES):
            return True
        for key, value in details.invocation_metadata or ():
            if key == self._key:
                given = value.encode() if isinstance(value, str) else value
                return hmac.compare_digest(given, self._expected)
        return False

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or self._allowed(details):
            return handler
        return _refusing(handler, self._refusal)


def bearer_interceptor(token: str) -> TokenInterceptor:
    """The check of a public entry point: `authorization: Bearer <token>`."""
    return TokenInterceptor("authorization", f"Bearer {token}",
                            "missing or wrong bearer token; send metadata 'authorization: Bearer <token>'")


def service_interceptor(token: str) -> TokenInterceptor:
    """The check of an internal service: the deployment's service token."""
    return TokenInterceptor(
        SERVICE_TOKEN_KEY, token,
        f"missing or wrong service token: only the deployment's own services may call this one "
        f"(they send {SERVICE_TOKEN_ENV} as metadata {SERVICE_TOKEN_KEY!r})",
    )


def _refusing(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
        yield  # pragma: no cover - makes this an async generator, as streaming handlers are

    args = (handler.request_deserializer, handler.response_serializer)
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary, *args)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary, *args)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream, *args)
    return grpc.stream_stream_rpc_method_handler(stream, *args)


def check_mode(requested: str, deployed: str) -> None:
    """PermissionDenied when a request asks for hosted inference that a local-only deployment forbids."""
    if requested != "local" and deployed == "local":
        raise PermissionDenied(
            f"inference mode {requested} is not allowed: this deployment runs models locally only "
            "(HUGGINGGPT_INFERENCE_MODE=local), so no input leaves it; ask for local mode or leave the mode unset"
        )

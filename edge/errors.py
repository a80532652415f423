"""Errors in OpenAI's shape ({"error": {message, type, param, code}}) with the HTTP status that fits."""

from __future__ import annotations

import logging
from typing import Any

import grpc

logger = logging.getLogger(__name__)

# gRPC status -> (HTTP status, OpenAI error type)
_BY_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_request_error"),
    grpc.StatusCode.FAILED_PRECONDITION: (400, "invalid_request_error"),
    grpc.StatusCode.OUT_OF_RANGE: (400, "invalid_request_error"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "authentication_error"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "permission_error"),
    grpc.StatusCode.NOT_FOUND: (404, "not_found_error"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "rate_limit_error"),
    grpc.StatusCode.CANCELLED: (499, "cancelled"),
    grpc.StatusCode.UNAVAILABLE: (503, "service_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "timeout"),
}


class ApiError(Exception):
    """An error a client can act on: HTTP status, OpenAI error type, message, and optionally param and code."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, code)


def too_large(message: str, param: str | None = None) -> ApiError:
    return ApiError(413, message, "invalid_request_error", param, "request_too_large")


def from_rpc(exc: grpc.aio.AioRpcError) -> ApiError:
    """The gateway's status and message, as a client of the OpenAI API expects them."""
    code = exc.code()
    if code in _BY_STATUS:
        status, kind = _BY_STATUS[code]
        message = exc.details() or code.name.lower()
        if code == grpc.StatusCode.UNAVAILABLE and "failed to connect" in message.lower():
            message = "the gateway cannot be reached; is it running? (HUGGINGGPT_GATEWAY_ADDRESS)"
        return ApiError(status, message, kind, code=code.name.lower())
    logger.error("gateway call failed: %s %s", code.name, exc.details())
    return ApiError(500, "internal error; the edge and gateway logs have the details", "server_error")

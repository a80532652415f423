"""One exception hierarchy carrying a gRPC status code; the server interceptor maps it to a status."""

from __future__ import annotations

import grpc


class HuggingGPTError(Exception):
    """Base error: a status code plus a message a person can act on."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(HuggingGPTError):
    """The caller sent something that cannot be served as it is."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(HuggingGPTError):
    """A named thing (model, artifact, session) does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class ResourceExhausted(HuggingGPTError):
    """A size or capacity limit was hit."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(HuggingGPTError):
    """A dependency (the LLM, a replica) cannot be reached now."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(HuggingGPTError):
    """The request's time ran out."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class PlanRejected(HuggingGPTError):
    """The LLM could not produce a valid plan within the repair budget."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ModelFailed(HuggingGPTError):
    """A model raised or returned something unusable."""

    code = grpc.StatusCode.INTERNAL


class Unauthenticated(HuggingGPTError):
    """The caller's credentials are missing or wrong."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(HuggingGPTError):
    """The caller is known but may not do this (for example, use a mode the deployment forbids)."""

    code = grpc.StatusCode.PERMISSION_DENIED

"""Replica-specific errors on top of hugginggpt.errors."""

from __future__ import annotations

import grpc

from hugginggpt.errors import HuggingGPTError


class ModelBroken(HuggingGPTError):
    """The model exists but cannot be loaded or cannot serve the asked task here."""

    code = grpc.StatusCode.FAILED_PRECONDITION

"""The Backend protocol every model family implements, and the context handed to backends."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.errors import HuggingGPTError, ModelFailed
from services.replica.backends.limits import MediaLimits
from services.replica.results import Request, Result

Outcome = Result | HuggingGPTError


@dataclass(frozen=True)
class BackendContext:
    """What backends may use: the artifact store, the torch device, media limits and backend-specific settings."""

    store: ArtifactStore
    device: str = "cpu"
    llm: Any = None
    local_model_roots: tuple[str, ...] = ()
    limits: MediaLimits = MediaLimits()


class Handle:
    """A loaded model. Sync handles run in the replica's thread pool; async ones on the event loop."""

    #: The largest batch the model takes in one call; 1 means it runs one request at a time.
    max_batch: int = 1
    #: Whether predict is a coroutine (I/O-bound models such as the LLM expert).
    is_async: bool = False
    #: Bytes the model takes, when the backend knows better than a resident-memory delta.
    memory_bytes: int = 0
    #: Whether predict may run in several threads at once; otherwise the replica serialises its calls
    #: (Hugging Face fast tokenizers, spaCy, espeak and OpenCV cascades are not safe to share).
    thread_safe: bool = False

    def predict(self, batch: list[Request]) -> list[Outcome]:
        """Runs a batch; one outcome per request, errors per request rather than for the batch."""
        return [_guard(self.predict_one, request) for request in batch]

    def predict_one(self, request: Request) -> Result:
        raise NotImplementedError

    async def apredict(self, batch: list[Request]) -> list[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        """Releases what the model holds; the default lets the garbage collector do it."""


class AsyncHandle(Handle):
    """A handle whose requests are coroutines, run at once; each request's error fails that request alone."""

    is_async = True

    async def apredict(self, batch: list[Request]) -> list[Outcome]:
        return list(await asyncio.gather(*(self._guarded(r) for r in batch)))

    async def _guarded(self, request: Request) -> Outcome:
        try:
            return await self.arun(request)
        except HuggingGPTError as exc:
            return exc

    async def arun(self, request: Request) -> Result:
        raise NotImplementedError


class Backend(ABC):
    """A model family: knows how to load one model id into a Handle."""

    @abstractmethod
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        """Loads the model; raises NotFound / Unavailable with a clear message when it cannot."""

    def estimate_bytes(self, model_id: str, ctx: BackendContext) -> int:
        """Memory the model would take once loaded, known before loading it; 0 when unknown."""
        return 0


def _guard(fn: Any, request: Request) -> Outcome:
    try:
        return fn(request)  # type: ignore[no-any-return]
    except HuggingGPTError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a model raising must fail that request, not the replica
        return ModelFailed(f"model {request.model_id} failed on {request.task_type}: {type(exc).__name__}: {exc}")


def guard_batch(fn: Any, batch: list[Request]) -> list[Outcome]:
    """Runs a whole-batch function; on an exception, runs each request alone so a bad one fails alone."""
    try:
        return list(fn(batch))
    except Exception:  # noqa: BLE001
        if len(batch) == 1:
            return [_guard(lambda r: fn([r])[0], batch[0])]
        return [_guard(lambda r: _unwrap(fn([r])[0]), r) for r in batch]


def _unwrap(outcome: Outcome) -> Result:
    if isinstance(outcome, HuggingGPTError):
        raise outcome
    return outcome

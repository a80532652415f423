"""The replica's face to the servicer: bounded concurrency, timing and errors around the model manager."""

from __future__ import annotations

import asyncio
import time

from hugginggpt.domain import ModelStatus
from hugginggpt.errors import HuggingGPTError
from services.replica.models import ModelManager
from services.replica.results import Request, Result


class Replica:
    """Runs inferences on lazily loaded models, at most max_in_flight at once."""

    def __init__(self, replica_id: str, manager: ModelManager, max_in_flight: int) -> None:
        self.replica_id = replica_id
        self.manager = manager
        self.max_in_flight = max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)

    async def predict(self, request: Request) -> tuple[Result, float]:
        """The result and the seconds spent on it (queueing, batching and the model; not loading)."""
        async with self._slots:
            await self.manager.ensure(request.model_id, request.task_type)
            started = time.perf_counter()
            outcome = await self.manager.predict(request)
            seconds = time.perf_counter() - started
        if isinstance(outcome, HuggingGPTError):
            raise outcome
        return outcome, seconds

    async def load(self, model_id: str) -> tuple[ModelStatus, float]:
        _, seconds = await self.manager.ensure(model_id)
        return self.state(model_id), seconds

    async def unload(self, model_id: str) -> bool:
        return await self.manager.unload(model_id)

    def models(self) -> list[ModelStatus]:
        return self.manager.states()

    def state(self, model_id: str) -> ModelStatus:
        return next(s for s in self.models() if s.model_id == model_id)

    async def preload(self, model_ids: tuple[str, ...]) -> None:
        """Loads the listed models; a failure is logged in the model's state, the others still load."""
        for model_id in model_ids:
            try:
                await self.manager.ensure(model_id)
            except HuggingGPTError:
                continue

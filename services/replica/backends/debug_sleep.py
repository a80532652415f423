"""hugginggpt/debug-sleep: sleeps a known time and echoes its input; for makespan and failover benchmarks."""

from __future__ import annotations

import asyncio
import os

from hugginggpt.errors import InvalidRequest, ModelFailed
from services.replica.backends.base import Backend, BackendContext, Handle, Outcome
from services.replica.results import Request, Result


class SleepHandle(Handle):
    is_async = True
    max_batch = 1

    def __init__(self, default_seconds: float) -> None:
        self.default_seconds = default_seconds

    async def apredict(self, batch: list[Request]) -> list[Outcome]:
        return list(await asyncio.gather(*(self._one(r) for r in batch)))

    async def _one(self, request: Request) -> Outcome:
        try:
            seconds = float(request.parameters.get("seconds", self.default_seconds))
        except (TypeError, ValueError):
            return InvalidRequest("parameters.seconds must be a number")
        if not 0 <= seconds <= 600:
            return InvalidRequest("parameters.seconds must be between 0 and 600")
        await asyncio.sleep(seconds)
        if request.parameters.get("fail"):
            return ModelFailed(f"{request.model_id} was asked to fail")
        echo = " ".join(i.text or i.uri or "" for i in request.inputs).strip()
        return Result(text=f"slept {seconds:g} s: {echo}", extra={"pid": os.getpid(), "seconds": seconds})


class SleepBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        return SleepHandle(ctx.debug_sleep_seconds)

"""hugginggpt/debug-sleep: a model that sleeps a known time and echoes its input, for makespan and failover runs.

Served by the real replica when a test or benchmark adds it (`extra_models=sleep_model()`); run as
`python -m tests.doubles.sleep_model` for a replica process that serves it besides the registry's models.
"""

from __future__ import annotations

import asyncio
import os

from hugginggpt.errors import InvalidRequest, ModelFailed
from services.replica.backends.base import Backend, BackendContext, Handle, Outcome
from services.replica.catalog import Entry
from services.replica.results import Request, Result

SLEEP_MODEL = "hugginggpt/debug-sleep"
SLEEP_ENTRY = Entry(SLEEP_MODEL, ("text-generation",), "debug_sleep", 0,
                    "Sleeps parameters.seconds and echoes its input (tests and benchmarks only).")


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
    def __init__(self, default_seconds: float = 1.0) -> None:
        self.default_seconds = default_seconds

    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        return SleepHandle(self.default_seconds)


def sleep_model(default_seconds: float = 1.0) -> dict[Entry, Backend]:
    """The model as the replica's `extra_models` takes it."""
    return {SLEEP_ENTRY: SleepBackend(default_seconds)}


if __name__ == "__main__":
    from services.replica.__main__ import main

    asyncio.run(main(extra_models=sleep_model()))

"""What this deployment can run, asked of the selector (ListTaskTypes) once per inference mode and kept for a
short TTL, so that a replica registering later is seen. When the selector cannot be asked, the planner is
offered every task type (logged): a type that cannot run then fails at selection, never the whole turn."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from hugginggpt.refreshed import Refreshed
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import selector_pb2

Ask = Callable[[selector_pb2.ListTaskTypesRequest, float], Awaitable[selector_pb2.ListTaskTypesResponse]]


class Availability:
    """Each inference mode's list of task types with whether they can run; empty when it could not be had."""

    def __init__(self, ask: Ask, ttl: float = 30.0, timeout: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        async def fetch(mode: int) -> list[pb.TaskTypeAvailability]:
            response = await ask(selector_pb2.ListTaskTypesRequest(mode=mode), timeout)  # type: ignore[arg-type]
            return list(response.task_types)

        self._cache: Refreshed[int, list[pb.TaskTypeAvailability]] = Refreshed(
            fetch, lambda _: [], ttl, source="the selector (ListTaskTypes)",
            instead="the planner is offered every task type until it can be asked again", clock=clock)

    async def get(self, mode: int) -> list[pb.TaskTypeAvailability]:
        return await self._cache.get(mode)

"""The executor's entry points: validate a plan (whole or streamed), then run it and stream its events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence

from hugginggpt.domain import TaskTypeSpec
from hugginggpt.errors import InvalidRequest
from hugginggpt.planvalidation import DEFAULT_MAX_TASKS
from services.executor.runtypes import InferenceBackend, PlanEnd, RunOptions, ScheduledItem, TaskEvent
from services.executor.scheduler import Run
from services.executor.validation import ArtifactExists, StreamValidator, validate_items

logger = logging.getLogger(__name__)


class Executor:
    """Runs plans on an inference backend; holds nothing per request."""

    def __init__(self, backend: InferenceBackend, task_types: Mapping[str, TaskTypeSpec],
                 exists: ArtifactExists, max_tasks: int = DEFAULT_MAX_TASKS) -> None:
        self._backend = backend
        self._types = task_types
        self._exists = exists
        self._max_tasks = max_tasks

    async def execute(self, items: Sequence[ScheduledItem], options: RunOptions) -> AsyncIterator[TaskEvent]:
        """Validates the whole plan (InvalidRequest before anything runs), then streams its events."""
        validate_items(items, self._types, self._exists, self._max_tasks)
        run = Run(self._backend, options)
        try:
            for item in items:
                run.add(item)
            run.close()
            async for event in run.events():
                yield event
        finally:
            await run.aclose()

    async def execute_stream(self, items: AsyncIterator[ScheduledItem | PlanEnd],
                             options: RunOptions) -> AsyncIterator[TaskEvent]:
        """Schedules tasks as they arrive, each validated on arrival; streams events as they happen."""
        run = Run(self._backend, options)
        intake = asyncio.create_task(self._intake(items, run))
        try:
            async for event in run.events():
                yield event
        finally:
            intake.cancel()
            await asyncio.gather(intake, return_exceptions=True)
            await run.aclose()

    async def _intake(self, items: AsyncIterator[ScheduledItem | PlanEnd], run: Run) -> None:
        validator = StreamValidator(self._types, self._exists, self._max_tasks)
        count = 0
        try:
            async for item in items:
                if isinstance(item, PlanEnd):
                    if item.task_count and item.task_count != count:
                        logger.warning("plan complete says %d tasks, %d arrived", item.task_count, count)
                    break
                validator.admit(item)
                count += 1
                run.add(item)
            if count == 0:
                raise InvalidRequest("the plan has no tasks; send at least one task before PlanComplete")
            run.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - bad input or a broken stream ends the run with its status
            run.fail(exc)

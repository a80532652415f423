"""The selection stage: streamed tasks selected in batches as they are planned, then one call for the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from gateway.run import PipelineResult, Run, add_usage, record_usage
from hugginggpt.errors import HuggingGPTError, Unavailable
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import selector_pb2

OnSelected = Callable[[pb.Task, pb.Selection], None]


async def select(run: Run, out: PipelineResult, tasks: list[pb.Task], defer: bool) -> list[pb.Selection]:
    """One selector call; records, emits and returns the selections it made for tasks not yet selected.

    With defer the selector leaves the tasks it cannot decide by ranking for a later call, the only one that
    may ask the LLM.
    """
    planning_calls = out.plan.usage.calls if out.plan else 0
    request = selector_pb2.SelectRequest(
        user_request=run.request.content, tasks=tasks, mode=run.request.mode,  # type: ignore[arg-type]
        defer_undecided=defer, ranking_only=not run.options.llm_budget.selection_may_ask(planning_calls),
    )
    with run.tracer.start_as_current_span("gateway.select") as span:
        span.set_attribute("hugginggpt.select.deferred", defer)
        span.set_attribute("hugginggpt.select.tasks", len(tasks))
        response = await run.stages.select(request, run.left())
    add_usage(out.select_usage, response.usage)
    record_usage("selector", response.usage)
    wanted = {t.id for t in tasks}
    decided = [s for s in response.selections if s.task_id in wanted and s.task_id not in out.selections]
    if decided:
        run.emit(selections=selector_pb2.SelectResponse(selections=decided, usage=response.usage))
    out.selections.update((s.task_id, s) for s in decided)
    return decided


class StreamedSelection:
    """Selects tasks while the planner streams them, one selector call at a time.

    A call takes every task that arrived since the previous call began: those planned in the same event-loop
    tick, and those planned while the previous call was under way. So each streamed task is offered once, and
    there are never more calls than tasks.
    """

    def __init__(self, run: Run, out: PipelineResult, on_selected: OnSelected) -> None:
        self._run = run
        self._out = out
        self._on_selected = on_selected
        self.offered: dict[int, pb.Task] = {}
        self._waiting: list[pb.Task] = []
        self._worker: asyncio.Task[None] | None = None  # set while calls are under way or one failed

    def offer(self, task: pb.Task) -> None:
        self.offered[task.id] = task
        # A task streamed again replaces its waiting copy: the selector refuses a call naming an id twice.
        self._waiting = [*(t for t in self._waiting if t.id != task.id), task]
        if self._worker is None:  # it starts on the loop's next turn, so tasks of this turn join its first call
            self._worker = asyncio.create_task(self._select_waiting())

    async def _select_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            for selection in await select(self._run, self._out, batch, defer=True):
                self._on_selected(self.offered[selection.task_id], selection)
        self._worker = None

    async def finish(self) -> None:
        """Waits for the calls under way; raises what one of them raised."""
        if self._worker is not None:
            await self._worker

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()


def forget_changed(streamed: StreamedSelection, tasks: Iterable[pb.Task], started: set[int],
                   selections: dict[int, pb.Selection]) -> None:
    """Drops the selection of every streamed task the final plan changed or left out.

    Raises:
        HuggingGPTError: such a task had already started.
    """
    final = {t.id: t for t in tasks}
    for task_id, task in streamed.offered.items():
        if final.get(task_id) != task:
            if task_id in started:
                raise HuggingGPTError(
                    f"the planner streamed task {task_id} and then changed it in its final plan; "
                    "the task had already started"
                )
            selections.pop(task_id, None)


async def select_rest(run: Run, out: PipelineResult, tasks: list[pb.Task]) -> None:
    """One call (the only one that may ask the LLM) for every task still without a selection, if any is.

    Raises:
        Unavailable: the selector chose no model for some task.
    """
    undecided = [t for t in tasks if t.id not in out.selections]
    if undecided:
        await select(run, out, undecided, defer=False)
    missing = [t.id for t in tasks if t.id not in out.selections]
    if missing:
        raise Unavailable(f"the selector returned no model for tasks {missing}")

"""The execution stage: tasks streamed to the executor as they are selected (or sent at once), events reported."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from opentelemetry import trace

from gateway import metrics, parameters
from gateway.run import Run
from hugginggpt.convert import task_state_from_pb
from hugginggpt.domain import FINAL_STATES, TaskState
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2


class TaskReports:
    """What the executor reports about each task: emitted to the client, traced, counted; final events kept."""

    def __init__(self, run: Run, results: dict[int, executor_pb2.TaskEvent]) -> None:
        self._run = run
        self._results = results
        self._spans: dict[int, trace.Span] = {}  # tasks started and not yet finished

    def report(self, event: executor_pb2.TaskEvent) -> None:
        state = task_state_from_pb(event.state)
        if state is TaskState.STARTED:
            self._span(event)
            self._run.emit(task=event)
        elif state in FINAL_STATES:
            self.finish(event)

    def finish(self, event: executor_pb2.TaskEvent) -> None:
        """Keeps a task's final event; any later one for the same task is ignored."""
        if event.task_id in self._results:
            return
        self._results[event.task_id] = event
        state = str(task_state_from_pb(event.state))
        metrics.TASKS.labels(state).inc()
        span = self._span(event, time.time_ns() - int(event.duration_seconds * 1e9))
        span.set_attributes({"hugginggpt.task.state": state, "hugginggpt.task.model": event.model_id,
                             "hugginggpt.task.attempts": event.attempts,
                             "hugginggpt.task.inference_seconds": event.inference_seconds})
        if event.state == executor_pb2.TASK_STATE_FAILED:
            span.set_status(trace.Status(trace.StatusCode.ERROR, event.reason))
        span.end()
        del self._spans[event.task_id]
        self._run.emit(task=event)

    def fail_unreported(self, tasks: list[pb.Task]) -> None:
        """Fails every task the executor said nothing final about: a task is never dropped silently."""
        for task in tasks:
            if task.id not in self._results:
                self.finish(executor_pb2.TaskEvent(
                    task_id=task.id, task_type=task.type, state=executor_pb2.TASK_STATE_FAILED,
                    reason="the executor finished without reporting this task"))

    def close(self) -> None:
        for span in self._spans.values():
            span.end()

    def _span(self, event: executor_pb2.TaskEvent, start_ns: int | None = None) -> trace.Span:
        if event.task_id not in self._spans:
            self._spans[event.task_id] = self._run.tracer.start_span(
                "gateway.task", start_time=start_ns,
                attributes={"hugginggpt.task.id": event.task_id, "hugginggpt.task.type": event.task_type})
        return self._spans[event.task_id]


async def consume(run: Run, reports: TaskReports, call: Callable[[float], AsyncIterator[Any]]) -> None:
    """Opens the executor call (inside the execute span, which it is traced under) and reports its events."""
    with run.tracer.start_as_current_span("gateway.execute"):
        async for message in call(run.left()):
            reports.report(message.event)


class StreamedExecution:
    """One ExecuteStream call, opened by the first task submitted; each task is sent as it is submitted."""

    def __init__(self, run: Run, reports: TaskReports) -> None:
        self._run = run
        self._reports = reports
        self._requests: asyncio.Queue[executor_pb2.ExecuteStreamRequest | None] = asyncio.Queue()
        self._call: asyncio.Task[None] | None = None
        self.started: set[int] = set()

    def submit(self, task: pb.Task, selection: pb.Selection) -> None:
        if self._call is None:
            self._call = asyncio.create_task(consume(
                self._run, self._reports, lambda left: self._run.stages.execute_stream(self._stream(), left)))
        self.started.add(task.id)
        self._requests.put_nowait(executor_pb2.ExecuteStreamRequest(task=executor_pb2.ScheduledTask(
            task=parameters.fill(task, self._run.request.content), selection=selection)))

    async def finish(self, tasks: list[pb.Task], selections: dict[int, pb.Selection]) -> None:
        """Submits the plan's tasks not yet sent, tells the executor the plan is complete, and waits for it."""
        for task in tasks:
            if task.id not in self.started:
                self.submit(task, selections[task.id])
        self._requests.put_nowait(executor_pb2.ExecuteStreamRequest(
            complete=executor_pb2.PlanComplete(task_count=len(tasks))))
        self._requests.put_nowait(None)
        assert self._call is not None
        await self._call

    def cancel(self) -> None:
        if self._call is not None:
            self._call.cancel()

    async def _stream(self) -> AsyncIterator[executor_pb2.ExecuteStreamRequest]:
        yield executor_pb2.ExecuteStreamRequest(options=executor_pb2.ExecuteOptions(
            mode=self._run.request.mode,  # type: ignore[arg-type]
            task_timeout_seconds=self._run.options.task_timeout_seconds))
        while (item := await self._requests.get()) is not None:
            yield item


async def execute_at_once(run: Run, reports: TaskReports, tasks: list[pb.Task],
                          selections: list[pb.Selection]) -> None:
    """One Execute call with the whole plan, for when streamed execution is off."""
    request = executor_pb2.ExecuteRequest(
        tasks=[parameters.fill(t, run.request.content) for t in tasks], selections=selections,
        mode=run.request.mode,  # type: ignore[arg-type]
        task_timeout_seconds=run.options.task_timeout_seconds)
    await consume(run, reports, lambda left: run.stages.execute(request, left))

"""Conducts one request through the stages: streamed planning, batched selection, streamed execution, answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from opentelemetry import trace

from gateway.availability import Availability
from gateway.execution import StreamedExecution, TaskReports, execute_at_once
from gateway.run import PipelineOptions, PipelineRequest, PipelineResult, Run, Stages, record_usage
from gateway.selection import StreamedSelection, forget_changed, select_rest
from hugginggpt.errors import DeadlineExceeded, Unavailable
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import gateway_pb2, planner_pb2, responder_pb2

__all__ = ["Pipeline", "PipelineOptions", "PipelineRequest", "PipelineResult", "Stages"]


class Pipeline:
    """Runs requests through the stages; one instance serves every request."""

    def __init__(self, stages: Stages, options: PipelineOptions, tracer: trace.Tracer,
                 availability: Availability | None = None) -> None:
        self.stages = stages
        self.options = options
        self.tracer = tracer
        self.availability = availability  # what the deployment can run, for the planner (None: do not ask)

    async def chat(self, turn: PipelineRequest, outcome: PipelineResult) -> AsyncIterator[gateway_pb2.ChatResponse]:
        """Streams the events of one chat turn; fills outcome as it goes."""

        async def work(run: Run) -> None:
            await plan_select_execute(run, outcome)
            await answer(run, outcome)

        async for event in self._events(turn, work):
            yield event

    async def run_tasks(self, turn: PipelineRequest, outcome: PipelineResult) -> None:
        """Plans, selects and runs without an answer."""
        async for _ in self._events(turn, lambda run: plan_select_execute(run, outcome)):
            pass

    async def _events(
        self, turn: PipelineRequest, work: Callable[[Run], Awaitable[None]]
    ) -> AsyncIterator[gateway_pb2.ChatResponse]:
        """Runs work in a task of its own and yields the events it emits, until it ends or the deadline passes."""
        queue: asyncio.Queue[gateway_pb2.ChatResponse | BaseException | None] = asyncio.Queue()

        def emit(**event: Any) -> None:
            queue.put_nowait(gateway_pb2.ChatResponse(at_seconds=time.perf_counter() - turn.started, **event))

        async def produce() -> None:
            try:
                await work(Run(self.stages, self.options, self.tracer, turn, emit, self.availability))
                queue.put_nowait(None)
            except Exception as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
                queue.put_nowait(exc)

        with self.tracer.start_as_current_span("gateway.request") as span:
            span.set_attribute("hugginggpt.request.chars", len(turn.content))
            producer = asyncio.create_task(produce())
            try:
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), turn.left())
                    except TimeoutError:
                        raise DeadlineExceeded(
                            "the request ran out of time (the client's deadline or "
                            "HUGGINGGPT_GATEWAY_REQUEST_TIMEOUT_SECONDS)"
                        ) from None
                    if item is None:
                        return
                    if isinstance(item, BaseException):
                        raise item
                    yield item
            finally:
                producer.cancel()  # a cancelled client cancels every call still under way
                await asyncio.gather(producer, return_exceptions=True)


async def plan_select_execute(run: Run, out: PipelineResult) -> None:
    """Plan -> select -> execute, each task starting as soon as it is selected when execution streams."""
    reports = TaskReports(run, out.results)
    execution = StreamedExecution(run, reports) if run.options.stream_execution else None
    selection = StreamedSelection(run, out, execution.submit if execution else lambda task, selection: None)
    try:
        out.plan = await plan(run, selection.offer)
        tasks = list(out.plan.plan.tasks)
        if not tasks:
            return
        await selection.finish()
        forget_changed(selection, tasks, execution.started if execution else set(), out.selections)
        await select_rest(run, out, tasks)
        if execution:
            await execution.finish(tasks, out.selections)
        else:
            await execute_at_once(run, reports, tasks, out.ordered_selections())
        reports.fail_unreported(tasks)
    finally:
        selection.cancel()
        if execution:
            execution.cancel()
        reports.close()


async def plan(run: Run, on_task: Callable[[pb.Task], None]) -> planner_pb2.PlanResponse:
    """Streams the plan, handing each task to on_task as it arrives; returns the final plan.

    Raises:
        Unavailable: the planner's stream ended without a final plan.
    """
    request = planner_pb2.StreamPlanRequest(messages=run.request.messages,
                                            max_llm_calls=run.options.llm_budget.for_planning(),
                                            availability=await run.offered())
    with run.tracer.start_as_current_span("gateway.plan") as span:
        async for message in run.stages.stream_plan(request, run.left()):
            if message.WhichOneof("event") == "task":
                run.emit(planned_task=message.task)
                on_task(message.task)
            elif message.WhichOneof("event") == "plan":
                span.set_attribute("hugginggpt.plan.tasks", len(message.plan.plan.tasks))
                record_usage("planner", message.plan.usage)
                run.emit(plan=message.plan)
                return message.plan
    raise Unavailable("the planner ended its stream without a plan")


async def answer(run: Run, out: PipelineResult) -> None:
    """Streams the answer: the plan's own when it answered directly, else the responder's.

    Raises:
        Unavailable: the responder's stream ended without a finished answer.
    """
    assert out.plan is not None
    plan = out.plan.plan
    if plan.direct_answer and not plan.tasks and not run.options.respond_to_direct_answers:
        out.answer = plan.direct_answer
        run.emit(answer_delta=plan.direct_answer)
        return
    request = responder_pb2.RespondRequest(messages=run.request.messages, plan=plan,
                                           selections=out.ordered_selections(), results=out.ordered_results(),
                                           declined=out.plan.declined)
    for event in request.results:
        leave_out_vector(event.result)
    with run.tracer.start_as_current_span("gateway.respond"):
        async for message in run.stages.respond(request, run.left()):
            if message.WhichOneof("event") == "delta":
                run.emit(answer_delta=message.delta)
            elif message.WhichOneof("event") == "done":
                out.answer = message.done.answer
                out.answer_usage.CopyFrom(message.done.usage)
                record_usage("responder", message.done.usage)
                return
    raise Unavailable("the responder ended its stream without a finished answer")


def leave_out_vector(result: pb.TaskResult) -> None:
    """Replaces a result's vector by the vector's length, all the responder reads of it."""
    if result.vector:
        result.vector_length = len(result.vector)
        del result.vector[:]

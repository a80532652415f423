"""Chains the stages for one request: streamed planning, batched selection, streamed execution, answer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry import trace

from gateway import metrics, parameters
from hugginggpt.budget import LlmCallBudget
from hugginggpt.convert import task_state_from_pb
from hugginggpt.domain import FINAL_STATES, TaskState
from hugginggpt.errors import DeadlineExceeded, HuggingGPTError, Unavailable
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2, gateway_pb2, planner_pb2, responder_pb2, selector_pb2

logger = logging.getLogger(__name__)


class Stages(Protocol):
    """The four stages as the pipeline calls them (gateway.clients.StageClients in production)."""

    def stream_plan(self, request: planner_pb2.StreamPlanRequest, timeout: float) -> AsyncIterator[Any]: ...
    async def select(self, request: selector_pb2.SelectRequest, timeout: float) -> Any: ...
    def execute_stream(self, requests: AsyncIterator[Any], timeout: float) -> AsyncIterator[Any]: ...
    def execute(self, request: executor_pb2.ExecuteRequest, timeout: float) -> AsyncIterator[Any]: ...
    def respond(self, request: responder_pb2.RespondRequest, timeout: float) -> AsyncIterator[Any]: ...


@dataclass(frozen=True)
class PipelineOptions:
    """How the chain runs."""

    stream_execution: bool = True
    respond_to_direct_answers: bool = False
    task_timeout_seconds: float = 0.0
    llm_budget: LlmCallBudget = field(default_factory=LlmCallBudget)  # LLM calls per request, all stages


@dataclass
class PipelineRequest:
    """One request as the pipeline sees it: the conversation (last message = this request) and limits."""

    messages: list[pb.Message]
    mode: int
    deadline: float  # in the event loop's clock
    started: float = field(default_factory=time.perf_counter)

    @property
    def content(self) -> str:
        return self.messages[-1].content

    def left(self) -> float:
        return max(0.05, self.deadline - asyncio.get_running_loop().time())


@dataclass
class PipelineResult:
    """What a run produced, for the summary, RunTasks and the session."""

    plan: planner_pb2.PlanResponse | None = None
    selections: dict[int, pb.Selection] = field(default_factory=dict)
    select_usage: pb.LlmUsage = field(default_factory=pb.LlmUsage)
    results: dict[int, executor_pb2.TaskEvent] = field(default_factory=dict)
    answer: str = ""
    answer_usage: pb.LlmUsage = field(default_factory=pb.LlmUsage)

    def ordered_selections(self) -> list[pb.Selection]:
        order = [t.id for t in self.plan.plan.tasks] if self.plan else sorted(self.selections)
        return [self.selections[i] for i in order if i in self.selections]

    def ordered_results(self) -> list[executor_pb2.TaskEvent]:
        order = [t.id for t in self.plan.plan.tasks] if self.plan else sorted(self.results)
        return [self.results[i] for i in order if i in self.results]

    def usage(self) -> pb.LlmUsage:
        total = pb.LlmUsage()
        for part in (self.plan.usage if self.plan else pb.LlmUsage(), self.select_usage, self.answer_usage):
            add_usage(total, part)
        return total

    def summary(self, started: float) -> gateway_pb2.ChatSummary:
        results = self.ordered_results()
        count = lambda state: sum(1 for r in results if r.state == state)  # noqa: E731
        return gateway_pb2.ChatSummary(
            answer=self.answer,
            artifacts=[a for r in results if r.state == executor_pb2.TASK_STATE_SUCCEEDED
                       for a in r.result.artifacts],
            tasks_succeeded=count(executor_pb2.TASK_STATE_SUCCEEDED),
            tasks_failed=count(executor_pb2.TASK_STATE_FAILED),
            tasks_skipped=count(executor_pb2.TASK_STATE_SKIPPED),
            usage=self.usage(),
            total_seconds=time.perf_counter() - started,
            inference_seconds=sum(r.inference_seconds for r in results),
        )


def add_usage(total: pb.LlmUsage, part: pb.LlmUsage) -> None:
    total.calls += part.calls
    total.prompt_tokens += part.prompt_tokens
    total.completion_tokens += part.completion_tokens
    total.seconds += part.seconds


def without_vector(event: executor_pb2.TaskEvent) -> executor_pb2.TaskEvent:
    """The event with its result's vector replaced by the vector's length, all the responder reads of it."""
    if not event.result.vector:
        return event
    slim = executor_pb2.TaskEvent()
    slim.CopyFrom(event)
    slim.result.vector_length = len(event.result.vector)
    del slim.result.vector[:]
    return slim


def record_usage(stage: str, usage: pb.LlmUsage) -> None:
    metrics.LLM_CALLS.labels(stage).inc(usage.calls)
    metrics.LLM_TOKENS.labels(stage, "prompt").inc(usage.prompt_tokens)
    metrics.LLM_TOKENS.labels(stage, "completion").inc(usage.completion_tokens)


Emit = Callable[..., None]


class Pipeline:
    """Runs requests through the stages; one instance serves every request."""

    def __init__(self, stages: Stages, options: PipelineOptions, tracer: trace.Tracer) -> None:
        self.stages = stages
        self.options = options
        self.tracer = tracer

    async def chat(self, turn: PipelineRequest, outcome: PipelineResult) -> AsyncIterator[gateway_pb2.ChatResponse]:
        """Streams the events of one chat turn; fills outcome as it goes."""

        async def work(emit: Emit) -> None:
            await _Run(self, turn, outcome, emit).tasks()
            await self._answer(turn, outcome, emit)

        async for event in self._events(turn, work):
            yield event

    async def run_tasks(self, turn: PipelineRequest, outcome: PipelineResult) -> None:
        """Plans, selects and runs without an answer."""
        async for _ in self._events(turn, lambda emit: _Run(self, turn, outcome, emit).tasks()):
            pass

    async def _events(
        self, turn: PipelineRequest, work: Callable[[Emit], Any]
    ) -> AsyncIterator[gateway_pb2.ChatResponse]:
        queue: asyncio.Queue[gateway_pb2.ChatResponse | BaseException | None] = asyncio.Queue()

        def emit(**event: Any) -> None:
            queue.put_nowait(gateway_pb2.ChatResponse(at_seconds=time.perf_counter() - turn.started, **event))

        async def produce() -> None:
            try:
                await work(emit)
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

    async def _answer(self, turn: PipelineRequest, outcome: PipelineResult, emit: Emit) -> None:
        assert outcome.plan is not None
        plan = outcome.plan.plan
        if plan.direct_answer and not plan.tasks and not self.options.respond_to_direct_answers:
            outcome.answer = plan.direct_answer
            emit(answer_delta=plan.direct_answer)
            return
        request = responder_pb2.RespondRequest(
            messages=turn.messages, plan=plan, selections=outcome.ordered_selections(),
            results=[without_vector(r) for r in outcome.ordered_results()],
        )
        with self.tracer.start_as_current_span("gateway.respond"):
            async for message in self.stages.respond(request, turn.left()):
                if message.WhichOneof("event") == "delta":
                    emit(answer_delta=message.delta)
                elif message.WhichOneof("event") == "done":
                    outcome.answer = message.done.answer
                    outcome.answer_usage.CopyFrom(message.done.usage)
                    record_usage("responder", message.done.usage)
                    return
        raise Unavailable("the responder ended its stream without a finished answer")


class _Run:
    """The plan -> select -> execute part of one request."""

    def __init__(self, pipeline: Pipeline, turn: PipelineRequest, outcome: PipelineResult, emit: Emit) -> None:
        self.p = pipeline
        self.turn = turn
        self.out = outcome
        self.emit = emit
        self.streamed: dict[int, pb.Task] = {}
        self.scheduled: set[int] = set()
        self.pending: set[asyncio.Task[None]] = set()
        self.exec_queue: asyncio.Queue[executor_pb2.ExecuteStreamRequest | None] = asyncio.Queue()
        self.executor: asyncio.Task[None] | None = None
        self.task_spans: dict[int, trace.Span] = {}

    async def tasks(self) -> None:
        try:
            await self._plan()
            assert self.out.plan is not None
            tasks = list(self.out.plan.plan.tasks)
            if not tasks:
                return
            await self._reconcile(tasks)
            await self._select_rest(tasks)
            await self._execute(tasks)
        finally:
            for pending in [*self.pending, *([self.executor] if self.executor else [])]:
                pending.cancel()
            for span in self.task_spans.values():
                span.end()

    async def _plan(self) -> None:
        request = planner_pb2.StreamPlanRequest(messages=self.turn.messages,
                                                max_llm_calls=self.p.options.llm_budget.for_planning())
        with self.p.tracer.start_as_current_span("gateway.plan") as span:
            async for message in self.p.stages.stream_plan(request, self.turn.left()):
                if message.WhichOneof("event") == "task":
                    self.streamed[message.task.id] = message.task
                    self.emit(planned_task=message.task)
                    self._spawn(self._select_one(message.task))
                elif message.WhichOneof("event") == "plan":
                    self.out.plan = message.plan
                    span.set_attribute("hugginggpt.plan.tasks", len(message.plan.plan.tasks))
                    record_usage("planner", message.plan.usage)
                    self.emit(plan=message.plan)
                    return
        raise Unavailable("the planner ended its stream without a plan")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.pending.add(task)

    async def _select_one(self, task: pb.Task) -> None:
        await self._select([task], defer=True)

    async def _select(self, tasks: list[pb.Task], defer: bool) -> None:
        planning_calls = self.out.plan.usage.calls if self.out.plan else 0
        request = selector_pb2.SelectRequest(
            user_request=self.turn.content, tasks=tasks, mode=self.turn.mode,  # type: ignore[arg-type]
            defer_undecided=defer, ranking_only=not self.p.options.llm_budget.selection_may_ask(planning_calls),
        )
        with self.p.tracer.start_as_current_span("gateway.select") as span:
            span.set_attribute("hugginggpt.select.deferred", defer)
            span.set_attribute("hugginggpt.select.tasks", len(tasks))
            response = await self.p.stages.select(request, self.turn.left())
        add_usage(self.out.select_usage, response.usage)
        record_usage("selector", response.usage)
        wanted = {t.id: t for t in tasks}
        decided = [s for s in response.selections
                   if s.task_id in wanted and s.task_id not in self.out.selections]
        if decided:
            self.emit(selections=selector_pb2.SelectResponse(selections=decided, usage=response.usage))
        for selection in decided:
            self.out.selections[selection.task_id] = selection
            if self.p.options.stream_execution:
                self._schedule(wanted[selection.task_id], selection)

    async def _reconcile(self, tasks: list[pb.Task]) -> None:
        """Waits for the per-task selections and checks the streamed tasks against the final plan."""
        if self.pending:
            await asyncio.gather(*self.pending)
        final = {t.id: t for t in tasks}
        for task_id, streamed in self.streamed.items():
            if final.get(task_id) != streamed:
                if task_id in self.scheduled:
                    raise HuggingGPTError(
                        f"the planner streamed task {task_id} and then changed it in its final plan; "
                        "the task had already started"
                    )
                self.out.selections.pop(task_id, None)

    async def _select_rest(self, tasks: list[pb.Task]) -> None:
        """One selection call (the only one that may ask the LLM) for every task still undecided."""
        undecided = [t for t in tasks if t.id not in self.out.selections]
        if undecided:
            await self._select(undecided, defer=False)
        missing = [t.id for t in tasks if t.id not in self.out.selections]
        if missing:
            raise Unavailable(f"the selector returned no model for tasks {missing}")

    def _schedule(self, task: pb.Task, selection: pb.Selection) -> None:
        if self.executor is None:
            self.executor = asyncio.create_task(self._consume(self._stream_requests(), streamed=True))
        self.scheduled.add(task.id)
        self.exec_queue.put_nowait(executor_pb2.ExecuteStreamRequest(
            task=executor_pb2.ScheduledTask(task=parameters.fill(task, self.turn.content), selection=selection)))

    async def _stream_requests(self) -> AsyncIterator[executor_pb2.ExecuteStreamRequest]:
        yield executor_pb2.ExecuteStreamRequest(options=executor_pb2.ExecuteOptions(
            mode=self.turn.mode, task_timeout_seconds=self.p.options.task_timeout_seconds))  # type: ignore[arg-type]
        while (item := await self.exec_queue.get()) is not None:
            yield item

    async def _execute(self, tasks: list[pb.Task]) -> None:
        if self.p.options.stream_execution:
            for task in tasks:
                if task.id not in self.scheduled:
                    self._schedule(task, self.out.selections[task.id])
            self.exec_queue.put_nowait(executor_pb2.ExecuteStreamRequest(
                complete=executor_pb2.PlanComplete(task_count=len(tasks))))
            self.exec_queue.put_nowait(None)
            assert self.executor is not None
            await self.executor
        else:
            request = executor_pb2.ExecuteRequest(
                tasks=[parameters.fill(t, self.turn.content) for t in tasks],
                selections=self.out.ordered_selections(), mode=self.turn.mode,  # type: ignore[arg-type]
                task_timeout_seconds=self.p.options.task_timeout_seconds)
            await self._consume(request, streamed=False)
        for task in tasks:
            if task.id not in self.out.results:  # never drop a task silently
                self._finish(executor_pb2.TaskEvent(
                    task_id=task.id, task_type=task.type, state=executor_pb2.TASK_STATE_FAILED,
                    reason="the executor finished without reporting this task"))

    async def _consume(self, requests: Any, streamed: bool) -> None:
        with self.p.tracer.start_as_current_span("gateway.execute"):
            calls = self.p.stages.execute_stream if streamed else self.p.stages.execute
            async for message in calls(requests, self.turn.left()):
                event = message.event
                state = task_state_from_pb(event.state)
                if state is TaskState.STARTED:
                    self._task_span(event)
                    self.emit(task=event)
                elif state in FINAL_STATES:
                    self._finish(event)

    def _task_span(self, event: executor_pb2.TaskEvent, start_ns: int | None = None) -> trace.Span:
        if event.task_id not in self.task_spans:
            self.task_spans[event.task_id] = self.p.tracer.start_span(
                "gateway.task", start_time=start_ns,
                attributes={"hugginggpt.task.id": event.task_id, "hugginggpt.task.type": event.task_type})
        return self.task_spans[event.task_id]

    def _finish(self, event: executor_pb2.TaskEvent) -> None:
        if event.task_id in self.out.results:
            return
        self.out.results[event.task_id] = event
        state = str(task_state_from_pb(event.state))
        metrics.TASKS.labels(state).inc()
        span = self._task_span(event, time.time_ns() - int(event.duration_seconds * 1e9))
        span.set_attributes({"hugginggpt.task.state": state, "hugginggpt.task.model": event.model_id,
                             "hugginggpt.task.attempts": event.attempts,
                             "hugginggpt.task.inference_seconds": event.inference_seconds})
        if event.state == executor_pb2.TASK_STATE_FAILED:
            span.set_status(trace.Status(trace.StatusCode.ERROR, event.reason))
        span.end()
        del self.task_spans[event.task_id]
        self.emit(task=event)

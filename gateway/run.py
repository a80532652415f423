"""What one request's run through the chain reads (a frozen Run) and what it fills (a PipelineResult)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry import trace

from gateway import metrics
from gateway.availability import Availability
from hugginggpt.budget import LlmCallBudget
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2, gateway_pb2, planner_pb2, responder_pb2, selector_pb2

Emit = Callable[..., None]


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


@dataclass(frozen=True)
class Run:
    """Everything one request's stages read: the stages, how they run, the request, and where events go."""

    stages: Stages
    options: PipelineOptions
    tracer: trace.Tracer
    request: PipelineRequest
    emit: Emit
    availability: Availability | None = None  # None: the planner is offered every type, unasked

    def left(self) -> float:
        """Seconds left of the request's deadline, for the next outbound call."""
        return self.request.left()

    async def offered(self) -> list[pb.TaskTypeAvailability]:
        """What this deployment can run in the request's mode, for the planner (empty: every type)."""
        return await self.availability.get(self.request.mode) if self.availability else []


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


def record_usage(stage: str, usage: pb.LlmUsage) -> None:
    metrics.LLM_CALLS.labels(stage).inc(usage.calls)
    metrics.LLM_TOKENS.labels(stage, "prompt").inc(usage.prompt_tokens)
    metrics.LLM_TOKENS.labels(stage, "completion").inc(usage.completion_tokens)

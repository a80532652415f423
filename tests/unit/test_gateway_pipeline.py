"""The gateway's pipeline against plain-object stages: never drops a task, refuses inconsistent stages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry import trace

from gateway.config import GatewayConfig
from gateway.pipeline import Pipeline, PipelineOptions, PipelineRequest, PipelineResult
from hugginggpt.budget import LlmCallBudget
from hugginggpt.errors import HuggingGPTError, Unavailable
from hugginggpt.settings import SettingsError
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2, planner_pb2, responder_pb2, selector_pb2


def task(task_id: int, task_type: str = "summarization") -> pb.Task:
    return pb.Task(id=task_id, type=task_type, arguments=[pb.Argument(name="text", literal="x")])


class Stages:
    """Scripted stages; each attribute says what the next call returns."""

    def __init__(self) -> None:
        self.plan_messages: list[planner_pb2.StreamPlanResponse] = []
        self.report: set[int] | None = None  # task ids the executor reports; None = all
        self.selects: list[selector_pb2.SelectRequest] = []
        self.answer_done = True
        self.plan_requests: list[planner_pb2.StreamPlanRequest] = []

    async def stream_plan(self, request: Any, timeout: float) -> AsyncIterator[Any]:
        self.plan_requests.append(request)
        for message in self.plan_messages:
            yield message

    async def select(self, request: selector_pb2.SelectRequest, timeout: float) -> Any:
        self.selects.append(request)
        if request.defer_undecided:
            return selector_pb2.SelectResponse()
        return selector_pb2.SelectResponse(selections=[
            pb.Selection(task_id=t.id, chosen=pb.ModelCandidate(model_id="m")) for t in request.tasks])

    async def execute_stream(self, requests: AsyncIterator[Any], timeout: float) -> AsyncIterator[Any]:
        async for item in requests:
            if item.WhichOneof("item") == "task" and (self.report is None or item.task.task.id in self.report):
                yield executor_pb2.ExecuteStreamResponse(event=executor_pb2.TaskEvent(
                    task_id=item.task.task.id, state=executor_pb2.TASK_STATE_SUCCEEDED))

    async def execute(self, request: Any, timeout: float) -> AsyncIterator[Any]:
        for t in request.tasks:
            yield executor_pb2.ExecuteResponse(event=executor_pb2.TaskEvent(
                task_id=t.id, state=executor_pb2.TASK_STATE_SUCCEEDED))

    async def respond(self, request: Any, timeout: float) -> AsyncIterator[Any]:
        yield responder_pb2.RespondResponse(delta="ok")
        if self.answer_done:
            yield responder_pb2.RespondResponse(done=responder_pb2.RespondDone(answer="ok"))


def streamed(*tasks: pb.Task, final: list[pb.Task] | None = None,
             planning_calls: int = 1) -> list[planner_pb2.StreamPlanResponse]:
    plan = planner_pb2.PlanResponse(plan=pb.Plan(tasks=final if final is not None else list(tasks)),
                                    usage=pb.LlmUsage(calls=planning_calls))
    return [*[planner_pb2.StreamPlanResponse(task=t) for t in tasks], planner_pb2.StreamPlanResponse(plan=plan)]


async def run(stages: Stages, **options: Any) -> tuple[list[Any], PipelineResult]:
    pipeline = Pipeline(stages, PipelineOptions(**options), trace.NoOpTracer())  # type: ignore[arg-type]
    turn = PipelineRequest([pb.Message(role=pb.ROLE_USER, content="go")], 0, asyncio.get_running_loop().time() + 5)
    outcome = PipelineResult()
    events = [e async for e in pipeline.chat(turn, outcome)]
    return events, outcome


async def test_a_task_the_executor_never_reports_is_failed_not_dropped() -> None:
    stages = Stages()
    stages.plan_messages = streamed(task(1), task(2))
    stages.report = {1}
    _, outcome = await run(stages)
    states = {r.task_id: (r.state, r.reason) for r in outcome.ordered_results()}
    assert states[1][0] == executor_pb2.TASK_STATE_SUCCEEDED
    assert states[2] == (executor_pb2.TASK_STATE_FAILED, "the executor finished without reporting this task")
    assert outcome.summary(0.0).tasks_failed == 1


async def test_all_undecided_tasks_go_into_one_select_call() -> None:
    stages = Stages()
    stages.plan_messages = streamed(task(1), task(2), task(3))
    await run(stages)
    batches = [r for r in stages.selects if not r.defer_undecided]
    assert len(batches) == 1 and [t.id for t in batches[0].tasks] == [1, 2, 3]


async def test_tasks_streamed_together_are_selected_in_one_call() -> None:
    stages = Stages()
    stages.plan_messages = streamed(task(1), task(2), task(3))  # all in one event-loop turn
    await run(stages)
    assert [([t.id for t in r.tasks], r.defer_undecided) for r in stages.selects] == [
        ([1, 2, 3], True), ([1, 2, 3], False)]


async def test_a_task_streamed_twice_together_is_selected_once_as_last_streamed() -> None:
    stages = Stages()
    stages.plan_messages = streamed(task(1), task(1, "translation"), final=[task(1, "translation")])
    _, outcome = await run(stages)
    assert [[(t.id, t.type) for t in r.tasks] for r in stages.selects] == [[(1, "translation")]] * 2
    assert [r.task_id for r in outcome.ordered_results()] == [1]


async def test_tasks_streamed_during_a_selector_call_wait_for_it_and_go_together() -> None:
    class Slow(Stages):
        def __init__(self) -> None:
            super().__init__()
            self.planned = asyncio.Event()

        async def stream_plan(self, request: Any, timeout: float) -> AsyncIterator[Any]:
            *tasks, final = self.plan_messages
            for message in tasks:
                yield message
                await asyncio.sleep(0)  # each task in a turn of its own
            self.planned.set()
            yield final

        async def select(self, request: selector_pb2.SelectRequest, timeout: float) -> Any:
            if not self.selects:
                await self.planned.wait()  # the first call lasts until every task is planned
            return await super().select(request, timeout)

    stages = Slow()
    stages.plan_messages = streamed(task(1), task(2), task(3))
    await run(stages)
    assert [[t.id for t in r.tasks] for r in stages.selects if r.defer_undecided] == [[1], [2, 3]]


async def test_the_responder_gets_an_embeddings_length_and_the_client_the_embedding() -> None:
    class Embedding(Stages):
        def __init__(self) -> None:
            super().__init__()
            self.responds: list[responder_pb2.RespondRequest] = []

        async def execute_stream(self, requests: AsyncIterator[Any], timeout: float) -> AsyncIterator[Any]:
            async for item in requests:
                if item.WhichOneof("item") == "task":
                    yield executor_pb2.ExecuteStreamResponse(event=executor_pb2.TaskEvent(
                        task_id=item.task.task.id, state=executor_pb2.TASK_STATE_SUCCEEDED,
                        result=pb.TaskResult(vector=[0.5] * 384)))

        async def respond(self, request: Any, timeout: float) -> AsyncIterator[Any]:
            self.responds.append(request)
            async for message in super().respond(request, timeout):
                yield message

    stages = Embedding()
    stages.plan_messages = streamed(task(1, "feature-extraction"))
    events, outcome = await run(stages)
    (sent,) = stages.responds[0].results
    assert list(sent.result.vector) == [] and sent.result.vector_length == 384
    assert len(outcome.ordered_results()[0].result.vector) == 384  # what the session and RunTasks keep
    finished = [e.task for e in events if e.WhichOneof("event") == "task" and e.task.result.vector]
    assert len(finished) == 1 and len(finished[0].result.vector) == 384  # what the client is sent


async def test_tasks_only_in_the_final_plan_are_selected_and_run() -> None:
    stages = Stages()
    stages.plan_messages = streamed(final=[task(1), task(2)])
    _, outcome = await run(stages)
    assert [r.task_id for r in outcome.ordered_results()] == [1, 2]


async def test_a_streamed_task_changed_after_it_started_is_an_error() -> None:
    class Deciding(Stages):
        async def select(self, request: selector_pb2.SelectRequest, timeout: float) -> Any:
            return selector_pb2.SelectResponse(selections=[
                pb.Selection(task_id=t.id, chosen=pb.ModelCandidate(model_id="m")) for t in request.tasks])

    stages = Deciding()
    stages.plan_messages = streamed(task(1), final=[task(1, "translation")])
    with pytest.raises(HuggingGPTError, match="changed it in its final plan"):
        await run(stages)


async def test_a_planner_stream_without_a_plan_is_unavailable() -> None:
    stages = Stages()
    stages.plan_messages = streamed(task(1))[:-1]
    with pytest.raises(Unavailable, match="without a plan"):
        await run(stages)


async def test_an_unfinished_answer_is_unavailable() -> None:
    stages = Stages()
    stages.plan_messages = streamed(task(1))
    stages.answer_done = False
    with pytest.raises(Unavailable, match="without a finished answer"):
        await run(stages)


async def test_unary_execution_sends_the_whole_plan() -> None:
    stages = Stages()
    stages.plan_messages = streamed(task(1), task(2))
    events, outcome = await run(stages, stream_execution=False)
    assert outcome.answer == "ok" and len(outcome.ordered_results()) == 2
    assert events[-1].answer_delta == "ok"


@pytest.mark.parametrize(("total", "planning_calls", "ranking_only"), [(3, 1, False), (3, 2, True), (0, 5, False)])
async def test_the_llm_call_budget_is_shared_between_planner_and_selector(
        total: int, planning_calls: int, ranking_only: bool) -> None:
    stages = Stages()
    stages.plan_messages = streamed(final=[task(1)], planning_calls=planning_calls)
    await run(stages, llm_budget=LlmCallBudget(total))
    assert stages.plan_requests[0].max_llm_calls == (total - 1 if total else 0)
    assert [s.ranking_only for s in stages.selects] == [ranking_only]


def test_an_llm_call_budget_without_room_for_plan_and_answer_is_refused() -> None:
    with pytest.raises(SettingsError, match="at least 2"):
        GatewayConfig.from_env({"HUGGINGGPT_GATEWAY_MAX_LLM_CALLS": "1"})

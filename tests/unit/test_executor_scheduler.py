"""Unit tests of the executor's DAG scheduler against a scripted inference backend (no gRPC)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import cast

import pytest

from hugginggpt.domain import Argument, Candidate, Choice, InferenceMode, Task, TaskState
from hugginggpt.tasktypes import load_task_types
from hugginggpt.v1 import common_pb2 as pb
from services.executor.engine import Executor
from services.executor.runtypes import (
    InferenceCall,
    InferenceReply,
    PlanEnd,
    RunOptions,
    ScheduledItem,
    TaskEvent,
)

Behaviour = Callable[[InferenceCall], InferenceReply]


class ScriptedBackend:
    """Answers per model id after a delay; records every call, its start/end times and cancellations."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.delays: dict[str, float] = {}
        self.failing: set[str] = set()
        self.hosted_ok: set[str] = set()
        self.results: dict[str, pb.TaskResult] = {}
        self.calls: list[InferenceCall] = []
        self.spans: dict[str, tuple[float, float]] = {}
        self.cancelled: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def infer(self, call: InferenceCall, timeout: float) -> InferenceReply:
        self.calls.append(call)
        key = call.inputs[0].text if call.inputs and call.inputs[0].text else call.model_id
        started = time.monotonic()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delays.get(call.model_id, self.delay))
        except asyncio.CancelledError:
            self.cancelled.append(call.model_id)
            raise
        finally:
            self.in_flight -= 1
        self.spans[key] = (started, time.monotonic())
        rescued = call.mode == InferenceMode.HUGGINGFACE and call.model_id in self.hosted_ok
        if call.model_id in self.failing and not rescued:
            raise RuntimeError(f"{call.model_id} exploded")
        result = self.results.get(call.model_id, pb.TaskResult(text=f"out of {call.model_id}"))
        return InferenceReply(result, hosted=call.mode == InferenceMode.HUGGINGFACE, inference_seconds=0.01)


def item(task_id: int, deps: tuple[int, ...] = (), model: str = "", text: str = "", *,
         task_type: str = "text-generation", args: tuple[Argument, ...] | None = None,
         fallbacks: tuple[str, ...] = ()) -> ScheduledItem:
    model = model or f"m{task_id}"
    if args is None:
        lit = text or f"t{task_id}"
        first = Argument("text", task_ref=deps[0]) if deps else Argument("text", literal=lit)
        args = (first,)
    choice = Choice(task_id, Candidate(model, True), "test", tuple(Candidate(f, True) for f in fallbacks))
    return ScheduledItem(Task(task_id, task_type, deps, args), choice)


def executor(backend: ScriptedBackend) -> Executor:
    return Executor(backend, load_task_types(), lambda uri: True)


async def run_all(backend: ScriptedBackend, items: list[ScheduledItem], **opts: object) -> list[TaskEvent]:
    options = RunOptions(**{"mode": InferenceMode.LOCAL, **opts})  # type: ignore[arg-type]
    return [e async for e in executor(backend).execute(items, options)]


def finals(events: list[TaskEvent]) -> dict[int, TaskEvent]:
    out: dict[int, TaskEvent] = {}
    for e in events:
        if e.state != TaskState.STARTED:
            assert e.task_id not in out, f"task {e.task_id} got two final states"
            out[e.task_id] = e
    return out


async def test_independent_tasks_run_concurrently_and_join_waits_for_both() -> None:
    backend = ScriptedBackend(delay=0.3)
    started = time.monotonic()
    events = await run_all(backend, [item(1), item(2), item(3, (1, 2))])
    elapsed = time.monotonic() - started
    assert elapsed < 0.8, "1 and 2 should overlap: about 0.6 s, not 0.9 s"
    assert abs(backend.spans["t1"][0] - backend.spans["t2"][0]) < 0.1
    join_start = backend.spans["out of m1"][0]  # task 3 consumed task 1's text
    assert join_start >= max(backend.spans["t1"][1], backend.spans["t2"][1])
    assert {i: e.state for i, e in finals(events).items()} == {i: TaskState.SUCCEEDED for i in (1, 2, 3)}


async def test_a_task_with_no_model_fails_alone_with_the_selectors_reason() -> None:
    backend = ScriptedBackend()
    why = "no model for task type 'text-to-video' can run now (mode local)"
    missing = ScheduledItem(Task(1, "text-to-video", (), (Argument("text", literal="a cat"),)),
                            Choice(1, Candidate("", False), why))
    events = finals(await run_all(backend, [missing, item(2, (1,)), item(3)]))
    assert events[1].state == TaskState.FAILED and events[1].reason == why
    assert events[2].state == TaskState.SKIPPED and "task 1 (text-to-video) failed" in events[2].reason
    assert events[3].state == TaskState.SUCCEEDED  # the rest of the plan still runs
    assert [c.model_id for c in backend.calls] == ["m3"]


async def test_max_parallel_bounds_concurrency() -> None:
    backend = ScriptedBackend(delay=0.1)
    await run_all(backend, [item(i) for i in range(1, 6)], max_parallel=2)
    assert backend.max_in_flight == 2


async def test_failure_skips_dependents_transitively_and_names_the_cause() -> None:
    backend = ScriptedBackend()
    backend.failing.add("m1")
    events = await run_all(backend, [item(1), item(2, (1,)), item(3, (2,)), item(4)])
    final = finals(events)
    assert final[1].state == TaskState.FAILED and "m1 exploded" in final[1].reason
    assert final[2].state == TaskState.SKIPPED and final[2].reason == "task 1 (text-generation) failed"
    assert final[3].state == TaskState.SKIPPED and final[3].reason == "task 2 (text-generation) was skipped"
    assert final[4].state == TaskState.SUCCEEDED
    assert [c.model_id for c in backend.calls].count("m2") == 0, "nothing runs on an unresolved reference"


async def test_fallbacks_are_tried_in_ranked_order() -> None:
    backend = ScriptedBackend()
    backend.failing.update({"a", "b"})
    events = await run_all(backend, [item(1, model="a", fallbacks=("b", "c", "d"))])
    assert [c.model_id for c in backend.calls] == ["a", "b", "c"]
    final = finals(events)[1]
    assert (final.state, final.model_id, final.attempts) == (TaskState.SUCCEEDED, "c", 3)
    assert [e.attempts for e in events if e.state == TaskState.STARTED] == [1, 2, 3]


async def test_hybrid_mode_ends_with_the_hosted_endpoint() -> None:
    backend = ScriptedBackend()
    backend.failing.update({"a", "b"})
    backend.hosted_ok.add("a")
    events = await run_all(backend, [item(1, model="a", fallbacks=("b",))], mode=InferenceMode.HYBRID)
    assert [(c.model_id, c.mode) for c in backend.calls] == [
        ("a", InferenceMode.HYBRID), ("b", InferenceMode.HYBRID), ("a", InferenceMode.HUGGINGFACE)]
    final = finals(events)[1]
    assert final.state == TaskState.SUCCEEDED and final.hosted and final.attempts == 3


async def test_local_mode_never_goes_hosted_and_reports_every_failure() -> None:
    backend = ScriptedBackend()
    backend.failing.update({"a", "b"})
    events = await run_all(backend, [item(1, model="a", fallbacks=("b",))], mode=InferenceMode.LOCAL)
    assert all(c.mode == InferenceMode.LOCAL for c in backend.calls) and len(backend.calls) == 2
    final = finals(events)[1]
    assert final.state == TaskState.FAILED and final.attempts == 2
    assert "a: a exploded" in final.reason and "b: b exploded" in final.reason


async def test_per_task_timeout_fails_the_task_and_cancels_the_call() -> None:
    backend = ScriptedBackend()
    backend.delays["slow"] = 10
    started = time.monotonic()
    events = await run_all(backend, [item(1, model="slow"), item(2, (1,)), item(3)], task_timeout_seconds=0.2)
    assert time.monotonic() - started < 1.0
    final = finals(events)
    assert final[1].state == TaskState.FAILED and "timed out after 0.2 s" in final[1].reason
    assert final[2].state == TaskState.SKIPPED and final[3].state == TaskState.SUCCEEDED
    assert backend.cancelled == ["slow"]


async def test_request_budget_bounds_every_task() -> None:
    backend = ScriptedBackend()
    backend.delays["slow"] = 10
    started = time.monotonic()
    events = await run_all(backend, [item(1, model="slow")], budget_seconds=0.3)
    assert time.monotonic() - started < 1.0
    assert finals(events)[1].state == TaskState.FAILED


async def test_cancelling_the_request_cancels_running_tasks() -> None:
    backend = ScriptedBackend()
    backend.delays["slow"] = 10
    items = [item(1, model="slow"), item(2, model="slow")]
    stream = cast(AsyncGenerator[TaskEvent, None],
                  executor(backend).execute(items, RunOptions(mode=InferenceMode.LOCAL)))
    first = await anext(stream)
    assert first.state == TaskState.STARTED
    await asyncio.sleep(0.05)
    await stream.aclose()  # what gRPC does when the client cancels
    assert sorted(backend.cancelled) == ["slow", "slow"]


async def _feed(parts: list[ScheduledItem | PlanEnd | float]) -> AsyncIterator[ScheduledItem | PlanEnd]:
    for part in parts:
        if isinstance(part, float):
            await asyncio.sleep(part)
        else:
            yield part


async def test_streamed_tasks_may_arrive_before_their_dependencies() -> None:
    backend = ScriptedBackend(delay=0.05)
    parts: list[ScheduledItem | PlanEnd | float] = [item(3, (1, 2)), item(2, (1,)), 0.2, item(1), PlanEnd(3)]
    events = [e async for e in executor(backend).execute_stream(_feed(parts), RunOptions(mode=InferenceMode.LOCAL))]
    order = [e.task_id for e in events if e.state == TaskState.STARTED]
    assert order == [1, 2, 3]
    assert all(e.state == TaskState.SUCCEEDED for e in finals(events).values())


async def test_streamed_task_starts_before_the_plan_is_complete() -> None:
    backend = ScriptedBackend(delay=0.01)
    parts: list[ScheduledItem | PlanEnd | float] = [item(1), 0.5, item(2), PlanEnd(2)]
    events = [e async for e in executor(backend).execute_stream(_feed(parts), RunOptions(mode=InferenceMode.LOCAL))]
    assert finals(events)[1].at_seconds < 0.3, "task 1 must not wait for the rest of the plan"


async def test_dependencies_that_never_arrive_fail_at_plan_complete() -> None:
    backend = ScriptedBackend()
    parts: list[ScheduledItem | PlanEnd | float] = [item(1), item(3, (9,)), item(4, (3,)), PlanEnd(3)]
    events = [e async for e in executor(backend).execute_stream(_feed(parts), RunOptions(mode=InferenceMode.LOCAL))]
    final = finals(events)
    assert final[3].state == TaskState.FAILED and "[9]" in final[3].reason and "never" in final[3].reason
    assert final[4].state == TaskState.SKIPPED and final[1].state == TaskState.SUCCEEDED


async def test_streamed_cycle_is_refused_when_it_closes() -> None:
    backend = ScriptedBackend()
    parts: list[ScheduledItem | PlanEnd | float] = [item(1, (2,)), item(2, (1,)), PlanEnd(2)]
    with pytest.raises(Exception, match="cycle"):
        [e async for e in executor(backend).execute_stream(_feed(parts), RunOptions(mode=InferenceMode.LOCAL))]
    assert backend.calls == []


async def test_event_timing_fields_are_filled() -> None:
    backend = ScriptedBackend(delay=0.1)
    final = finals(await run_all(backend, [item(1)]))[1]
    assert final.duration_seconds >= 0.1 and final.at_seconds >= final.duration_seconds
    assert final.inference_seconds == pytest.approx(0.01) and final.model_id == "m1"

"""Chat through a real gateway chained to fake stages: events, streaming, batching, errors, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from gateway_fakes import Stack, task

from gateway.selection import StreamedSelection
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2, gateway_pb2
from hugginggpt_cli.gateway_client import GatewayClient


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    s = await Stack(tmp_path).start()
    yield s
    await s.stop()


async def collect(stack: Stack, content: str = "do it", **kwargs: object) -> list[gateway_pb2.ChatResponse]:
    async with GatewayClient(stack.address) as client:
        return [e async for e in client.chat(content, **kwargs)]  # type: ignore[arg-type]


def kinds(events: list[gateway_pb2.ChatResponse]) -> list[str]:
    return [str(e.WhichOneof("event")) for e in events]


async def test_event_order_and_summary(stack: Stack) -> None:
    stack.script.tasks = [task(1, "image-to-text"), task(2, "question-answering", deps=(1,))]
    events = await collect(stack)
    order = kinds(events)
    assert order[0] == "planned_task" and order[-1] == "summary"
    assert order.index("plan") < order.index("answer_delta")
    assert "".join(e.answer_delta for e in events if e.answer_delta) == "The answer."
    task_events = [e.task for e in events if e.WhichOneof("event") == "task"]
    assert [(t.task_id, t.state) for t in task_events if t.task_id == 2] == [
        (2, executor_pb2.TASK_STATE_STARTED), (2, executor_pb2.TASK_STATE_SUCCEEDED)]
    summary = events[-1].summary
    assert summary.answer == "The answer." and summary.tasks_succeeded == 2 and summary.tasks_failed == 0
    assert summary.usage.calls == 3  # plan + one batched selection (task 2 undecided) + answer
    assert summary.inference_seconds == pytest.approx(0.02)
    assert summary.total_seconds > 0
    ids = {e.request_id for e in events}
    assert len(ids) == 1 and ids != {""}
    for stage in ("planner", "selector", "executor", "responder"):
        assert stack.record.request_ids[stage] == ids, stage
    assert all(e.session_id == events[0].session_id for e in events)
    assert [e.at_seconds for e in events] == sorted(e.at_seconds for e in events)


async def test_planned_tasks_stream_into_execution_before_plan_completes(stack: Stack) -> None:
    stack.script.tasks = [task(1, "automatic-speech-recognition"), task(2, "image-to-text")]
    stack.script.wait_for_execution = True
    events = await collect(stack)
    assert stack.record.executed_before_plan_done is True
    assert stack.record.execute_items[:2] == ["options", "task:1"]
    assert stack.record.execute_items[-1] == "complete"
    assert events[-1].summary.tasks_succeeded == 2


async def test_selection_is_batched_into_one_llm_call(stack: Stack) -> None:
    stack.script.tasks = [
        task(1, "automatic-speech-recognition"), task(2, "token-classification", deps=(1,)),
        task(3, "summarization", deps=(1,)), task(4, "image-to-text"),
    ]
    events = await collect(stack)
    requests = stack.record.select_requests
    assert sum(1 for r in requests if not r.defer_undecided) == 1
    batch = next(r for r in requests if not r.defer_undecided)
    assert sorted(t.id for t in batch.tasks) == [2, 3]
    streamed = [t.id for r in requests if r.defer_undecided for t in r.tasks]
    assert sorted(streamed) == [1, 2, 3, 4]  # each streamed task offered exactly once
    assert len(requests) <= 4 + 1  # never more calls than before: one per task, the batch
    chosen = [s.task_id for e in events if e.WhichOneof("event") == "selections"
              for s in e.selections.selections]
    assert sorted(chosen) == [1, 2, 3, 4]
    assert events[-1].summary.usage.calls == 3


async def test_tasks_planned_during_a_selector_call_are_selected_together(stack: Stack,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    stack.script.tasks = [task(1, "automatic-speech-recognition"), task(2, "image-to-text"),
                          task(3, "automatic-speech-recognition", text="y"), task(4, "image-to-text", text="y")]
    # The first call lasts until the gateway has read every task. (Waiting for the planner to have written them
    # was racy: under load the held call could end before the gateway read the last tasks, making a third call.)
    all_offered = asyncio.Event()
    offer = StreamedSelection.offer

    def counting_offer(self: StreamedSelection, t: pb.Task) -> None:
        offer(self, t)
        if len(self.offered) == len(stack.script.tasks):
            all_offered.set()

    monkeypatch.setattr(StreamedSelection, "offer", counting_offer)
    stack.script.hold_selector = all_offered
    events = await collect(stack)
    calls = [[t.id for t in r.tasks] for r in stack.record.select_requests]
    assert len(calls) <= 2 and sorted(sum(calls, [])) == [1, 2, 3, 4]  # 4 before: one per task
    assert all(r.defer_undecided for r in stack.record.select_requests)
    assert events[-1].summary.tasks_succeeded == 4


async def test_decisive_plan_needs_no_selection_llm_call(stack: Stack) -> None:
    stack.script.tasks = [task(1, "automatic-speech-recognition")]
    events = await collect(stack)
    assert all(r.defer_undecided for r in stack.record.select_requests)
    assert events[-1].summary.usage.calls == 2


async def test_direct_answer_skips_selection_and_execution(stack: Stack) -> None:
    stack.script.direct_answer = "Hello! I can help with images and audio."
    events = await collect(stack, "hi there")
    assert kinds(events) == ["plan", "answer_delta", "summary"]
    assert events[-1].summary.answer == "Hello! I can help with images and audio."
    assert stack.record.select_requests == [] and stack.record.execute_items == []
    assert stack.record.respond_requests == []


async def test_direct_answer_can_go_to_the_responder(tmp_path: Path) -> None:
    s = await Stack(tmp_path, respond_to_direct_answers=True).start()
    try:
        s.script.direct_answer = "Hello!"
        events = await collect(s, "hi")
        assert events[-1].summary.answer == "The answer." and len(s.record.respond_requests) == 1
    finally:
        await s.stop()


async def test_unary_execution_mode(tmp_path: Path) -> None:
    s = await Stack(tmp_path, stream_execution=False).start()
    try:
        s.script.tasks = [task(1, "automatic-speech-recognition"), task(2, "summarization", deps=(1,))]
        events = await collect(s)
        assert events[-1].summary.tasks_succeeded == 2
        assert "options" not in s.record.execute_items
    finally:
        await s.stop()


@pytest.mark.parametrize(("stage", "code"), [
    ("plan_error", grpc.StatusCode.FAILED_PRECONDITION),
    ("select_error", grpc.StatusCode.UNAVAILABLE),
])
async def test_stage_errors_keep_their_code_and_message(
    stack: Stack, stage: str, code: grpc.StatusCode
) -> None:
    stack.script.tasks = [task(1, "summarization")]
    setattr(stack.script, stage, (code, f"{stage} says no"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await collect(stack)
    assert caught.value.code() == code
    assert f"{stage} says no" in (caught.value.details() or "")
    if code == grpc.StatusCode.UNAVAILABLE:
        assert "the selector at 127.0.0.1:" in (caught.value.details() or "")


async def test_a_stage_that_is_down_is_named_in_a_quick_unavailable(stack: Stack) -> None:
    await stack.servers[0].stop(None)  # the planner
    started = asyncio.get_running_loop().time()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await collect(stack)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "the planner at 127.0.0.1:" in (caught.value.details() or "")
    assert asyncio.get_running_loop().time() - started < 5


async def test_client_cancel_cancels_the_executor(stack: Stack) -> None:
    stack.script.tasks = [task(1, "automatic-speech-recognition")]
    stack.script.hang_executor = True
    async with GatewayClient(stack.address) as client:
        async for event in client.chat("run it"):
            if event.WhichOneof("event") == "task":
                break  # leaving the loop cancels the call
    await asyncio.wait_for(stack.record.cancelled["executor"].wait(), 5)


async def test_client_deadline_reaches_the_planner(stack: Stack) -> None:
    stack.script.hang_planner = True
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await collect(stack, timeout=0.5)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.wait_for(stack.record.cancelled["planner"].wait(), 5)


async def test_gateway_timeout_caps_the_request(tmp_path: Path) -> None:
    s = await Stack(tmp_path, request_timeout_seconds=0.5).start()
    try:
        s.script.hang_planner = True
        started = asyncio.get_running_loop().time()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await collect(s)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        await s.stop()


@pytest.mark.parametrize(("content", "kwargs", "code"), [
    ("", {}, grpc.StatusCode.INVALID_ARGUMENT),
    ("   ", {}, grpc.StatusCode.INVALID_ARGUMENT),
    ("x" * 20_001, {}, grpc.StatusCode.INVALID_ARGUMENT),
    ("hi", {"session_id": "no/such session"}, grpc.StatusCode.INVALID_ARGUMENT),
    ("hi", {"session_id": "0123456789abcdef"}, grpc.StatusCode.NOT_FOUND),
])
async def test_bad_chat_requests(
    stack: Stack, content: str, kwargs: dict[str, str], code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await collect(stack, content, **kwargs)
    assert caught.value.code() == code
    assert stack.record.plan_requests == []


async def test_plan_tasks_and_run_tasks(stack: Stack) -> None:
    stack.script.tasks = [task(1, "automatic-speech-recognition"), task(2, "summarization", deps=(1,))]
    async with GatewayClient(stack.address) as client:
        planned = await client.plan("plan it")
        assert [t.id for t in planned.plan.plan.tasks] == [1, 2]
        ran = await client.run_tasks("run it")
    assert [r.state for r in ran.results] == [executor_pb2.TASK_STATE_SUCCEEDED] * 2
    assert [s.task_id for s in ran.selections.selections] == [1, 2]
    assert stack.record.respond_requests == []

"""The gateway offers the planner what the deployment can run: asked of the selector once, told in the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from gateway_fakes import Stack, task

from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import gateway_pb2
from hugginggpt_cli.gateway_client import GatewayClient

NO_IMAGES = [pb.TaskTypeAvailability(task_type="summarization", runnable=True, model_id="hugginggpt/llm-expert",
                                     site=pb.INFERENCE_SITE_LOCAL),
             pb.TaskTypeAvailability(task_type="text-to-image", runnable=False,
                                     reason="only hosted models serve text-to-image")]
DECLINED = pb.DeclinedTask(task_type="text-to-image", request_text="draw a cat",
                           reason="only hosted models serve text-to-image")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    s = await Stack(tmp_path).start()
    s.script.task_types = list(NO_IMAGES)
    yield s
    await s.stop()


async def chat(stack: Stack, content: str = "summarize this and draw a cat", mode: int = 0
               ) -> list[gateway_pb2.ChatResponse]:
    async with GatewayClient(stack.address) as client:
        return [e async for e in client.chat(content, mode=mode)]


async def test_the_planner_gets_the_availability_asked_once_per_mode(stack: Stack) -> None:
    stack.script.tasks = [task(1, "summarization")]
    await chat(stack)
    await chat(stack)
    await chat(stack, mode=pb.INFERENCE_MODE_LOCAL)
    assert [r.mode for r in stack.record.task_type_requests] == [0, pb.INFERENCE_MODE_LOCAL]  # cached per mode
    assert all(list(r.availability) == NO_IMAGES for r in stack.record.plan_requests)


async def test_declined_types_reach_the_responder_while_the_rest_runs(stack: Stack) -> None:
    stack.script.tasks = [task(1, "summarization")]
    stack.script.declined = [DECLINED]
    events = await chat(stack)
    assert list(stack.record.respond_requests[0].declined) == [DECLINED]
    assert events[-1].summary.tasks_succeeded == 1


async def test_a_request_only_for_what_cannot_run_gets_the_planners_answer_with_no_task_run(stack: Stack) -> None:
    stack.script.direct_answer = "I can't generate images in this deployment: only hosted models serve text-to-image."
    stack.script.declined = [DECLINED]
    events = await chat(stack, "draw a cat")
    assert events[-1].summary.answer == stack.script.direct_answer
    assert not stack.record.select_requests and not stack.record.execute_items


async def test_a_selector_that_cannot_say_means_the_full_catalogue_not_a_failed_turn(stack: Stack) -> None:
    stack.script.task_types_error = (grpc.StatusCode.UNAVAILABLE, "selector restarting")
    stack.script.tasks = [task(1, "summarization")]
    events = await chat(stack)
    assert events[-1].summary.answer == "The answer."
    assert list(stack.record.plan_requests[0].availability) == []  # empty: every type on offer


async def test_plan_tasks_offers_the_same(stack: Stack) -> None:
    async with GatewayClient(stack.address) as client:
        await client.plan("summarize this")
    assert list(stack.record.unary_plan_requests[0].availability) == NO_IMAGES


async def test_the_switch_turns_the_question_off(tmp_path: Path) -> None:
    stack = await Stack(tmp_path, offer_runnable_only=False).start()
    try:
        stack.script.tasks = [task(1, "summarization")]
        await chat(stack)
        assert not stack.record.task_type_requests and not stack.record.plan_requests[0].availability
    finally:
        await stack.stop()

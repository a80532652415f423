"""The planner given what the deployment can run: only runnable types offered, requests for the rest declined."""

from __future__ import annotations

import json

import pytest

from hugginggpt.domain import Declined, Turn, TypeAvailability
from hugginggpt.errors import Unavailable
from hugginggpt.tasktypes import load_task_types
from services.planner.availability import Offer, restrict, sort_out
from services.planner.evaluation import plan_sample
from services.planner.intents import Proposal
from services.planner.planning import Planner
from tests.doubles.llm import ScriptedLlm
from tests.unit.test_planner_core import make_planner, offered_in
from tests.unit.test_planner_intents import builder, small_bank

SPEECH_REASON = ("only hosted models serve text-to-speech, and hosted inference is not set up; hosted inference "
                 "(HUGGINGGPT_INFERENCE_MODE=hybrid and HUGGINGGPT_HF_TOKEN for the model router) would serve it")
NO_SPEECH = [TypeAvailability("summarization", True, "hugginggpt/llm-expert", True),
             TypeAvailability("text-to-speech", False, reason=SPEECH_REASON),
             TypeAvailability("feature-extraction", False, reason="a type the planner does not know")]
SUMMARY = json.dumps({"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "bikes are good"}}]})


def guided(answers: list[str]) -> tuple[Planner, ScriptedLlm]:
    llm = ScriptedLlm(answers)
    return Planner(llm, builder(guide=True), load_task_types(), intents=small_bank(), fix_types=True), llm


async def test_types_that_cannot_run_are_not_offered_to_the_llm() -> None:
    planner, llm = make_planner([SUMMARY])
    await planner.plan([Turn("user", "Summarize: bikes are good")], availability=NO_SPEECH)
    offered = offered_in(llm.calls[0]["schema"])
    assert "text-to-speech" not in offered and "summarization" in offered
    assert len(offered) == len(load_task_types()) - 1
    assert "- text-to-speech:" not in llm.calls[0]["messages"][0]["content"]  # nor listed in the prompt


async def test_a_request_only_for_a_type_that_cannot_run_is_answered_at_once() -> None:
    planner, llm = guided([])
    outcome = await planner.plan([Turn("user", "Read this text aloud")], availability=NO_SPEECH)
    assert not llm.calls and not outcome.plan.tasks
    assert outcome.plan.direct_answer == f"I can't speak text aloud in this deployment: {SPEECH_REASON}."
    assert outcome.declined == (Declined("text-to-speech", "Read this text aloud", SPEECH_REASON),)


async def test_the_runnable_part_is_planned_and_the_rest_declined() -> None:
    planner, llm = guided([SUMMARY])
    outcome = await planner.plan([Turn("user", "Summarize this article about bikes. Then read this text aloud")],
                                 availability=NO_SPEECH)
    assert [t.type for t in outcome.plan.tasks] == ["summarization"]
    assert [d.task_type for d in outcome.declined] == ["text-to-speech"]
    assert "text-to-speech" not in llm.calls[0]["messages"][-1]["content"]  # not among the types found


async def test_a_streamed_plan_carries_the_declined_types_too() -> None:
    planner, _ = guided([SUMMARY])
    events = [e async for e in planner.stream_plan(
        [Turn("user", "Summarize this article about bikes. Then read this text aloud")], availability=NO_SPEECH)]
    assert [d.task_type for d in events[-1].declined] == ["text-to-speech"]


async def test_a_reply_without_tasks_still_says_what_was_declined() -> None:
    planner, _ = make_planner([json.dumps({"tasks": [], "answer": "Bikes are good."})])
    planner.intents = small_bank()
    outcome = await planner.plan([Turn("user", "Tell me about bikes. Then read this text aloud")],
                                 availability=NO_SPEECH)
    assert outcome.plan.direct_answer.startswith("I can't speak text aloud in this deployment: ")
    assert outcome.plan.direct_answer.endswith("\n\nBikes are good.")


def test_a_mere_lean_towards_a_type_that_cannot_run_is_not_declined() -> None:
    offer = Offer({}, {"text-to-speech": "r"})
    kept, declined = sort_out([Proposal("text-to-speech", "say it", 0.3),
                               Proposal("summarization", "sum it", 0.9, ("text-to-speech", "translation"))],
                              offer, threshold=0.4)
    assert declined == [] and kept == [Proposal("summarization", "sum it", 0.9, ("translation",))]


def test_when_nothing_on_offer_can_run_the_planner_says_so() -> None:
    types = load_task_types()
    with pytest.raises(Unavailable, match="can run none of the 1 task types on offer"):
        restrict({"summarization": types["summarization"]}, [TypeAvailability("summarization", False, reason="x")])


async def test_the_taskbench_evaluation_offers_the_whole_catalogue() -> None:
    planner, llm = make_planner([SUMMARY])
    specs = list(load_task_types().values())
    await plan_sample(planner, {"instruction": "Summarize: bikes are good"}, specs, timeout=10.0)
    assert offered_in(llm.calls[0]["schema"]) == [s.name for s in specs]

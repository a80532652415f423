"""Planner core with a scripted LLM: valid plans, repair loop, rejection, direct answers, bad input."""

from __future__ import annotations

import json

import pytest

from hugginggpt.domain import Artifact, Kind, Turn
from hugginggpt.errors import DeadlineExceeded, InvalidRequest, PlanRejected, Unavailable
from hugginggpt.tasktypes import load_task_types
from services.planner.demos import Demo, DemoBank
from services.planner.planning import Planner
from services.planner.prompting import Budget, PromptBuilder
from services.planner.templates import load_demo_lines
from services.planner.tokens import EstimatingCounter
from tests.doubles.embedder import HashEmbedder
from tests.doubles.llm import DownLlm, ScriptedLlm

INVOICE = Artifact("artifact://t1/invoice_text.png", "invoice_text.png", "image/png", 10, Kind.IMAGE)
SPEECH = Artifact("artifact://t2/speech_fox.wav", "speech_fox.wav", "audio/wav", 10, Kind.AUDIO)
DEMO_REQUEST = ("What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav "
                "and list the named entities in it.")
GOOD = {"tasks": [
    {"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "invoice_text.png"}},
    {"task": "question-answering", "id": 1, "dep": [0], "args": {"text": ["<GENERATED>-0", "What is the total?"]}},
    {"task": "automatic-speech-recognition", "id": 2, "dep": [], "args": {"audio": "speech_fox.wav"}},
    {"task": "token-classification", "id": 3, "dep": [], "args": {"text": "<GENERATED>-2"}},
]}


def make_planner(answers: list, rounds: int = 2, **kwargs) -> tuple[Planner, ScriptedLlm]:
    llm = ScriptedLlm(answers)
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    prompts = PromptBuilder(bank, EstimatingCounter(), Budget())
    return Planner(llm, prompts, load_task_types(), repair_rounds=rounds, **kwargs), llm


def demo_turns() -> list[Turn]:
    return [Turn("user", DEMO_REQUEST, (INVOICE, SPEECH))]


async def test_demo_request_is_planned_into_ocr_qa_and_asr_ner() -> None:
    planner, llm = make_planner([json.dumps(GOOD)])
    outcome = await planner.plan(demo_turns())
    types = [t.type for t in outcome.plan.tasks]
    assert types == ["image-to-text", "question-answering", "automatic-speech-recognition", "token-classification"]
    assert outcome.plan.tasks[0].arguments[0].resource_uri == INVOICE.uri
    assert outcome.plan.tasks[3].dependencies == (2,)  # derived from the <GENERATED>-2 reference
    assert outcome.repair_rounds == 0
    assert "image-to-text" in offered_in(llm.calls[0]["schema"])
    assert "invoice_text.png" in llm.calls[0]["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"tasks": [{"task": "paint-my-house", "id": 0, "dep": [], "args": {"text": "x"}}]}, "unknown task type"),
        ({"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "<GENERATED>-7"}}]},
         "not in the plan"),
        ({"tasks": [{"task": "summarization", "id": 0, "dep": [1], "args": {"text": "<GENERATED>-1"}},
                    {"task": "translation", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}}]}, "cycle"),
        ({"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "/etc/passwd"}}]},
         "outside this request"),
        ({"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "../secrets"}}]},
         "outside this request"),
        ({"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "http://evil.example/x.png"}}]},
         "outside this request"),
        ({"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "https://evil.example/"}}]},
         "URL"),
        ({"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "a photo of a cat"}}]},
         "not a file of this request"),
    ],
)
async def test_invalid_plan_is_repaired_with_the_exact_errors(bad: dict, expected: str) -> None:
    planner, llm = make_planner([json.dumps(bad), json.dumps(GOOD)])
    outcome = await planner.plan(demo_turns())
    assert outcome.repair_rounds == 1
    repair_prompt = llm.calls[1]["messages"][-1]["content"]
    assert expected in repair_prompt
    assert llm.calls[1]["messages"][-2] == {"role": "assistant", "content": json.dumps(bad)}


async def test_rejected_after_the_repair_budget_with_a_clear_message() -> None:
    bad = json.dumps({"tasks": [{"task": "paint-my-house", "id": 0, "dep": [], "args": {}}]})
    planner, llm = make_planner([bad, bad, bad], rounds=2)
    with pytest.raises(PlanRejected, match="3 tries.*unknown task type"):
        await planner.plan(demo_turns())
    assert len(llm.calls) == 3


async def test_no_repair_round_beyond_the_llm_call_budget() -> None:
    bad = json.dumps({"tasks": [{"task": "paint-my-house", "id": 0, "dep": [], "args": {}}]})
    planner, llm = make_planner([bad, json.dumps(GOOD)], rounds=2)
    with pytest.raises(PlanRejected, match="in 1 try;.*unknown task type"):
        await planner.plan(demo_turns(), max_llm_calls=1)
    assert len(llm.calls) == 1


async def test_a_repair_round_fits_a_budget_of_two() -> None:
    bad = json.dumps({"tasks": [{"task": "paint-my-house", "id": 0, "dep": [], "args": {}}]})
    planner, llm = make_planner([bad, json.dumps(GOOD)], rounds=2)
    outcome = await planner.plan(demo_turns(), max_llm_calls=2)
    assert outcome.repair_rounds == 1 and outcome.usage.calls == 2 and len(outcome.plan.tasks) == 4


async def test_a_negative_llm_call_budget_is_refused() -> None:
    planner, llm = make_planner([json.dumps(GOOD)])
    with pytest.raises(InvalidRequest, match="max_llm_calls"):
        await planner.plan(demo_turns(), max_llm_calls=-1)
    assert llm.calls == []


async def test_empty_plan_without_answer_and_no_budget_left_says_so_without_another_call() -> None:
    planner, llm = make_planner([json.dumps({"tasks": []}), "Hi! What would you like to do?"])
    outcome = await planner.plan([Turn("user", "hi")], max_llm_calls=1)
    assert len(llm.calls) == 1 and "needs no expert model" in outcome.plan.direct_answer


async def test_not_json_is_repaired() -> None:
    planner, llm = make_planner(["I think you should OCR it.", "```json\n" + json.dumps(GOOD) + "\n```"])
    outcome = await planner.plan(demo_turns())
    assert len(outcome.plan.tasks) == 4
    assert "not JSON" in llm.calls[1]["messages"][-1]["content"]


async def test_request_needing_no_model_gets_a_direct_answer() -> None:
    planner, _ = make_planner([json.dumps({"tasks": [], "answer": "Hello! How can I help?"})])
    outcome = await planner.plan([Turn("user", "hello there")])
    assert outcome.plan.tasks == () and outcome.plan.direct_answer == "Hello! How can I help?"


async def test_empty_plan_without_answer_asks_for_a_conversational_reply() -> None:
    planner, llm = make_planner([json.dumps({"tasks": []}), "Hi! What would you like to do?"])
    outcome = await planner.plan([Turn("user", "hi")])
    assert outcome.plan.direct_answer == "Hi! What would you like to do?"
    assert llm.calls[1]["schema"] is None


async def test_empty_plan_is_an_error_when_direct_answers_are_off() -> None:
    planner, llm = make_planner([json.dumps({"tasks": []}), json.dumps(GOOD)], allow_direct_answer=False)
    outcome = await planner.plan(demo_turns())
    assert outcome.repair_rounds == 1 and "no tasks" in llm.calls[1]["messages"][-1]["content"]


@pytest.mark.parametrize("turns", [[], [Turn("user", "   ")], [Turn("assistant", "hello")]])
async def test_empty_request_is_invalid_argument(turns: list[Turn]) -> None:
    planner, llm = make_planner([])
    with pytest.raises(InvalidRequest, match="empty"):
        await planner.plan(turns)
    assert llm.calls == []


async def test_llm_down_is_unavailable() -> None:
    bank = DemoBank([], HashEmbedder())
    planner = Planner(DownLlm(), PromptBuilder(bank, EstimatingCounter(), Budget()), load_task_types())
    with pytest.raises(Unavailable, match="cannot be reached"):
        await planner.plan(demo_turns())


async def test_deadline_is_passed_to_the_llm_and_enforced() -> None:
    planner, llm = make_planner([json.dumps(GOOD)])
    await planner.plan(demo_turns(), timeout=7.0)
    assert 0 < llm.calls[0]["timeout"] <= 7.0
    planner, _ = make_planner([json.dumps(GOOD)])
    with pytest.raises(DeadlineExceeded):
        await planner.plan(demo_turns(), timeout=-1.0)


async def test_only_offered_types_are_allowed() -> None:
    types = load_task_types()
    offered = [types["summarization"], types["translation"]]
    planner, llm = make_planner([json.dumps(GOOD), json.dumps(
        {"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "long text"}}]})])
    outcome = await planner.plan([Turn("user", "Summarize: long text")], offered)
    assert [t.type for t in outcome.plan.tasks] == ["summarization"]
    assert offered_in(llm.calls[0]["schema"]) == ["summarization", "translation"]


def offered_in(schema: dict) -> list[str]:
    return [v["properties"]["task"]["enum"][0] for v in schema["properties"]["tasks"]["items"]["anyOf"]]


async def test_a_plan_written_steps_first_is_read_and_streamed_without_its_steps() -> None:
    answer = json.dumps({"steps": ["Read the text in invoice_text.png", "Answer 'What is the total?'",
                                   "Transcribe speech_fox.wav", "Find the entities"], **GOOD})
    planner, llm = make_planner([answer])
    planner.prompts.steps = True
    streamed = [e async for e in planner.stream_plan(demo_turns())]
    assert [t.type for t in streamed[:-1]] == [t["task"] for t in GOOD["tasks"]]
    assert len(streamed[-1].plan.tasks) == 4 and llm.calls[0]["schema"]["required"] == ["steps", "tasks"]


@pytest.mark.parametrize("request_text", ["translate that", "Read that total out loud", "now the other file",
                                          "Übersetze das bitte ins Englische"])
async def test_a_follow_up_opening_a_conversation_gets_an_honest_reply_at_no_llm_call(request_text: str) -> None:
    planner, llm = make_planner([json.dumps(GOOD)])
    outcome = await planner.plan([Turn("user", request_text)])
    assert not outcome.plan.tasks and not llm.calls
    assert "Datei" in outcome.plan.direct_answer or "nothing earlier in this conversation" in outcome.plan.direct_answer


async def test_the_same_follow_up_with_history_or_content_is_planned() -> None:
    planner, llm = make_planner([json.dumps({"tasks": [], "answer": "planned"})] * 2)
    earlier = [Turn("user", "Transcribe speech_fox.wav", (SPEECH,)), Turn("assistant", "the quick brown fox")]
    await planner.plan([*earlier, Turn("user", "translate that")])
    await planner.plan([Turn("user", "Translate this: the quick brown fox")])
    assert len(llm.calls) == 2

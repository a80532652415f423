"""Coverage pass: a file the request names but no task reads is planned separately and appended."""

from __future__ import annotations

import json

from hugginggpt.domain import Argument, Plan, Task, Turn
from services.planner.coverage import append_plan, missed_part
from tests.unit.test_planner_core import DEMO_REQUEST, INVOICE, SPEECH, demo_turns, make_planner

FIRST_HALF = {"tasks": [
    {"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "invoice_text.png"}},
    {"task": "question-answering", "id": 1, "dep": [0], "args": {"text": ["<GENERATED>-0", "What is the total?"]}},
]}
SECOND_HALF = {"tasks": [
    {"task": "automatic-speech-recognition", "id": 0, "dep": [], "args": {"audio": "speech_fox.wav"}},
    {"task": "token-classification", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}},
]}


def ocr_only() -> Plan:
    return Plan((Task(0, "image-to-text", (), (Argument("image", resource_uri=INVOICE.uri),)),))


def test_the_sentences_naming_an_unused_file_are_the_missed_part() -> None:
    part = missed_part(ocr_only(), DEMO_REQUEST, (INVOICE, SPEECH))
    assert part is not None
    assert part.text == "Also transcribe speech_fox.wav and list the named entities in it."
    assert part.files == (SPEECH,)


def test_nothing_is_missed_when_every_named_file_is_used_or_no_task_is_planned() -> None:
    full = append_plan(ocr_only(), Plan((Task(0, "automatic-speech-recognition", (),
                                              (Argument("audio", resource_uri=SPEECH.uri),)),)))
    assert missed_part(full, DEMO_REQUEST, (INVOICE, SPEECH)) is None
    assert missed_part(Plan((), "hello"), DEMO_REQUEST, (INVOICE, SPEECH)) is None
    # a file the text never names may be context only: it is left alone
    assert missed_part(ocr_only(), "What is the total on the invoice?", (INVOICE, SPEECH)) is None


def test_appended_tasks_move_past_the_plan_with_their_references() -> None:
    extra = Plan((Task(0, "automatic-speech-recognition"), Task(1, "token-classification", (0,),
                                                               (Argument("text", task_ref=0),))))
    merged = append_plan(ocr_only(), extra)
    assert [t.id for t in merged.tasks] == [0, 1, 2]
    assert merged.tasks[2].dependencies == (1,) and merged.tasks[2].arguments[0].task_ref == 1


async def test_the_planner_appends_the_missed_half_without_changing_the_first() -> None:
    planner, llm = make_planner([json.dumps(FIRST_HALF), json.dumps(SECOND_HALF)])
    events = [e async for e in planner.stream_plan(demo_turns())]
    outcome = events[-1]
    types = [t.type for t in outcome.plan.tasks]
    assert types == ["image-to-text", "question-answering", "automatic-speech-recognition", "token-classification"]
    assert outcome.plan.tasks[3].dependencies == (2,)
    streamed = [e.type for e in events[:-1]]
    assert streamed == types  # the appended tasks are streamed too, after the first ones
    assert "speech_fox.wav" in llm.calls[1]["messages"][-1]["content"]
    assert "invoice_text.png" not in llm.calls[1]["messages"][-1]["content"]
    assert outcome.usage.calls == 2


async def test_a_useless_or_failed_second_look_keeps_the_first_plan() -> None:
    from hugginggpt.errors import Unavailable

    for second in ("not json at all", json.dumps(FIRST_HALF), Unavailable("the LLM went away")):
        planner, _ = make_planner([json.dumps(FIRST_HALF), second], rounds=0)
        outcome = await planner.plan(demo_turns())
        assert [t.type for t in outcome.plan.tasks] == ["image-to-text", "question-answering"]


async def test_the_pass_can_be_switched_off() -> None:
    planner, llm = make_planner([json.dumps(FIRST_HALF)], cover_files=False)
    outcome = await planner.plan(demo_turns())
    assert len(outcome.plan.tasks) == 2 and len(llm.calls) == 1


async def test_a_task_fed_its_own_output_gets_the_request_after_the_last_round() -> None:
    selfish = json.dumps({"tasks": [{"task": "summarization", "id": 0, "dep": [0],
                                     "args": {"text": "<GENERATED>-0"}}]})
    planner, llm = make_planner([selfish] * 3)
    request = "Summarize: the council met on Monday and agreed a new budget for the libraries."
    outcome = await planner.plan([Turn("user", request)])
    assert outcome.salvaged and len(llm.calls) == 3
    task = outcome.plan.tasks[0]
    assert task.dependencies == () and task.arguments[0].literal == request


async def test_a_self_referencing_media_input_takes_the_only_file_of_its_kind() -> None:
    selfish = json.dumps({"tasks": [{"task": "automatic-speech-recognition", "id": 0, "dep": [],
                                     "args": {"audio": "<GENERATED>-0"}}]})
    planner, _ = make_planner([selfish] * 3)
    outcome = await planner.plan([Turn("user", "Transcribe speech_fox.wav", (SPEECH,))])
    assert outcome.plan.tasks[0].arguments[0].resource_uri == SPEECH.uri


async def test_no_second_look_when_the_llm_call_budget_is_spent() -> None:
    planner, llm = make_planner([json.dumps(FIRST_HALF), json.dumps(SECOND_HALF)])
    outcome = await planner.plan(demo_turns(), max_llm_calls=1)
    assert len(outcome.plan.tasks) == 2 and len(llm.calls) == 1 and outcome.usage.calls == 1

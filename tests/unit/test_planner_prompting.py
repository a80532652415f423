"""Prompt building: strict templates, byte-identical prefix, demo choice and validity, history trimming."""

from __future__ import annotations

import pytest

from hugginggpt.domain import Artifact, Kind, TaskTypeSpec, Turn
from hugginggpt.planvalidation import Resources, complete_dependencies, parse_plan, validate_plan
from hugginggpt.prompts import TemplateError
from hugginggpt.tasktypes import load_task_types
from services.planner.demos import Demo, DemoBank
from services.planner.prompting import Budget, PromptBuilder
from services.planner.templates import PROMPTS, load_demo_lines
from services.planner.tokens import EstimatingCounter
from tests.doubles.embedder import HashEmbedder

IMAGE_EDITING = TaskTypeSpec("image-editing", "Edits an image as a text says.", (Kind.TEXT, Kind.IMAGE), (Kind.IMAGE,))


def builder(budget: Budget | None = None) -> PromptBuilder:
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    return PromptBuilder(bank, EstimatingCounter(), budget or Budget())


def test_templates_render_strictly() -> None:
    with pytest.raises(TemplateError, match="errors"):
        PROMPTS.template("repair.txt").render()
    assert "- x" in PROMPTS.template("repair.txt").render(errors="- x")


def test_every_demo_is_a_valid_plan_and_the_bank_has_every_shape() -> None:
    types = {**load_task_types(), "image-editing": IMAGE_EDITING}
    demos = [Demo.from_json(line) for line in load_demo_lines()]
    for demo in demos:
        files = {n: Artifact(f"artifact://d/{n}", n, "x", 0, Kind.IMAGE) for n in demo.files}
        plan, errors = parse_plan(demo.plan, Resources(files))
        plan = complete_dependencies(plan)
        errors += validate_plan(plan, types, {a.uri for a in files.values()})
        assert not errors, (demo.request, errors)
    assert any(len(d.plan["tasks"]) == 1 for d in demos)
    assert any(len(d.files) >= 2 for d in demos)
    assert any(d.history for d in demos)
    assert any(not d.plan["tasks"] for d in demos)
    assert any(any(len(t["dep"]) >= 2 for t in d.plan["tasks"]) for d in demos)  # a DAG with a join


async def test_static_prefix_is_byte_identical_across_requests() -> None:
    b = builder()
    types = list(load_task_types().values())
    first = await b.build([Turn("user", "Translate hello into French")], types)
    second = await b.build([Turn("user", "What is in photo.jpg?")], types)
    assert first[0] == second[0] and first[0]["role"] == "system"
    assert "automatic-speech-recognition" in first[0]["content"]


async def test_demos_are_chosen_by_similarity_and_only_with_offered_types() -> None:
    b = builder()
    types = load_task_types()
    messages = await b.build([Turn("user", "Transcribe lecture.wav and summarize the transcript")],
                             list(types.values()))
    assert "Transcribe lecture.wav" in messages[-3]["content"]  # the closest demo sits next to the request
    assert "image-editing" not in "".join(m["content"] for m in messages[1:-1])  # not on offer
    only_text = [types["translation"], types["summarization"]]
    messages = await b.build([Turn("user", "Transcribe lecture.wav")], only_text)
    for message in messages[1:-1]:
        if message["role"] == "assistant":
            assert "automatic-speech-recognition" not in message["content"]


async def test_demos_respect_the_token_budget() -> None:
    messages = await builder(Budget(demo_tokens=0)).build([Turn("user", "Translate hi")],
                                                          list(load_task_types().values()))
    assert len(messages) == 2


async def test_long_history_is_trimmed_but_earlier_files_stay_referable() -> None:
    audio = Artifact("artifact://old/speech_1.wav", "speech_1.wav", "audio/wav", 5, Kind.AUDIO)
    turns = [Turn("user", "Read 'hello' aloud"), Turn("assistant", "Here it is", (audio,))]
    turns += [Turn("user" if i % 2 else "assistant", f"filler message number {i} " * 40) for i in range(60)]
    turns.append(Turn("user", "Now transcribe the audio you generated"))
    budget = Budget(context_window=2600, demo_tokens=200)
    messages = await builder(budget).build(turns, list(load_task_types().values()))
    counter = EstimatingCounter()
    total = sum([await counter.count(m["content"]) for m in messages])
    assert total <= budget.context_window - budget.max_answer_tokens
    last = messages[-1]["content"]
    assert "speech_1.wav" in last  # the file of an early, trimmed turn is still offered
    assert "filler message number 59" in last and "filler message number 0 " not in last


async def test_request_longer_than_the_window_is_invalid() -> None:
    from hugginggpt.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="too long"):
        await builder(Budget(context_window=1500)).build([Turn("user", "word " * 5000)],
                                                         list(load_task_types().values()))


async def test_a_demo_with_files_of_the_requests_kinds_outranks_a_closer_one_with_fewer() -> None:
    half = Demo.from_json('{"request": "What is the total on the bill in bill.png?", "files": ["bill.png"], '
                          '"plan": {"tasks": [{"task": "image-to-text", "id": 0, "dep": [], '
                          '"args": {"image": "bill.png"}}]}}')
    whole = Demo.from_json('{"request": "What is the date on note.jpg? Also transcribe memo.wav.", '
                           '"files": ["note.jpg", "memo.wav"], '
                           '"plan": {"tasks": [{"task": "image-to-text", "id": 0, "dep": [], '
                           '"args": {"image": "note.jpg"}}, {"task": "automatic-speech-recognition", "id": 1, '
                           '"dep": [], "args": {"audio": "memo.wav"}}]}}')
    bank = DemoBank([half, whole], HashEmbedder(), max_demos=2)
    request = "What is the total on the bill in scan.png? Also transcribe talk.wav."
    offered = set(load_task_types())
    chosen = await bank.choose(request, offered, 1000, EstimatingCounter(), lambda d: d.request,
                               files=["scan.png", "talk.wav"])
    assert chosen[-1] is whole  # best last, nearest the request
    chosen = await bank.choose(request, offered, 1000, EstimatingCounter(), lambda d: d.request)
    assert chosen[-1] is half  # on words alone the one-file demo is closer


def test_every_demo_has_one_step_per_task() -> None:
    for demo in (Demo.from_json(line) for line in load_demo_lines()):
        assert len(demo.plan["steps"]) == len(demo.plan["tasks"]), demo.request
        assert all(isinstance(s, str) and s.strip() for s in demo.plan["steps"]), demo.request


async def test_steps_mode_asks_for_steps_first_in_prompt_demos_and_schema() -> None:
    from services.planner.prompting import plan_schema

    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    plain, steps = PromptBuilder(bank, EstimatingCounter(), Budget()), PromptBuilder(
        bank, EstimatingCounter(), Budget(), steps=True)
    types = list(load_task_types().values())
    turns = [Turn("user", "Transcribe a.wav", (Artifact("artifact://x/a.wav", "a.wav", "audio/wav", 1, Kind.AUDIO),))]
    plain_messages, steps_messages = await plain.build(turns, types), await steps.build(turns, types)
    assert '"steps"' not in plain_messages[0]["content"] and '"steps"' in steps_messages[0]["content"]
    assert all('"steps"' not in m["content"] for m in plain_messages if m["role"] == "assistant")
    assert all(m["content"].startswith('{"steps": [') for m in steps_messages if m["role"] == "assistant")
    schema = plan_schema(types, steps=True)
    assert list(schema["properties"])[0] == "steps" and schema["required"] == ["steps", "tasks"]
    assert "steps" not in plan_schema(types)["properties"]

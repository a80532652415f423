"""The one plan model: the planner's schemas come from it and constrain what the hand-written ones did."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from hugginggpt.domain import Artifact, Kind
from hugginggpt.planmodel import MAX_STEPS, WireTask
from hugginggpt.tasktypes import load_task_types
from services.planner.intents import Proposal
from services.planner.prompting import plan_schema
from services.planner.wiring import wire

TYPES = load_task_types()
PHOTO = Artifact("artifact://p/photo.jpg", "photo.jpg", "image/jpeg", 1, Kind.IMAGE)
CLIP = Artifact("artifact://c/clip.wav", "clip.wav", "audio/wav", 1, Kind.AUDIO)
FILES = {a.name: a for a in (PHOTO, CLIP)}
OFFERED = [TYPES[n] for n in ("image-to-text", "question-answering", "automatic-speech-recognition", "summarization")]


def ocr(image: str = "photo.jpg", **extra: Any) -> dict[str, Any]:
    return {"task": "image-to-text", "id": 0, "dep": [], "args": {"image": image}, **extra}


def accepts(schema: dict[str, Any], answer: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(answer)


def test_the_generated_plan_schema_is_what_was_written_by_hand() -> None:
    schema = plan_schema([TYPES["summarization"]], {})
    assert schema == {"type": "object", "required": ["tasks"], "properties": {
        "tasks": {"type": "array", "items": {"anyOf": [{"type": "object", "required": ["task", "id", "dep", "args"],
                                                        "properties": {
            "task": {"type": "string", "enum": ["summarization"]},
            "id": {"type": "integer"},
            "dep": {"type": "array", "items": {"type": "integer"}},
            "args": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"],
                     "additionalProperties": False}}}]}},
        "answer": {"type": "string"}}}


@pytest.mark.parametrize(("answer", "valid"), [
    ({"tasks": [ocr(), {"task": "question-answering", "id": 1, "dep": [0],
                        "args": {"text": ["<GENERATED>-0", "What is the total?"]}}]}, True),
    ({"tasks": [], "answer": "Hello!"}, True),
    ({"tasks": [ocr("<GENERATED>-3")]}, True),
    ({"answer": "no tasks array"}, False),
    ({"tasks": [{**ocr(), "task": "paint-my-house"}]}, False),  # a type not on offer
    ({"tasks": [ocr("clip.wav")]}, False),  # a file of another kind
    ({"tasks": [ocr("cat.png")]}, False),  # a file the request does not have
    ({"tasks": [ocr(text="x")]}, True),  # extra keys beside the task's four are not constrained
    ({"tasks": [{**ocr(), "args": {"image": "photo.jpg", "text": "x"}}]}, False),  # a slot the type does not take
    ({"tasks": [{**ocr(), "args": {}}]}, False),  # an input left out
    ({"tasks": [{k: v for k, v in ocr().items() if k != "dep"}]}, False),
    ({"tasks": [{**ocr(), "id": "zero"}]}, False),
    ({"tasks": [{"task": "question-answering", "id": 1, "dep": [], "args": {"text": "only one"}}]}, False),
])
def test_the_plan_schema_accepts_and_rejects_sample_answers(answer: dict[str, Any], valid: bool) -> None:
    assert accepts(plan_schema(OFFERED, FILES), answer) is valid


def test_steps_come_first_required_and_bounded() -> None:
    schema = plan_schema(OFFERED, FILES, steps=True)
    assert list(schema["properties"]) == ["steps", "tasks", "answer"]
    assert not accepts(schema, {"tasks": [ocr()]})
    assert accepts(schema, {"steps": ["Read the photo"], "tasks": [ocr()]})
    assert not accepts(schema, {"steps": ["step"] * (MAX_STEPS + 1), "tasks": [ocr()]})


def test_the_skeleton_schema_fixes_all_but_texts_and_file_choices() -> None:
    found = [Proposal("automatic-speech-recognition", "transcribe it", 0.9),
             Proposal("summarization", "summarize that", 0.9)]
    schema = wire(found, TYPES, {**FILES, "b.wav": Artifact("artifact://b/b.wav", "b.wav", "audio/wav", 1, Kind.AUDIO)
                                 }).schema()
    asr = {"task": "automatic-speech-recognition", "id": 0, "dep": [], "args": {"audio": "b.wav"}}
    summary = {"task": "summarization", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}}
    assert "answer" not in schema["properties"]
    assert accepts(schema, {"tasks": [asr, summary]})
    assert not accepts(schema, {"tasks": [asr]})
    assert not accepts(schema, {"tasks": [{**asr, "args": {"audio": "photo.jpg"}}, summary]})
    assert not accepts(schema, {"tasks": [asr, {**summary, "dep": []}]})
    assert not accepts(schema, {"tasks": [asr, {**summary, "id": 5}]})
    assert not accepts(schema, {"tasks": [asr, {**summary, "args": {"text": "my own words"}}]})


def test_a_task_is_read_leniently_and_reports_what_it_could_not_read() -> None:
    reported: list[tuple[int, str, str]] = []
    task = WireTask.model_validate({"task": " summarization ", "id": "3", "dep": ["x", -1, 2], "args": {"text": 7}},
                                   context={"index": 0, "report": lambda *a: reported.append(a)})
    assert (task.task, task.id, task.dep, task.args) == ("summarization", 3, [2], {"text": "7"})
    assert reported == [(3, "dep", "dependency 'x' must be a task id")]
    assert WireTask.model_validate({"task": "summarization"}, context={"index": 4}).id == 4

"""Plan parsing and validation: untrusted LLM output is checked before anything runs."""

from __future__ import annotations

import pytest

from hugginggpt.domain import Argument, Artifact, Kind, Plan, Task
from hugginggpt.errors import ResourceExhausted
from hugginggpt.planvalidation import (
    Resources,
    check_task_count,
    complete_dependencies,
    find_cycle,
    parse_plan,
    validate_plan,
)
from hugginggpt.tasktypes import hf_task_id, load_task_types

TYPES = load_task_types()
INVOICE = Artifact("artifact://" + "i" * 24 + "/invoice_text.png", "invoice_text.png", "image/png", 10, Kind.IMAGE)
SPEECH = Artifact("artifact://" + "s" * 24 + "/speech_fox.wav", "speech_fox.wav", "audio/wav", 10, Kind.AUDIO)
RES = Resources({a.name: a for a in (INVOICE, SPEECH)})
URIS = frozenset({INVOICE.uri, SPEECH.uri})


def check(raw: object) -> tuple[Plan, list[str]]:
    plan, issues = parse_plan(raw, RES)
    plan = complete_dependencies(plan)
    return plan, [issue.message for issue in issues + validate_plan(plan, TYPES, URIS)]


def test_demo_plan_is_valid_and_resources_become_uris() -> None:
    plan, errors = check({"tasks": [
        {"task": "image-to-text", "id": 0, "dep": [-1], "args": {"image": "invoice_text.png"}},
        {"task": "question-answering", "id": 1, "dep": [0],
         "args": {"text": "<GENERATED>-0", "question": "What is the total?"}},
        {"task": "automatic-speech-recognition", "id": 2, "dep": [], "args": {"audio": "speech_fox.wav"}},
        {"task": "token-classification", "id": 3, "dep": [2], "args": {"text": "<GENERATED>-2"}},
    ]})
    assert errors == []
    assert plan.tasks[0].arguments[0].resource_uri == INVOICE.uri
    assert plan.tasks[3].arguments[0].task_ref == 2


def test_missing_dependency_is_derived_from_reference() -> None:
    plan, errors = check({"tasks": [
        {"task": "automatic-speech-recognition", "id": 0, "dep": [], "args": {"audio": "speech_fox.wav"}},
        {"task": "summarization", "id": 1, "dep": [], "args": {"text": "<GENERATED>-0"}},
    ]})
    assert errors == []
    assert plan.tasks[1].dependencies == (0,)


def test_unknown_task_type_is_named() -> None:
    _, errors = check({"tasks": [{"task": "mind-reading", "id": 0, "dep": [], "args": {"text": "hi"}}]})
    assert any("unknown task type 'mind-reading'" in e for e in errors)


def test_reference_to_missing_task() -> None:
    _, errors = check({"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "<GENERATED>-7"}}]})
    assert any("depends on task 7, which is not in the plan" in e for e in errors)


def test_cycle_is_reported() -> None:
    _, errors = check({"tasks": [
        {"task": "summarization", "id": 0, "dep": [1], "args": {"text": "<GENERATED>-1"}},
        {"task": "translation", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}},
    ]})
    assert any("cycle" in e for e in errors)


def test_duplicate_ids() -> None:
    _, errors = check({"tasks": [
        {"task": "summarization", "id": 0, "dep": [], "args": {"text": "a"}},
        {"task": "translation", "id": 0, "dep": [], "args": {"text": "b"}},
    ]})
    assert any("unique" in e for e in errors)


@pytest.mark.parametrize("value", ["/etc/passwd", "../secrets", "http://example.com/cat.png", "~/.ssh/id_rsa",
                                   "file:///etc/shadow"])
def test_arguments_outside_the_request_are_refused(value: str) -> None:
    plan, errors = check({"tasks": [{"task": "image-classification", "id": 0, "dep": [], "args": {"image": value}}]})
    assert any("outside this request" in e for e in errors)
    assert all(a.resource_uri is None for t in plan.tasks for a in t.arguments)


def test_url_as_text_argument_is_refused() -> None:
    _, errors = check({"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "https://evil.test/"}}]})
    assert any("URLs are not fetched" in e for e in errors)


def test_prose_in_an_image_slot_is_refused() -> None:
    _, errors = check({"tasks": [{"task": "image-classification", "id": 0, "dep": [],
                                  "args": {"image": "a photo of a cat"}}]})
    assert any("not a file of this request" in e for e in errors)


def test_wrong_kind_from_producer() -> None:
    _, errors = check({"tasks": [
        {"task": "summarization", "id": 0, "dep": [], "args": {"text": "a"}},
        {"task": "image-classification", "id": 1, "dep": [0], "args": {"image": "<GENERATED>-0"}},
    ]})
    assert any("produces ['text']" in e for e in errors)


def test_not_a_plan() -> None:
    _, errors = check("just words")
    assert errors == ['the answer must be a JSON object {"tasks": [...]}']


def test_find_cycle_on_acyclic_plan() -> None:
    assert find_cycle(Plan((Task(0, "summarization"), Task(1, "translation", (0,))))) == []


def test_taskbench_names_map_to_hf_ids() -> None:
    assert hf_task_id("Image-to-Text") == "image-to-text"
    assert hf_task_id("Automatic Speech Recognition") == "automatic-speech-recognition"
    assert "text-classification" in TYPES


def _chain(n: int, closed: bool) -> Plan:
    """n summarizations, each reading the one before; closed: the first also reads the last."""
    tasks = [Task(i, "summarization", (i - 1,) if i else ((n - 1,) if closed else ()),
                  (Argument("text", task_ref=i - 1 if i else n - 1) if i or closed else Argument("text", literal="x"),))
             for i in range(n)]
    return Plan(tuple(tasks))


def test_a_2000_task_chain_is_checked_without_overflowing_the_stack() -> None:
    assert find_cycle(_chain(2000, closed=False)) == []
    assert validate_plan(_chain(2000, closed=False), TYPES, URIS) == []
    cycle = find_cycle(_chain(2000, closed=True))
    assert len(cycle) == 2001 and cycle[0] == cycle[-1]


def test_plans_over_the_task_limit_are_refused_naming_the_limit() -> None:
    check_task_count(64, 64)
    with pytest.raises(ResourceExhausted, match="2000 tasks; the limit is 64 .HUGGINGGPT_MAX_PLAN_TASKS"):
        check_task_count(2000, 64)

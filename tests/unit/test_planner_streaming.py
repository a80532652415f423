"""Streaming: tasks extracted as soon as they are closed; the planner emits them before the plan ends."""

from __future__ import annotations

import json

from hugginggpt.domain import Task
from services.planner.planning import PlanOutcome
from services.planner.streaming import TaskExtractor, parse_lenient
from tests.unit.test_planner_core import GOOD, demo_turns, make_planner


def test_extractor_yields_each_task_when_its_object_closes() -> None:
    text = json.dumps(GOOD)
    extractor = TaskExtractor()
    seen: list[tuple[int, int]] = []
    for position, char in enumerate(text):
        for task in extractor.feed(char):
            seen.append((position, task["id"]))
    assert [i for _, i in seen] == [0, 1, 2, 3]
    first_close = text.index("}}") + 1
    assert seen[0][0] == first_close  # not a character later


def test_extractor_ignores_braces_inside_strings_and_nested_args() -> None:
    text = '{"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "a } { ] [ \\" b"}}]}'
    assert TaskExtractor().feed(text)[0]["args"]["text"] == 'a } { ] [ " b'


def test_lenient_parsing_recovers_fenced_prose_and_cut_off_json() -> None:
    assert parse_lenient('Sure!\n```json\n{"tasks": []}\n```') == {"tasks": []}
    cut = json.dumps(GOOD)[:-60]
    assert [t["id"] for t in parse_lenient(cut)["tasks"]] == [0, 1, 2]
    assert parse_lenient("no json here") is None


async def test_stream_plan_emits_tasks_then_the_validated_plan() -> None:
    planner, _ = make_planner([json.dumps(GOOD)])
    events = [e async for e in planner.stream_plan(demo_turns())]
    assert [type(e) for e in events] == [Task, Task, Task, Task, PlanOutcome]
    assert events[-1].plan.tasks[3].dependencies == (2,)


async def test_stream_plan_holds_back_a_task_that_is_not_valid_alone() -> None:
    bad_first = {"tasks": [{"task": "paint", "id": 0, "dep": [], "args": {"text": "x"}}, *GOOD["tasks"][2:]]}
    planner, _ = make_planner([json.dumps(bad_first), json.dumps(GOOD)])
    events = [e async for e in planner.stream_plan(demo_turns())]
    streamed = [e for e in events if isinstance(e, Task)]
    assert [t.type for t in streamed] == ["automatic-speech-recognition", "token-classification"]
    assert events[-1].repair_rounds == 1 and len(events[-1].plan.tasks) == 4

"""Salvage after the repair rounds: the blamed tasks (read from the issues' codes) and their dependents go."""

from __future__ import annotations

from hugginggpt.domain import Argument, Plan, Task
from hugginggpt.planvalidation import Code, Resources, ValidationIssue, complete_dependencies, parse_plan, validate_plan
from hugginggpt.tasktypes import load_task_types
from services.planner.salvage import blamed_ids, drop_stray_dependencies, salvage

TYPES = load_task_types()


def test_stray_dependencies_are_dropped_but_references_kept() -> None:
    plan = Plan((Task(0, "summarization", (0, 5)), Task(1, "translation", (0, 1, 2), (Argument("text", task_ref=2),))))
    cleaned = drop_stray_dependencies(plan)
    assert cleaned.tasks[0].dependencies == () and cleaned.tasks[1].dependencies == (0, 2)


def test_salvage_drops_wrong_tasks_and_their_dependents_only() -> None:
    raw = {"tasks": [{"task": "summarization", "id": 0, "dep": [], "args": {"text": "long"}},
                     {"task": "image-to-text", "id": 1, "dep": [], "args": {"image": "<GENERATED>-0"}},
                     {"task": "translation", "id": 2, "dep": [1], "args": {"text": "<GENERATED>-1"}}]}
    plan = complete_dependencies(parse_plan(raw, Resources({}))[0])
    issues = validate_plan(plan, TYPES, frozenset())
    kept = salvage(plan, issues, TYPES, frozenset())
    assert kept is not None and [t.id for t in kept.tasks] == [0]
    repeated = ValidationIssue(None, Code.DUPLICATE_IDS, "task ids must be unique; repeated: [0]")
    assert salvage(plan, [repeated], TYPES, frozenset()) is None


def test_every_task_on_a_cycle_is_blamed_and_items_left_out_of_the_plan_blame_none() -> None:
    raw = {"tasks": [{"task": "summarization", "id": 0, "dep": [1], "args": {"text": "<GENERATED>-1"}},
                     {"task": "translation", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}},
                     "not a task", {"task": "summarization", "id": "x"}]}
    plan, issues = parse_plan(raw, Resources({}))
    issues += validate_plan(plan, TYPES, frozenset())
    assert [i.code for i in issues] == [Code.NOT_AN_OBJECT, Code.BAD_ID, Code.CYCLE]
    assert blamed_ids(issues) == {0, 1}
    assert blamed_ids([ValidationIssue(None, Code.NOT_JSON, "the answer is not JSON")]) is None

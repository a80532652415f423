"""Reads an LLM answer into a plan and its issues, and words the issues for the repair prompt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hugginggpt.domain import Kind, Plan, Task, TaskTypeSpec
from hugginggpt.planvalidation import Code, Resources, ValidationIssue, complete_dependencies, parse_plan, validate_plan
from services.planner.salvage import drop_stray_dependencies
from services.planner.streaming import parse_lenient
from services.planner.wiring import Skeleton

NOT_JSON = ValidationIssue(None, Code.NOT_JSON, 'the answer is not JSON; write {"tasks": [...]}')
NO_TASKS = ValidationIssue(None, Code.NO_TASKS, "the plan has no tasks; this request needs at least one task")


@dataclass(frozen=True)
class Attempt:
    """One answer of the LLM: the plan read from it, every issue with it, and its text."""

    plan: Plan
    errors: list[ValidationIssue]
    text: str
    format_errors: tuple[ValidationIssue, ...] = ()  # the part of errors found while parsing (validation cannot)


def judge(text: str, types: Mapping[str, TaskTypeSpec], resources: Resources, skeleton: Skeleton | None = None,
          *, need_tasks: bool = False) -> Attempt:
    """The plan in `text` (with the skeleton's fixed tasks, if any) and its issues."""
    raw = parse_lenient(text)
    if skeleton is not None:  # the fixed tasks with the LLM's words where it wrote them, else the request's
        raw = skeleton.apply(raw)
    if raw is None:
        return Attempt(Plan(), [NOT_JSON], text)
    plan, format_errors = parse_plan(raw, resources)
    plan = complete_dependencies(drop_stray_dependencies(plan))
    errors = format_errors + validate_plan(plan, types, _uris(resources))
    if not plan.tasks and not errors and need_tasks:
        errors.append(NO_TASKS)
    return Attempt(plan, errors, text, tuple(format_errors))


def ready_tasks(finished: list[dict[str, Any]], types: Mapping[str, TaskTypeSpec], resources: Resources,
                emitted: list[Task]) -> list[Task]:
    """The tasks just written that are valid together with those already sent (`emitted`, extended here)."""
    ready = []
    for raw in finished:
        plan, errors = parse_plan({"tasks": [raw]}, resources)
        plan = complete_dependencies(plan)
        if errors or not plan.tasks:
            continue
        if not validate_plan(Plan((*emitted, plan.tasks[0])), types, _uris(resources)):
            emitted.append(plan.tasks[0])
            ready.append(plan.tasks[0])
    return ready


def repair_list(issues: Sequence[ValidationIssue], types: Mapping[str, TaskTypeSpec]) -> str:
    """The issues as a list, plus which task types produce a kind of input the plan got wrong."""
    lines = [f"- {issue.message}" for issue in issues]
    wrong = {issue.kind for issue in issues if issue.code in (Code.MISSING_INPUT, Code.WRONG_KIND)}
    for kind in Kind:
        if kind in wrong:
            producers = [t.name for t in types.values() if kind in t.outputs]
            if producers:
                lines.append(f"- hint: an {kind.value} comes from the user's Files or from: {', '.join(producers)}")
    return "\n".join(lines)


def _uris(resources: Resources) -> frozenset[str]:
    return frozenset(a.uri for a in resources.by_name.values())

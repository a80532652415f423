"""Parses and validates plans written by an LLM (untrusted): types, ids, references, cycles, resources."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationError

from hugginggpt.artifacts import is_artifact_uri
from hugginggpt.domain import GENERATED_PREFIX, Argument, Artifact, Kind, Plan, Task, TaskTypeSpec
from hugginggpt.errors import ResourceExhausted
from hugginggpt.planmodel import WireTask

_REF = re.compile(r"^\s*<GENERATED>-(\d+)\s*$", re.IGNORECASE)
_OUTSIDE = re.compile(r"^\s*([a-z][a-z0-9+.-]*://|/|~|\.\.?[/\\]|[a-z]:\\)", re.IGNORECASE)
_URL = re.compile(r"^\s*[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# Argument slots and the kind of value each holds; tasks with two texts (question answering, similarity)
# name them "text" and "question" / "text2".
SLOT_KINDS = {
    "text": Kind.TEXT, "question": Kind.TEXT, "context": Kind.TEXT, "text2": Kind.TEXT,
    "image": Kind.IMAGE, "audio": Kind.AUDIO, "video": Kind.VIDEO,
}
SLOTS = set(SLOT_KINDS)
MAX_TASKS_SETTING = "HUGGINGGPT_MAX_PLAN_TASKS"
DEFAULT_MAX_TASKS = 64


class Code(Enum):
    """What is wrong with a plan; salvage and the repair hints read these, not the messages."""

    NOT_JSON = "not-json"  # no JSON object could be read from the answer
    NOT_A_PLAN = "not-a-plan"  # JSON, but no "tasks" array
    NOT_AN_OBJECT = "not-an-object"  # an item of "tasks" that is not an object (left out of the plan)
    BAD_ID = "bad-id"  # a task whose id is not an integer (left out of the plan)
    BAD_DEPENDENCY = "bad-dependency"
    BAD_ARGS = "bad-args"
    UNKNOWN_SLOT = "unknown-slot"
    OUTSIDE_REQUEST = "outside-request"  # a path or URL in a media slot
    NOT_A_FILE = "not-a-file"  # words in a media slot
    URL = "url"  # a URL as a text argument
    DUPLICATE_IDS = "duplicate-ids"
    UNKNOWN_TYPE = "unknown-type"
    MISSING_DEPENDENCY = "missing-dependency"
    SELF_DEPENDENCY = "self-dependency"
    UNLISTED_REFERENCE = "unlisted-reference"
    UNKNOWN_FILE = "unknown-file"
    MISSING_INPUT = "missing-input"  # the type needs an input of `kind` that no argument gives
    WRONG_SLOT = "wrong-slot"
    WRONG_KIND = "wrong-kind"  # a media argument fed by a task that produces no `kind`
    CYCLE = "cycle"
    NO_TASKS = "no-tasks"  # an empty plan where a task is needed


@dataclass(frozen=True)
class ValidationIssue:
    """One reason a plan cannot run: the task it is about (None: the plan as a whole), what and the words for it."""

    task_id: int | None
    code: Code
    message: str  # what the LLM (in a repair prompt) and a client see
    kind: Kind | None = None  # MISSING_INPUT, WRONG_KIND: the kind of input that is wrong
    cycle: tuple[int, ...] = ()  # CYCLE: the tasks on it, the first repeated at the end

    def __str__(self) -> str:
        return self.message


def _issue(task_id: int, code: Code, message: str, kind: Kind | None = None) -> ValidationIssue:
    """An issue about one task, its message prefixed with the task's id."""
    return ValidationIssue(task_id, code, f"task {task_id}: {message}", kind)


def summary(issues: Sequence[ValidationIssue]) -> str:
    """The issues' messages in one line, in order."""
    return "; ".join(issue.message for issue in issues)


@dataclass(frozen=True)
class Resources:
    """The files a plan may name: the request's own artifacts, by name and by URI."""

    by_name: Mapping[str, Artifact]

    def lookup(self, value: str) -> Artifact | None:
        """The artifact a plan value names (its URI, file name, or name without folder), if any."""
        value = value.strip().strip("'\"")
        for artifact in self.by_name.values():
            if value in (artifact.uri, artifact.name):
                return artifact
        return self.by_name.get(value.rsplit("/", 1)[-1])


def starts_with_url(value: str) -> bool:
    """Whether the text starts with a URL scheme (an artifact URI too: callers tell those apart)."""
    return bool(_URL.match(value))


def parse_reference(value: str) -> int | None:
    """The task id of a "<GENERATED>-k" reference, or None."""
    match = _REF.match(value)
    return int(match.group(1)) if match else None


def _parse_argument(
    slot: str, value: str, resources: Resources, issues: list[ValidationIssue], task_id: int
) -> Argument:
    """One argument from the LLM's JSON; problems go to issues (the argument is kept as a literal)."""
    ref = parse_reference(value)
    if ref is not None:
        return Argument(slot, task_ref=ref)
    artifact = resources.lookup(value)
    if artifact is not None:
        return Argument(slot, resource_uri=artifact.uri)
    names = ", ".join(resources.by_name) or "none given"
    if SLOT_KINDS.get(slot, Kind.TEXT) is not Kind.TEXT:
        if _OUTSIDE.match(value) or "/" in value or "\\" in value:
            issues.append(_issue(task_id, Code.OUTSIDE_REQUEST,
                                 f"argument {slot}={value!r} is outside this request; an argument may name only "
                                 f"the request's own files ({names}) or an earlier output ({GENERATED_PREFIX}<id>)"))
        else:
            issues.append(_issue(task_id, Code.NOT_A_FILE, f"argument {slot}={value!r} is not a file of this request; "
                                 f"use one of: {names}, or {GENERATED_PREFIX}<id>"))
    elif starts_with_url(value) and not is_artifact_uri(value):
        issues.append(_issue(task_id, Code.URL, f"argument text={value!r} is a URL; URLs are not fetched"))
    return Argument(slot, literal=value)


def parse_plan(raw: Any, resources: Resources) -> tuple[Plan, list[ValidationIssue]]:
    """The plan in the LLM's JSON shape (planmodel.WirePlan) and its format issues."""
    issues: list[ValidationIssue] = []
    items = raw.get("tasks") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        return Plan(), [ValidationIssue(None, Code.NOT_A_PLAN, 'the answer must be a JSON object {"tasks": [...]}')]
    tasks: list[Task] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            issues.append(ValidationIssue(None, Code.NOT_AN_OBJECT,
                                          f"task #{index} must be an object with task, id, dep and args"))
            continue
        task = _parse_task(item, index, resources, issues)
        if task is not None:
            tasks.append(task)
    answer = raw.get("answer", "") if isinstance(raw, dict) else ""
    return Plan(tuple(tasks), str(answer or "")), issues


def _parse_task(item: dict[str, Any], index: int, resources: Resources, issues: list[ValidationIssue]) -> Task | None:
    def report(task_id: int, field: str, message: str) -> None:
        issues.append(_issue(task_id, Code.BAD_DEPENDENCY if field == "dep" else Code.BAD_ARGS, message))

    try:
        wire = WireTask.model_validate(item, context={"index": index, "report": report})
    except ValidationError:  # only the id can fail: every other field is read leniently
        issues.append(ValidationIssue(None, Code.BAD_ID, f"task #{index}: id {item.get('id')!r} must be an integer"))
        return None
    args = []
    for slot, value in wire.args.items():
        if slot not in SLOTS:
            issues.append(_issue(wire.id, Code.UNKNOWN_SLOT, f"argument {slot!r} is not one of {sorted(SLOTS)}"))
            continue
        # Several values of one slot (question-answering's context and question) come as a list.
        for one in value if isinstance(value, list) else [value]:
            args.append(_parse_argument(slot, one, resources, issues, wire.id))
    return Task(wire.id, wire.task, tuple(wire.dep), tuple(args))


def complete_dependencies(plan: Plan) -> Plan:
    """Adds every referenced task to the dependencies where the LLM left it out."""
    tasks = tuple(
        Task(t.id, t.type, tuple(sorted(set(t.dependencies) | t.refs())), t.arguments) for t in plan.tasks
    )
    return Plan(tasks, plan.direct_answer)


def validate_plan(
    plan: Plan, task_types: Mapping[str, TaskTypeSpec], known_uris: set[str] | frozenset[str]
) -> list[ValidationIssue]:
    """Every reason the plan cannot run as it is; empty when it is valid."""
    issues: list[ValidationIssue] = []
    counts = Counter(t.id for t in plan.tasks)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        issues.append(ValidationIssue(None, Code.DUPLICATE_IDS, f"task ids must be unique; repeated: {duplicates}"))
    known = set(counts)
    producers = {t.id: task_types.get(t.type) for t in plan.tasks}
    for task in plan.tasks:
        issues.extend(_task_issues(task, task_types, known, known_uris, producers))
    if not duplicates:
        cycle = find_cycle(plan)
        if cycle:
            path = " -> ".join(map(str, cycle))
            issues.append(ValidationIssue(None, Code.CYCLE, f"dependencies form a cycle: {path}", cycle=tuple(cycle)))
    return issues


def _task_issues(
    task: Task,
    task_types: Mapping[str, TaskTypeSpec],
    known: set[int],
    known_uris: set[str] | frozenset[str],
    producers: Mapping[int, TaskTypeSpec | None],
) -> list[ValidationIssue]:
    issues = []
    spec = task_types.get(task.type)
    if spec is None:
        issues.append(_issue(task.id, Code.UNKNOWN_TYPE,
                             f"unknown task type {task.type!r}; use one of: {', '.join(task_types)}"))
    for dep in task.dependencies:
        if dep not in known:
            issues.append(_issue(task.id, Code.MISSING_DEPENDENCY, f"depends on task {dep}, which is not in the plan"))
        elif dep == task.id:
            issues.append(_issue(task.id, Code.SELF_DEPENDENCY, "depends on itself"))
    for ref in task.refs() - set(task.dependencies):
        issues.append(_issue(task.id, Code.UNLISTED_REFERENCE,
                             f"uses {GENERATED_PREFIX}{ref} but does not list {ref} in dep"))
    for arg in task.arguments:
        if arg.resource_uri is not None and arg.resource_uri not in known_uris:
            issues.append(_issue(task.id, Code.UNKNOWN_FILE,
                                 f"file {arg.resource_uri} is not among this request's files"))
    if spec is not None:
        issues.extend(_kind_issues(task, spec, producers))
    return issues


def _kind_issues(task: Task, spec: TaskTypeSpec, producers: Mapping[int, TaskTypeSpec | None]) -> list[ValidationIssue]:
    issues = []
    kinds = {SLOT_KINDS[a.name] for a in task.arguments if a.name in SLOT_KINDS}
    for kind in set(spec.inputs):
        if kind not in kinds:
            issues.append(_issue(task.id, Code.MISSING_INPUT, f"{task.type} needs a {kind.value} argument", kind))
    for arg in task.arguments:
        kind = SLOT_KINDS.get(arg.name, Kind.TEXT)
        if kind not in spec.inputs:
            issues.append(_issue(task.id, Code.WRONG_SLOT,
                                 f"{task.type} takes {[k.value for k in spec.inputs]}, not {arg.name}"))
        elif arg.task_ref is not None and kind is not Kind.TEXT:
            source = producers.get(arg.task_ref)
            if source is not None and kind not in source.outputs:
                issues.append(_issue(
                    task.id, Code.WRONG_KIND, f"{arg.name} argument refers to task {arg.task_ref} "
                    f"({source.name}), which produces {[k.value for k in source.outputs]}", kind))
    return issues


def check_task_count(count: int, limit: int) -> None:
    """ResourceExhausted when a plan holds more tasks than the limit (checked before any other work on it)."""
    if limit and count > limit:
        raise ResourceExhausted(
            f"the plan has {count} tasks; the limit is {limit} ({MAX_TASKS_SETTING}); split the request"
        )


def find_cycle(plan: Plan) -> list[int]:
    """One dependency cycle as a list of ids (first id repeated at the end), or empty.

    Iterative depth-first search: a plan of thousands of chained tasks must not overflow Python's stack.
    """
    graph = {t.id: list(t.dependencies) for t in plan.tasks}
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for root in graph:
        if root in state:
            continue
        path: list[int] = [root]
        pending = [iter(graph[root])]
        state[root] = 1
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                pending.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                pending.append(iter(graph[nxt]))
    return []

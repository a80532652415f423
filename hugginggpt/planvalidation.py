"""Parses and validates plans written by an LLM (untrusted): types, ids, references, cycles, resources."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hugginggpt.artifacts import is_artifact_uri
from hugginggpt.domain import GENERATED_PREFIX, Argument, Artifact, Kind, Plan, Task, TaskTypeSpec
from hugginggpt.errors import ResourceExhausted

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


def parse_reference(value: str) -> int | None:
    """The task id of a "<GENERATED>-k" reference, or None."""
    match = _REF.match(value)
    return int(match.group(1)) if match else None


def parse_argument(slot: str, value: Any, resources: Resources, errors: list[str], task_id: int) -> Argument:
    """One argument from the LLM's JSON; problems go to errors (the argument is kept as a literal)."""
    text = value if isinstance(value, str) else str(value)
    ref = parse_reference(text)
    if ref is not None:
        return Argument(slot, task_ref=ref)
    artifact = resources.lookup(text)
    if artifact is not None:
        return Argument(slot, resource_uri=artifact.uri)
    if SLOT_KINDS.get(slot, Kind.TEXT) is not Kind.TEXT:
        if _OUTSIDE.match(text) or "/" in text or "\\" in text:
            errors.append(
                f"task {task_id}: argument {slot}={text!r} is outside this request; an argument may name "
                f"only the request's own files ({', '.join(resources.by_name) or 'none given'}) "
                f"or an earlier output ({GENERATED_PREFIX}<id>)"
            )
        else:
            errors.append(
                f"task {task_id}: argument {slot}={text!r} is not a file of this request; "
                f"use one of: {', '.join(resources.by_name) or 'none given'}, or {GENERATED_PREFIX}<id>"
            )
    elif _URL.match(text) and not is_artifact_uri(text):
        errors.append(f"task {task_id}: argument text={text!r} is a URL; URLs are not fetched")
    return Argument(slot, literal=text)


def parse_plan(raw: Any, resources: Resources) -> tuple[Plan, list[str]]:
    """The plan in the LLM's JSON shape ({"tasks": [{task, id, dep, args}]}) and its format errors."""
    errors: list[str] = []
    items = raw.get("tasks") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        return Plan(), ['the answer must be a JSON object {"tasks": [...]}']
    tasks: list[Task] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(f"task #{index} must be an object with task, id, dep and args")
            continue
        task = _parse_task(item, index, resources, errors)
        if task is not None:
            tasks.append(task)
    answer = raw.get("answer", "") if isinstance(raw, dict) else ""
    return Plan(tuple(tasks), str(answer or "")), errors


def _parse_task(item: dict[str, Any], index: int, resources: Resources, errors: list[str]) -> Task | None:
    try:
        task_id = int(item.get("id", index))
    except (TypeError, ValueError):
        errors.append(f"task #{index}: id {item.get('id')!r} must be an integer")
        return None
    deps_raw = item.get("dep", [])
    deps_raw = deps_raw if isinstance(deps_raw, list) else [deps_raw]
    deps = []
    for dep in deps_raw:
        try:
            if int(dep) >= 0:
                deps.append(int(dep))
        except (TypeError, ValueError):
            errors.append(f"task {task_id}: dependency {dep!r} must be a task id")
    args_raw = item.get("args", {})
    if not isinstance(args_raw, dict):
        errors.append(f"task {task_id}: args must be an object like {{\"text\": \"...\"}}")
        args_raw = {}
    args = []
    for slot, value in args_raw.items():
        if slot not in SLOTS:
            errors.append(f"task {task_id}: argument {slot!r} is not one of {sorted(SLOTS)}")
            continue
        # Several values of one slot (question-answering's context and question) come as a list.
        for one in value if isinstance(value, list) else [value]:
            args.append(parse_argument(slot, one, resources, errors, task_id))
    return Task(task_id, str(item.get("task", "")).strip(), tuple(deps), tuple(args))


def complete_dependencies(plan: Plan) -> Plan:
    """Adds every referenced task to the dependencies where the LLM left it out."""
    tasks = tuple(
        Task(t.id, t.type, tuple(sorted(set(t.dependencies) | t.refs())), t.arguments) for t in plan.tasks
    )
    return Plan(tasks, plan.direct_answer)


def validate_plan(
    plan: Plan, task_types: Mapping[str, TaskTypeSpec], known_uris: set[str] | frozenset[str]
) -> list[str]:
    """Every reason the plan cannot run as it is; empty when it is valid."""
    errors: list[str] = []
    counts = Counter(t.id for t in plan.tasks)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        errors.append(f"task ids must be unique; repeated: {duplicates}")
    known = set(counts)
    producers = {t.id: task_types.get(t.type) for t in plan.tasks}
    for task in plan.tasks:
        errors.extend(_task_errors(task, task_types, known, known_uris, producers))
    if not duplicates:
        cycle = find_cycle(plan)
        if cycle:
            errors.append(f"dependencies form a cycle: {' -> '.join(map(str, cycle))}")
    return errors


def _task_errors(
    task: Task,
    task_types: Mapping[str, TaskTypeSpec],
    known: set[int],
    known_uris: set[str] | frozenset[str],
    producers: Mapping[int, TaskTypeSpec | None],
) -> list[str]:
    errors = []
    spec = task_types.get(task.type)
    if spec is None:
        errors.append(f"task {task.id}: unknown task type {task.type!r}; use one of: {', '.join(task_types)}")
    for dep in task.dependencies:
        if dep not in known:
            errors.append(f"task {task.id}: depends on task {dep}, which is not in the plan")
        elif dep == task.id:
            errors.append(f"task {task.id}: depends on itself")
    for ref in task.refs() - set(task.dependencies):
        errors.append(f"task {task.id}: uses {GENERATED_PREFIX}{ref} but does not list {ref} in dep")
    for arg in task.arguments:
        if arg.resource_uri is not None and arg.resource_uri not in known_uris:
            errors.append(f"task {task.id}: file {arg.resource_uri} is not among this request's files")
    if spec is not None:
        errors.extend(_kind_errors(task, spec, producers))
    return errors


def _kind_errors(task: Task, spec: TaskTypeSpec, producers: Mapping[int, TaskTypeSpec | None]) -> list[str]:
    errors = []
    kinds = {SLOT_KINDS[a.name] for a in task.arguments if a.name in SLOT_KINDS}
    for kind in set(spec.inputs):
        if kind not in kinds:
            errors.append(f"task {task.id}: {task.type} needs a {kind.value} argument")
    for arg in task.arguments:
        kind = SLOT_KINDS.get(arg.name, Kind.TEXT)
        if kind not in spec.inputs:
            errors.append(f"task {task.id}: {task.type} takes {[k.value for k in spec.inputs]}, not {arg.name}")
        elif arg.task_ref is not None and kind is not Kind.TEXT:
            source = producers.get(arg.task_ref)
            if source is not None and kind not in source.outputs:
                errors.append(
                    f"task {task.id}: {arg.name} argument refers to task {arg.task_ref} "
                    f"({source.name}), which produces {[k.value for k in source.outputs]}"
                )
    return errors


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

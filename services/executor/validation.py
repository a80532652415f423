"""Checks incoming tasks (untrusted: an LLM or a direct client wrote them) before anything runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from hugginggpt.artifacts import ArtifactStore, is_artifact_uri
from hugginggpt.domain import GENERATED_PREFIX, Argument, Choice, Kind, Plan, Task, TaskTypeSpec
from hugginggpt.errors import HuggingGPTError, InvalidRequest
from hugginggpt.planvalidation import (
    DEFAULT_MAX_TASKS,
    SLOT_KINDS,
    check_task_count,
    complete_dependencies,
    parse_reference,
    starts_with_url,
    validate_plan,
)
from services.executor.runtypes import ScheduledItem

ArtifactExists = Callable[[str], bool]


def _is_text_slot(name: str) -> bool:
    """Whether the slot holds text ("text", "question", "context", "text2"); unknown slots are not text."""
    return SLOT_KINDS.get(name) is Kind.TEXT


def normalise(task: Task) -> Task:
    """Literal "<GENERATED>-k" becomes a reference, a literal artifact URI a resource; refs join the deps."""
    args = []
    for arg in task.arguments:
        if arg.literal is not None and parse_reference(arg.literal) is not None:
            arg = Argument(arg.name, task_ref=parse_reference(arg.literal))
        elif arg.literal is not None and not _is_text_slot(arg.name) and is_artifact_uri(arg.literal.strip()):
            arg = Argument(arg.name, resource_uri=arg.literal.strip())
        args.append(arg)
    fixed = Task(task.id, task.type.strip(), task.dependencies, tuple(args))
    return complete_dependencies(Plan((fixed,))).tasks[0]


def literal_errors(task: Task) -> list[str]:
    """Literals that would make a model open a path or fetch a URL."""
    errors = []
    for arg in task.arguments:
        if arg.literal is None:
            continue
        if not _is_text_slot(arg.name):
            errors.append(
                f"task {task.id}: {arg.name} argument {arg.literal!r} is not a file of this request; "
                f"it must be an artifact URI (artifact://...) of an uploaded file or {GENERATED_PREFIX}<id>"
            )
        elif starts_with_url(arg.literal) and not is_artifact_uri(arg.literal.strip()):
            errors.append(f"task {task.id}: text argument {arg.literal!r} is a URL; URLs are not fetched")
    return errors


def _uris(tasks: Iterable[Task], exists: ArtifactExists) -> set[str]:
    found = {a.resource_uri for t in tasks for a in t.arguments if a.resource_uri is not None}
    return {uri for uri in found if is_artifact_uri(uri) and exists(uri)}


def _raise(errors: Sequence[str]) -> None:
    if errors:
        raise InvalidRequest("the plan cannot run: " + "; ".join(errors))


def pair(
    tasks: Sequence[Task], choices: Sequence[Choice], parameters: Mapping[int, dict]
) -> list[ScheduledItem]:
    """Each task with its selection; InvalidRequest naming every task without one."""
    by_id = {c.task_id: c for c in choices}
    missing = [t.id for t in tasks if t.id not in by_id]
    if missing:
        raise InvalidRequest(f"no model selection for task(s) {missing}; send one Selection per task")
    return [ScheduledItem(normalise(t), by_id[t.id], parameters.get(t.id, {})) for t in tasks]


def validate_items(
    items: Sequence[ScheduledItem], task_types: Mapping[str, TaskTypeSpec], exists: ArtifactExists,
    max_tasks: int = DEFAULT_MAX_TASKS,
) -> None:
    """Every problem of a whole plan at once, as one InvalidRequest; ResourceExhausted over the task limit."""
    if not items:
        raise InvalidRequest("the plan has no tasks; send at least one task")
    check_task_count(len(items), max_tasks)
    tasks = [i.task for i in items]
    errors = [e for i in items for e in literal_errors(i.task)]
    errors += [str(i) for i in validate_plan(Plan(tuple(tasks)), task_types, _uris(tasks, exists))]
    _raise(errors)


class StreamValidator:
    """Validates tasks one at a time as they arrive; dependencies on tasks still to come are allowed."""

    def __init__(self, task_types: Mapping[str, TaskTypeSpec], exists: ArtifactExists,
                 max_tasks: int = DEFAULT_MAX_TASKS) -> None:
        self._types = task_types
        self._exists = exists
        self._max_tasks = max_tasks
        self._tasks: dict[int, Task] = {}

    def admit(self, item: ScheduledItem) -> None:
        """Accepts the task or raises InvalidRequest (duplicate id, bad type/file/kind, a closed cycle)."""
        task = item.task
        if task.id in self._tasks:
            raise InvalidRequest(f"task {task.id} was sent twice; task ids must be unique")
        check_task_count(len(self._tasks) + 1, self._max_tasks)
        errors = literal_errors(task)
        present = {**self._tasks, task.id: task}
        plan = Plan(tuple(_without_absent(t, present) for t in present.values()))
        errors += [str(i) for i in validate_plan(plan, self._types, _uris(present.values(), self._exists))]
        _raise(errors)
        self._tasks[task.id] = task


def _without_absent(task: Task, present: Mapping[int, Task]) -> Task:
    """The task as if references to tasks not yet arrived were already satisfied."""
    deps = tuple(d for d in task.dependencies if d in present)
    args = tuple(
        Argument(a.name, literal="") if a.task_ref is not None and a.task_ref not in present else a
        for a in task.arguments
    )
    return Task(task.id, task.type, deps, args)


def store_lookup(store: ArtifactStore) -> ArtifactExists:
    """Whether a URI names an existing artifact of the store (never raises)."""

    def exists(uri: str) -> bool:
        try:
            store.describe(uri)  # metadata only: an object store need not download the file for this
        except HuggingGPTError:
            return False
        return True

    return exists

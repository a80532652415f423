"""Last resort after the repair rounds: the largest valid part of a plan, dropping the tasks that are wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hugginggpt.domain import Argument, Artifact, Kind, Plan, Task, TaskTypeSpec
from hugginggpt.planvalidation import SLOT_KINDS, Code, ValidationIssue, validate_plan


def blamed_ids(issues: Sequence[ValidationIssue]) -> set[int] | None:
    """The task ids the issues name; None when an issue cannot be pinned on tasks (e.g. repeated ids)."""
    blamed: set[int] = set()
    for issue in issues:
        if issue.task_id is not None:
            blamed.add(issue.task_id)
        elif issue.code is Code.CYCLE:
            blamed.update(issue.cycle)
        elif issue.code not in (Code.NOT_AN_OBJECT, Code.BAD_ID):  # such an item is out of the plan already
            return None
    return blamed


def salvage(
    plan: Plan, issues: Sequence[ValidationIssue], types: Mapping[str, TaskTypeSpec], uris: frozenset[str]
) -> Plan | None:
    """The plan without the blamed tasks and everything that depends on them, if that is valid and not empty."""
    blamed = blamed_ids(issues)
    if not blamed:
        return None
    dropped = set(blamed)
    changed = True
    while changed:
        changed = False
        for task in plan.tasks:
            if task.id not in dropped and (set(task.dependencies) | task.refs()) & dropped:
                dropped.add(task.id)
                changed = True
    kept = Plan(tuple(t for t in plan.tasks if t.id not in dropped), plan.direct_answer)
    if not kept.tasks or validate_plan(kept, types, uris):
        return None
    return kept


def drop_stray_dependencies(plan: Plan) -> Plan:
    """Drops "dep" entries that name no earlier task (itself, a later or a missing id) and no argument uses.

    The model writes tasks in the order they run, so such an entry is a slip, not a requirement; a
    <GENERATED>-k reference is never dropped, so a reference to a missing task or a cycle still fails."""
    seen: set[int] = set()
    tasks = []
    for task in plan.tasks:
        refs = task.refs()
        deps = tuple(d for d in task.dependencies if d in seen or d in refs)
        tasks.append(Task(task.id, task.type, deps, task.arguments))
        seen.add(task.id)
    return Plan(tuple(tasks), plan.direct_answer)


def fill_self_references(plan: Plan, request: str, files: Sequence[Artifact]) -> Plan:
    """A task whose input is its own output ("<GENERATED>-k" inside task k) gets the request instead.

    Small models write this when the input is the user's own text or file. Last resort only: a text slot
    gets the request's text, a media slot the request's one file of that kind (left as it is if there are
    none or several)."""
    tasks = []
    for task in plan.tasks:
        args = []
        for arg in task.arguments:
            if arg.task_ref == task.id:
                kind = SLOT_KINDS.get(arg.name, Kind.TEXT)
                same_kind = [f for f in files if f.kind == kind]
                if kind is Kind.TEXT:
                    arg = Argument(arg.name, literal=request)
                elif len(same_kind) == 1:
                    arg = Argument(arg.name, resource_uri=same_kind[0].uri)
            args.append(arg)
        refs = {a.task_ref for a in args if a.task_ref is not None}
        deps = tuple(d for d in task.dependencies if d != task.id or d in refs)
        tasks.append(Task(task.id, task.type, deps, tuple(args)))
    return Plan(tuple(tasks), plan.direct_answer)

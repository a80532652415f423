"""Last resort after the repair rounds: the largest valid part of a plan, dropping the tasks that are wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from hugginggpt.domain import Plan, Task, TaskTypeSpec
from hugginggpt.planvalidation import validate_plan

_TASK = re.compile(r"^task (\d+):")
_CYCLE = re.compile(r"cycle: ([\d\s\->]+)$")


def blamed_ids(errors: Sequence[str]) -> set[int] | None:
    """The task ids the errors name; None when an error cannot be pinned on tasks (e.g. repeated ids)."""
    blamed: set[int] = set()
    for error in errors:
        if (match := _TASK.match(error)) is not None:
            blamed.add(int(match.group(1)))
        elif (match := _CYCLE.search(error)) is not None:
            blamed.update(int(part) for part in match.group(1).split("->"))
        elif error.startswith("task #"):
            continue  # an item that was not an object; parse_plan already left it out
        else:
            return None
    return blamed


def salvage(
    plan: Plan, errors: Sequence[str], types: Mapping[str, TaskTypeSpec], uris: frozenset[str]
) -> Plan | None:
    """The plan without the blamed tasks and everything that depends on them, if that is valid and not empty."""
    blamed = blamed_ids(errors)
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

"""Coverage of the request's files: a plan that leaves a named file unused has missed part of the request.

Small models often plan the first half of a compound request ("... in a.png? Also transcribe b.wav and
...") and stop. The cure is a focused second look: the sentences that name the unused files become a
sub-request of their own, planned separately, and its tasks are appended to the plan (the tasks already
written, and perhaps already running, never change)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from hugginggpt.domain import Artifact, Plan, Task

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class SubRequest:
    """The part of the request that the plan missed, and the files it names."""

    text: str
    files: tuple[Artifact, ...]


def used_uris(plan: Plan) -> set[str]:
    """The URIs of the files the plan's tasks read."""
    return {a.resource_uri for t in plan.tasks for a in t.arguments if a.resource_uri is not None}


def missed_part(plan: Plan, request: str, attachments: Sequence[Artifact]) -> SubRequest | None:
    """The sentences naming this turn's files that no task uses, or None when every named file is used.

    A file the request's text does not name is left alone: it may be there for context only."""
    if not plan.tasks:
        return None  # a direct answer: the model judged that no model is needed
    used = used_uris(plan)
    unused = [a for a in attachments if a.uri not in used]
    sentences = [s for s in _SENTENCE_END.split(request.strip()) if s]
    picked: list[str] = []
    files: list[Artifact] = []
    for artifact in unused:
        naming = [s for s in sentences if artifact.name.lower() in s.lower()]
        if naming:
            files.append(artifact)
            picked.extend(s for s in naming if s not in picked)
    if not files:
        return None
    ordered = [s for s in sentences if s in picked]  # keep the request's own order
    return SubRequest(" ".join(ordered), tuple(files))


def append_plan(base: Plan, extra: Plan) -> Plan:
    """base followed by extra, whose ids (and references among its own tasks) move past base's."""
    offset = max((t.id for t in base.tasks), default=-1) + 1
    moved = tuple(_shift(t, offset) for t in extra.tasks)
    return Plan((*base.tasks, *moved), base.direct_answer)


def _shift(task: Task, offset: int) -> Task:
    arguments = tuple(
        replace(a, task_ref=a.task_ref + offset) if a.task_ref is not None else a for a in task.arguments
    )
    return Task(task.id + offset, task.type, tuple(d + offset for d in task.dependencies), arguments)

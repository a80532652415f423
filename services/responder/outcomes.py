"""Task outcomes as the responder sees them, condensed into compact lines that fit a token budget."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from hugginggpt.domain import Artifact


@dataclass(frozen=True)
class Result:
    """The typed output of a task (a plain mirror of TaskResult)."""

    text: str = ""
    labels: tuple[tuple[str, float], ...] = ()
    detections: tuple[tuple[str, float], ...] = ()
    entities: tuple[tuple[str, str], ...] = ()
    keypoints: int = 0
    artifacts: tuple[Artifact, ...] = ()
    vector_size: int = 0
    score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The final event of one task."""

    task_id: int
    task_type: str
    state: str  # succeeded | failed | skipped
    model_id: str = ""
    reason: str = ""
    result: Result = field(default_factory=Result)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [truncated: {len(text)} characters in all]"


def condense(result: Result, text_limit: int) -> list[str]:
    """Compact facts of one result: long text clipped with a note, boxes counted by label."""
    facts: list[str] = []
    if result.text:
        facts.append(f"text: {_clip(result.text, text_limit)!r}")
    if result.labels:
        top = sorted(result.labels, key=lambda x: -x[1])[:5]
        facts.append("labels: " + ", ".join(f"{label} {score:.2f}" for label, score in top))
    if result.detections:
        counts = Counter(label for label, _ in result.detections)
        best: dict[str, float] = defaultdict(float)
        for label, score in result.detections:
            best[label] = max(best[label], score)
        shown = ", ".join(f"{label} x{n} (best {best[label]:.2f})" for label, n in counts.most_common(10))
        more = f" and {len(counts) - 10} more labels" if len(counts) > 10 else ""
        facts.append(f"detected {len(result.detections)} objects: {shown}{more}")
    if result.entities:
        groups: dict[str, list[str]] = defaultdict(list)
        for text, label in result.entities:
            if text not in groups[label]:
                groups[label].append(text)
        facts.append("entities: " + "; ".join(f"{label}: {', '.join(v[:8])}" for label, v in groups.items()))
    if result.keypoints:
        facts.append(f"{result.keypoints} keypoints")
    if result.vector_size:
        facts.append(f"a vector of {result.vector_size} numbers")
    if result.score is not None:
        facts.append(f"score: {result.score:.3f}")
    if result.extra:
        facts.append(f"other data: {_clip(str(result.extra), text_limit // 2)}")
    for artifact in result.artifacts:
        facts.append(f"file: {artifact.name} ({artifact.uri})")
    return facts


def render(outcomes: list[Outcome], text_limit: int) -> str:
    """One block per task, in plan order."""
    lines = []
    for o in outcomes:
        head = f"task {o.task_id} ({o.task_type}) on {o.model_id or 'no model'}: {o.state.upper()}"
        if o.state != "succeeded":
            lines.append(f"{head}; reason: {o.reason or 'not given'}")
            continue
        facts = condense(o.result, text_limit) or ["(no output)"]
        lines.append(head + "\n" + "\n".join(f"  - {f}" for f in facts))
    return "\n".join(lines)

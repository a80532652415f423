"""Task outcomes as the responder sees them: plain mirrors of the executor's final task events."""

from __future__ import annotations

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
class TaskOutcome:
    """The final event of one task."""

    task_id: int
    task_type: str
    state: str  # succeeded | failed | skipped
    model_id: str = ""
    reason: str = ""
    result: Result = field(default_factory=Result)

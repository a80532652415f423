"""Plain types of the executor's core: run options, inference calls and replies, task events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hugginggpt.domain import Choice, InferenceMode, Task, TaskState
from hugginggpt.v1.common_pb2 import TaskResult


@dataclass(frozen=True)
class InferenceInput:
    """One resolved input of an inference: text, or an artifact by URI."""

    name: str
    text: str | None = None
    artifact_uri: str | None = None


@dataclass(frozen=True)
class InferenceCall:
    """One try of one task on one model."""

    model_id: str
    task_type: str
    inputs: tuple[InferenceInput, ...]
    mode: InferenceMode
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InferenceReply:
    """What the router answered: the typed result, where it ran, and the model's own time."""

    result: TaskResult
    hosted: bool = False
    inference_seconds: float = 0.0


class InferenceBackend(Protocol):
    """Runs one inference (the model router in production); raises on failure."""

    async def infer(self, call: InferenceCall, timeout: float) -> InferenceReply: ...


@dataclass(frozen=True)
class RunOptions:
    """Settings of one run: mode, per-task timeout, parallelism and the request's time budget."""

    mode: InferenceMode = InferenceMode.HYBRID
    task_timeout_seconds: float = 120.0
    max_parallel: int = 8
    budget_seconds: float = 600.0


@dataclass(frozen=True)
class ScheduledItem:
    """A task with its model choice and model parameters, ready to be scheduled."""

    task: Task
    choice: Choice
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanEnd:
    """No more tasks will come; task_count is the sender's count (0 = not given)."""

    task_count: int = 0


@dataclass(frozen=True)
class TaskEvent:
    """Something that happened to one task, at a time relative to the start of the run."""

    task_id: int
    task_type: str
    state: TaskState
    model_id: str = ""
    hosted: bool = False
    result: TaskResult | None = None
    reason: str = ""
    attempts: int = 0
    at_seconds: float = 0.0
    duration_seconds: float = 0.0
    inference_seconds: float = 0.0

"""Plain domain types shared by the cores (no gRPC): modes, task states, artifacts, turns, tasks, plans, selections."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum

GENERATED_PREFIX = "<GENERATED>-"


class Kind(str, Enum):
    """The kind of a value a task consumes or produces."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


class InferenceMode(StrEnum):
    """Where models may run, as in the paper: on local replicas, on hosted inference, or local first."""

    LOCAL = "local"
    HUGGINGFACE = "huggingface"
    HYBRID = "hybrid"


class TaskState(StrEnum):
    """What happened to a task; every task ends in exactly one of the last three."""

    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


FINAL_STATES = (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.SKIPPED)


@dataclass(frozen=True)
class Artifact:
    """A file in the artifact store, named by URI."""

    uri: str
    name: str
    media_type: str
    size_bytes: int
    kind: Kind


@dataclass(frozen=True)
class Turn:
    """One message of the conversation, with the files attached to it."""

    role: str  # user | assistant | system
    content: str
    attachments: tuple[Artifact, ...] = ()


@dataclass(frozen=True)
class Argument:
    """A task argument: exactly one of a literal, a user resource (artifact URI) or a task reference."""

    name: str
    literal: str | None = None
    resource_uri: str | None = None
    task_ref: int | None = None

    def render(self) -> str:
        """The argument as the planner's JSON writes it."""
        if self.task_ref is not None:
            return f"{GENERATED_PREFIX}{self.task_ref}"
        return self.resource_uri if self.resource_uri is not None else (self.literal or "")


@dataclass(frozen=True)
class Task:
    """One step of a plan."""

    id: int
    type: str
    dependencies: tuple[int, ...] = ()
    arguments: tuple[Argument, ...] = ()

    def refs(self) -> set[int]:
        """Ids of the tasks whose outputs the arguments reference."""
        return {a.task_ref for a in self.arguments if a.task_ref is not None}


@dataclass(frozen=True)
class Plan:
    """A DAG of tasks, or a direct answer when the request needs no model."""

    tasks: tuple[Task, ...] = ()
    direct_answer: str = ""


@dataclass(frozen=True)
class ModelStatus:
    """A model a replica can serve, and whether it is loaded there now (with an error: it cannot be)."""

    model_id: str
    task_types: tuple[str, ...] = ()
    loaded: bool = False
    memory_bytes: int = 0
    error: str = ""


@dataclass(frozen=True)
class TaskTypeSpec:
    """A task type on offer: its name, description, and input/output kinds."""

    name: str
    description: str
    inputs: tuple[Kind, ...]
    outputs: tuple[Kind, ...]


@dataclass(frozen=True)
class Candidate:
    """A model that can serve a task."""

    model_id: str
    local: bool
    score: float = 0.0
    description: str = ""


@dataclass(frozen=True)
class Choice:
    """The model chosen for a task, why, and the fallbacks in order."""

    task_id: int
    chosen: Candidate
    reason: str
    fallbacks: tuple[Candidate, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TypeAvailability:
    """Whether this deployment can run a task type now: its best model and where, or why not and what would."""

    task_type: str
    runnable: bool
    model_id: str = ""
    local: bool = False
    reason: str = ""  # empty when runnable


@dataclass(frozen=True)
class Declined:
    """A task type the request asked for that this deployment cannot run: not planned, told to the user."""

    task_type: str
    request_text: str
    reason: str

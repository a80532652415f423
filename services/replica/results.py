"""Domain types of the replica: an inference request and its typed result (no gRPC)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hugginggpt.domain import Artifact


@dataclass(frozen=True)
class Input:
    """One resolved input: text, or an artifact named by URI."""

    name: str
    text: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class Request:
    """One inference as a backend sees it."""

    model_id: str
    task_type: str
    inputs: tuple[Input, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    #: Seconds left of the caller's deadline, when it set one.
    timeout: float | None = None


@dataclass(frozen=True)
class Label:
    label: str
    score: float


@dataclass(frozen=True)
class Box:
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: Box


@dataclass(frozen=True)
class Entity:
    text: str
    label: str
    start: int
    end: int
    score: float = 0.0


@dataclass(frozen=True)
class Keypoint:
    name: str
    x: float
    y: float
    score: float = 0.0


@dataclass
class Result:
    """The typed output of one inference."""

    text: str = ""
    labels: list[Label] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    keypoints: list[Keypoint] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    vector: list[float] = field(default_factory=list)
    score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

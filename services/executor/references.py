"""Replaces <GENERATED>-k references with the typed output of task k, rendered for the consumer's slot."""

from __future__ import annotations

import json
from collections.abc import Mapping

from google.protobuf.json_format import MessageToDict

from hugginggpt.artifacts import kind_of
from hugginggpt.domain import Argument, Kind, Task
from hugginggpt.v1 import common_pb2 as pb
from services.executor.runtypes import InferenceInput

_KIND_BY_PB = {pb.VALUE_KIND_TEXT: Kind.TEXT, pb.VALUE_KIND_IMAGE: Kind.IMAGE,
               pb.VALUE_KIND_AUDIO: Kind.AUDIO, pb.VALUE_KIND_VIDEO: Kind.VIDEO}


class UnresolvedReference(Exception):
    """A referenced task produced no value of the kind the consumer needs."""


def resolve_inputs(
    task: Task, outputs: Mapping[int, pb.TaskResult], types: Mapping[int, str]
) -> tuple[InferenceInput, ...]:
    """The task's arguments as inference inputs; UnresolvedReference rather than a placeholder."""
    return tuple(_resolve(task, arg, outputs, types) for arg in task.arguments)


def _resolve(
    task: Task, arg: Argument, outputs: Mapping[int, pb.TaskResult], types: Mapping[int, str]
) -> InferenceInput:
    if arg.task_ref is None:
        if arg.resource_uri is not None:
            return InferenceInput(arg.name, artifact_uri=arg.resource_uri)
        return InferenceInput(arg.name, text=arg.literal or "")
    result = outputs.get(arg.task_ref)
    source = f"task {arg.task_ref} ({types.get(arg.task_ref, '?')})"
    if result is None:
        raise UnresolvedReference(f"{source} has no result to use as the {arg.name} argument")
    if arg.name == Kind.TEXT.value:
        text = render_text(result)
        if not text:
            raise UnresolvedReference(f"{source} produced no text or structured result for the text argument")
        return InferenceInput(arg.name, text=text)
    artifact = first_artifact(result, Kind(arg.name))
    if artifact is None:
        raise UnresolvedReference(f"{source} produced no {arg.name} for the {arg.name} argument")
    return InferenceInput(arg.name, artifact_uri=artifact.uri)


def artifact_kind(artifact: pb.Artifact) -> Kind:
    """The artifact's kind, from its declared kind or else its media type."""
    return _KIND_BY_PB.get(artifact.kind) or kind_of(artifact.media_type or "")


def first_artifact(result: pb.TaskResult, kind: Kind) -> pb.Artifact | None:
    """The first generated file of the kind, if any."""
    return next((a for a in result.artifacts if artifact_kind(a) == kind), None)


def render_text(result: pb.TaskResult) -> str:
    """The result as text for a consumer that takes text: its text, else its structure summarised in words."""
    if result.text.strip():
        return result.text
    parts = [p for p in (_labels(result), _entities(result), _detections(result), _keypoints(result)) if p]
    if result.HasField("score"):
        parts.append(f"score: {result.score:.4g}")
    if result.HasField("extra") and result.extra.fields:
        parts.append(json.dumps(MessageToDict(result.extra), ensure_ascii=False, sort_keys=True))
    return "\n".join(parts)


def _labels(result: pb.TaskResult) -> str:
    if not result.labels:
        return ""
    return "labels: " + ", ".join(f"{x.label} ({x.score:.2f})" for x in result.labels)


def _entities(result: pb.TaskResult) -> str:
    if not result.entities:
        return ""
    return "entities: " + ", ".join(f"{e.text} ({e.label})" for e in result.entities)


def _detections(result: pb.TaskResult) -> str:
    if not result.detections:
        return ""
    counts: dict[str, int] = {}
    for d in result.detections:
        counts[d.label] = counts.get(d.label, 0) + 1
    summary = ", ".join(f"{n} {label}" for label, n in counts.items())
    boxes = "; ".join(
        f"{d.label} ({d.score:.2f}) at [{b.x_min:.0f}, {b.y_min:.0f}, {b.x_max:.0f}, {b.y_max:.0f}]"
        for d, b in ((d, d.box) for d in result.detections)
    )
    return f"detected {summary}: {boxes}"


def _keypoints(result: pb.TaskResult) -> str:
    if not result.keypoints:
        return ""
    points = ", ".join(f"{k.name} ({k.x:.0f}, {k.y:.0f})" for k in result.keypoints)
    return f"{len(result.keypoints)} keypoints: {points}"

"""Unit tests of <GENERATED>-k substitution: each kind, structured results rendered as text, missing kinds."""

from __future__ import annotations

import pytest

from hugginggpt.domain import Argument, Task
from hugginggpt.v1 import common_pb2 as pb
from services.executor.references import UnresolvedReference, render_text, resolve_inputs
from services.executor.runtypes import InferenceInput

IMG = pb.Artifact(uri="artifact://aaaaaaaaaaaaaaaaaaaa/cat.png", name="cat.png", media_type="image/png",
                  kind=pb.VALUE_KIND_IMAGE)
WAV = pb.Artifact(uri="artifact://bbbbbbbbbbbbbbbbbbbb/say.wav", name="say.wav", media_type="audio/wav")
MP4 = pb.Artifact(uri="artifact://cccccccccccccccccccc/clip.mp4", name="clip.mp4", media_type="video/mp4",
                  kind=pb.VALUE_KIND_VIDEO)
TYPES = {1: "producer"}


def consume(slot: str, result: pb.TaskResult) -> InferenceInput:
    task = Task(2, "consumer", (1,), (Argument(slot, task_ref=1),))
    return resolve_inputs(task, {1: result}, TYPES)[0]


@pytest.mark.parametrize(("slot", "artifact"), [("image", IMG), ("audio", WAV), ("video", MP4)])
def test_media_slot_gets_the_first_artifact_of_its_kind(slot: str, artifact: pb.Artifact) -> None:
    others = [a for a in (IMG, WAV, MP4) if a is not artifact]
    result = pb.TaskResult(text="a caption", artifacts=[*others, artifact])
    assert consume(slot, result) == InferenceInput(slot, artifact_uri=artifact.uri)


def test_kind_is_taken_from_the_media_type_when_not_declared() -> None:
    assert consume("audio", pb.TaskResult(artifacts=[IMG, WAV])).artifact_uri == WAV.uri


def test_text_slot_gets_the_text() -> None:
    result = pb.TaskResult(text="the transcript", labels=[pb.Label(label="x")])
    assert consume("text", result).text == "the transcript"


def test_text_slot_gets_labels_with_scores() -> None:
    labels = [pb.Label(label="tabby cat", score=0.91), pb.Label(label="lynx", score=0.05)]
    result = pb.TaskResult(labels=labels)
    assert consume("text", result).text == "labels: tabby cat (0.91), lynx (0.05)"


def test_text_slot_gets_entities_and_detections_in_words() -> None:
    result = pb.TaskResult(
        entities=[pb.Entity(text="Paris", label="GPE")],
        detections=[pb.Detection(label="dog", score=0.9, box=pb.Box(x_min=1, y_min=2, x_max=30, y_max=40)),
                    pb.Detection(label="dog", score=0.8, box=pb.Box(x_max=5, y_max=5))],
    )
    text = consume("text", result).text or ""
    assert "entities: Paris (GPE)" in text
    assert "detected 2 dog: dog (0.90) at [1, 2, 30, 40]" in text


def test_score_and_extra_are_rendered() -> None:
    result = pb.TaskResult(score=0.75)
    result.extra.update({"answer": "42"})
    assert render_text(result) == 'score: 0.75\n{"answer": "42"}'


def test_literals_and_resources_pass_through() -> None:
    task = Task(1, "t", (), (Argument("text", literal="hi"), Argument("image", resource_uri=IMG.uri)))
    expected = (InferenceInput("text", text="hi"), InferenceInput("image", artifact_uri=IMG.uri))
    assert resolve_inputs(task, {}, {}) == expected


@pytest.mark.parametrize(("slot", "result"), [
    ("image", pb.TaskResult(text="only text", artifacts=[WAV])),
    ("audio", pb.TaskResult(artifacts=[IMG])),
    ("text", pb.TaskResult()),
])
def test_a_missing_kind_is_refused_not_passed_as_a_placeholder(slot: str, result: pb.TaskResult) -> None:
    with pytest.raises(UnresolvedReference, match=f"task 1 \\(producer\\) produced no {slot}"):
        consume(slot, result)


def test_a_reference_without_result_is_refused() -> None:
    task = Task(2, "consumer", (1,), (Argument("text", task_ref=1),))
    with pytest.raises(UnresolvedReference, match="no result"):
        resolve_inputs(task, {}, TYPES)

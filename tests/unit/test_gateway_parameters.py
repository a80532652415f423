"""Task parameters filled from the request: the translation's target language."""

from __future__ import annotations

import pytest

from gateway.parameters import fill
from hugginggpt.v1 import common_pb2 as pb


def _translation() -> pb.Task:
    return pb.Task(id=0, type="translation")


@pytest.mark.parametrize(("request_text", "language"), [
    ("Translate that transcript into Spanish", "Spanish"),
    ("Übersetze den Text bitte", "German"),  # no language named: the user's own
    ("Traduis ce texte en allemand", "German"),
])
def test_translation_gets_the_target_language(request_text: str, language: str) -> None:
    task = _translation()
    filled = fill(task, request_text)
    assert filled.parameters.fields["target_language"].string_value == language
    assert not task.HasField("parameters")  # the plan's own task is untouched


def test_an_english_request_naming_no_language_and_other_tasks_are_left_alone() -> None:
    assert not fill(_translation(), "Translate this text").HasField("parameters")
    asr = pb.Task(id=1, type="automatic-speech-recognition")
    assert fill(asr, "Transcribe it into German") is asr
    given = _translation()
    given.parameters.update({"target_language": "Italian"})
    assert fill(given, "into Spanish").parameters.fields["target_language"].string_value == "Italian"


def test_image_to_image_gets_the_request_as_its_instruction() -> None:
    task = pb.Task(id=2, type="image-to-image")
    filled = fill(task, "Make photo.jpg look like a painting, style 7")
    assert filled.parameters.fields["instruction"].string_value == "Make photo.jpg look like a painting, style 7"
    assert not task.HasField("parameters")

"""The one proto <-> domain translation: every enum value has one meaning on both sides."""

from __future__ import annotations

import pytest

from hugginggpt.convert import (
    mode_from_pb,
    mode_to_pb,
    model_status_from_pb,
    model_status_to_pb,
    role_from_pb,
    role_to_pb,
    task_state_from_pb,
    task_state_to_pb,
    turn_from_pb,
)
from hugginggpt.domain import Artifact, InferenceMode, Kind, ModelStatus, TaskState, Turn
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2 as epb


@pytest.mark.parametrize("mode", list(InferenceMode))
def test_every_mode_survives_the_wire(mode: InferenceMode) -> None:
    assert mode_from_pb(mode_to_pb(mode)) is mode
    assert pb.InferenceMode.Name(mode_to_pb(mode)) == f"INFERENCE_MODE_{mode.name}"


def test_an_unset_or_unknown_mode_leaves_the_choice_to_the_deployment() -> None:
    assert mode_from_pb(pb.INFERENCE_MODE_UNSPECIFIED) is None
    assert mode_from_pb(99) is None


@pytest.mark.parametrize("state", list(TaskState))
def test_every_task_state_survives_the_wire(state: TaskState) -> None:
    assert task_state_from_pb(task_state_to_pb(state)) is state
    assert epb.TaskState.Name(task_state_to_pb(state)) == f"TASK_STATE_{state.name}"
    assert task_state_from_pb(epb.TASK_STATE_UNSPECIFIED) is None


@pytest.mark.parametrize("role", ["user", "assistant", "system"])
def test_every_role_survives_the_wire(role: str) -> None:
    assert role_from_pb(role_to_pb(role)) == role


def test_an_unknown_role_is_the_users() -> None:
    assert role_to_pb("tool") == pb.ROLE_USER
    assert role_from_pb(pb.ROLE_UNSPECIFIED) == "user"


def test_a_model_status_survives_the_wire() -> None:
    status = ModelStatus("openai/whisper-tiny.en", ("automatic-speech-recognition",), True, 151_000_000, "")
    assert model_status_from_pb(model_status_to_pb(status)) == status


def test_a_message_becomes_one_turn_for_planner_and_responder_alike() -> None:
    photo = pb.Artifact(uri="artifact://s/photo.jpg", name="photo.jpg", media_type="image/jpeg", size_bytes=3,
                        kind=pb.VALUE_KIND_IMAGE)
    message = pb.Message(role=pb.ROLE_ASSISTANT, content="Here it is", attachments=[photo])
    attached = Artifact("artifact://s/photo.jpg", "photo.jpg", "image/jpeg", 3, Kind.IMAGE)
    assert turn_from_pb(message) == Turn("assistant", "Here it is", (attached,))
    assert turn_from_pb(pb.Message(content="hi")) == Turn("user", "hi")

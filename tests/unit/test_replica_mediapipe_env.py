"""The mediapipe replica's settings: prefixed on the local stack (one shared environment), as given in its pod."""

from __future__ import annotations

from services.replica.mediapipe import mediapipe_env


def test_on_the_local_stack_the_prefixed_settings_replace_the_other_replicas() -> None:
    env = mediapipe_env({"HUGGINGGPT_REPLICA_ID": "replica-0", "HUGGINGGPT_REPLICA_LISTEN": "127.0.0.1:50055",
                         "HUGGINGGPT_REPLICA_PRELOAD": "openai/whisper-tiny.en",
                         "HUGGINGGPT_MEDIAPIPE_REPLICA_ID": "mediapipe-0"})
    assert env["HUGGINGGPT_REPLICA_ID"] == "mediapipe-0"
    assert env["HUGGINGGPT_REPLICA_LISTEN"] == "127.0.0.1:50057"  # its own port, not the other replica's
    assert "HUGGINGGPT_REPLICA_PRELOAD" not in env  # the other replica's preload list is not this one's


def test_in_its_own_pod_the_environment_is_used_as_the_manifest_gives_it() -> None:
    pod = {"HUGGINGGPT_REPLICA_ID": "mediapipe-replica-0", "HUGGINGGPT_REPLICA_LISTEN": "0.0.0.0:50057",
           "HUGGINGGPT_REPLICA_ADVERTISE_ADDRESS": "10.0.0.7:50057"}
    assert mediapipe_env(pod) == pod

"""The mediapipe replica as its own process in .venv-mediapipe, called from this venv over gRPC."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.v1 import replica_pb2, replica_pb2_grpc, router_pb2
from services.replica.catalog import ReplicaCatalog

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"
MEDIA = Path("/work/shared/data/media") if not (ROOT.parent / "shared").is_dir() else ROOT.parent / "shared/data/media"
pytestmark = pytest.mark.skipif(not VENV_PYTHON.exists(), reason="run scripts/setup_mediapipe.sh first")


def test_main_replica_leaves_mediapipe_models_to_their_own_replica() -> None:
    main_ids = {e.model_id for e in ReplicaCatalog.default().entries()}
    mp_ids = {e.model_id for e in ReplicaCatalog.default(False, only=frozenset({"mediapipe"})).entries()}
    assert mp_ids == {
        "google/mediapipe-pose",
        "google/mediapipe-face-detection",
        "google/mediapipe-selfie-segmentation",
    }
    assert not main_ids & mp_ids


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[grpc.Channel, ArtifactStore]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    artifacts = tmp_path_factory.mktemp("artifacts")
    env = {
        **os.environ,
        "HUGGINGGPT_ARTIFACT_DIR": str(artifacts),
        "HUGGINGGPT_MEDIAPIPE_REPLICA_LISTEN": f"127.0.0.1:{port}",
        "HUGGINGGPT_MEDIAPIPE_REPLICA_PRELOAD": "google/mediapipe-pose",
        "HUGGINGGPT_SERVICE_OPEN": "true",  # one service alone; the token check has tests of its own
    }
    env.pop("HUGGINGGPT_SERVICE_TOKEN", None)
    env.pop("HUGGINGGPT_ROUTER_ADDRESS", None)
    proc = subprocess.Popen(
        [str(VENV_PYTHON), "-m", "services.replica.mediapipe"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(120):
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    break
            except grpc.RpcError:
                pass
            assert proc.poll() is None, "the mediapipe replica exited"
            time.sleep(0.5)
        yield channel, ArtifactStore(artifacts, 50 << 20)
    finally:
        channel.close()
        proc.terminate()
        proc.wait(20)


def _predict(channel: grpc.Channel, model: str, value: router_pb2.InferenceInput) -> replica_pb2.PredictResponse:
    stub = replica_pb2_grpc.ModelReplicaServiceStub(channel)
    return stub.Predict(
        replica_pb2.PredictRequest(inference=router_pb2.Inference(model_id=model, task_type="", inputs=[value])),
        timeout=60,
    )


def test_pose_keypoints_and_drawn_skeleton(replica) -> None:  # type: ignore[no-untyped-def]
    channel, store = replica
    uri = store.put_bytes("messi5.jpg", (MEDIA / "messi5.jpg").read_bytes()).uri
    result = _predict(channel, "google/mediapipe-pose", router_pb2.InferenceInput(name="image", artifact_uri=uri))
    points = {k.name: k for k in result.outcome.result.keypoints}
    assert len(points) == 33 and points["nose"].y < points["left_ankle"].y  # head above feet
    (drawn,) = result.outcome.result.artifacts
    assert store.path(drawn.uri).stat().st_size > 10_000


def test_face_and_segmentation(replica) -> None:  # type: ignore[no-untyped-def]
    channel, store = replica
    uri = store.put_bytes("grace_hopper.jpg", (MEDIA / "grace_hopper.jpg").read_bytes()).uri
    image = router_pb2.InferenceInput(name="image", artifact_uri=uri)
    faces = _predict(channel, "google/mediapipe-face-detection", image).outcome.result
    assert len(faces.detections) == 1 and faces.detections[0].score > 0.5 and faces.artifacts
    mask = _predict(channel, "google/mediapipe-selfie-segmentation", image).outcome.result
    assert mask.artifacts[0].media_type == "image/png" and 0.2 < mask.labels[0].score < 0.9


def test_bad_inputs(replica) -> None:  # type: ignore[no-untyped-def]
    channel, store = replica
    with pytest.raises(grpc.RpcError) as caught:
        _predict(channel, "google/mediapipe-pose", router_pb2.InferenceInput(name="text", text="a person"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as caught:
        _predict(channel, "openai/whisper-tiny.en", router_pb2.InferenceInput(name="text", text="x"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND

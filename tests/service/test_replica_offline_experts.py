"""The replica serving the COCO detector (a Node.js child) and the Apertium pair over real gRPC on port 0."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.server import ServerSpec, build_server
from hugginggpt.v1 import replica_pb2, replica_pb2_grpc, router_pb2
from services.replica.__main__ import SERVICE, create
from services.replica.config import ReplicaConfig
from services.replica.servicer import ReplicaServicer

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/data/media")
DETECTOR = "vladmandic/mb3-centernet-coco"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[replica_pb2_grpc.ModelReplicaServiceStub, ArtifactStore]]:
    env = {"HUGGINGGPT_ARTIFACT_DIR": str(tmp_path), "HUGGINGGPT_REPLICA_ID": "replica-experts",
           "HUGGINGGPT_REPLICA_DEVICE": "cpu"}
    replica, pool = create(ReplicaConfig.from_env(env))

    def register(server: grpc.aio.Server) -> None:
        replica_pb2_grpc.add_ModelReplicaServiceServicer_to_server(ReplicaServicer(replica), server)

    server, _, port = build_server(ServerSpec("127.0.0.1:0", [SERVICE], register))
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield replica_pb2_grpc.ModelReplicaServiceStub(channel), ArtifactStore(tmp_path, 50 << 20)
    await server.stop(0)
    await replica.manager.close()
    pool.shutdown(wait=False)


def _predict(model: str, task: str, *, uri: str = "", text: str = "", **params: object) -> replica_pb2.PredictRequest:
    parameters = struct_pb2.Struct()
    parameters.update(params)
    value = router_pb2.InferenceInput(name="image" if uri else "text",
                                      **({"artifact_uri": uri} if uri else {"text": text}))
    return replica_pb2.PredictRequest(
        inference=router_pb2.Inference(model_id=model, task_type=task, inputs=[value], parameters=parameters))


def _node_children() -> set[int]:
    """Node processes started by this test process (the detector's children)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"tfjs_graph_server" in cmd:
            found.add(int(entry.name))
    return found


async def test_the_detector_counts_over_grpc_and_its_node_child_ends_on_unload(served) -> None:  # type: ignore[no-untyped-def]
    stub, store = served
    photo = store.put_bytes("grace_hopper.jpg", (MEDIA / "grace_hopper.jpg").read_bytes()).uri
    junk = store.put_bytes("junk.jpg", b"not a picture").uri
    good, bad = await asyncio.gather(
        stub.Predict(_predict(DETECTOR, "object-detection", uri=photo), timeout=120),
        stub.Predict(_predict(DETECTOR, "object-detection", uri=junk), timeout=120),
        return_exceptions=True,
    )
    assert isinstance(bad, grpc.aio.AioRpcError) and bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not isinstance(good, BaseException)
    result = good.outcome.result
    assert [d.label for d in result.detections] == ["person"] and result.text == "1 object: 1 person"
    assert result.extra["counts"]["person"] == 1
    (drawn,) = result.artifacts
    assert drawn.media_type == "image/png" and store.path(drawn.uri).stat().st_size > 0
    assert len(_node_children()) == 1
    assert (await stub.UnloadModel(replica_pb2.UnloadModelRequest(model_id=DETECTOR))).was_loaded
    for _ in range(50):
        if not _node_children():
            break
        await asyncio.sleep(0.1)
    assert not _node_children()


async def test_apertium_translates_over_grpc_and_refuses_another_target(served) -> None:  # type: ignore[no-untyped-def]
    stub, _ = served
    reply = await stub.Predict(_predict("apertium/apertium-es-en", "translation", text="El perro duerme.",
                                        target_language="English"), timeout=30)
    assert reply.outcome.result.text == "The dog sleeps."
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Predict(_predict("apertium/apertium-es-en", "translation", text="Hola.",
                                    target_language="French"), timeout=30)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Spanish into English" in (refused.value.details() or "")

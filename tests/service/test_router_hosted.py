"""Service tests of the router's hosted path against a loopback server that answers as the hosted API does."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import huggingface_hub.constants
import pytest
from aiohttp import web
from PIL import Image
from prometheus_client import REGISTRY

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.domain import InferenceMode
from hugginggpt.rpc import channel
from hugginggpt.server import ServerSpec, build_server
from hugginggpt.v1 import common_pb2, router_pb2, router_pb2_grpc
from services.router.clients import ReplicaClients
from services.router.hosted import HostedInference
from services.router.registry import Registry
from services.router.routing import Router
from services.router.servicer import RouterServicer

TOKEN = "hf_test_token"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class HostedApi:
    """Records what the client sent; answers per model as the hf-inference API does."""

    seen: list[tuple[str, str, bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        model = request.match_info["model"]
        self.seen.append((request.path, request.headers.get("Authorization", ""), body))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "Invalid credentials"}, status=401)
        if model == "org/sentiment":
            return web.json_response([[{"label": "POSITIVE", "score": 0.98}, {"label": "NEGATIVE", "score": 0.02}]])
        if model == "org/detr":
            box = {"xmin": 1, "ymin": 2, "xmax": 30, "ymax": 40}
            return web.json_response([{"label": "cat", "score": 0.9, "box": box}])
        if model == "org/diffusion":
            return web.Response(body=png_bytes(), content_type="image/png")
        if model == "org/tts":
            return web.Response(body=b"RIFF\x24\x00\x00\x00WAVEfmt ", content_type="audio/wav")
        if model == "org/whisper":
            return web.json_response({"text": "hello world"})
        if model == "org/minilm/pipeline/sentence-similarity":
            return web.json_response([0.75])
        if model == "org/slow":
            await asyncio.sleep(1.5)
            return web.json_response([[{"label": "late", "score": 1.0}]])
        if model == "org/garbage":
            return web.Response(text="<html>oops</html>", content_type="text/html")
        return web.json_response({"error": f"Model {model} does not exist"}, status=404)


@dataclass
class Stack:
    stub: router_pb2_grpc.ModelRouterServiceStub
    api: HostedApi
    store: ArtifactStore


@pytest.fixture
async def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    # tests/conftest.py sets HF_HUB_OFFLINE=1; the "hosted API" here is a loopback server.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    api = HostedApi()
    app = web.Application()
    app.router.add_post("/models/{model:.+}", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    store = ArtifactStore(tmp_path / "artifacts", 1 << 20)
    hosted = HostedInference(f"http://127.0.0.1:{port}", TOKEN, store)
    router = Router(Registry(ttl_seconds=30), ReplicaClients(), hosted, InferenceMode.HYBRID)
    servicer = RouterServicer(router, 1.0, 4, 30)
    server, _health, grpc_port = build_server(ServerSpec(
        listen="127.0.0.1:0", service_names=["hugginggpt.v1.ModelRouterService"],
        register=lambda s: router_pb2_grpc.add_ModelRouterServiceServicer_to_server(servicer, s),
    ))
    await server.start()
    chan = channel(f"127.0.0.1:{grpc_port}")
    yield Stack(router_pb2_grpc.ModelRouterServiceStub(chan), api, store)
    await chan.close()
    await server.stop(None)
    await runner.cleanup()


def request(model: str, task: str, mode: int = 0, **inputs: str) -> router_pb2.InferRequest:
    items = [
        router_pb2.InferenceInput(name=k, artifact_uri=v) if v.startswith("artifact://")
        else router_pb2.InferenceInput(name=k, text=v)
        for k, v in inputs.items()
    ]
    return router_pb2.InferRequest(inference=router_pb2.Inference(
        model_id=model, task_type=task, inputs=items, mode=mode))  # type: ignore[arg-type]


def fallbacks() -> float:
    return REGISTRY.get_sample_value("hugginggpt_router_hosted_fallbacks_total", {"reason": "not_deployed"}) or 0.0


async def test_text_classification_falls_back_to_hosted_with_token_and_labels(stack: Stack) -> None:
    before = fallbacks()
    reply = await stack.stub.Infer(request("org/sentiment", "text-classification", text="great film"), timeout=10)
    assert reply.outcome.site == common_pb2.INFERENCE_SITE_HOSTED
    assert [(label.label, round(label.score, 2)) for label in reply.outcome.result.labels] == [
        ("POSITIVE", 0.98), ("NEGATIVE", 0.02)]
    path, auth, body = stack.api.seen[-1]
    assert path == "/models/org/sentiment" and auth == f"Bearer {TOKEN}"
    assert json.loads(body)["inputs"] == "great film"
    assert fallbacks() == before + 1
    listing = await stack.stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=5)
    assert listing.hosted_available


async def test_object_detection_sends_the_image_bytes_and_maps_boxes(stack: Stack) -> None:
    image = stack.store.put_bytes("cat.png", png_bytes())
    reply = await stack.stub.Infer(request("org/detr", "object-detection", image=image.uri), timeout=10)
    detection = reply.outcome.result.detections[0]
    assert (detection.label, detection.box.x_min, detection.box.y_max) == ("cat", 1, 40)
    assert stack.api.seen[-1][2] == png_bytes()


async def test_generated_image_and_audio_become_artifacts(stack: Stack) -> None:
    reply = await stack.stub.Infer(request("org/diffusion", "text-to-image", text="a red square"), timeout=10)
    artifact = reply.outcome.result.artifacts[0]
    assert artifact.media_type == "image/png" and artifact.kind == common_pb2.VALUE_KIND_IMAGE
    assert Image.open(stack.store.path(artifact.uri)).size == (4, 3)
    reply = await stack.stub.Infer(request("org/tts", "text-to-speech", text="hi"), timeout=10)
    audio = reply.outcome.result.artifacts[0]
    assert audio.name == "speech.wav" and audio.kind == common_pb2.VALUE_KIND_AUDIO


async def test_speech_recognition_and_similarity(stack: Stack) -> None:
    clip = stack.store.put_bytes("clip.wav", b"RIFF0000WAVE")
    reply = await stack.stub.Infer(request("org/whisper", "automatic-speech-recognition", audio=clip.uri), timeout=10)
    assert reply.outcome.result.text == "hello world"
    reply = await stack.stub.Infer(
        request("org/minilm", "sentence-similarity", text="a cat", text2="a kitten"), timeout=10)
    assert reply.outcome.result.score == pytest.approx(0.75)
    assert stack.api.seen[-1][0] == "/models/org/minilm/pipeline/sentence-similarity"


@pytest.mark.parametrize(
    ("model", "task", "code", "fragment"),
    [
        ("org/missing", "text-classification", grpc.StatusCode.NOT_FOUND, "does not serve this model"),
        ("org/garbage", "text-classification", grpc.StatusCode.INTERNAL, "could not be read"),
        ("org/any", "pose-estimation", grpc.StatusCode.INVALID_ARGUMENT, "has no hosted inference"),
        ("org/slow", "text-classification", grpc.StatusCode.DEADLINE_EXCEEDED, ""),
    ],
)
async def test_hosted_failures_map_to_statuses_a_person_can_act_on(
    stack: Stack, model: str, task: str, code: grpc.StatusCode, fragment: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(request(model, task, text="x"), timeout=1.0)
    assert info.value.code() == code
    assert fragment in (info.value.details() or "")


async def test_missing_input_and_bad_artifact_are_invalid_argument(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(request("org/detr", "object-detection", text="not an image"), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "image input" in (info.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(request("org/detr", "object-detection", image="artifact://nope"), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_local_mode_never_goes_hosted(stack: Stack) -> None:
    seen = len(stack.api.seen)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.stub.Infer(request("org/sentiment", "text-classification", common_pb2.INFERENCE_MODE_LOCAL,
                                       text="x"), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert len(stack.api.seen) == seen

"""Hugging Face hosted inference through huggingface_hub's AsyncInferenceClient, mapped into TaskResult."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from huggingface_hub import AsyncInferenceClient, is_offline_mode
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.convert import artifact_to_pb
from hugginggpt.domain import Artifact
from hugginggpt.errors import (
    DeadlineExceeded,
    HuggingGPTError,
    InvalidRequest,
    ModelFailed,
    NotFound,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from hugginggpt.v1 import common_pb2, router_pb2

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://router.huggingface.co/hf-inference"
# These two tasks share models, so the hosted API names the pipeline in the URL.
_PIPELINE_IN_URL = ("feature-extraction", "sentence-similarity")


@dataclass(frozen=True)
class Inputs:
    """An inference's inputs: texts by slot, binary inputs read from the artifact store."""

    texts: dict[str, str]
    blobs: dict[str, bytes]

    def text(self, *names: str) -> str:
        for name in names:
            if name in self.texts:
                return self.texts[name]
        raise InvalidRequest(f"this task needs a text input named {' or '.join(names)}")

    def blob(self, name: str) -> bytes:
        if name not in self.blobs:
            raise InvalidRequest(f"this task needs an {name} input (an artifact URI)")
        return self.blobs[name]


Client = AsyncInferenceClient
Store = ArtifactStore
Result = common_pb2.TaskResult
Handler = Callable[[Client, Inputs, dict[str, Any], Store], Awaitable[Result]]


def _labels(items: Any) -> list[common_pb2.Label]:
    return [common_pb2.Label(label=str(i.label), score=float(i.score or 0.0)) for i in items]


def _image_artifact(image: Any, store: ArtifactStore, name: str) -> common_pb2.Artifact:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return _artifact(store.put_bytes(f"{name}.png", buffer.getvalue(), "image/png"))


def _audio_name(data: bytes) -> str:
    if data[:4] == b"RIFF":
        return "speech.wav"
    if data[:4] == b"fLaC":
        return "speech.flac"
    return "speech.mp3"


def _artifact(a: Artifact) -> common_pb2.Artifact:
    return artifact_to_pb(a)


async def _text_classification(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    return common_pb2.TaskResult(labels=_labels(await c.text_classification(i.text("text"))))


async def _token_classification(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    out = await c.token_classification(i.text("text"))
    entities = [
        common_pb2.Entity(text=e.word or "", label=e.entity_group or e.entity or "", start=int(e.start or 0),
                          end=int(e.end or 0), score=float(e.score or 0.0))
        for e in out
    ]
    return common_pb2.TaskResult(entities=entities)


async def _generation(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    text = await c.text_generation(i.text("text"), max_new_tokens=int(p.get("max_new_tokens", 256)))
    return common_pb2.TaskResult(text=str(text))


async def _translation(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    return common_pb2.TaskResult(text=(await c.translation(i.text("text"))).translation_text)


async def _summarization(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    return common_pb2.TaskResult(text=(await c.summarization(i.text("text"))).summary_text)


async def _question_answering(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    out = await c.question_answering(question=i.text("question", "text2"), context=i.text("context", "text"))
    answer = out[0] if isinstance(out, list) else out
    return common_pb2.TaskResult(text=answer.answer, score=float(answer.score))


async def _similarity(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    scores = await c.sentence_similarity(i.text("text"), other_sentences=[i.text("text2", "question")])
    return common_pb2.TaskResult(score=float(scores[0]))


async def _image_classification(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    return common_pb2.TaskResult(labels=_labels(await c.image_classification(i.blob("image"))))


async def _object_detection(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    out = await c.object_detection(i.blob("image"))
    detections = [
        common_pb2.Detection(label=d.label, score=float(d.score), box=common_pb2.Box(
            x_min=d.box.xmin, y_min=d.box.ymin, x_max=d.box.xmax, y_max=d.box.ymax))
        for d in out
    ]
    return common_pb2.TaskResult(detections=detections)


async def _image_to_text(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    return common_pb2.TaskResult(text=(await c.image_to_text(i.blob("image"))).generated_text)


async def _text_to_image(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    image = await c.text_to_image(i.text("text"))
    return common_pb2.TaskResult(artifacts=[_image_artifact(image, s, "generated")])


async def _image_to_image(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    image = await c.image_to_image(i.blob("image"), prompt=i.texts.get("text"))
    return common_pb2.TaskResult(artifacts=[_image_artifact(image, s, "generated")])


async def _segmentation(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    out = await c.image_segmentation(i.blob("image"))
    masks = [_image_artifact(item.mask, s, f"mask-{n}") for n, item in enumerate(out)]
    return common_pb2.TaskResult(labels=_labels(out), artifacts=masks)


async def _text_to_speech(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    audio = await c.text_to_speech(i.text("text"))
    return common_pb2.TaskResult(artifacts=[_artifact(s.put_bytes(_audio_name(audio), audio))])


async def _text_to_video(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    video = await c.text_to_video(i.text("text"))
    return common_pb2.TaskResult(artifacts=[_artifact(s.put_bytes("generated.mp4", video, "video/mp4"))])


async def _speech_recognition(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    return common_pb2.TaskResult(text=(await c.automatic_speech_recognition(i.blob("audio"))).text)


async def _audio_classification(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    return common_pb2.TaskResult(labels=_labels(await c.audio_classification(i.blob("audio"))))


async def _vqa(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    out = await c.visual_question_answering(i.blob("image"), i.text("question", "text"))
    labels = [common_pb2.Label(label=a.answer, score=float(a.score)) for a in out]
    return common_pb2.TaskResult(text=labels[0].label if labels else "", labels=labels)


async def _document_qa(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    out = await c.document_question_answering(i.blob("image"), i.text("question", "text"))
    labels = [common_pb2.Label(label=a.answer, score=float(a.score or 0.0)) for a in out]
    return common_pb2.TaskResult(text=labels[0].label if labels else "", labels=labels)


async def _features(c: Client, i: Inputs, p: dict, s: Store) -> Result:
    array = await c.feature_extraction(i.text("text"))
    return common_pb2.TaskResult(vector=[float(x) for x in array.reshape(-1)])


HANDLERS: dict[str, Handler] = {
    "text-classification": _text_classification,
    "token-classification": _token_classification,
    "text-generation": _generation,
    "text2text-generation": _generation,
    "conversational": _generation,
    "translation": _translation,
    "summarization": _summarization,
    "question-answering": _question_answering,
    "sentence-similarity": _similarity,
    "feature-extraction": _features,
    "image-classification": _image_classification,
    "object-detection": _object_detection,
    "image-to-text": _image_to_text,
    "text-to-image": _text_to_image,
    "image-to-image": _image_to_image,
    "image-segmentation": _segmentation,
    "text-to-speech": _text_to_speech,
    "text-to-video": _text_to_video,
    "automatic-speech-recognition": _speech_recognition,
    "audio-classification": _audio_classification,
    "visual-question-answering": _vqa,
    "document-question-answering": _document_qa,
}


class HostedInference:
    """Runs inferences on the hosted API; endpoint and token come from configuration."""

    def __init__(self, endpoint: str, token: str, store: ArtifactStore) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._token = token
        self._store = store

    @property
    def available(self) -> bool:
        """Configured with a token, and huggingface_hub is not in offline mode (HF_HUB_OFFLINE)."""
        return bool(self._token) and not is_offline_mode()

    def model_url(self, model_id: str, task_type: str) -> str:
        """The URL the hosted API serves the model at (given as a URL, the client makes no Hub lookups)."""
        if task_type in _PIPELINE_IN_URL:
            return f"{self._endpoint}/models/{model_id}/pipeline/{task_type}"
        return f"{self._endpoint}/models/{model_id}"

    async def infer(self, inference: router_pb2.Inference, timeout: float) -> router_pb2.InferenceOutcome:
        handler = HANDLERS.get(inference.task_type)
        if handler is None:
            raise InvalidRequest(
                f"task type {inference.task_type!r} has no hosted inference; "
                f"offered: {', '.join(sorted(HANDLERS))}"
            )
        inputs = self._inputs(inference)
        params = json_format.MessageToDict(inference.parameters) if inference.HasField("parameters") else {}
        url = self.model_url(inference.model_id, inference.task_type)
        client = AsyncInferenceClient(model=url, token=self._token, timeout=timeout)
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(handler(client, inputs, params, self._store), timeout)
        except HuggingGPTError:
            raise
        except Exception as exc:  # noqa: BLE001 - every hosted failure becomes a named status
            raise _translate(exc, inference.model_id) from exc
        finally:
            await client.close()
        return router_pb2.InferenceOutcome(result=result, inference_seconds=time.perf_counter() - started)

    def _inputs(self, inference: router_pb2.Inference) -> Inputs:
        texts: dict[str, str] = {}
        blobs: dict[str, bytes] = {}
        for item in inference.inputs:
            if item.WhichOneof("value") == "artifact_uri":
                blobs[item.name] = self._store.read_bytes(item.artifact_uri)
            else:
                texts[item.name] = item.text
        return Inputs(texts, blobs)


def _translate(exc: Exception, model_id: str) -> HuggingGPTError:
    where = f"hosted inference for {model_id}"
    if isinstance(exc, (InferenceTimeoutError, TimeoutError)):
        return DeadlineExceeded(f"{where} did not answer before the deadline")
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        detail = (exc.response.text or "")[:200]
        if status in (401, 403):
            return Unauthenticated(f"{where} refused the token (HTTP {status}); check HUGGINGGPT_HF_TOKEN")
        if status == 404:
            return NotFound(f"{where}: the hosted API does not serve this model (HTTP 404)")
        if status == 429:
            return ResourceExhausted(f"{where} is rate-limited (HTTP 429); retry later")
        if status in (400, 422):
            return InvalidRequest(f"{where} rejected the input (HTTP {status}): {detail}")
        return Unavailable(f"{where} failed with HTTP {status}: {detail}")
    if isinstance(exc, (OSError, ConnectionError)) or type(exc).__module__.startswith("httpx"):
        return Unavailable(f"{where} cannot be reached ({type(exc).__name__}); check HUGGINGGPT_HF_ENDPOINT")
    logger.exception("hosted inference returned something unusable")
    return ModelFailed(f"{where} returned an answer that could not be read ({type(exc).__name__})")

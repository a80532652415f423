"""The general path: any Hub id or allowed local directory via transformers.pipeline (or diffusers)."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hugginggpt.errors import InvalidRequest, NotFound
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import audio_input, draw_detections, image_input, save_png, text_input
from services.replica.errors import ModelBroken
from services.replica.results import Box, Detection, Entity, Label, Request, Result

HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
IMAGE_TASKS = {
    "image-classification",
    "object-detection",
    "image-to-text",
    "image-segmentation",
    "depth-estimation",
    "image-to-image",
    "visual-question-answering",
    "document-question-answering",
}
AUDIO_TASKS = {"automatic-speech-recognition", "audio-classification", "audio-to-audio"}


def resolve_model(model_id: str, roots: tuple[str, ...]) -> str:
    """The id itself for a Hub id; the directory for an absolute path under an allowed root; else NotFound."""
    if model_id.startswith("/"):
        path = Path(model_id).resolve()
        if not any(path.is_relative_to(Path(r).resolve()) for r in roots):
            raise NotFound(
                f"model directory {model_id} is not under an allowed root (HUGGINGGPT_REPLICA_LOCAL_MODEL_ROOTS)"
            )
        if not (path / "config.json").is_file() and not (path / "model_index.json").is_file():
            raise NotFound(f"{model_id} holds no model (no config.json)")
        return str(path)
    if ".." in model_id or not HUB_ID.match(model_id):
        raise NotFound(f"{model_id!r} is neither a Hugging Face model id nor an allowed local directory")
    return model_id


class PipelineHandle(Handle):
    def __init__(self, pipe: Any, ctx: BackendContext) -> None:
        self.pipe = pipe
        self.ctx = ctx

    def predict_one(self, request: Request) -> Result:
        task = getattr(self.pipe, "task", request.task_type) or request.task_type
        if request.task_type and request.task_type != task:
            raise InvalidRequest(f"{request.model_id} is loaded for {task}, not {request.task_type}")
        kwargs = {k: v for k, v in request.parameters.items() if k in {"top_k", "max_new_tokens"}}
        if "max_new_tokens" in kwargs:
            kwargs["max_new_tokens"] = int(kwargs["max_new_tokens"])
        if "top_k" in kwargs:
            kwargs["top_k"] = int(kwargs["top_k"])
        source: Image.Image | None = None
        if task in IMAGE_TASKS:
            source, _ = image_input(request, self.ctx)
            output = self.pipe(source, **kwargs)
        elif task in AUDIO_TASKS:
            rate = int(getattr(getattr(self.pipe, "feature_extractor", None), "sampling_rate", 16000))
            output = self.pipe({"raw": audio_input(request, self.ctx, rate), "sampling_rate": rate}, **kwargs)
        else:
            output = self.pipe(text_input(request), **kwargs)
        return convert(task, output, self.ctx, source)


def convert(task: str, output: Any, ctx: BackendContext, source: Image.Image | None) -> Result:
    """Turns a pipeline's output into a typed result; images and audio become artifacts."""
    if isinstance(output, list) and output and isinstance(output[0], list):
        output = output[0]
    if isinstance(output, Image.Image):
        return Result(artifacts=[save_png(ctx.store, output, f"{task}.png")])
    if isinstance(output, dict) and "audio" in output:
        return Result(artifacts=[_wav(ctx, output["audio"], int(output["sampling_rate"]))])
    if isinstance(output, dict) and isinstance(output.get("depth"), Image.Image):
        return Result(artifacts=[save_png(ctx.store, output["depth"], "depth.png")])
    items = output if isinstance(output, list) else [output]
    first = items[0] if items else {}
    if isinstance(first, dict) and "box" in first:
        dets = [
            Detection(
                str(d["label"]),
                float(d["score"]),
                Box(*(float(d["box"][k]) for k in ("xmin", "ymin", "xmax", "ymax"))),
            )
            for d in items
        ]
        arts = [save_png(ctx.store, draw_detections(source, dets), "detections.png")] if source else []
        return Result(text=", ".join(d.label for d in dets), detections=dets, artifacts=arts)
    if isinstance(first, dict) and ("entity_group" in first or "entity" in first):
        ents = [
            Entity(
                str(e.get("word", "")),
                str(e.get("entity_group") or e.get("entity")),
                int(e.get("start") or 0),
                int(e.get("end") or 0),
                float(e.get("score", 0.0)),
            )
            for e in items
        ]
        return Result(text="; ".join(f"{e.text} ({e.label})" for e in ents), entities=ents)
    if isinstance(first, dict) and "label" in first and "score" in first and "mask" not in first:
        labels = [Label(str(x["label"]), float(x["score"])) for x in items]
        return Result(text=labels[0].label, labels=labels)
    for key in ("generated_text", "summary_text", "translation_text", "answer", "text"):
        if isinstance(first, dict) and key in first:
            return Result(text=str(first[key]).strip(), score=first.get("score"))
    if task == "feature-extraction":
        arr = np.asarray(output, dtype=np.float32)
        return Result(vector=[float(x) for x in arr.reshape(-1, arr.shape[-1]).mean(axis=0)])
    raise InvalidRequest(f"the replica cannot represent {task} output of type {type(first).__name__} yet")


def _wav(ctx: BackendContext, audio: Any, rate: int) -> Any:
    pcm = (np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return ctx.store.put_bytes("audio.wav", buffer.getvalue(), "audio/wav")


WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx")


def weight_bytes(files: list[tuple[str, int]]) -> int:
    """Bytes of the weights a pipeline loads: safetensors when the model has them, else the other formats."""
    weights = [(name, size) for name, size in files if name.endswith(WEIGHTS)]
    preferred = [(n, s) for n, s in weights if n.endswith(".safetensors")] or weights
    return sum(size for _, size in preferred)


def _listing(model_id: str, source: str) -> list[tuple[str, int]]:
    """(file name, size) of the model's files: the local directory's, else the Hub's (empty when offline)."""
    if source.startswith("/"):
        return [(str(p), p.stat().st_size) for p in Path(source).rglob("*") if p.is_file()]
    try:
        from huggingface_hub import HfApi

        info = HfApi().model_info(model_id, files_metadata=True, timeout=10)
    except Exception:  # noqa: BLE001 - offline or unknown: the size is measured after loading instead
        return []
    return [(s.rfilename, int(s.size or 0)) for s in info.siblings or []]


class PipelineBackend(Backend):
    def estimate_bytes(self, model_id: str, ctx: BackendContext) -> int:
        """The weights' size on disk (a model in memory is about as large, at the precision it is stored)."""
        return weight_bytes(_listing(model_id, resolve_model(model_id, ctx.local_model_roots)))

    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        source = resolve_model(model_id, ctx.local_model_roots)
        if task_type == "text-to-image":
            return _diffusers(source, ctx)
        from transformers import pipeline

        try:
            pipe = pipeline(task_type or None, model=source, device=ctx.device)  # type: ignore[arg-type]
        except OSError as exc:
            raise NotFound(
                f"model {model_id} cannot be loaded: not found locally and the Hub is unreachable "
                f"or has no such model ({str(exc).splitlines()[0][:200]})"
            ) from None
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ModelBroken(f"model {model_id} cannot serve {task_type or 'its task'}: {str(exc)[:300]}") from None
        return PipelineHandle(pipe, ctx)


class DiffusersHandle(Handle):
    def __init__(self, pipe: Any, ctx: BackendContext) -> None:
        self.pipe = pipe
        self.ctx = ctx

    def predict_one(self, request: Request) -> Result:
        steps = int(request.parameters.get("num_inference_steps", 25))
        image = self.pipe(text_input(request), num_inference_steps=steps).images[0]
        return Result(artifacts=[save_png(self.ctx.store, image, "generated.png")])


def _diffusers(source: str, ctx: BackendContext) -> Handle:
    try:
        from diffusers import AutoPipelineForText2Image  # type: ignore[import-not-found]
    except ImportError:
        raise ModelBroken("text-to-image needs the diffusers package, which this replica does not have") from None
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(source).to(ctx.device)
    except OSError as exc:
        raise NotFound(f"model {source} cannot be loaded: {str(exc)[:200]}") from None
    return DiffusersHandle(pipe, ctx)

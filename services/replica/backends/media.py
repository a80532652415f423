"""Reading typed inputs (text, image, audio) from a request, and writing drawn or generated files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.domain import Artifact
from hugginggpt.errors import HuggingGPTError, InvalidRequest
from services.replica.backends.base import BackendContext
from services.replica.backends.limits import check_pixels, decode_audio
from services.replica.results import Detection, Keypoint, Request

# What Pillow raises for a file that is not a readable image (a decompression bomb included).
_IMAGE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


def text_input(request: Request, name: str = "text") -> str:
    """The request's text (the named input first, else any text input)."""
    texts = [i for i in request.inputs if i.text is not None]
    named = [i for i in texts if i.name == name]
    chosen = (named or texts)[:1]
    if not chosen or not (chosen[0].text or "").strip():
        got = ", ".join(f"{i.name}=artifact" if i.uri else i.name for i in request.inputs) or "nothing"
        raise InvalidRequest(f"{request.task_type} on {request.model_id} needs a non-empty text input; got {got}")
    return chosen[0].text or ""


def texts_input(request: Request) -> list[str]:
    """All text inputs in order (for sentence-similarity: the source and the sentences to compare)."""
    return [i.text for i in request.inputs if i.text is not None and i.text.strip()]


def artifact_path(request: Request, store: ArtifactStore, kind: str) -> Path:
    """The local file of the request's first artifact input; InvalidRequest when only text was sent."""
    uris = [i.uri for i in request.inputs if i.uri]
    if not uris:
        raise InvalidRequest(
            f"{request.task_type} on {request.model_id} needs an {kind} (an artifact:// URI input); "
            "got only text. Upload the file and pass its URI."
        )
    return store.path(uris[0])


def image_input(request: Request, ctx: BackendContext) -> tuple[Image.Image, Path]:
    """The request's image as RGB, with its path; InvalidRequest over the pixel limit (read from the header,
    before decoding) or when the file is not an image."""
    path = artifact_path(request, ctx.store, "image")
    try:
        with Image.open(path) as img:
            check_pixels(path.name, img.size, ctx.limits)
            return img.convert("RGB"), path
    except _IMAGE_ERRORS as exc:
        raise InvalidRequest(
            f"{path.name} is not a readable image ({type(exc).__name__}); send a PNG, JPEG or WebP file"
        ) from None


def audio_input(request: Request, ctx: BackendContext, sampling_rate: int = 16000) -> np.ndarray:
    """The request's audio as mono float32 at the given rate; InvalidRequest over the length limit (from the
    header, and again while decoding) or when it cannot be decoded."""
    path = artifact_path(request, ctx.store, "audio file")
    try:
        audio = decode_audio(path, sampling_rate, ctx.limits)
    except HuggingGPTError:
        raise
    except Exception as exc:  # noqa: BLE001 - PyAV raises many types for undecodable input
        raise InvalidRequest(
            f"{path.name} is not decodable audio ({type(exc).__name__}); send WAV, FLAC or MP3"
        ) from None
    if audio.size == 0:
        raise InvalidRequest(f"{path.name} contains no audio samples")
    return audio


def save_png(store: ArtifactStore, image: Image.Image, name: str) -> Artifact:
    """Stores an image as a PNG artifact under a new unguessable URI."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return store.put_bytes(name, buffer.getvalue(), "image/png")


def draw_detections(image: Image.Image, detections: list[Detection]) -> Image.Image:
    """A copy of the image with each detection's box and label drawn, as the reference did."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    width = max(2, round(min(out.size) / 200))
    for det in detections:
        b = det.box
        draw.rectangle([b.x_min, b.y_min, b.x_max, b.y_max], outline=(255, 0, 0), width=width)
        draw.text((b.x_min + 3, max(0.0, b.y_min - 12)), f"{det.label} {det.score:.2f}", fill=(255, 0, 0))
    return out


def draw_keypoints(image: Image.Image, keypoints: list[Keypoint]) -> Image.Image:
    """A copy of the image with each keypoint drawn as a dot."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    r = max(2, round(min(out.size) / 150))
    for kp in keypoints:
        draw.ellipse([kp.x - r, kp.y - r, kp.x + r, kp.y + r], fill=(0, 255, 0))
    return out

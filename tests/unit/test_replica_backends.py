"""The offline backends on their real models with the shared media (slow: each model loads once)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.errors import InvalidRequest
from services.replica.backends import backend_for
from services.replica.backends.base import BackendContext, Handle
from services.replica.results import Input, Request, Result

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/data/media")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> BackendContext:
    return BackendContext(ArtifactStore(tmp_path_factory.mktemp("artifacts"), 50 * 1024 * 1024))


def _upload(ctx: BackendContext, name: str, data: bytes | None = None) -> str:
    return ctx.store.put_bytes(name, data if data is not None else (MEDIA / name).read_bytes()).uri


def _load(ctx: BackendContext, backend: str, model_id: str, task: str) -> Iterator[Handle]:
    handle = backend_for(backend).load(model_id, task, ctx)
    yield handle
    handle.close()


@pytest.fixture(scope="module")
def whisper(ctx: BackendContext) -> Iterator[Handle]:
    yield from _load(ctx, "faster_whisper", "openai/whisper-tiny.en", "automatic-speech-recognition")


@pytest.fixture(scope="module")
def efficientnet(ctx: BackendContext) -> Iterator[Handle]:
    yield from _load(ctx, "efficientnet", "google/efficientnet-lite0", "image-classification")


def _one(handle: Handle, request: Request) -> Result:
    outcome = handle.predict([request])[0]
    assert isinstance(outcome, Result), outcome
    return outcome


def test_whisper_transcribes_the_fox_clip(ctx: BackendContext, whisper: Handle) -> None:
    req = Request(
        "openai/whisper-tiny.en",
        "automatic-speech-recognition",
        (Input("audio", uri=_upload(ctx, "speech_fox.wav")),),
    )
    assert _one(whisper, req).text == "Hello world, the quick brown fox jumps over the lazy dog."


def test_piper_speech_round_trips_through_whisper(ctx: BackendContext, whisper: Handle) -> None:
    piper = backend_for("piper").load("rhasspy/piper-en_US-joe-medium", "text-to-speech", ctx)
    spoken = _one(
        piper,
        Request(
            "rhasspy/piper-en_US-joe-medium",
            "text-to-speech",
            (Input("text", text="The invoice total is due on Friday."),),
        ),
    )
    (wav,) = spoken.artifacts
    assert wav.media_type == "audio/wav" and wav.size_bytes > 10_000
    heard = _one(
        whisper,
        Request("openai/whisper-tiny.en", "automatic-speech-recognition", (Input("audio", uri=wav.uri),)),
    )
    # Piper's synthesis varies a little from run to run ("the end voice total" was heard once), so the
    # check is on the words Whisper always gets back, not on an exact phrase.
    words = set(heard.text.lower().replace(".", " ").replace(",", " ").split())
    assert {"total", "friday"} <= words, heard.text


def test_efficientnet_classifies_the_squirrel_in_a_batch_beside_a_bad_file(
    ctx: BackendContext, efficientnet: Handle
) -> None:
    good = Request(
        "google/efficientnet-lite0",
        "image-classification",
        (Input("image", uri=_upload(ctx, "squirrel_cls.jpg")),),
    )
    fake = Request(
        "google/efficientnet-lite0",
        "image-classification",
        (Input("image", uri=_upload(ctx, "notes.png", b"this is not a PNG")),),
    )
    text_only = Request(
        "google/efficientnet-lite0", "image-classification", (Input("text", text="a squirrel"),)
    )
    first, second, third = efficientnet.predict([good, fake, text_only])
    assert isinstance(first, Result) and "squirrel" in first.labels[0].label and first.labels[0].score > 0.5
    assert isinstance(second, InvalidRequest) and "not a readable image" in second.message
    assert isinstance(third, InvalidRequest) and "artifact" in third.message


def test_a_decompression_bomb_fails_alone_and_its_batch_mate_is_classified(
    ctx: BackendContext, efficientnet: Handle
) -> None:
    from services.replica.backends.efficientnet import EfficientNetHandle
    from services.replica.backends.limits import MediaLimits

    # Our pixel limit off, so Pillow's own DecompressionBombError is what the bomb raises.
    loose = EfficientNetHandle(efficientnet.model, replace(ctx, limits=MediaLimits(max_image_pixels=10**10)))
    buffer = io.BytesIO()
    Image.new("1", (13000, 14000)).save(buffer, format="PNG")
    model, task = "google/efficientnet-lite0", "image-classification"
    good = Request(model, task, (Input("image", uri=_upload(ctx, "squirrel_cls.jpg")),))
    bomb = Request(model, task, (Input("image", uri=_upload(ctx, "bomb.png", buffer.getvalue())),))
    first, second = loose.predict([good, bomb])
    assert isinstance(first, Result) and "squirrel" in first.labels[0].label
    assert isinstance(second, InvalidRequest) and "DecompressionBombError" in second.message


def test_tesseract_reads_the_invoice_total(ctx: BackendContext) -> None:
    ocr = backend_for("tesseract").load("tesseract/eng", "image-to-text", ctx)
    result = _one(
        ocr,
        Request("tesseract/eng", "image-to-text", (Input("image", uri=_upload(ctx, "invoice_text.png")),)),
    )
    assert "$42.50" in result.text


def test_spacy_entities_have_exact_offsets(ctx: BackendContext) -> None:
    nlp = backend_for("spacy").load("spacy/en_core_web_md", "token-classification", ctx)
    text = "Grace Hopper joined the Navy in New York in 1943."
    empty = Request("spacy/en_core_web_md", "token-classification", (Input("text", text="  "),))
    result, bad = nlp.predict(
        [Request("spacy/en_core_web_md", "token-classification", (Input("text", text=text),)), empty]
    )
    assert isinstance(result, Result) and isinstance(bad, InvalidRequest)
    labels = {(e.text, e.label) for e in result.entities}
    assert ("Grace Hopper", "PERSON") in labels and ("1943", "DATE") in labels
    assert all(text[e.start : e.end] == e.text for e in result.entities)


def test_minilm_similarity_and_embeddings_batched(ctx: BackendContext) -> None:
    model = backend_for("minilm").load("sentence-transformers/all-MiniLM-L6-v2", "sentence-similarity", ctx)
    sim = Request(
        "m",
        "sentence-similarity",
        (
            Input("text", text="A cat sits on the mat."),
            Input("text", text="A kitten is sitting on a rug."),
            Input("text", text="Stock markets fell sharply."),
        ),
    )
    emb = Request("m", "feature-extraction", (Input("text", text="hello world"),))
    lonely = Request("m", "sentence-similarity", (Input("text", text="only one"),))
    s, e, bad = model.predict([sim, emb, lonely])
    assert isinstance(s, Result) and s.labels[0].score > 0.5 > s.labels[1].score
    assert isinstance(e, Result) and len(e.vector) == 384
    assert isinstance(bad, InvalidRequest)


def test_silero_hears_speech(ctx: BackendContext) -> None:
    vad = backend_for("silero_vad").load("snakers4/silero-vad", "audio-classification", ctx)
    result = _one(
        vad,
        Request(
            "snakers4/silero-vad",
            "audio-classification",
            (Input("audio", uri=_upload(ctx, "speech_fox.wav")),),
        ),
    )
    assert result.labels[0].label == "speech" and result.extra["segments"]
    not_audio = vad.predict(
        [
            Request(
                "snakers4/silero-vad",
                "audio-classification",
                (Input("audio", uri=_upload(ctx, "noise.wav", b"RIFFjunk")),),
            )
        ]
    )[0]
    assert isinstance(not_audio, InvalidRequest) and "not decodable audio" in not_audio.message


def test_haar_finds_the_face_and_draws_it(ctx: BackendContext) -> None:
    faces = backend_for("haar_face").load("opencv/haarcascade-frontalface", "object-detection", ctx)
    result = _one(
        faces,
        Request(
            "opencv/haarcascade-frontalface",
            "object-detection",
            (Input("image", uri=_upload(ctx, "grace_hopper.jpg")),),
        ),
    )
    assert len(result.detections) == 1
    box = result.detections[0].box
    assert box.x_max > box.x_min and box.y_max > box.y_min
    (drawn,) = result.artifacts
    with Image.open(ctx.store.path(drawn.uri)) as img:
        original = Image.open(MEDIA / "grace_hopper.jpg")
        assert img.size == original.size
        assert img.convert("RGB").getpixel((int(box.x_min), int(box.y_min) + 5)) == (255, 0, 0)

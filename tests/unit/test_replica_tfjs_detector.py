"""The COCO detector (MobileNetV3-CenterNet on TensorFlow.js in a Node.js child) on real and made images."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.errors import HuggingGPTError, InvalidRequest, ModelFailed
from services.replica.backends import backend_for
from services.replica.backends.base import BackendContext
from services.replica.backends.tfjs_detector import SPECS, TfjsDetectorHandle, decode, letterbox, nms, summary
from services.replica.results import Box, Detection, Input, Request, Result
from tests.images import png

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/data/media")
MODEL = "vladmandic/mb3-centernet-coco"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> BackendContext:
    return BackendContext(ArtifactStore(tmp_path_factory.mktemp("artifacts"), 50 * 1024 * 1024))


@pytest.fixture(scope="module")
def detector(ctx: BackendContext) -> Iterator[TfjsDetectorHandle]:
    handle = backend_for("tfjs_detector").load(MODEL, "object-detection", ctx)
    assert isinstance(handle, TfjsDetectorHandle)
    yield handle
    handle.close()


def _collage(copies: int) -> bytes:
    with Image.open(MEDIA / "grace_hopper.jpg") as portrait:
        face = portrait.convert("RGB")
    out = Image.new("RGB", (face.width * copies, face.height), "white")
    for i in range(copies):
        out.paste(face, (i * face.width, 0))
    return png(out)


def _run(handle: TfjsDetectorHandle, ctx: BackendContext, name: str, data: bytes, **params: object) -> Result:
    uri = ctx.store.put_bytes(name, data).uri
    outcome = handle.predict([Request(MODEL, "object-detection", (Input("image", uri=uri),), dict(params))])[0]
    if isinstance(outcome, HuggingGPTError):
        raise outcome
    return outcome


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    assert nms(boxes, np.array([0.5, 0.9, 0.4]), 0.5) == [1, 2]


def test_decode_filters_scales_and_suppresses_per_class() -> None:
    spec = SPECS[MODEL]
    raw = np.array([
        [0, 0, 256, 256, 0.9, 0],      # person, top-left quarter
        [8, 8, 256, 256, 0.8, 0],      # the same person again: suppressed
        [8, 8, 256, 256, 0.7, 32],     # a sports ball on it: another class, kept
        [300, 300, 400, 400, 0.1, 2],  # a car under the threshold
        [0, 0, 10, 10, np.nan, 0],     # garbage rows are ignored
        [0, 0, 10, 10, 0.9, 99],
    ], np.float32)
    found = decode(raw, (1024, 512), 0.5, spec, 0.3)  # a 1024 x 512 image letterboxed into 512 x 256
    assert [(d.label, d.score) for d in found] == [("person", 0.9), ("sports ball", 0.7)]
    assert found[0].box == Box(0.0, 0.0, 512.0, 512.0)


def test_letterbox_keeps_the_aspect_and_pads() -> None:
    array, scale = letterbox(Image.new("RGB", (1024, 256), (255, 255, 255)), 512)
    assert scale == 0.5 and array.shape == (1, 512, 512, 3)
    assert array[0, 127, 511, 0] == 255 and array[0, 128, 0, 0] == 0
    tiny, tiny_scale = letterbox(Image.new("RGB", (1, 1), (9, 9, 9)), 512)
    assert tiny_scale == 512 and tiny[0, 511, 511, 0] == 9


def test_summary_counts_by_label() -> None:
    box = Box(0, 0, 1, 1)
    dets = [Detection("person", 0.9, box), Detection("person", 0.8, box), Detection("dog", 0.5, box)]
    assert summary(dets) == "3 objects: 2 person, 1 dog"
    assert summary([]) == "no objects of COCO's 80 classes detected"


def test_finds_the_person_in_a_portrait_and_draws_the_box(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    result = _run(detector, ctx, "grace_hopper.jpg", (MEDIA / "grace_hopper.jpg").read_bytes())
    people = [d for d in result.detections if d.label == "person"]
    assert len(people) == 1 and people[0].score >= 0.5
    assert result.extra["counts"]["person"] == 1 and "1 person" in result.text
    (drawn,) = result.artifacts
    box = people[0].box
    with Image.open(ctx.store.path(drawn.uri)) as img, Image.open(MEDIA / "grace_hopper.jpg") as original:
        assert img.size == original.size
        assert img.convert("RGB").getpixel((int(box.x_min) + 1, int((box.y_min + box.y_max) / 2))) == (255, 0, 0)


def test_counts_people_in_a_made_collage(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    for copies in (2, 3):
        result = _run(detector, ctx, f"people{copies}.png", _collage(copies))
        assert result.extra["counts"].get("person") == copies, result.text


def test_finds_the_ball_in_a_football_photo(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    result = _run(detector, ctx, "messi5.jpg", (MEDIA / "messi5.jpg").read_bytes())
    labels = {d.label for d in result.detections}
    assert {"person", "sports ball"} <= labels


def test_an_image_with_nothing_to_find_is_an_honest_empty_result(detector: TfjsDetectorHandle,
                                                                 ctx: BackendContext) -> None:
    for name, image in (("grey.png", Image.new("RGB", (640, 480), (128, 128, 128))),
                        ("one_pixel.png", Image.new("RGB", (1, 1), (10, 200, 30)))):
        result = _run(detector, ctx, name, png(image))
        assert result.detections == [] and result.text == "no objects of COCO's 80 classes detected"
        (drawn,) = result.artifacts
        with Image.open(ctx.store.path(drawn.uri)) as img:
            assert img.size == image.size


def test_a_non_image_fails_alone_and_the_model_goes_on(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    bad = ctx.store.put_bytes("notes.png", b"this is not an image").uri
    good = ctx.store.put_bytes("grace_hopper.jpg", (MEDIA / "grace_hopper.jpg").read_bytes()).uri
    outcomes = detector.predict([Request(MODEL, "object-detection", (Input("image", uri=bad),)),
                                 Request(MODEL, "object-detection", (Input("image", uri=good),))])
    assert isinstance(outcomes[0], InvalidRequest) and "not a readable image" in outcomes[0].message
    assert isinstance(outcomes[1], Result) and outcomes[1].detections


def test_a_request_the_node_process_rejects_fails_alone(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    with pytest.raises(ModelFailed, match="failed on this image"):
        detector.process.run(np.zeros((1, 7, 7, 3), np.float32), ["no/such/output"])
    pid = detector.process.pid
    result = _run(detector, ctx, "grace_hopper.jpg", (MEDIA / "grace_hopper.jpg").read_bytes())
    assert result.detections and detector.process.pid == pid


def test_a_dead_node_process_is_started_again(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    assert detector.process._proc is not None
    detector.process._proc.kill()
    detector.process._proc.wait()
    result = _run(detector, ctx, "grace_hopper.jpg", (MEDIA / "grace_hopper.jpg").read_bytes())
    assert any(d.label == "person" for d in result.detections)


def test_concurrent_requests_are_served_one_by_one(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    data = (MEDIA / "messi5.jpg").read_bytes()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: _run(detector, ctx, f"m{i}.jpg", data), range(4)))
    assert len({r.text for r in results}) == 1


def test_threshold_parameter_changes_what_is_kept(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    data = (MEDIA / "messi5.jpg").read_bytes()
    loose = _run(detector, ctx, "m.jpg", data, threshold=0.1)
    strict = _run(detector, ctx, "m.jpg", data, threshold=0.6)
    assert len(loose.detections) > len(strict.detections) >= 1


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header announces width x height pixels, with no image data behind it."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_a_huge_image_is_refused_before_it_is_decoded(detector: TfjsDetectorHandle, ctx: BackendContext) -> None:
    uri = ctx.store.put_bytes("huge.png", _png_header_only(8000, 8000)).uri
    outcome = detector.predict([Request(MODEL, "object-detection", (Input("image", uri=uri),))])[0]
    assert isinstance(outcome, HuggingGPTError) and "pixels" in outcome.message and "limit" in outcome.message

"""Hostile media: audio and image limits checked before decoding, and a bomb that fails only its own request."""

from __future__ import annotations

import io
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.errors import InvalidRequest
from services.replica.backends.base import BackendContext
from services.replica.backends.limits import MediaLimits
from services.replica.backends.media import audio_input, image_input
from services.replica.config import ReplicaConfig
from services.replica.results import Input, Request

RATE = 8000


def _flac(seconds: float, claimed_samples: int | None = None) -> bytes:
    """A FLAC of silence; claimed_samples rewrites the total the STREAMINFO header announces (0: unknown)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="flac") as out:
        stream = out.add_stream("flac", rate=RATE, layout="mono")
        samples = np.zeros((1, int(seconds * RATE)), dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    data = bytearray(buffer.getvalue())
    if claimed_samples is not None:
        assert data[:4] == b"fLaC"
        (word,) = struct.unpack(">Q", data[18:26])  # rate(20) channels(3) bits(5) total samples(36)
        word = (word & ~((1 << 36) - 1)) | claimed_samples
        data[18:26] = struct.pack(">Q", word)
    return bytes(data)


def _ctx(tmp_path: Path, **limits: float) -> BackendContext:
    return BackendContext(ArtifactStore(tmp_path, 64 * 1024 * 1024), limits=replace(MediaLimits(), **limits))


def _request(ctx: BackendContext, slot: str, name: str, data: bytes) -> Request:
    return Request("m", "t", (Input(slot, uri=ctx.store.put_bytes(name, data).uri),))


def test_a_flac_announcing_ten_hours_is_refused_from_its_header_before_decoding(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    bomb = _request(ctx, "audio", "silence.flac", _flac(1.0, claimed_samples=10 * 3600 * RATE))
    with pytest.raises(InvalidRequest, match="HUGGINGGPT_REPLICA_MAX_AUDIO_SECONDS"):
        audio_input(bomb, ctx)


def test_a_flac_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, max_audio_seconds=10.0)
    with pytest.raises(InvalidRequest, match=r"limit is 10 s"):
        audio_input(_request(ctx, "audio", "long.flac", _flac(30.0)), ctx)


def test_a_flac_whose_header_hides_its_length_stops_decoding_at_the_cap(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, max_audio_seconds=10.0)
    with pytest.raises(InvalidRequest, match="HUGGINGGPT_REPLICA_MAX_AUDIO_SECONDS"):
        audio_input(_request(ctx, "audio", "liar.flac", _flac(30.0, claimed_samples=0)), ctx)


def test_audio_within_the_limit_decodes_at_the_asked_rate(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, max_audio_seconds=10.0)
    audio = audio_input(_request(ctx, "audio", "short.flac", _flac(2.0)), ctx, sampling_rate=16000)
    assert audio.dtype == np.float32 and abs(audio.size - 32000) < 1600


def test_audio_that_is_not_audio_is_invalid(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    with pytest.raises(InvalidRequest, match="not decodable audio"):
        audio_input(_request(ctx, "audio", "noise.wav", b"RIFF nonsense"), ctx)


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG")  # 1 bit a pixel: cheap to make, huge as RGB
    return buffer.getvalue()


def test_a_13000_square_png_is_refused_from_its_header(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    data = _png((13000, 13000))
    assert len(data) < 200_000  # a small file that would decode to ~0.5 GB of RGB
    with pytest.raises(InvalidRequest, match="169000000 pixels.*HUGGINGGPT_REPLICA_MAX_IMAGE_PIXELS"):
        image_input(_request(ctx, "image", "bomb.png", data), ctx)


def test_pillows_decompression_bomb_error_becomes_invalid_request(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, max_image_pixels=10**10)  # our limit off: Pillow's own check fires
    with pytest.raises(InvalidRequest, match="DecompressionBombError"):
        image_input(_request(ctx, "image", "bomb.png", _png((13000, 14000))), ctx)


def test_an_image_within_the_limit_is_read(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, max_image_pixels=10_000)
    image, _ = image_input(_request(ctx, "image", "small.png", _png((100, 100))), ctx)
    assert image.mode == "RGB" and image.size == (100, 100)


def test_limits_are_settings_and_bad_values_fail_fast() -> None:
    config = ReplicaConfig.from_env(
        {"HUGGINGGPT_REPLICA_MAX_AUDIO_SECONDS": "90", "HUGGINGGPT_REPLICA_MAX_IMAGE_PIXELS": "1000"}
    )
    assert config.limits == MediaLimits(90.0, 1000)
    assert ReplicaConfig.from_env({}).limits == MediaLimits()
    with pytest.raises(ValueError, match="MAX_IMAGE_PIXELS"):
        ReplicaConfig.from_env({"HUGGINGGPT_REPLICA_MAX_IMAGE_PIXELS": "0"})

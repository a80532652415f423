"""Media limits checked before decoding: audio length (probed, then capped while decoding) and image pixels."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hugginggpt.errors import InvalidRequest

AUDIO_SETTING = "HUGGINGGPT_REPLICA_MAX_AUDIO_SECONDS"
PIXELS_SETTING = "HUGGINGGPT_REPLICA_MAX_IMAGE_PIXELS"


@dataclass(frozen=True)
class MediaLimits:
    """The largest input a model is handed: seconds of audio and pixels of an image."""

    max_audio_seconds: float = 600.0
    max_image_pixels: int = 40_000_000


def check_pixels(name: str, size: tuple[int, int], limits: MediaLimits) -> None:
    """InvalidRequest when an image's header announces more pixels than the limit.

    INVALID_ARGUMENT, not RESOURCE_EXHAUSTED: the file itself is refused, so the router must not try it on
    another replica as it would for a busy one.
    """
    width, height = size
    if width * height > limits.max_image_pixels:
        raise InvalidRequest(
            f"{name} is {width}x{height} = {width * height} pixels; the limit is {limits.max_image_pixels} "
            f"({PIXELS_SETTING}); send a smaller image"
        )


def _too_long(name: str, seconds: float, limits: MediaLimits) -> InvalidRequest:
    return InvalidRequest(
        f"{name} is {seconds:.0f} s of audio or more; the limit is {limits.max_audio_seconds:.0f} s "
        f"({AUDIO_SETTING}); send a shorter clip"
    )


def probe_seconds(container: Any) -> float | None:
    """The duration the container's header announces for its first audio stream; None when it says none."""
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        import av

        return float(container.duration / av.time_base)
    return None


def _frames(container: Any) -> Iterator[Any]:
    """Decoded frames; frames the decoder rejects are skipped, as faster-whisper does."""
    import av

    iterator = container.decode(audio=0)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def decode_audio(path: Path, sampling_rate: int, limits: MediaLimits) -> np.ndarray:
    """Mono float32 audio at the rate; InvalidRequest from the header, or as soon as decoding passes the cap.

    The header can lie (or say nothing), so the decoded length is counted too and decoding stops at the cap:
    memory stays bounded by the limit, not by what the file claims.
    """
    import av

    cap = int(limits.max_audio_seconds * sampling_rate)
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise InvalidRequest(f"{path.name} has no audio stream; send WAV, FLAC or MP3")
        announced = probe_seconds(container)
        if announced is not None and announced > limits.max_audio_seconds:
            raise _too_long(path.name, announced, limits)
        resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=sampling_rate)
        parts: list[np.ndarray] = []
        total = 0
        for frame in _frames(container):
            for out in resampler.resample(frame):
                total += out.samples
                if total > cap:
                    raise _too_long(path.name, total / sampling_rate, limits)
                parts.append(out.to_ndarray().reshape(-1))
        parts.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(parts)[:cap].astype(np.float32) / 32768.0

"""audio-classification (speech / non-speech) with Silero VAD from faster-whisper."""

from __future__ import annotations

from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import audio_input
from services.replica.results import Label, Request, Result

RATE = 16000


class SileroHandle(Handle):
    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx

    def predict_one(self, request: Request) -> Result:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        audio = audio_input(request, self.ctx, RATE)
        spans = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300))
        speech = sum(s["end"] - s["start"] for s in spans) / max(1, audio.size)
        segments = [{"start": round(s["start"] / RATE, 3), "end": round(s["end"] / RATE, 3)} for s in spans]
        labels = sorted(
            [Label("speech", round(speech, 4)), Label("non-speech", round(1 - speech, 4))],
            key=lambda lbl: -lbl.score,
        )
        text = f"speech in {len(spans)} segment(s), {speech:.0%} of {audio.size / RATE:.1f} s"
        return Result(text=text, labels=labels, extra={"segments": segments})


class SileroBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        from faster_whisper.vad import get_vad_model

        get_vad_model()  # loads and caches the ONNX session now, so the first request is not slow
        return SileroHandle(ctx)

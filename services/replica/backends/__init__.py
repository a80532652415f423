"""Model backends, one module per family, looked up by the registry's backend name."""

from __future__ import annotations

import importlib

from services.replica.backends.base import Backend

_BACKENDS = {
    "faster_whisper": "whisper:WhisperBackend",
    "spacy": "spacy_ner:SpacyBackend",
    "minilm": "minilm:MiniLmBackend",
    "tesseract": "tesseract:TesseractBackend",
    "efficientnet": "efficientnet:EfficientNetBackend",
    "piper": "piper_tts:PiperBackend",
    "silero_vad": "silero_vad:SileroBackend",
    "haar_face": "haar_face:HaarBackend",
    "tfjs_detector": "tfjs_detector:TfjsDetectorBackend",
    "apertium": "apertium_mt:ApertiumBackend",
    "llm": "llm_expert:LlmExpertBackend",
    "transformers": "hf_pipeline:PipelineBackend",
    "mediapipe": "mediapipe_models:MediapipeBackend",
    "styletransfer": "style_transfer:StyleTransferBackend",
    "vision_evidence": "vision_evidence:VisionEvidenceBackend",
}
#: Backends that need their own virtual environment and are hosted by their own replica.
SEPARATE_VENV = frozenset({"mediapipe"})


def hosted_here(name: str, only: frozenset[str] | None = None) -> bool:
    """Whether a replica hosts that backend: the listed ones, else all but those needing their own venv."""
    if only is not None:
        return name in only
    return name in _BACKENDS and name not in SEPARATE_VENV


def backend_for(name: str) -> Backend:
    """The backend named in the registry; imported lazily so a broken package breaks only its models."""
    module, cls = _BACKENDS[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)()  # type: ignore[no-any-return]

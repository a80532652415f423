"""image-to-text for documents with tesseract OCR (Debian tesseract-ocr, through pytesseract)."""

from __future__ import annotations

from hugginggpt.errors import NotFound
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import image_input
from services.replica.results import Request, Result


class TesseractHandle(Handle):
    thread_safe = True  # each call is its own tesseract process

    def __init__(self, ctx: BackendContext, lang: str) -> None:
        self.ctx = ctx
        self.lang = lang

    def predict_one(self, request: Request) -> Result:
        return Result(text=read_text(request, self.ctx, self.lang))


def read_text(request: Request, ctx: BackendContext, lang: str = "eng") -> str:
    """The text printed on the request's image, as tesseract reads it."""
    import pytesseract

    image, _ = image_input(request, ctx)
    return str(pytesseract.image_to_string(image, lang=str(request.parameters.get("lang", lang)))).strip()


def check_tesseract() -> None:
    """NotFound unless the tesseract binary and its English data are installed."""
    import pytesseract

    try:
        languages = pytesseract.get_languages(config="")
    except pytesseract.TesseractNotFoundError:
        raise NotFound("the tesseract binary is not installed (apt-get install tesseract-ocr)") from None
    if "eng" not in languages:
        raise NotFound("tesseract has no English data (apt-get install tesseract-ocr-eng)")


class TesseractBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        check_tesseract()
        return TesseractHandle(ctx, "eng")

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
        import pytesseract

        image, _ = image_input(request, self.ctx.store)
        text = pytesseract.image_to_string(image, lang=str(request.parameters.get("lang", self.lang)))
        return Result(text=text.strip())


class TesseractBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        import pytesseract

        try:
            languages = pytesseract.get_languages(config="")
        except pytesseract.TesseractNotFoundError:
            raise NotFound("the tesseract binary is not installed (apt-get install tesseract-ocr)") from None
        if "eng" not in languages:
            raise NotFound("tesseract has no English data (apt-get install tesseract-ocr-eng)")
        return TesseractHandle(ctx, "eng")

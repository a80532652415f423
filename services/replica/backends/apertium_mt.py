"""translation with Apertium's rule-based (shallow-transfer) English-Spanish pair from Debian (apertium-eng-spa).

No neural MT model ships in a package this project can install (see benchmarks/RESULTS.md, translation), so
this pair is the offline floor beside the LLM expert. One model id per direction, named like the Hub's
OPUS-MT ids so the selector reads the pair from it: apertium/apertium-en-es runs the eng-spa mode. A request
whose target_language names another language is refused (InvalidRequest), so the executor falls back to
the next candidate (the LLM expert) instead of returning text in the wrong language.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from hugginggpt import languages
from hugginggpt.errors import InvalidRequest, ModelFailed, NotFound
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import text_input
from services.replica.results import Request, Result

#: model id -> Apertium mode (installed under /usr/share/apertium/modes by the Debian pair packages).
MODES = {
    "apertium/apertium-en-es": "eng-spa",
    "apertium/apertium-es-en": "spa-eng",
}
MODES_DIR = Path("/usr/share/apertium/modes")
MAX_CHARS = 20000


def pair_of(model_id: str) -> tuple[str, str]:
    src, tgt = model_id.rsplit("-", 2)[-2:]
    return src, tgt


def target_code(request: Request) -> str | None:
    """The code of the request's target_language parameter ("Spanish", "es", "spa"), if it names one."""
    raw = str(request.parameters.get("target_language") or request.parameters.get("tgt_lang") or "").strip()
    if not raw:
        return None
    low = raw.lower()
    if low in languages.NAMES:
        return low
    code = languages.target(f"into {raw}")
    return code or {"spa": "es", "eng": "en"}.get(low[:3])


def _tidy(line: str) -> str:
    """Apertium's output line without the doubled spaces and the space before punctuation it leaves."""
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", line)).strip()


class ApertiumHandle(Handle):
    thread_safe = True  # each call is its own process

    def __init__(self, binary: str, mode: str, pair: tuple[str, str]) -> None:
        self.binary, self.mode, self.pair = binary, mode, pair

    def predict_one(self, request: Request) -> Result:
        text = text_input(request)
        src, tgt = self.pair
        wanted = target_code(request)
        if wanted and wanted != tgt:
            raise InvalidRequest(
                f"{request.model_id} translates {languages.name(src)} into {languages.name(tgt)} only; "
                f"this request asks for {languages.name(wanted)}"
            )
        if len(text) > MAX_CHARS:
            raise InvalidRequest(f"text of {len(text)} characters is over this model's {MAX_CHARS}")
        timeout = max(5.0, min(60.0, request.timeout or 60.0))
        try:
            done = subprocess.run(  # noqa: S603 - fixed binary and a mode from our own table
                [self.binary, "-u", self.mode], input=text, capture_output=True, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ModelFailed(f"apertium {self.mode} did not finish within {timeout:.0f} s") from None
        if done.returncode != 0:
            raise ModelFailed(f"apertium {self.mode} failed: {done.stderr.strip()[-300:]}")
        out = "\n".join(_tidy(line) for line in done.stdout.strip().splitlines())
        return Result(text=out, extra={"source_language": src, "target_language": tgt, "engine": "apertium"})


class ApertiumBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        mode = MODES.get(model_id)
        if mode is None:
            raise NotFound(f"{model_id!r} is not an Apertium pair this replica knows")
        binary = shutil.which("apertium")
        if binary is None or not (MODES_DIR / f"{mode}.mode").is_file():
            raise NotFound(f"Apertium's {mode} pair is not installed (Debian packages apertium and "
                           f"apertium-{mode}); run scripts/setup.sh")
        return ApertiumHandle(binary, mode, pair_of(model_id))

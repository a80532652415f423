"""hugginggpt/vision-evidence: visual-question-answering and image description offline, from evidence.

No vision-language model ships with weights in any package (benchmarks/RESULTS.md, captioning / VQA), so this
model looks at the image through the offline models that do: the COCO object detector (tfjs_detector), the
ImageNet classifier (efficientnet) and Tesseract OCR, run on the image at once. Then:

- counting ("how many people") and presence ("is there a cup") of COCO classes are answered from the detector's
  counts at its own score threshold, by code (no LLM arithmetic);
- "what does it say" is answered with the OCR text;
- colours, actions, feelings, positions are refused plainly: nothing offline sees them;
- any other question, and a description (image-to-text), are written by the controller LLM from that evidence
  only, the OCR text fenced as untrusted data; an answer that names a number the evidence lacks, or repeats
  what an instruction inside the image ordered, is not used, and the evidence is stated instead.

Every answer says which route answered, and the annotated image of the detector comes back with it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hugginggpt import untrusted
from hugginggpt.domain import Artifact
from hugginggpt.errors import DeadlineExceeded, HuggingGPTError, InvalidRequest, Unavailable
from hugginggpt.llm import Usage
from hugginggpt.prompts import PromptFiles, PromptTemplate
from services.replica.backends.base import AsyncHandle, Backend, BackendContext, Handle
from services.replica.backends.media import image_input, text_input
from services.replica.backends.tesseract import check_tesseract, read_text
from services.replica.backends.tfjs_detector import SPECS
from services.replica.backends.vision_questions import Kind, count_answer, counted, named, presence_answer, read
from services.replica.results import Detection, Label, Request, Result

DETECTOR = "vladmandic/mb3-centernet-coco"
CLASSIFIER = "google/efficientnet-lite0"
TASKS = ("visual-question-answering", "image-to-text")
MAX_QUESTION_CHARS = 1000
UNSURE = 0.5  # a classifier guess under this is called a possibility
PROMPTS = PromptFiles("services.replica")

NO_VLM = "no vision-language model runs offline"
ROUTES = {
    "detection": f"answered from object detection (COCO's 80 classes) — {NO_VLM}",
    "ocr": f"answered from the text read by OCR (Tesseract) — {NO_VLM}",
    "unseen": f"not answerable from object detection, image classification and OCR — {NO_VLM}",
    "llm": f"answered by the LLM from object detection, image classification and OCR results only — {NO_VLM}",
    "llm-describe": f"described by the LLM from object detection, image classification and OCR results only — "
                    f"{NO_VLM}",
    "evidence": f"stated from object detection, image classification and OCR results — {NO_VLM}",
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DECIMAL = re.compile(r"\d[.,]\d")
_ECHO = re.compile(r"\((?:likely|unsure)\)", re.IGNORECASE)
_HEDGE = re.compile(r"\b(?:possibly|perhaps|maybe|may|might|could|likely|probably|appears?|seems?|guess)\b",
                    re.IGNORECASE)
_CANNOT = re.compile(r"^\W*(?:cannot tell|can't tell|unknown|not (?:stated|known|given|in the evidence)|"
                     r"the evidence does not)", re.IGNORECASE)


@dataclass(frozen=True)
class Evidence:
    """What the offline models saw in one image."""

    detections: list[Detection]
    labels: list[Label]
    text: str  # OCR text as read: untrusted
    threshold: float
    annotated: Artifact | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> Counter[str]:
        return Counter(d.label for d in self.detections)

    @property
    def best_scores(self) -> dict[str, float]:
        best: dict[str, float] = {}
        for d in self.detections:
            best[d.label] = max(best.get(d.label, 0.0), d.score)
        return best

    def objects(self) -> str:
        if not self.detections:
            return f"no objects of COCO's 80 classes at score {self.threshold:.2f} or above"
        best = self.best_scores
        return ", ".join(f"{n} {counted(label, n)} (best {best[label]:.2f})" for label, n in self.counts.most_common())

    def guesses(self) -> str:
        return ", ".join(f"{label.label} {label.score:.2f}" for label in self.labels) or "none"

    def for_llm(self) -> str:
        """The evidence as the LLM reads it, the OCR text defused and fenced as data."""
        objects = ", ".join(f"{n} {counted(label, n)}" for label, n in self.counts.most_common()) or "none"
        written = untrusted.fence(untrusted.defuse(self.text).text, "the image (OCR)") if self.text else (
            "no text in the image")
        guesses = ", ".join(f"{g.label} ({'likely' if g.score >= UNSURE else 'unsure'})"
                            for g in self.labels if g.score >= 0.1) or "none"
        return (f"- objects detected: {objects}\n- image classifier's guesses: {guesses}\n"
                f"- text read by OCR: {written}")

    def sentence(self) -> str:
        """The evidence in plain words, for the user."""
        found = (f"The object detector found {self.objects()}" if self.detections
                 else "The object detector found no objects of COCO's 80 classes")
        guess = ""
        if self.labels:
            top = self.labels[0]
            guess = f"; the image classifier's best guess is “{top.label}” ({top.score:.2f}" + (
                ", unsure)" if top.score < UNSURE else ")")
        text = f"; OCR read: “{_flat(untrusted.defuse(self.text).text, 200)}”" if self.text else "; OCR read no text"
        return f"{found}{guess}{text}."


class VisionEvidenceHandle(AsyncHandle):
    def __init__(self, detector: Handle, classifier: Handle, ctx: BackendContext, llm: Any,
                 prompts: dict[str, str]) -> None:
        self.detector, self.classifier, self.ctx, self.llm = detector, classifier, ctx, llm
        self.system = prompts["system"]
        self.templates = {task: PromptTemplate(task, prompts[task]) for task in TASKS}
        self.threshold = SPECS[DETECTOR].min_score

    async def arun(self, request: Request) -> Result:
        if request.task_type not in TASKS:
            raise InvalidRequest(f"{request.model_id} serves {', '.join(TASKS)}, not {request.task_type}")
        question = _question(request) if request.task_type == "visual-question-answering" else ""
        await asyncio.to_thread(image_input, request, self.ctx)  # not an image, or too big: refused before the models
        evidence = await self._evidence(request)
        usage = Usage()
        if question:
            answer, route = await self._answer(question, evidence, request, usage)
        else:
            answer, route = await self._describe(evidence, request, usage)
        extra = {"route": route, "counts": dict(evidence.counts), "threshold": evidence.threshold,
                 "classifier": evidence.labels[0].label if evidence.labels else "", "ocr_chars": len(evidence.text),
                 "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                 **{f"{name}_ms": ms for name, ms in evidence.timings.items()}}
        artifacts = [evidence.annotated] if evidence.annotated and evidence.detections else []
        return Result(text=f"{answer} ({ROUTES[route]}.)", artifacts=artifacts, extra=extra)

    async def _evidence(self, request: Request) -> Evidence:
        """The detector, the classifier and OCR on the image, at once."""
        detection, classification, (text, ocr_ms) = await asyncio.gather(
            _timed(self.detector, request, DETECTOR, "object-detection", {}),
            _timed(self.classifier, request, CLASSIFIER, "image-classification", {"top_k": 3}),
            asyncio.to_thread(_ocr, request, self.ctx),
        )
        (found, detect_ms), (classified, classify_ms) = detection, classification
        return Evidence(found.detections, classified.labels, _readable(text), self.threshold,
                        found.artifacts[0] if found.artifacts else None,
                        {"detect": detect_ms, "classify": classify_ms, "ocr": ocr_ms})

    async def _answer(self, question: str, evidence: Evidence, request: Request, usage: Usage) -> tuple[str, str]:
        asked = read(question)
        if asked.kind == Kind.COUNT:
            return count_answer(asked, evidence.counts, evidence.best_scores, evidence.threshold), "detection"
        if asked.kind == Kind.PRESENCE:
            return presence_answer(asked, evidence.counts, evidence.best_scores, evidence.threshold), "detection"
        if asked.kind == Kind.TEXT:
            if not evidence.text:
                return "OCR read no text in the image.", "ocr"
            return f"The text in the image reads: “{_flat(untrusted.defuse(evidence.text).text, 400)}”", "ocr"
        if asked.kind == Kind.UNSEEN:
            what = (f"the detector counts only COCO's 80 classes, and “{asked.noun}” is not one of them"
                    if asked.noun else "no offline model sees colours, actions, feelings, places or who someone is")
            return f"Cannot tell: {what}. {evidence.sentence()}", "unseen"
        reply = await self._ask("visual-question-answering", evidence, request, usage, question=question)
        if reply is None:
            return f"Cannot answer this without the LLM, which could not be reached. {evidence.sentence()}", "evidence"
        if not reply or _CANNOT.match(reply):
            return f"Cannot tell from what the offline models see. {evidence.sentence()}", "unseen"
        return reply, "llm"

    async def _describe(self, evidence: Evidence, request: Request, usage: Usage) -> tuple[str, str]:
        """The LLM's description if it names every class detected, else the evidence stated plainly."""
        reply = await self._ask("image-to-text", evidence, request, usage)
        if not reply or not _describes(reply, evidence):
            return evidence.sentence(), "evidence"
        return reply, "llm-describe"

    async def _ask(self, task: str, evidence: Evidence, request: Request, usage: Usage,
                   question: str = "") -> str | None:
        """The LLM's reply from the evidence; "" when it is not usable (a number the evidence lacks, or what an
        instruction inside the image ordered), None when the LLM cannot be reached."""
        if self.llm is None:
            return None
        prompt = self.templates[task].render(evidence=evidence.for_llm(), question=question)
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": prompt}]
        try:
            reply = await self.llm.complete(messages, usage, max_tokens=80 if question else 120,
                                            timeout=request.timeout)
        except (Unavailable, DeadlineExceeded):
            return None
        reply = _flat(reply, 600)
        ordered = untrusted.payloads(untrusted.instructions(evidence.text))
        if untrusted.repeats_payload(reply, ordered) or not _numbers_grounded(reply, f"{prompt}"):
            return ""
        return reply

    def close(self) -> None:
        self.detector.close()
        self.classifier.close()


def _describes(reply: str, evidence: Evidence) -> bool:
    """Whether a reply reads as a description of the evidence: it names every class detected, in at most two
    sentences, without scores or the evidence's own tags (a list of guesses echoed back is not a description),
    and states no unsure classifier guess as a fact."""
    if _CANNOT.match(reply) or _DECIMAL.search(reply) or _ECHO.search(reply) or \
            len(re.findall(r"[.!?](?:\s|$)", reply)) > 2:
        return False
    if not all(named(label, reply) for label in evidence.counts):
        return False
    hedged = _HEDGE.search(reply) is not None
    unsure = [g.label for g in evidence.labels if g.score < UNSURE and g.label.lower() in reply.lower()]
    return hedged or not unsure


def _question(request: Request) -> str:
    question = text_input(request, "question").strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidRequest(f"the question is {len(question)} characters; the limit is {MAX_QUESTION_CHARS}")
    return question


async def _timed(handle: Handle, request: Request, model_id: str, task: str,
                 parameters: dict[str, Any]) -> tuple[Result, float]:
    """One of the evidence models on the request's image (its errors are this request's errors)."""
    inner = Request(model_id, task, request.inputs, parameters, request.timeout)
    started = time.perf_counter()
    outcome = (await asyncio.to_thread(handle.predict, [inner]))[0]
    if isinstance(outcome, HuggingGPTError):
        raise outcome
    return outcome, round((time.perf_counter() - started) * 1000, 1)


def _ocr(request: Request, ctx: BackendContext) -> tuple[str, float]:
    started = time.perf_counter()
    text = read_text(request, ctx)
    return text, round((time.perf_counter() - started) * 1000, 1)


def _readable(text: str) -> str:
    """The OCR lines that hold words (a photo's texture read as stray letters is dropped); blank lines, which
    end sentences, are kept."""
    lines = []
    for line in text.splitlines():
        letters = sum(c.isalpha() for c in line)
        if not line.strip() or (re.search(r"[A-Za-z]{3,}", line) and letters >= 0.5 * len(line.replace(" ", ""))):
            lines.append(line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _numbers_grounded(reply: str, evidence: str) -> bool:
    """Whether every number in the reply is in the evidence or the question (scores as written included)."""
    known = set(_NUMBER.findall(evidence))
    return all(n in known for n in _NUMBER.findall(reply))


def _flat(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


class VisionEvidenceBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        from services.replica.backends import backend_for
        from services.replica.models import resident_bytes

        check_tesseract()
        detector = backend_for("tfjs_detector").load(DETECTOR, "object-detection", ctx)
        before = resident_bytes()
        try:
            classifier = backend_for("efficientnet").load(CLASSIFIER, "image-classification", ctx)
        except BaseException:
            detector.close()
            raise
        handle = VisionEvidenceHandle(detector, classifier, ctx, ctx.llm, PROMPTS.json("vision.json"))
        handle.memory_bytes = detector.memory_bytes + max(0, resident_bytes() - before)
        return handle

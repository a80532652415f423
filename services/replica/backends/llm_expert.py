"""hugginggpt/llm-expert: the controller LLM as the expert for generative text tasks, prompts from data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hugginggpt import untrusted
from hugginggpt.errors import InvalidRequest, ModelFailed, Unavailable
from hugginggpt.llm import Usage
from hugginggpt.prompts import PromptFiles, PromptTemplate, TemplateError
from services.replica.backends.base import AsyncHandle, Backend, BackendContext, Handle
from services.replica.backends.media import text_input, texts_input
from services.replica.backends.tesseract import check_tesseract, read_text
from services.replica.results import Label, Request, Result

PROMPTS = PromptFiles("services.replica")
DEFAULT_LABELS = ("positive", "negative", "neutral")


class LlmExpertHandle(AsyncHandle):
    def __init__(self, client: Any, prompts: dict[str, Any], ctx: BackendContext | None = None) -> None:
        self.client = client
        self.ctx = ctx  # for document-question-answering: where the document image is read from
        self.system: str = prompts["system"]
        self.templates = {task: PromptTemplate(task, text) for task, text in prompts["tasks"].items()}

    async def arun(self, request: Request) -> Result:
        template = self.templates.get(request.task_type)
        if template is None:
            raise InvalidRequest(f"llm-expert does not serve {request.task_type}; it serves {sorted(self.templates)}")
        labels: list[str] = []
        if request.task_type == "document-question-answering":
            variables = await self._document(request)
        else:
            variables, labels = _variables(request)
        try:
            prompt = template.render(**variables)
        except TemplateError as exc:  # strict rendering: a missing variable is a bug, not a silent blank
            raise ModelFailed(str(exc)) from None
        usage = Usage()
        schema = _label_schema(labels) if labels else None
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": prompt}]
        max_tokens = int(request.parameters.get("max_tokens", 64 if labels else 384))
        text = (
            await self.client.complete(messages, usage, schema=schema, max_tokens=max_tokens, timeout=request.timeout)
        ).strip()
        _refuse_obeyed(text, variables)
        extra = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
        if labels:
            label = _parse_label(text, labels)
            # The LLM picks a label; it gives no calibrated probability, so the score only marks the pick.
            return Result(text=label, labels=[Label(label, 1.0)], extra={**extra, "uncalibrated": True})
        return Result(text=text, extra=extra)


    async def _document(self, request: Request) -> dict[str, str]:
        """The question and, as its context, the document image's text read by tesseract (as Hugging Face's
        LayoutLM document-QA pipeline reads the page with tesseract before its QA model answers)."""
        if self.ctx is None:
            raise ModelFailed("document-question-answering needs the replica's artifact store")
        question = text_input(request)
        text = await asyncio.to_thread(read_text, request, self.ctx)
        if not text:
            raise ModelFailed("tesseract found no text in the document image, so there is nothing to answer from")
        return {"question": question, "context": untrusted.fence(untrusted.defuse(text).text, "the document"),
                "raw_context": text}


def _refuse_obeyed(answer: str, variables: dict[str, str]) -> None:
    """ModelFailed when the answer says what an instruction inside the document or context wanted said."""
    found = untrusted.payloads(untrusted.instructions(variables.get("raw_context", "")))
    if phrase := untrusted.repeats_payload(answer, found):
        raise ModelFailed(f"the answer repeated what an instruction inside the document ordered ({phrase!r}); "
                          "it was not used")


def _variables(request: Request) -> tuple[dict[str, str], list[str]]:
    p = request.parameters
    named = {i.name: i.text for i in request.inputs if i.text is not None}
    texts = texts_input(request)
    if request.task_type == "question-answering":
        question = named.get("question") or (texts[0] if texts else "")
        context = named.get("context") or str(p.get("context", "")) or (texts[1] if len(texts) > 1 else "")
        if not question or not context:
            raise InvalidRequest(
                "question-answering needs a question and a context (two text inputs, "
                "or inputs named question and context)"
            )
        fenced = untrusted.fence(untrusted.defuse(context).text, "the context")
        return {"question": question, "context": fenced, "raw_context": context}, []
    text = text_input(request)
    labels = [str(x) for x in p.get("labels", DEFAULT_LABELS)] if request.task_type == "text-classification" else []
    return {
        "text": untrusted.fence(text, "the input"),
        "max_words": str(int(p.get("max_words", 60))),
        "target_language": str(p.get("target_language") or p.get("tgt_lang") or "English"),
        "labels": ", ".join(labels),
    }, labels


def _label_schema(labels: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": labels}},
        "required": ["label"],
    }


def _parse_label(text: str, labels: list[str]) -> str:
    try:
        value = str(json.loads(text).get("label", ""))
    except (ValueError, AttributeError):
        value = text
    for label in labels:
        if label.lower() in value.lower():
            return label
    raise ModelFailed(f"the LLM answered {text[:80]!r}, which is none of the labels {labels}")


class LlmExpertBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        if ctx.llm is None:
            raise Unavailable("no LLM is configured for the expert (set HUGGINGGPT_EXPERT_LLM_BASE_URL)")
        if task_type == "document-question-answering":
            check_tesseract()
        return LlmExpertHandle(ctx.llm, PROMPTS.json("expert.json"), ctx)

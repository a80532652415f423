"""Which task types a request asks for, in order: each clause matched against phrases written for each type.

A small LLM picks the wrong task type for plain requests ("extract the text from this image" planned as
text generation) and stops after the first one or two of several. Retrieval does better at both: the
request is cut into clauses, each clause is embedded (all-MiniLM-L6-v2) and compared with phrases that say
how people ask for each type (`prompts/intents.json`, written for this project); a clause closest to the
"none" phrases (context: "I have a photo named a.jpg") asks for nothing. The planner shows the LLM what was
found, or fixes the plan's task types to it (HUGGINGGPT_PLANNER_GUIDE), and the LLM writes the arguments
and dependencies.

A comma-separated list of requests ("enhance this image, identify the table") is cut where each verb
phrase starts, found by a dependency parse (services.planner.coordination). Three rules sharpen the
match. Quoted text is what the request works on, not what it asks for: a clause is never cut inside
quotes, and a long quote is embedded as "the passage" (or "the question", when it is one), so a pasted
article does not read as a request. A clause that names a type on offer, by its name or an alias ("use a
question answering model", "tag the parts of speech"), asks for that type, unless a one-word name refers to
a result ("read that translation aloud"). A type asked for twice belongs to the clause that asks for it
most clearly ("I have a contract image. ... What is the company's name in the document?"). Each proposal keeps
the clause's other types above the threshold, best first, for the wiring to fall back on when the first
cannot be fed (`wiring.wire`). When no clause reaches the threshold, the clause leaning most to a task
(above FLOOR, and closer to a task than to context) asks for its type: one guess from retrieval is safer
than a free-hand plan from a small LLM.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from hugginggpt.embedding import Embedder
from services.planner.templates import PROMPTS

# Clause boundaries: the end of a sentence, or a word that starts the next step.
_STEP_WORDS = r"(?:and then|then|after that|afterwards|and finally|finally|also|next|subsequently|and)"
_SPLIT = re.compile(rf"(?<=[.?!;\x01])\s+|,?\s+{_STEP_WORDS}\s+", re.IGNORECASE)
_LEADING = re.compile(rf"^{_STEP_WORDS},?\s+", re.IGNORECASE)
# A quote opens after a non-word character and closes before one, so "I've" and "company's" stay words.
_QUOTE = re.compile(r"""(?<!\w)['"\u2018\u201c](.+?)['"\u2019\u201d](?!\w)""", re.DOTALL)
# Where a quote was while the request is cut into clauses; \x01 closes one that ends a sentence ('... 1918.')
_HOLE = re.compile("\x00(\\d+)[\x00\x01]")
QUOTE_WORDS = 4  # a quote of this many words or more is embedded as "the passage" / "the question"
MIN_WORDS = 2  # a single word ("Ok!", "Thanks.") asks for nothing
# THRESHOLD and FLOOR hold when prompts/fitted.json does not (it holds those fitted by `hugginggpt eval plan
# --folds K --fit-out`, with an offset per type; the folds give the figure held out from the fitting).
THRESHOLD = 0.40  # a clause asks for a type when its score reaches this (hand-tuned on the TaskBench dev subset)
FLOOR = 0.30  # when no clause reaches THRESHOLD, the best clause at or above this asks for its type
TOP = 2  # a type's score for a clause: the mean similarity of its TOP closest phrases
NONE = ""  # the label of the context phrases
FITTED = "fitted.json"  # in prompts/: the threshold, floor and offsets fitted on data for the written phrases
# Words before a noun that make it refer to something already there ("that translation", "its summary").
_REFERS = frozenset(("the", "that", "this", "these", "those", "its", "my", "your", "our", "their"))
Cuts = Callable[[str], Sequence[int]]  # where a text's listed verb phrases start (coordination.VerbLists.cuts)


@dataclass(frozen=True)
class Proposal:
    """A task type the request asks for, the clause that asks for it, and how sure the match is (cosine)."""

    type: str
    clause: str
    score: float
    alternatives: tuple[str, ...] = ()  # the clause's other types above the threshold, best first


def split_clauses(text: str, cuts: Cuts | None = None) -> list[str]:
    """The request's clauses, in order, never cut inside quotes; pieces of fewer than MIN_WORDS words are dropped.

    `cuts` gives where listed verb phrases start in a piece (coordination.VerbLists.cuts); each is a clause."""
    return [clause for clause, _ in _clauses(text, cuts)]


def _clauses(text: str, cuts: Cuts | None = None) -> list[tuple[str, str]]:
    """Each clause, and the text to embed for it: long quotes stand in as "the passage" or "the question"."""
    text = text.replace("\x00", " ").replace("\x01", " ")  # the marks below; never meaningful in a request
    quotes: list[str] = []

    def hole(match: re.Match[str]) -> str:
        quotes.append(match.group(0))
        return f"\x00{len(quotes) - 1}" + ("\x01" if match.group(1).rstrip()[-1:] in ".?!" else "\x00")

    def restore(piece: str) -> str:
        return _HOLE.sub(lambda m: quotes[int(m.group(1))], piece)

    def stand_in(piece: str) -> str:
        def one(m: re.Match[str]) -> str:
            quote = quotes[int(m.group(1))]
            if len(quote.split()) < QUOTE_WORDS:
                return quote
            return "the question" if quote[1:-1].rstrip().endswith("?") else "the passage"
        return _HOLE.sub(one, piece)

    pieces = [_LEADING.sub("", piece.strip()) for piece in _SPLIT.split(_QUOTE.sub(hole, text)) if piece]
    if cuts is not None:
        pieces = [part for piece in pieces for part in _cut(piece, cuts)]
    clauses = [(restore(piece), stand_in(piece)) for piece in pieces]
    return [(clause, shown) for clause, shown in clauses if len(clause.split()) >= MIN_WORDS]


def _cut(piece: str, cuts: Cuts) -> list[str]:
    """The piece cut where a listed verb phrase starts (coordination.VerbLists); a piece holding a quote stays whole."""
    if "\x00" in piece:
        return [piece]
    offsets = [0, *(o for o in cuts(piece) if 0 < o < len(piece)), len(piece)]
    parts = (_LEADING.sub("", piece[a:b].strip(" ,")) for a, b in zip(offsets, offsets[1:], strict=False))
    return [part for part in parts if part]


def words(text: str) -> str:
    """The text's lower-case words, space-separated and space-padded ("Text-to-Speech" -> " text to speech ")."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def _names(spoken: str, said: str) -> bool:
    """Whether a clause's words (`said`) name the type spoken as `spoken` (both from `words`).

    A one-word name after a definite, demonstrative or possessive word is a result, not a request: "convert
    that translation into audio" asks for speech, not for a translation."""
    if spoken not in said:
        return False
    name = spoken.split()
    if len(name) > 1:
        return True
    tokens = said.split()
    return any(word == name[0] and (i == 0 or tokens[i - 1] not in _REFERS) for i, word in enumerate(tokens))


class ClauseScorer(Protocol):
    """How strongly each clause asks for each type: a matrix clauses x `names` (NONE among them) of scores."""

    def scores(self, vectors: np.ndarray, names: Sequence[str]) -> np.ndarray: ...


class PhraseScorer:
    """A type's score for a clause: the mean cosine of its TOP closest written phrases (`prompts/intents.json`)."""

    def __init__(self, phrases: Mapping[str, Sequence[str]], context: Sequence[str], embedder: Embedder) -> None:
        texts: list[str] = []
        labels: list[str] = []
        for name, items in [*phrases.items(), (NONE, context)]:
            if len(items) < TOP:
                raise ValueError(f"intent bank: {name or 'none'!r} needs at least {TOP} phrases, has {len(items)}")
            texts.extend(items)
            labels.extend([name] * len(items))
        self._rows = {name: np.flatnonzero(np.array(labels) == name) for name in dict.fromkeys(labels)}
        self._matrix = embedder.embed(texts)

    def scores(self, vectors: np.ndarray, names: Sequence[str]) -> np.ndarray:
        similarity = vectors @ self._matrix.T  # clauses x phrases
        out = np.zeros((len(vectors), len(names)))
        for j, name in enumerate(names):
            out[:, j] = np.sort(similarity[:, self._rows[name]], axis=1)[:, -TOP:].mean(axis=1)
        return out


@dataclass(frozen=True)
class Scored:
    """A request's clauses with each offered type's score (before any threshold): what `IntentBank.decide` reads."""

    clauses: tuple[str, ...]
    names: tuple[str, ...]  # the columns: the offered types, then NONE
    scores: np.ndarray  # clauses x names
    vectors: np.ndarray  # clauses x dims: what was embedded for each clause (what a finder is fitted on)


class IntentBank:
    """Phrases by task type, embedded once; proposes the types a request's clauses ask for.

    `scorer` replaces the phrase match (a classifier fitted on labelled clauses, services.planner.typefinder);
    the types and their names still come from `phrases`."""

    def __init__(self, phrases: Mapping[str, Sequence[str]], context: Sequence[str], embedder: Embedder,
                 threshold: float = THRESHOLD, floor: float = FLOOR, cuts: Cuts | None = None,
                 aliases: Mapping[str, Sequence[str]] | None = None, scorer: ClauseScorer | None = None) -> None:
        self._embedder = embedder
        self._scorer = scorer or PhraseScorer(phrases, context, embedder)
        self.types = tuple(phrases)
        # How a clause names a type: its own name, and other names it goes by ("named entity recognition").
        self._spoken = {name: (words(name), *(words(a) for a in (aliases or {}).get(name, ())))
                        for name in self.types}
        self.threshold = threshold
        self.floor = min(floor, threshold)
        self.offsets: dict[str, float] = {}  # added to a type's scores (none unless fitted)
        self._cuts = cuts

    @property
    def scores_phrases(self) -> bool:
        """Whether clauses are scored by written phrases (cosines) rather than a fitted scorer (probabilities)."""
        return isinstance(self._scorer, PhraseScorer)

    @classmethod
    def load(cls, embedder: Embedder, cuts: Cuts | None = None, *, threshold: float | None = None,
             floor: float | None = None, scorer: ClauseScorer | None = None) -> IntentBank:
        """The bank in services/planner/prompts/intents.json (with a fitted `scorer` and thresholds, if given).

        The written phrases' threshold, floor and offsets are those fitted on data (`prompts/fitted.json`, made
        by `hugginggpt eval plan --folds K --fit-out`), when that file is there and was fitted for them."""
        raw = load_phrases()
        fit = load_fit() if scorer is None else {}
        bank = cls(raw["types"], raw["none"], embedder, cuts=cuts, aliases=raw.get("aliases"), scorer=scorer)
        return bank.fitted(fit.get("threshold", THRESHOLD) if threshold is None else threshold,
                           fit.get("floor", FLOOR) if floor is None else floor, fit.get("offsets"))

    def fitted(self, threshold: float, floor: float, offsets: Mapping[str, float] | None = None) -> IntentBank:
        """This bank at another threshold, floor and offsets by type (chosen on data: services.planner.folds)."""
        bank = copy.copy(self)
        bank.threshold, bank.floor = threshold, min(floor, threshold)
        bank.offsets = dict(offsets or {})
        return bank

    def clauses(self, request: str) -> list[str]:
        """The request's clauses, cut as propose() cuts them."""
        return split_clauses(request, self._cuts)

    def propose(self, request: str, offered: Collection[str]) -> list[Proposal]:
        """The offered types the request's clauses ask for, each once, in the order the request asks."""
        scored = self.score(request, offered)
        return self.decide(scored) if scored is not None else []

    def score(self, request: str, offered: Collection[str]) -> Scored | None:
        """Each clause's score for each offered type (None: fewer than one type on offer); the costly half."""
        names = (*(n for n in self.types if n in offered), NONE)
        if len(names) < 2:
            return None
        clauses = _clauses(request, self._cuts) or [(request.strip(), request.strip())]
        # The request itself rides along: the demo choice embeds it next (see embedding.RecentEmbeddings).
        vectors = self._embedder.embed([*(shown for _, shown in clauses), request.strip()])[: len(clauses)]
        scores = self._scorer.scores(vectors, names)
        for i, (clause, _) in enumerate(clauses):
            said = words(clause)
            for j, name in enumerate(names):  # a clause that names a type ("a question answering model") asks for it
                if name != NONE and any(_names(spoken, said) for spoken in self._spoken[name]):
                    scores[i, j] = 1.0
        return Scored(tuple(c for c, _ in clauses), names, scores, vectors)

    def decide(self, scored: Scored, threshold: float | None = None, floor: float | None = None,
               offsets: Mapping[str, float] | None = None) -> list[Proposal]:
        """The proposals from `scored` at this bank's threshold, floor and offsets (or those given: fitting tries
        many). An offset is added to one type's scores: a type the scores over- or under-rate (fitted on data)."""
        threshold = self.threshold if threshold is None else threshold
        floor = min(self.floor if floor is None else floor, threshold)
        offsets = self.offsets if offsets is None else offsets
        shifted = scored.scores + np.array([offsets.get(name, 0.0) for name in scored.names])
        leaning: list[Proposal] = []  # per clause that leans to a task rather than to context, its best type
        for clause, row in zip(scored.clauses, shifted, strict=True):
            order = np.argsort(-row, kind="stable")
            best = scored.names[order[0]]
            if best != NONE and row[order[0]] >= floor:
                others = tuple(scored.names[j] for j in order[1:]
                               if scored.names[j] != NONE and row[j] >= threshold)
                leaning.append(Proposal(best, clause, round(float(row[order[0]]), 3), others))
        asked = [p for p in leaning if p.score >= threshold]
        if not asked and leaning:  # no clause is clear: the one that leans most asks for its type
            asked = [max(leaning, key=lambda p: p.score)]
        clearest: dict[str, Proposal] = {}
        for proposal in asked:
            if proposal.type not in clearest or proposal.score > clearest[proposal.type].score:
                clearest[proposal.type] = proposal
        return [p for p in asked if clearest[p.type] is p]


def load_phrases() -> dict[str, Any]:
    """services/planner/prompts/intents.json: phrases by type ("types"), context ("none"), "aliases"."""
    return dict(PROMPTS.json("intents.json"))


def load_fit() -> dict[str, Any]:
    """services/planner/prompts/fitted.json when it holds a fit for the written phrases; else nothing."""
    if not PROMPTS.has(FITTED):
        return {}
    fit = dict(PROMPTS.json(FITTED))
    return fit if fit.get("finder") == "phrases" else {}

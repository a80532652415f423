"""The documented ranking score: relevance by embeddings, popularity, language match, local preference."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hugginggpt import languages
from hugginggpt.embedding import Embedder
from services.selector.catalog import CatalogModel


@dataclass(frozen=True)
class Weights:
    """Weights of the score's terms; they sum to 1 so a score lies in [0, 1]."""

    relevance: float = 0.50
    popularity: float = 0.15
    language: float = 0.20
    local: float = 0.15


@dataclass(frozen=True)
class Query:
    """What a task asks for: the request text plus the languages involved."""

    text: str
    languages: tuple[str, ...]
    source: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class Ranked:
    """A candidate with its score and the score's terms (for the reason and for debugging)."""

    model: CatalogModel
    local: bool
    score: float
    relevance: float
    popularity: float
    language: float


def build_query(user_request: str, task_type: str, literals: Sequence[str], language_matters: bool = True) -> Query:
    """The query of one task: the languages the request names, else the language of its text, if any."""
    text_args = " ".join(literals)
    mentioned = languages.mentioned(user_request)
    written = languages.guess(text_args, default="") if text_args.strip() else ""
    langs = mentioned or [written or languages.guess(user_request)]
    if not language_matters:  # images, video: a model's languages say nothing about fit
        langs = []
    source = target = None
    if task_type == "translation":
        target = languages.target(user_request)
        others = [c for c in [written, *mentioned] if c and c != target]
        source = others[0] if others else None
        if target is None and source and len(mentioned) > 1:
            target = next((c for c in mentioned if c != source), None)
    return Query(f"{user_request} {text_args[:100]}".strip(), tuple(langs), source, target)


def popularity(model: CatalogModel, max_downloads: int, max_likes: int) -> float:
    """0.7 log-scaled downloads + 0.3 log-scaled likes, each relative to the task's most popular model."""
    downloads = math.log1p(model.downloads) / math.log1p(max_downloads) if max_downloads else 0.0
    likes = math.log1p(model.likes) / math.log1p(max_likes) if max_likes else 0.0
    return 0.7 * downloads + 0.3 * likes


def language_match(model: CatalogModel, query: Query) -> float:
    """1 when the model covers the query's languages (in the right direction for translation), 0 when not."""
    if query.source and query.target:
        if model.pair:
            return 1.0 if model.pair == (query.source, query.target) else 0.0
        covers = query.source in model.languages and query.target in model.languages
        return 0.75 if covers else 0.0  # covers both languages; its direction is not stated
    if not model.languages or not query.languages:
        return 0.5  # unknown or language-independent (images, audio events)
    covered = sum(1 for c in query.languages if c in model.languages) / max(1, len(query.languages))
    return covered * (0.8 if len(model.languages) > 6 else 1.0)  # specialists beat generalists


class Ranker:
    """Scores candidates; caches the embeddings of model descriptions across requests."""

    def __init__(self, embedder: Embedder, weights: Weights | None = None) -> None:
        self._embedder = embedder
        self.weights = weights or Weights()
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, vector in zip(missing, np.asarray(self._embedder.embed(missing), np.float32), strict=True):
                self._cache[text] = vector
        return np.stack([self._cache[t] for t in texts])

    def rank(self, query: Query, models: Sequence[tuple[CatalogModel, bool]], *,
             with_relevance: bool = True) -> list[Ranked]:
        """Candidates (model, runs locally) best first; ties broken by downloads then id.

        with_relevance=False skips embedding the request (relevance 0 for all): for a choice that nothing
        can change, such as a single candidate."""
        if not models:
            return []
        if with_relevance:
            texts = [_model_text(m) for m, _ in models]
            request_vector = np.asarray(self._embedder.embed([query.text]), np.float32)[0]
            relevance = np.maximum(0.0, self._vectors(texts) @ request_vector)
        else:
            relevance = np.zeros(len(models), np.float32)
        max_downloads = max(m.downloads for m, _ in models)
        max_likes = max(m.likes for m, _ in models)
        w = self.weights
        ranked = []
        for (model, local), rel in zip(models, relevance.tolist(), strict=True):
            pop = popularity(model, max_downloads, max_likes)
            lang = language_match(model, query)
            score = w.relevance * rel + w.popularity * pop + w.language * lang + w.local * float(local)
            ranked.append(Ranked(model, local, round(score, 4), round(rel, 4), round(pop, 4), round(lang, 4)))
        ranked.sort(key=lambda r: (-r.score, -r.model.downloads, r.model.id))
        return ranked


def _model_text(model: CatalogModel) -> str:
    return f"{model.description} {' '.join(model.tags[:8])}".strip()


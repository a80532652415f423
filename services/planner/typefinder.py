"""A type finder fitted on labelled clauses instead of hand-tuned: softmax regression over MiniLM clause vectors.

The classes are the task types plus "none" (context: "I have a photo named a.jpg"). The examples are the
written phrases of `prompts/intents.json` and, when there are any, the clauses of requests generated from
the tool graph (`prompts/generated.jsonl`, services.planner.generation), each labelled with the tool it was
written for. Nothing of TaskBench's samples is used, so TaskBench stays held out for the finder. A clause's
score for a type is its probability among the offered types and "none"; IntentBank reads it as it reads
phrase cosines, with a threshold and floor fitted on data (services.planner.folds).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from hugginggpt.embedding import Embedder
from services.planner.intents import NONE, Cuts, IntentBank, load_phrases

GENERATED = "prompts/generated.jsonl"
# The type finders a fold may choose among: the written phrases' cosines, or a classifier fitted on the written
# phrases and the generated clauses, or on the generated clauses alone.
FINDERS = ("phrases", "classifier", "classifier-generated")
SCALE = 20.0  # unit vectors times this: logits wide enough for confident probabilities at a modest weight penalty


@dataclass(frozen=True)
class SoftmaxScorer:
    """Weights per class (rows of `weights`, `bias`): scores clauses by probability among the asked names."""

    classes: tuple[str, ...]
    weights: np.ndarray  # classes x dims
    bias: np.ndarray  # classes

    def scores(self, vectors: np.ndarray, names: Sequence[str]) -> np.ndarray:
        rows = [self.classes.index(n) for n in names]
        logits = SCALE * vectors @ self.weights[rows].T + self.bias[rows]
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def fit_softmax(vectors: np.ndarray, labels: Sequence[str], classes: Sequence[str], *, penalty: float = 1e-3,
                steps: int = 400, rate: float = 0.05) -> SoftmaxScorer:
    """Multinomial logistic regression (Adam, L2 `penalty`), classes weighted equally whatever their counts."""
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels])
    counts = np.bincount(y, minlength=len(classes)).astype(float)
    if (counts == 0).any():
        missing = [c or "none" for c, n in zip(classes, counts, strict=True) if n == 0]
        raise ValueError(f"type finder: no examples for {', '.join(missing)}")
    weight = (len(y) / (len(classes) * counts))[y]  # balanced: each class counts as much in the loss
    x = SCALE * vectors
    target = np.eye(len(classes))[y]
    params = [np.zeros((len(classes), x.shape[1])), np.zeros(len(classes))]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    for step in range(1, steps + 1):
        logits = x @ params[0].T + params[1]
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        error = (prob - target) * weight[:, None] / weight.sum()
        grads = [error.T @ x + penalty * params[0], error.sum(axis=0)]
        for param, grad, (m, v) in zip(params, grads, moments, strict=True):
            m[:] = 0.9 * m + 0.1 * grad
            v[:] = 0.999 * v + 0.001 * grad**2
            param -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return SoftmaxScorer(tuple(classes), params[0], params[1])


def phrase_examples(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(text, label) of the written phrases: each type's, and the context phrases as "none"."""
    pairs = [(text, name) for name, items in raw["types"].items() for text in items]
    return pairs + [(text, NONE) for text in raw["none"]]


def generated_examples(rows: Iterable[Mapping[str, Any]], types: Collection[str]) -> list[tuple[str, str]]:
    """(clause, label) of the kept generated requests whose labels are all types on offer (or "none")."""
    pairs: list[tuple[str, str]] = []
    for row in rows:
        clauses = row.get("clauses") or []
        if row.get("kept") and all(c.get("type", NONE) in types or c.get("type") == NONE for c in clauses):
            pairs.extend((c["text"], c.get("type", NONE)) for c in clauses)
    return pairs


def load_generated() -> list[dict[str, Any]]:
    """The generated requests committed with the planner (none yet: an empty list)."""
    path = resources.files("services.planner").joinpath(GENERATED)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def train_scorer(embedder: Embedder, raw: Mapping[str, Any], generated: Sequence[Mapping[str, Any]] = (), *,
                 phrases: bool = True) -> SoftmaxScorer:
    """The scorer fitted on the written phrases (unless `phrases` is False) and the generated clauses."""
    classes = (*raw["types"], NONE)
    pairs = (phrase_examples(raw) if phrases else []) + generated_examples(generated, raw["types"])
    if not pairs:
        raise ValueError("type finder: no examples to fit on")
    texts, labels = zip(*pairs, strict=True)
    return fit_softmax(embedder.embed(list(texts)), labels, classes)


def build_finders(kinds: Sequence[str], embedder: Embedder, cuts: Cuts | None = None) -> dict[str, IntentBank]:
    """The type finders named (from FINDERS), each at the default threshold and floor until fitted."""
    unknown = [k for k in kinds if k not in FINDERS]
    if unknown:
        raise ValueError(f"unknown type finder {unknown[0]!r}; choose among {', '.join(FINDERS)}")
    raw = load_phrases()
    generated = load_generated()
    finders = {}
    for kind in kinds:
        scorer = None if kind == "phrases" else train_scorer(embedder, raw, generated, phrases=kind == "classifier")
        finders[kind] = IntentBank.load(embedder, cuts, scorer=scorer)
    return finders

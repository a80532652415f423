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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from hugginggpt.embedding import Embedder
from hugginggpt.tasktypes import hf_task_id
from services.planner.folds import FittedChoice, RetrievalScorer
from services.planner.intents import NONE, Cuts, IntentBank, Scored, load_phrases

GENERATED = "prompts/generated.jsonl"
# The type finders a fold may choose among: the written phrases' cosines, or a classifier fitted on the written
# phrases and the generated clauses, or on the generated clauses alone, or (FOLD_FITTED) on those and on the
# clauses of the fold's training samples, labelled by aligning them with each sample's gold task types.
FOLD_FITTED = "classifier-folds"
FOLD_PHRASES = "phrases-folds"  # the written phrases plus the training samples' aligned clauses, as phrases
GENERATED_PHRASES = "phrases-generated"  # the written phrases plus the generated clauses, as phrases
FINDERS = ("phrases", "classifier", "classifier-generated", GENERATED_PHRASES, FOLD_FITTED, FOLD_PHRASES)
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


def with_generated(raw: Mapping[str, Any], generated: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The written bank with the kept generated clauses added as phrases of their types (context as "none")."""
    pairs = generated_examples(generated, raw["types"])
    if not pairs:
        raise ValueError(f"a type finder with generated phrases needs some: services/planner/{GENERATED} "
                         "holds none kept (python -m services.planner.generation writes them)")
    return add_phrases(raw, pairs)


def add_phrases(raw: Mapping[str, Any], pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A copy of the bank `raw` with each (text, label) added as a phrase of its type, or of context ("none")."""
    types = {name: list(items) for name, items in raw["types"].items()}
    context = list(raw["none"])
    for text, label in pairs:
        (context if label == NONE else types[label]).append(text)
    return {**raw, "types": types, "none": context}


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
    if not phrases and not pairs:
        raise ValueError(f"a type finder on generated requests alone needs some: services/planner/{GENERATED} "
                         "holds none kept (python -m services.planner.generation writes them)")
    texts, labels = zip(*pairs, strict=True)
    return fit_softmax(embedder.embed(list(texts)), labels, classes)


def align(scored: Scored, gold: Sequence[str]) -> list[tuple[int, str]]:
    """(clause index, label) for a sample whose gold types are known but not which clause asks for which.

    Each gold type goes to the clause that scores it highest and is not taken yet; a clause left over is
    context ("none") when, among the gold types and "none", it scores "none" highest, and is skipped otherwise."""
    labels: dict[int, str] = {}
    for name in dict.fromkeys(gold):
        if name not in scored.names:
            continue
        column = scored.scores[:, scored.names.index(name)]
        free = [i for i in np.argsort(-column, kind="stable") if int(i) not in labels]
        if free:
            labels[int(free[0])] = name
    columns = [scored.names.index(n) for n in (*dict.fromkeys(gold), NONE) if n in scored.names]
    for i in range(len(scored.clauses)):
        if i not in labels and scored.names[columns[int(np.argmax(scored.scores[i, columns]))]] == NONE:
            labels[i] = NONE
    return sorted(labels.items())


def fit_on_samples(embedder: Embedder, labelled: Iterable[tuple[Scored, Sequence[str]]],
                   generated: Sequence[Mapping[str, Any]] = ()) -> SoftmaxScorer:
    """The scorer fitted on the written phrases, the generated clauses and the aligned clauses of samples."""
    raw = load_phrases()
    pairs = phrase_examples(raw) + generated_examples(generated, raw["types"])
    texts, labels = (list(t) for t in zip(*pairs, strict=True))
    vectors = [embedder.embed(texts)]
    for scored, gold in labelled:
        for index, label in align(scored, gold):
            vectors.append(scored.vectors[index : index + 1])
            labels.append(label)
    return fit_softmax(np.concatenate(vectors), labels, (*raw["types"], NONE))


def build_finders(kinds: Sequence[str], embedder: Embedder, cuts: Cuts | None = None) -> dict[str, IntentBank]:
    """The type finders named (from FINDERS but FOLD_FITTED, made per fold), at the default threshold and floor."""
    unknown = [k for k in kinds if k not in FINDERS]
    if unknown:
        raise ValueError(f"unknown type finder {unknown[0]!r}; choose among {', '.join(FINDERS)}")
    raw = load_phrases()
    generated = load_generated()
    finders = {}
    aligned = FOLD_FITTED in kinds or FOLD_PHRASES in kinds
    for kind in dict.fromkeys([*kinds, *(["phrases"] if aligned else [])]):  # fold finders align by phrases
        if kind in (FOLD_FITTED, FOLD_PHRASES):
            continue
        if kind == GENERATED_PHRASES:
            bank = with_generated(raw, generated)
            finders[kind] = IntentBank(bank["types"], bank["none"], embedder, cuts=cuts, aliases=bank.get("aliases"))
            continue
        scorer = None if kind == "phrases" else train_scorer(embedder, raw, generated, phrases=kind == "classifier")
        finders[kind] = IntentBank.load(embedder, cuts, scorer=scorer)
    return finders


def labelled_samples(retrieval: RetrievalScorer, training: Sequence[dict[str, Any]]) -> list[tuple[Scored, list[str]]]:
    """The training samples' clauses as the written phrases score them, with each sample's gold types."""
    labelled = []
    for sample in training:
        scored = retrieval.scored("phrases", sample)
        if scored is not None:
            labelled.append((scored, [hf_task_id(node["task"]) for node in sample.get("task_nodes", [])]))
    return labelled


def fold_scorer(retrieval: RetrievalScorer, training: Sequence[dict[str, Any]], embedder: Embedder) -> SoftmaxScorer:
    """FOLD_FITTED's scorer for one fold: fitted on the phrases, the generated clauses and the training samples'
    clauses, aligned to their gold types by how the written phrases score them (`retrieval`'s "phrases")."""
    return fit_on_samples(embedder, labelled_samples(retrieval, training), load_generated())


def fold_phrases(retrieval: RetrievalScorer, training: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """FOLD_PHRASES's bank for one fold: the written phrases plus the training samples' aligned clauses."""
    pairs = [(scored.clauses[index], label) for scored, gold in labelled_samples(retrieval, training)
             for index, label in align(scored, gold)]
    return add_phrases(load_phrases(), pairs)


def fold_fitter(retrieval: RetrievalScorer, embedder: Embedder, cuts: Cuts | None, kinds: Sequence[str], *,
                offsets: bool = False, seed: int = 0) -> Callable[[list[dict[str, Any]]], FittedChoice]:
    """What fits a fold's choice on its training samples: the best of the `kinds` of finder (those fitted on the
    samples themselves judged on inner folds), then, with `offsets`, an offset per type."""
    fixed = [c for c in retrieval.candidates() if c.finder in kinds]

    def classifier(samples: list[dict[str, Any]]) -> IntentBank:
        return IntentBank.load(embedder, cuts, scorer=fold_scorer(retrieval, samples, embedder))

    def phrases(samples: list[dict[str, Any]]) -> IntentBank:
        raw = fold_phrases(retrieval, samples)
        return IntentBank(raw["types"], raw["none"], embedder, cuts=cuts, aliases=raw.get("aliases"))

    def fit(training: list[dict[str, Any]]) -> FittedChoice:
        fitted = [retrieval.best(training, fixed)] if fixed else []
        if FOLD_FITTED in kinds:
            fitted.append(retrieval.fit_trained(training, classifier, FOLD_FITTED, seed=seed))
        if FOLD_PHRASES in kinds:
            fitted.append(retrieval.fit_trained(training, phrases, FOLD_PHRASES, "phrases", seed=seed))
        choice = max(fitted, key=lambda pair: pair[1])[0]
        return retrieval.fit_offsets(training, choice) if offsets else choice

    return fit

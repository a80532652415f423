"""K-fold scoring: every choice made from data is fitted on K-1 folds and scored on the fold left out, pooled.

The planner's task types and data flow are decided before the LLM writes a word (retrieval + wiring, see
services.planner.intents and .wiring), so what a choice does to node / edge F1 can be measured in seconds
without the LLM. `fit` tries every candidate (type finder, threshold, floor) on the training folds that way
and keeps the best by node F1 + edge F1, `fit_offsets` then an offset per type, and `fit_trained` does the same
for a finder fitted on the training samples themselves (judged on inner folds). `run_folds` plans each held-out
fold with its fitted choice: `hugginggpt eval plan --folds K` with the real planner, or by retrieval + wiring
alone with `--retrieval-only`.
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from hugginggpt.domain import TaskTypeSpec
from hugginggpt.tasktypes import hf_task_id
from services.planner.intents import IntentBank, Scored
from services.planner.prompting import resources_of
from services.planner.samples import sample_turn
from services.planner.scoring import Scores, score_sample
from services.planner.wiring import wire

Sample = dict[str, Any]
# Thresholds tried per kind of score: phrase cosines sit around 0.3-0.6, classifier probabilities spread wider.
GRIDS = {
    "phrases": list(itertools.product((0.34, 0.37, 0.40, 0.43, 0.46), (0.25, 0.30, 0.35))),
    "classifier": list(itertools.product((0.3, 0.4, 0.5, 0.6, 0.7), (0.1, 0.2, 0.3))),
}


OFFSETS = (-0.04, -0.02, 0.02, 0.04)  # what fit_offsets tries adding to one type's scores
MIN_GAIN = 0.005  # node F1 + edge F1 an offset must add on the training samples to be kept


class FoldError(ValueError):
    """The folds asked for cannot be made from these samples (a CLI usage error)."""


@dataclass(frozen=True)
class FittedChoice:
    """One fitted choice: which type finder, its threshold and floor."""

    finder: str
    threshold: float
    floor: float
    offsets: tuple[tuple[str, float], ...] = ()  # (type, added to its scores), fitted by `fit_offsets`


def make_folds(samples: Sequence[Sample], k: int, seed: int = 0) -> list[list[Sample]]:
    """`k` folds, stratified by sample type: each type shuffled (by `seed`) and dealt in turn, sizes within one."""
    if k < 2:
        raise FoldError(f"--folds must be at least 2 (one fold to fit on, one to score), got {k}")
    if k > len(samples):
        raise FoldError(f"--folds {k} is more than the {len(samples)} samples: some fold would be empty")
    rng = random.Random(seed)
    groups: dict[str, list[Sample]] = {}
    for sample in samples:
        groups.setdefault(str(sample.get("type", "?")), []).append(sample)
    folds: list[list[Sample]] = [[] for _ in range(k)]
    dealt = 0
    for kind in sorted(groups):
        group = list(groups[kind])
        rng.shuffle(group)
        for sample in group:
            folds[dealt % k].append(sample)
            dealt += 1
    return folds


def skeleton_tasks(found: Sequence[Any], sample: Sample, types: Mapping[str, TaskTypeSpec],
                   names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The plan wiring makes of what retrieval `found`, in TaskBench's shape (no LLM: no arguments)."""
    skeleton = wire(found, types, resources_of([sample_turn(sample["instruction"])]))
    return [{"task": names[s.spec.name], "id": i, "dep": s.dep} for i, s in enumerate(skeleton.steps)]


class RetrievalScorer:
    """Scores choices on samples by retrieval + wiring alone; each finder scores a sample's clauses once."""

    def __init__(self, finders: Mapping[str, IntentBank], types: Mapping[str, TaskTypeSpec],
                 names: Mapping[str, str]) -> None:
        self.finders = dict(finders)
        self.types = dict(types)
        self.names = dict(names)
        self._scored: dict[tuple[str, str], Scored | None] = {}

    def scored(self, finder: str, sample: Sample) -> Scored | None:
        key = (finder, str(sample["id"]))
        if key not in self._scored:
            self._scored[key] = self.finders[finder].score(sample["instruction"], self.types)
        return self._scored[key]

    def tasks(self, choice: FittedChoice, sample: Sample) -> list[dict[str, Any]]:
        scored = self.scored(choice.finder, sample)
        bank = self.finders[choice.finder]
        found = bank.decide(scored, choice.threshold, choice.floor, dict(choice.offsets)) if scored else []
        return skeleton_tasks(found, sample, self.types, self.names)

    def score(self, choice: FittedChoice, samples: Sequence[Sample], into: Scores | None = None) -> Scores:
        scores = into if into is not None else Scores()
        for sample in samples:
            score_sample(scores, sample, self.tasks(choice, sample), "", 0.0)
        return scores

    def candidates(self) -> list[FittedChoice]:
        """Every finder with every threshold and floor of its grid."""
        return [FittedChoice(finder, t, f) for finder in self.finders for t, f in GRIDS[grid_of(self.finders[finder])]]

    def fit(self, samples: Sequence[Sample], candidates: Sequence[FittedChoice]) -> FittedChoice:
        """The candidate with the best node F1 + edge F1 on `samples` (the first of equals)."""
        return self.best(samples, candidates)[0]

    def best(self, samples: Sequence[Sample], candidates: Sequence[FittedChoice]) -> tuple[FittedChoice, float]:
        """The best candidate on `samples` and its node F1 + edge F1 there."""
        merits = [(choice, merit(self.score(choice, samples))) for choice in candidates]
        return max(merits, key=lambda pair: pair[1])

    def fit_offsets(self, samples: Sequence[Sample], choice: FittedChoice,
                    steps: Sequence[float] = OFFSETS) -> FittedChoice:
        """`choice` with an offset for each type that raises node F1 + edge F1 on `samples` by at least MIN_GAIN,
        tried one type at a time, the types most asked for in `samples` first."""
        asked = Counter(hf_task_id(node["task"]) for sample in samples for node in sample.get("task_nodes", []))
        best = merit(self.score(choice, samples))
        for name, _ in asked.most_common():
            for step in steps:
                trial = replace(choice, offsets=(*choice.offsets, (name, step)))
                gain = merit(self.score(trial, samples)) - best
                if gain >= MIN_GAIN:
                    choice, best = trial, best + gain
                    break
        return choice

    def add(self, bank: IntentBank, kind: str) -> str:
        """Registers a finder made from data (a classifier fitted on some samples) under a new name."""
        name = f"{kind}-{len(self.finders)}"
        self.finders[name] = bank
        return name

    def fit_trained(self, samples: Sequence[Sample], train: Callable[[list[Sample]], IntentBank], kind: str,
                    grid: str = "classifier", inner: int = 3, seed: int = 0) -> tuple[FittedChoice, float]:
        """A finder trained on `samples`, with the threshold and floor that score best on inner folds of them
        (each inner fold scored by a finder trained without it: a finder scored on its own training clauses
        looks surer than it is), and that inner score."""
        folds = make_folds(samples, min(inner, len(samples)), seed)
        points = GRIDS[grid]
        totals = {point: Scores() for point in points}
        for index, held_out in enumerate(folds):
            name = self.add(train([s for j, fold in enumerate(folds) if j != index for s in fold]), kind)
            for point in points:
                self.score(FittedChoice(name, *point), held_out, totals[point])
        point = max(points, key=lambda p: merit(totals[p]))
        return FittedChoice(self.add(train(list(samples)), kind), *point), merit(totals[point])


def merit(scores: Scores) -> float:
    """What fitting maximises: node F1 + edge F1, pooled."""
    return scores.overall.nodes.f1() + scores.overall.edges.f1()


def grid_of(bank: IntentBank) -> str:
    return "phrases" if bank.scores_phrases else "classifier"


# Plans a held-out fold with the fitted choice, adding each sample's figures to the Scores given.
FoldRunner = Callable[[int, FittedChoice, Sequence[Sample], Scores], Awaitable[None]]


async def run_folds(folds: Sequence[Sequence[Sample]], fit: Callable[[list[Sample]], FittedChoice],
                    plan_fold: FoldRunner) -> dict[str, Any]:
    """For each fold: fit on the others, plan it with `plan_fold`; the pooled held-out report, per fold and spread."""
    pooled = Scores()
    per_fold: list[dict[str, Any]] = []
    for index, held_out in enumerate(folds):
        training = [s for j, fold in enumerate(folds) if j != index for s in fold]
        choice = fit(training)
        scores = Scores()
        await plan_fold(index, choice, held_out, scores)
        pooled.merge(scores)
        per_fold.append({"fold": index, "samples": len(held_out), "choice": asdict(choice),
                         "node_f1": round(scores.overall.nodes.f1(), 4), "edge_f1": round(scores.overall.edges.f1(), 4),
                         "by_type": {k: [round(g.nodes.f1(), 4), round(g.edges.f1(), 4)]
                                     for k, g in sorted(scores.by_type.items())}})
    return {"folds": len(folds), "pooled": pooled.report(), "spread": spread(per_fold), "per_fold": per_fold}


def spread(per_fold: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Min, max and standard deviation across folds of node and edge F1."""
    out = {}
    for key in ("node_f1", "edge_f1"):
        values = [float(f[key]) for f in per_fold]
        out[key] = {"min": min(values), "max": max(values),
                    "stdev": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0}
    return out


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """The report for a person: pooled held-out figures by type, then each fold with its fitted choice."""
    pooled = report["pooled"]
    lines = [f"pooled held-out over {report['folds']} folds: node F1 {pooled['node_f1']:.4f} "
             f"edge F1 {pooled['edge_f1']:.4f} (n={pooled['samples']})"]
    for kind, figures in pooled["by_type"].items():
        lines.append(f"{kind:>6}: n={figures['samples']} node F1 {figures['node_f1']:.4f} "
                     f"edge F1 {figures['edge_f1']:.4f}")
    s = report["spread"]
    lines.append(f"across folds: node F1 {s['node_f1']['min']:.4f}-{s['node_f1']['max']:.4f} "
                 f"(sd {s['node_f1']['stdev']:.4f}), edge F1 {s['edge_f1']['min']:.4f}-{s['edge_f1']['max']:.4f} "
                 f"(sd {s['edge_f1']['stdev']:.4f})")
    for fold in report["per_fold"]:
        lines.append(f"fold {fold['fold']}: n={fold['samples']} node F1 {fold['node_f1']:.4f} edge F1 "
                     f"{fold['edge_f1']:.4f} fitted {fold['choice']}")
    return lines

"""TaskBench's plan scores: micro node F1 and edge F1 over name sets, valid share, latency percentiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Counts:
    """Pooled true positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[Any], predicted: set[Any]) -> None:
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    def merge(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    def f1(self) -> float:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class Group:
    """The figures of one group of samples (all, or one TaskBench type)."""

    nodes: Counts = field(default_factory=Counts)
    edges: Counts = field(default_factory=Counts)
    samples: int = 0
    valid: int = 0
    salvaged: int = 0
    latencies: list[float] = field(default_factory=list)

    def merge(self, other: Group) -> None:
        """Adds another group's samples (pooling folds)."""
        self.nodes.merge(other.nodes)
        self.edges.merge(other.edges)
        self.samples += other.samples
        self.valid += other.valid
        self.salvaged += other.salvaged
        self.latencies.extend(other.latencies)

    def report(self) -> dict[str, Any]:
        return {"samples": self.samples, "node_f1": round(self.nodes.f1(), 4), "edge_f1": round(self.edges.f1(), 4),
                "valid_share": round(self.valid / self.samples, 4) if self.samples else 0.0,
                "salvaged": self.salvaged,
                **latency_percentiles(self.latencies)}


@dataclass
class Scores:
    """Figures overall and by sample type (single / chain / dag)."""

    overall: Group = field(default_factory=Group)
    by_type: dict[str, Group] = field(default_factory=dict)

    def merge(self, other: Scores) -> None:
        """Adds another set of samples' figures (pooling folds)."""
        self.overall.merge(other.overall)
        for kind, group in other.by_type.items():
            self.by_type.setdefault(kind, Group()).merge(group)

    def report(self) -> dict[str, Any]:
        return {**self.overall.report(), "by_type": {k: g.report() for k, g in sorted(self.by_type.items())}}


def latency_percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"latency_p50_s": 0.0, "latency_p90_s": 0.0, "latency_p99_s": 0.0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"latency_p50_s": pick(0.5), "latency_p90_s": pick(0.9), "latency_p99_s": pick(0.99)}


def gold_sets(sample: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    nodes = {n["task"] for n in sample.get("task_nodes", [])}
    edges = {(link["source"], link["target"]) for link in sample.get("task_links", [])}
    return nodes, edges


def predicted_sets(tasks: list[dict[str, Any]]) -> tuple[set[str], set[tuple[str, str]]]:
    by_id = {t["id"]: t["task"] for t in tasks}
    nodes = set(by_id.values())
    edges = {(by_id[d], t["task"]) for t in tasks for d in t.get("dep", []) if d in by_id}
    return nodes, edges


def score_sample(scores: Scores, sample: dict[str, Any], tasks: list[dict[str, Any]], error: str,
                 latency: float, salvaged: bool = False) -> None:
    """Adds one sample; a failed sample counts as an empty plan."""
    gold_nodes, gold_edges = gold_sets(sample)
    nodes, edges = predicted_sets([] if error else tasks)
    for group in (scores.overall, scores.by_type.setdefault(sample.get("type", "?"), Group())):
        group.nodes.add(gold_nodes, nodes)
        group.edges.add(gold_edges, edges)
        group.samples += 1
        group.valid += 0 if error else 1
        group.salvaged += int(salvaged)
        group.latencies.append(latency)

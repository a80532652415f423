"""The planner's task types and data flow alone (retrieval + wiring, no LLM) on TaskBench samples.

What HUGGINGGPT_PLANNER_GUIDE=fixed decides before the LLM writes any word, scored as `hugginggpt eval plan`
scores (micro node / edge F1). Three figures in one run:
- `retrieval`: the intent bank as the planner loads it (MiniLM phrases, spaCy verb lists, the threshold, floor
  and offsets of prompts/fitted.json, fitted on the dev subset) and the wiring, on every sample;
- `oracle`: the gold task types in gold order, wired the same way (what edges the wiring can reach);
- `twofold`: the threshold and floor chosen from a grid on one half of the samples (by position), scored on
  the other half, next to the defaults there: how much choosing them on these samples flatters the figure.
K-fold figures (every data-derived choice fitted per fold, pooled held-out): `hugginggpt eval plan --folds K
--retrieval-only`.
Run: .venv/bin/python benchmarks/planner_retrieval.py [--data ...dev.jsonl] [--tools ...tool_desc.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

from hugginggpt.embedding import MiniLm
from hugginggpt.tasktypes import hf_task_id
from services.planner import intents
from services.planner.coordination import VerbLists
from services.planner.folds import skeleton_tasks
from services.planner.intents import IntentBank, Proposal
from services.planner.samples import load_tools
from services.planner.scoring import Scores, score_sample

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "taskbench-hf"
GRID = list(itertools.product((0.34, 0.37, 0.40, 0.43, 0.46), (0.25, 0.30, 0.35)))  # threshold x floor


def score(samples: list[dict[str, Any]], types: dict, names: dict[str, str], propose: Any) -> dict[str, Any]:
    """Node / edge F1 (and counts) of the skeletons wired from what `propose(sample)` finds."""
    scores = Scores()
    for sample in samples:
        score_sample(scores, sample, skeleton_tasks(propose(sample), sample, types, names), "", 0.0)
    o = scores.overall
    return {"node_f1": round(o.nodes.f1(), 4), "edge_f1": round(o.edges.f1(), 4),
            "nodes_tp_fp_fn": [o.nodes.tp, o.nodes.fp, o.nodes.fn],
            "edges_tp_fp_fn": [o.edges.tp, o.edges.fp, o.edges.fn],
            "by_type": {k: [round(g.nodes.f1(), 4), round(g.edges.f1(), 4)] for k, g in sorted(scores.by_type.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "dev.jsonl")
    parser.add_argument("--tools", type=Path, default=DATA / "tool_desc.json")
    args = parser.parse_args()
    samples = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    specs, names = load_tools(args.tools)
    types = {s.name: s for s in specs}
    bank = IntentBank.load(MiniLm(), VerbLists.load().cuts)

    def retrieved(sample: dict[str, Any]) -> list[Proposal]:
        return bank.propose(sample["instruction"], types)

    def gold(sample: dict[str, Any]) -> list[Proposal]:
        return [Proposal(hf_task_id(n["task"]), "", 1.0) for n in sample["task_nodes"]]

    result: dict[str, Any] = {"samples": len(samples), "threshold": bank.threshold, "floor": bank.floor,
                              "retrieval": score(samples, types, names, retrieved),
                              "oracle": score(samples, types, names, gold)}
    halves = [samples[0::2], samples[1::2]]
    grid: dict[tuple[float, float], list[dict[str, Any]]] = {}
    for threshold, floor in GRID:
        bank.threshold, bank.floor = threshold, min(floor, threshold)
        grid[(threshold, floor)] = [score(h, types, names, retrieved) for h in halves]
    default = (intents.THRESHOLD, intents.FLOOR)

    def both(figures: dict[str, Any]) -> list[float]:
        return [figures["node_f1"], figures["edge_f1"]]

    twofold = []
    for tuned, other in ((0, 1), (1, 0)):
        chosen = max(GRID, key=lambda g: sum(both(grid[g][tuned])))
        twofold.append({"tuned_on_half": tuned, "chosen": list(chosen), "on_tuned_half": both(grid[chosen][tuned]),
                        "on_other_half": both(grid[chosen][other]),
                        "defaults_on_other_half": both(grid[default][other]),
                        "best_of_grid_on_other_half": max((both(grid[g][other]) for g in GRID), key=sum)})
    result["twofold"] = twofold
    print(json.dumps(result))


if __name__ == "__main__":
    main()

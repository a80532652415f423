"""`hugginggpt eval plan`: runs the planner on TaskBench samples and prints node/edge F1, validity, latency."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from hugginggpt.domain import Plan, TaskTypeSpec
from hugginggpt.embedding import MiniLm, RecentEmbeddings
from hugginggpt.errors import HuggingGPTError, Unavailable
from services.planner.calibration import settle
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig
from services.planner.coordination import VerbLists
from services.planner.demos import Demo
from services.planner.embedded_llm import ensure_llm, wait_until_up
from services.planner.folds import FittedChoice, FoldError, RetrievalScorer, make_folds, run_folds, summary_lines
from services.planner.generation import generated_demos
from services.planner.intents import IntentBank
from services.planner.planning import Planner, PlanOutcome
from services.planner.samples import load_samples, load_tools, sample_turn
from services.planner.scoring import Scores, score_sample
from services.planner.typefinder import FINDERS, build_finders, fold_fitter, load_generated

EMBEDDINGS_KEPT = 100_000  # every clause of a data set: folds score the same clauses at many thresholds

def render_plan(plan: Plan, names: dict[str, str]) -> list[dict[str, Any]]:
    """The plan in TaskBench's shape with TOOL_DESC's task names."""
    out = []
    for task in plan.tasks:
        args = [a.render().rsplit("/", 1)[-1] if a.resource_uri else a.render() for a in task.arguments]
        out.append({"task": names.get(task.type, task.type), "id": task.id, "dep": list(task.dependencies),
                    "args": args})
    return out


async def plan_sample(planner: Planner, sample: dict[str, Any], specs: list[TaskTypeSpec],
                      timeout: float) -> PlanOutcome:
    """One sample's plan; if the LLM server went away (restarted), waits for it once and tries again."""
    turn = sample_turn(sample["instruction"])
    try:
        return await planner.plan([turn], specs, timeout=timeout)
    except Unavailable:
        await wait_until_up(PlannerConfig.from_env().llm.base_url, 120.0)
        return await planner.plan([turn], specs, timeout=timeout)


async def run_samples(planner: Planner, samples: Sequence[dict[str, Any]], specs: list[TaskTypeSpec],
                      names: dict[str, str], out_path: Path, timeout: float, *, append: bool = False,
                      scores: Scores | None = None) -> Scores:
    """Plans each sample, writes its prediction to `out_path` and adds its figures to `scores` (new if None)."""
    from tqdm import tqdm

    scores = scores if scores is not None else Scores()
    with out_path.open("a" if append else "w") as out:
        for sample in tqdm(samples, desc="planning", unit="sample", file=sys.stderr):
            started = time.perf_counter()
            tasks: list[dict[str, Any]] = []
            error = ""
            salvaged = False
            try:
                outcome = await plan_sample(planner, sample, specs, timeout)
                tasks = render_plan(outcome.plan, names)
                salvaged = outcome.salvaged
            except HuggingGPTError as exc:
                error = exc.message
            latency = time.perf_counter() - started
            score_sample(scores, sample, tasks, error, latency, salvaged)
            out.write(json.dumps({"id": sample["id"], "tasks": tasks, "error": error,
                                  "latency_s": round(latency, 3)}) + "\n")
            out.flush()
    return scores


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hugginggpt eval plan", description=__doc__)
    parser.add_argument("--data", required=True, type=Path, help="TaskBench samples, one JSON a line")
    parser.add_argument("--tools", required=True, type=Path, help="TaskBench tool_desc.json: the tools on offer")
    parser.add_argument("--predictions-out", required=True, type=Path, help="where to write one JSON a sample")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per sample")
    parser.add_argument("--limit", type=int, default=0, help="only the first N samples, stratified by type")
    parser.add_argument("--folds", type=int, default=0,
                        help="K >= 2: fit every choice made from data on K-1 folds, plan the fold left out, rotate; "
                             "the headline is the pooled held-out score")
    parser.add_argument("--seed", type=int, default=0, help="how the samples are dealt into folds (by type)")
    parser.add_argument("--retrieval-only", action="store_true",
                        help="score the task types and data flow retrieval and wiring fix, without the LLM (minutes "
                             "instead of an hour): with --folds as fitted per fold, else as the planner ships "
                             "(prompts/fitted.json)")
    parser.add_argument("--finders", default="phrases,classifier",
                        help=f"with --folds: the type finders each fold chooses among ({', '.join(FINDERS)})")
    parser.add_argument("--fit-out", type=Path, default=None,
                        help="with --folds: also fit on all the samples and write the choice here "
                             "(services/planner/prompts/fitted.json is what the planner loads)")
    parser.add_argument("--generated-demos", action="store_true",
                        help="add the requests generated from the tool graph (prompts/generated.jsonl) to the demos")
    parser.add_argument("--offsets", action=argparse.BooleanOptionalAction, default=True,
                        help="with --folds: also fit an offset per task type (added to its scores) on each fold, as "
                             "prompts/fitted.json was fitted (default: on)")
    return parser.parse_args(argv)


def stratified(samples: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first `limit` samples, taking the types in turn so each is represented."""
    if not limit or limit >= len(samples):
        return samples
    groups: dict[str, list[dict[str, Any]]] = {}
    for sample in samples:
        groups.setdefault(sample.get("type", "?"), []).append(sample)
    picked: list[dict[str, Any]] = []
    while len(picked) < limit:
        for group in groups.values():
            if group and len(picked) < limit:
                picked.append(group.pop(0))
    return picked


async def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    samples = stratified(load_samples(args.data), args.limit)
    specs, names = load_tools(args.tools)
    config = PlannerConfig.from_env()
    async with ensure_llm(config.llm) as llm_settings:
        llm_settings = replace(llm_settings, timeout_seconds=max(llm_settings.timeout_seconds, args.timeout))
        types = {s.name: s for s in specs}
        config, chosen = await settle(replace(config, llm=llm_settings), types, samples, extra_demos(args, types))
        deps = build_planner(config, types, allow_direct_answer=False, demos=extra_demos(args, types))
        try:
            scores = await run_samples(deps.planner, samples, specs, names, args.predictions_out, args.timeout)
        finally:
            await deps.close()
    return {**scores.report(), **({"guide": asdict(chosen)} if chosen else {})}


def evaluate_retrieval(args: argparse.Namespace) -> dict[str, Any]:
    """`--retrieval-only` without folds: the types and data flow the shipped type finder (the written phrases at
    prompts/fitted.json's threshold, floor and offsets) and wiring give each sample; no LLM."""
    samples = stratified(load_samples(args.data), args.limit)
    specs, names = load_tools(args.tools)
    types = {s.name: s for s in specs}
    bank = IntentBank.load(RecentEmbeddings(MiniLm(), size=EMBEDDINGS_KEPT), VerbLists.load().cuts)
    choice = FittedChoice("phrases", bank.threshold, bank.floor, tuple(sorted(bank.offsets.items())))
    scorer = RetrievalScorer({"phrases": bank}, types, names)
    args.predictions_out.write_text("")
    scores = retrieval_predictions(scorer, choice, samples, args.predictions_out)
    return {**scores.report(), "retrieval_only": asdict(choice)}


def retrieval_predictions(scorer: RetrievalScorer, choice: FittedChoice, samples: Sequence[dict[str, Any]],
                          out_path: Path, into: Scores | None = None) -> Scores:
    """Scores the samples as retrieval + wiring plan them with `choice`, appending each plan to `out_path`."""
    scores = into if into is not None else Scores()
    with out_path.open("a") as out:
        for sample in samples:
            tasks = scorer.tasks(choice, sample)
            score_sample(scores, sample, tasks, "", 0.0)
            out.write(json.dumps({"id": sample["id"], "tasks": tasks, "error": "", "latency_s": 0.0}) + "\n")
    return scores


async def evaluate_folds(args: argparse.Namespace) -> dict[str, Any]:
    """`--folds K`: per fold, choices fitted on the other folds by retrieval + wiring; the fold planned with them."""
    samples = stratified(load_samples(args.data), args.limit)
    folds = make_folds(samples, args.folds, args.seed)  # before any model loads: a bad K fails at once
    specs, names = load_tools(args.tools)
    types = {s.name: s for s in specs}
    embedder = RecentEmbeddings(MiniLm(), size=EMBEDDINGS_KEPT)
    cuts = functools.lru_cache(maxsize=None)(VerbLists.load().cuts)  # each clause is parsed once, not per fold
    kinds = [k for k in args.finders.split(",") if k]
    scorer = RetrievalScorer(build_finders(kinds, embedder, cuts), types, names)
    fit = fold_fitter(scorer, embedder, cuts, kinds, offsets=args.offsets, seed=args.seed)
    config = PlannerConfig.from_env()
    args.predictions_out.write_text("")
    async with contextlib.nullcontext(config.llm) if args.retrieval_only else ensure_llm(config.llm) as llm:
        llm_settings = replace(llm, timeout_seconds=max(llm.timeout_seconds, args.timeout))
        chosen = None
        if not args.retrieval_only:  # auto: one guide for every fold, chosen on the calibration requests
            config, chosen = await settle(replace(config, llm=llm_settings), types, samples, extra_demos(args, types))

        async def plan_fold(index: int, choice: FittedChoice, held_out: Sequence[dict[str, Any]], into: Scores) -> None:
            if args.retrieval_only:
                retrieval_predictions(scorer, choice, held_out, args.predictions_out, into)
                return
            finder = scorer.finders[choice.finder].fitted(choice.threshold, choice.floor, dict(choice.offsets))
            deps = build_planner(replace(config, llm=llm_settings), types, embedder=embedder,
                                 allow_direct_answer=False, intents=finder, demos=extra_demos(args, types))
            try:
                await run_samples(deps.planner, held_out, specs, names, args.predictions_out, args.timeout,
                                  append=True, scores=into)
            finally:
                await deps.close()

        report = await run_folds(folds, fit, plan_fold)
        if chosen:
            report["guide"] = asdict(chosen)
    if args.fit_out:  # the same procedure on every sample: what the planner runs with by default
        report["fit_on_all"] = write_fit(args.fit_out, fit(samples), args, len(samples))
    return report


def extra_demos(args: argparse.Namespace, types: dict[str, TaskTypeSpec]) -> list[Demo]:
    """With --generated-demos, the generated requests (prompts/generated.jsonl) as worked plans; else none."""
    return generated_demos(load_generated(), types) if args.generated_demos else []


def write_fit(path: Path, choice: FittedChoice, args: argparse.Namespace, samples: int) -> dict[str, Any]:
    """Writes the choice fitted on all the samples, with what it was fitted on, as JSON; returns it."""
    fit = {"finder": choice.finder, "threshold": choice.threshold, "floor": choice.floor,
           "offsets": dict(choice.offsets),
           "fitted_on": f"{args.data.name} ({samples} samples; --finders {args.finders}"
                        f"{' --offsets' if args.offsets else ''})",
           "held_out_estimate": f"hugginggpt eval plan --folds {args.folds} --seed {args.seed} --retrieval-only",
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    path.write_text(json.dumps(fit, indent=1) + "\n")
    return fit


def main(argv: list[str]) -> int:
    """Entry point for `hugginggpt eval plan ...`; prints the metrics as JSON (last line)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("services.planner").setLevel(logging.INFO)
    if not args.data.is_file() or not args.tools.is_file():
        print(f"error: {args.data if not args.data.is_file() else args.tools} is not a file", file=sys.stderr)
        return 2
    if args.folds:
        return _main_folds(args)
    try:
        report = evaluate_retrieval(args) if args.retrieval_only else asyncio.run(evaluate(args))
    except HuggingGPTError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    for kind, figures in report["by_type"].items():
        print(f"{kind:>6}: n={figures['samples']} node F1 {figures['node_f1']:.4f} edge F1 {figures['edge_f1']:.4f}"
              f" valid {figures['valid_share']:.2%}")
    print(json.dumps(report))
    return 0


def _main_folds(args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(evaluate_folds(args))
    except (FoldError, ValueError) as exc:  # K out of range, an unknown finder: the command line is wrong
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except HuggingGPTError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    for line in summary_lines(report):
        print(line)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


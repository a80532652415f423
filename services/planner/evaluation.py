"""`hugginggpt eval plan`: runs the planner on TaskBench samples and prints node/edge F1, validity, latency."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from hugginggpt.artifacts import guess_media_type, kind_of
from hugginggpt.domain import Artifact, Kind, Plan, TaskTypeSpec
from hugginggpt.errors import HuggingGPTError, Unavailable
from hugginggpt.tasktypes import hf_task_id
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig
from services.planner.embedded_llm import ensure_llm, wait_until_up
from services.planner.metrics import Scores, score_sample
from services.planner.planning import Planner, PlanOutcome
from services.planner.prompting import Turn

_FILE = re.compile(r"\b[\w-]+\.(?:jpe?g|png|gif|bmp|webp|wav|mp3|flac|ogg|m4a|mp4|avi|mov|mkv|txt|csv|pdf)\b",
                   re.IGNORECASE)


def load_tools(path: Path) -> tuple[list[TaskTypeSpec], dict[str, str]]:
    """TOOL_DESC's tools as task types (Hugging Face ids) and the map back to TOOL_DESC's names."""
    nodes = json.loads(path.read_text())["nodes"]
    specs, names = [], {}
    for node in nodes:
        name = hf_task_id(node["id"])
        names[name] = node["id"]
        specs.append(TaskTypeSpec(name, node.get("desc", ""), tuple(Kind(k) for k in node["input-type"]),
                                  tuple(Kind(k) for k in node["output-type"])))
    return specs, names


def sample_turn(instruction: str) -> Turn:
    """The sample as a user turn; the files it names become its attachments."""
    files = []
    for name in dict.fromkeys(_FILE.findall(instruction)):
        media = guess_media_type(name)
        files.append(Artifact(f"artifact://eval/{name}", name, media, 0, kind_of(media)))
    return Turn("user", instruction, tuple(files))


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
                      names: dict[str, str], out_path: Path, timeout: float) -> Scores:
    from tqdm import tqdm

    scores = Scores()
    with out_path.open("w") as out:
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
    samples = stratified([json.loads(line) for line in args.data.read_text().splitlines() if line.strip()],
                         args.limit)
    specs, names = load_tools(args.tools)
    config = PlannerConfig.from_env()
    async with ensure_llm(config.llm) as llm_settings:
        llm_settings = replace(llm_settings, timeout_seconds=max(llm_settings.timeout_seconds, args.timeout))
        deps = build_planner(replace(config, llm=llm_settings), {s.name: s for s in specs},
                             allow_direct_answer=False)
        try:
            scores = await run_samples(deps.planner, samples, specs, names, args.predictions_out, args.timeout)
        finally:
            await deps.close()
    return scores.report()


def main(argv: list[str]) -> int:
    """Entry point for `hugginggpt eval plan ...`; prints the metrics as JSON (last line)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("services.planner").setLevel(logging.INFO)
    if not args.data.is_file() or not args.tools.is_file():
        print(f"error: {args.data if not args.data.is_file() else args.tools} is not a file", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(evaluate(args))
    except HuggingGPTError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    for kind, figures in report["by_type"].items():
        print(f"{kind:>6}: n={figures['samples']} node F1 {figures['node_f1']:.4f} edge F1 {figures['edge_f1']:.4f}"
              f" valid {figures['valid_share']:.2%}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


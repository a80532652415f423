"""LLM calls per request through plan + select + respond on the embedded LLM (TaskBench dev requests)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from gateway.config import GatewayConfig
from hugginggpt.budget import LlmCallBudget
from hugginggpt.domain import InferenceMode, Turn
from hugginggpt.embedding import MiniLm
from hugginggpt.errors import HuggingGPTError
from hugginggpt.llm import LlmClient, LlmSettings, Usage
from hugginggpt.tasktypes import load_task_types
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig
from services.planner.evaluation import sample_turn
from services.responder.outcomes import Result, TaskOutcome
from services.responder.responding import Done, Responder, ResponderPolicy
from services.selector.catalog import BUNDLED_SNAPSHOT, load_catalog
from services.selector.clients import offline_fallback
from services.selector.config import OFFLINE
from services.selector.deployments import DeploymentCache
from services.selector.ranking import Ranker
from services.selector.selection import Policy, Selector

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "taskbench-hf" / "dev.jsonl"


def stand_in(outcome_of: int, task_type: str, model_id: str) -> TaskOutcome:
    """Execution is not part of this figure: each task gets a labelled stand-in result."""
    text = f"(stand-in output of {task_type}; the benchmark does not run models)"
    return TaskOutcome(outcome_of, task_type, "succeeded" if model_id else "failed", model_id,
                   "" if model_id else "no model can run", Result(text=text))


async def run(args: argparse.Namespace) -> dict[str, float]:
    specs = load_task_types()
    deps = build_planner(PlannerConfig.from_env(), specs)
    llm = LlmClient(LlmSettings.from_env("selector"))
    offline = offline_fallback(OFFLINE)
    selector = Selector(load_catalog(BUNDLED_SNAPSHOT, OFFLINE), Ranker(MiniLm()),
                        DeploymentCache(lambda: _deployed(offline), offline), llm, specs,
                        Policy(hosted=args.hosted, default_mode=InferenceMode(args.mode)))
    responder = Responder(llm, ResponderPolicy(max_answer_tokens=args.answer_tokens))
    samples = [json.loads(line) for line in DEV.open()][: args.limit]
    budget = LlmCallBudget(args.max_llm_calls)  # shared as the gateway shares it
    calls, tokens, tasks, repairs = [], [], [], []
    ranking_only = failed = salvaged = 0
    for i, sample in enumerate(samples):
        usage, started, n, rounds = Usage(), time.perf_counter(), 0, 0
        try:
            turn = sample_turn(sample["instruction"])
            planned = await deps.planner.plan([turn], list(specs.values()), max_llm_calls=budget.for_planning())
            usage.add(planned.usage)
            n, rounds, salvaged = len(planned.plan.tasks), planned.repair_rounds, salvaged + planned.salvaged
            outcomes = []
            if planned.plan.tasks:
                may_ask = budget.selection_may_ask(planned.usage.calls)
                ranking_only += not may_ask
                chosen = await selector.select(turn.content, planned.plan.tasks, ranking_only=not may_ask)
                usage.add(chosen.usage)
                outcomes = [stand_in(s.task_id, t.type, s.chosen.model_id if s.chosen else "")
                            for s, t in zip(chosen.selections, planned.plan.tasks, strict=True)]
            async for item in responder.respond([Turn("user", turn.content)], planned.plan, outcomes):
                if isinstance(item, Done):
                    usage.add(item.usage)
        except HuggingGPTError as exc:
            failed += 1
            print(f"sample {sample['id']}: {type(exc).__name__}: {exc.message}", file=sys.stderr)
        calls.append(usage.calls)
        repairs.append(rounds)
        tokens.append(usage.prompt_tokens + usage.completion_tokens)
        tasks.append(n)
        print(f"[{i + 1}/{len(samples)}] tasks={n} calls={usage.calls} tokens={tokens[-1]} "
              f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    await deps.close()
    await llm.close()
    count = max(1, len(samples))
    return {"requests": len(samples), "mode": args.mode, "hosted": args.hosted, "llm_call_budget": budget.total,
            "max_llm_calls_per_request": max(calls, default=0),
            "mean_llm_calls_per_request": round(sum(calls) / count, 3),
            # the same without the planner's repair rounds (extra calls only when the LLM wrote an invalid plan)
            "max_llm_calls_first_try": max((c - r for c, r in zip(calls, repairs, strict=True)), default=0),
            "requests_with_repairs": sum(1 for r in repairs if r),
            # selections decided by ranking because planning had used the budget's selection call
            "requests_selection_by_ranking_only": ranking_only,
            "plans_salvaged": salvaged, "requests_failed": failed,
            "mean_tasks_per_request": round(sum(tasks) / count, 3),
            "mean_llm_tokens_per_request": round(sum(tokens) / count, 1)}


async def _deployed(view):  # the default offline deployment, as the router would report it
    return view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--mode", default="hybrid", choices=[m.value for m in InferenceMode])
    parser.add_argument("--hosted", default="on", choices=["on", "off", "auto"],
                        help="on = as with an HF token: hosted candidates make selection calls possible")
    parser.add_argument("--answer-tokens", type=int, default=200)
    parser.add_argument("--max-llm-calls", type=int, default=GatewayConfig.max_llm_calls,
                        help="the per-request LLM-call budget (HUGGINGGPT_GATEWAY_MAX_LLM_CALLS); 0 = none")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()

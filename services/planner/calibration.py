"""`HUGGINGGPT_PLANNER_GUIDE=auto`: the guide (fixed | hint | off) that plans best with the LLM at hand.

The `fixed` guide caps a plan's types and data flow at what retrieval finds, whatever the LLM; `hint` and `off`
leave them to the LLM, which a strong endpoint may do better. So the endpoint shows what it can do: the
requests of prompts/calibration.jsonl (written from the tool graph for this; none is a TaskBench sample) are
planned under each guide, and the guide with the best node F1 + edge F1 is chosen (ties: fixed, then hint).
The choice is cached on disk by the endpoint's model id, its base URL and the calibration set's hash, so a
restart does not calibrate again and another endpoint does. Calibration has a time budget; when it runs out,
or the LLM fails, the guide is `fixed` (logged, not cached). The planner serves under `fixed` meanwhile.

Run alone: python -m services.planner.calibration [--no-cache] (starts the embedded LLM like `eval plan`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hugginggpt.domain import Plan, TaskTypeSpec
from hugginggpt.errors import DeadlineExceeded, HuggingGPTError, InvalidRequest, PlanRejected, Unavailable
from hugginggpt.llm import LlmClient
from hugginggpt.tasktypes import hf_task_id
from services.planner.clients import PlannerDeps, build_planner
from services.planner.config import PlannerConfig
from services.planner.demos import Demo
from services.planner.planning import Planner
from services.planner.samples import sample_turn
from services.planner.scoring import Counts
from services.planner.templates import PROMPTS

logger = logging.getLogger(__name__)

CHOICES = ("fixed", "hint", "off")  # in order of preference among equals
FALLBACK = "fixed"
SET_NAME = "calibration.jsonl"
CONCURRENCY = 4  # plans asked for at once (llama-server's slots: hugginggpt.embedded.LLM_PARALLEL)
MIN_SAMPLES = 3  # fewer calibration requests with the types on offer: no calibration, the fallback

Sample = dict[str, Any]
PlannerFactory = Callable[[str], Planner]  # a planner under the guide named


@dataclass(frozen=True)
class Calibration:
    """The guide chosen, each guide's node and edge F1 on the calibration set, and what it cost."""

    guide: str
    scores: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # guide -> (node F1, edge F1)
    seconds: float = 0.0
    samples: int = 0
    reason: str = ""  # why the fallback was taken without a full calibration; "" when calibrated
    cached: bool = False

    def describe(self) -> str:
        scores = ", ".join(f"{g} {n:.3f}/{e:.3f}" for g, (n, e) in self.scores.items()) or "none"
        how = "cached" if self.cached else f"{self.seconds:.1f} s, {self.samples} requests"
        return f"guide {self.guide} (node/edge F1: {scores}; {how}{'; ' + self.reason if self.reason else ''})"


def load_set() -> list[Sample]:
    """The calibration requests with their plans (TaskBench's shape and tool names)."""
    return [json.loads(line) for line in PROMPTS.lines(SET_NAME)]


def set_digest(samples: Sequence[Sample]) -> str:
    return hashlib.sha256(json.dumps(list(samples), sort_keys=True).encode()).hexdigest()[:16]


def cache_key(model: str, base_url: str, digest: str) -> str:
    return hashlib.sha256(f"{model}\n{base_url.rstrip('/')}\n{digest}".encode()).hexdigest()[:24]


def overlap(calibration: Sequence[Sample], samples: Sequence[Sample]) -> list[str]:
    """The calibration requests that are also among `samples` (by id or by their words): none may be."""
    ids = {str(s.get("id")) for s in samples}
    words = {_words(str(s.get("instruction", ""))) for s in samples}
    return [str(c["id"]) for c in calibration if str(c["id"]) in ids or _words(c["instruction"]) in words]


def _words(text: str) -> str:
    return " ".join(text.lower().split())


class GuideCache:
    """Calibrations by key in one JSON file; an unreadable file is an empty cache."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Calibration | None:
        entry = self._all().get(key)
        if not isinstance(entry, dict) or entry.get("guide") not in CHOICES:
            return None
        scores = {g: (float(s[0]), float(s[1])) for g, s in dict(entry.get("scores", {})).items()}
        return Calibration(entry["guide"], scores, float(entry.get("seconds", 0.0)), int(entry.get("samples", 0)),
                           cached=True)

    def put(self, key: str, calibration: Calibration, about: Mapping[str, str]) -> None:
        entries = self._all()
        entries[key] = {**asdict(replace(calibration, cached=False)), **about,
                        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(entries, indent=1) + "\n")
        except OSError as exc:  # a read-only home: calibrate again next time
            logger.warning("could not cache the guide chosen in %s: %s", self.path, exc)


def plan_sets(plan: Plan) -> tuple[set[str], set[tuple[str, str]]]:
    by_id = {task.id: task.type for task in plan.tasks}
    return set(by_id.values()), {(by_id[d], t.type) for t in plan.tasks for d in t.dependencies if d in by_id}


def gold_sets(sample: Sample) -> tuple[set[str], set[tuple[str, str]]]:
    nodes = {hf_task_id(n["task"]) for n in sample["task_nodes"]}
    return nodes, {(hf_task_id(link["source"]), hf_task_id(link["target"])) for link in sample["task_links"]}


async def calibrate(make: PlannerFactory, samples: Sequence[Sample], offered: Sequence[TaskTypeSpec],
                    budget_s: float) -> Calibration:
    """Plans the samples (those whose types are all on offer) under each guide; the best guide, or the
    fallback with the reason when there are too few samples, the time runs out or the LLM fails."""
    names = {spec.name for spec in offered}
    usable = [s for s in samples if gold_sets(s)[0] <= names]
    if len(usable) < MIN_SAMPLES:
        return Calibration(FALLBACK, reason=f"only {len(usable)} calibration requests use the types on offer")
    started = time.monotonic()
    deadline = started + budget_s
    scores: dict[str, tuple[float, float]] = {}
    try:
        async with asyncio.timeout(budget_s):
            for guide in CHOICES:
                scores[guide] = await _score(make(guide), usable, offered, deadline)
    except (TimeoutError, DeadlineExceeded):
        return Calibration(FALLBACK, scores, time.monotonic() - started, len(usable),
                           reason=f"calibration ran out of its {budget_s:g} s")
    except Unavailable as exc:
        return Calibration(FALLBACK, scores, time.monotonic() - started, len(usable), reason=f"LLM error: {exc}")
    best = max(CHOICES, key=lambda g: sum(scores[g]))  # max keeps the first of equals: the order of preference
    return Calibration(best, scores, round(time.monotonic() - started, 1), len(usable))


async def _score(planner: Planner, samples: Sequence[Sample], offered: Sequence[TaskTypeSpec],
                 deadline: float) -> tuple[float, float]:
    """Node and edge F1 of the planner's plans for the samples, planned CONCURRENCY at a time."""
    slots = asyncio.Semaphore(CONCURRENCY)

    async def planned(sample: Sample) -> tuple[set[str], set[tuple[str, str]]]:
        async with slots:
            try:
                outcome = await planner.plan([sample_turn(sample["instruction"])], offered,
                                             timeout=max(0.1, deadline - time.monotonic()))
            except (PlanRejected, InvalidRequest):  # no plan: an empty one, as the evaluation counts it
                return set(), set()
            return plan_sets(outcome.plan)

    nodes, edges = Counts(), Counts()
    for sample, (got_nodes, got_edges) in zip(samples, await asyncio.gather(*map(planned, samples)), strict=True):
        gold_nodes, gold_edges = gold_sets(sample)
        nodes.add(gold_nodes, got_nodes)
        edges.add(gold_edges, got_edges)
    return round(nodes.f1(), 4), round(edges.f1(), 4)


async def endpoint_model(llm: LlmClient) -> str:
    """The id of the model the endpoint serves (its /models), else the model name configured."""
    try:
        models = await llm._client.models.list()  # the openai client's own request
        return str(models.data[0].id) if models.data else llm.settings.model
    except Exception:  # an endpoint without /models: the name it is asked for stands for it
        return llm.settings.model


async def choose_guide(make: PlannerFactory, model: str, base_url: str, offered: Sequence[TaskTypeSpec],
                       *, budget_s: float, cache: GuideCache | None,
                       samples: Sequence[Sample] | None = None) -> Calibration:
    """The cached choice for this model at this endpoint and calibration set, else a fresh calibration
    (cached when it completed)."""
    samples = load_set() if samples is None else samples
    key = cache_key(model, base_url, set_digest(samples))
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        logger.info("planner guide for %s at %s: %s", model, base_url, hit.describe())
        return hit
    chosen = await calibrate(make, samples, offered, budget_s)
    if chosen.reason:
        logger.warning("planner guide for %s at %s: %s", model, base_url, chosen.describe())
    else:
        logger.info("planner guide for %s at %s: %s", model, base_url, chosen.describe())
        if cache is not None:
            cache.put(key, chosen, {"model": model, "base_url": base_url, "calibration_set": set_digest(samples)})
    return chosen


async def steer(planner: Planner, make: PlannerFactory, llm: LlmClient, offered: Sequence[TaskTypeSpec], *,
                budget_s: float, cache: GuideCache | None) -> Calibration:
    """Chooses the guide for the endpoint of `llm` and has `planner` plan under it from now on; any failure
    leaves the planner as it is (fixed). For the planner's start, in the background."""
    try:
        chosen = await choose_guide(make, await endpoint_model(llm), llm.settings.base_url, offered,
                                    budget_s=budget_s, cache=cache)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a calibration that breaks must never break the planner
        logger.warning("planner guide: calibration failed (%s); planning under %s", exc, FALLBACK)
        return Calibration(FALLBACK, reason=f"calibration failed: {exc}")
    planner.steer(make(chosen.guide))
    return chosen


async def settle(config: PlannerConfig, types: Mapping[str, TaskTypeSpec], samples: Sequence[Sample],
                 demos: Sequence[Demo] = ()) -> tuple[PlannerConfig, Calibration | None]:
    """For an evaluation on `samples`: with guide auto, the config under the guide chosen for its endpoint and the
    calibration; any other guide as it is. InvalidRequest when a calibration request is among the samples."""
    if config.guide != "auto":
        return config, None
    if clash := overlap(load_set(), samples):
        raise InvalidRequest(f"the calibration requests {', '.join(clash)} are among the samples evaluated")
    deps = build_planner(config, types, allow_direct_answer=False, demos=demos)
    try:
        chosen = await choose_guide(deps.make, await endpoint_model(deps.llm), config.llm.base_url,
                                    list(types.values()), budget_s=config.calibration_seconds,
                                    cache=GuideCache(config.guide_cache))
    finally:
        await deps.close()
    return replace(config, guide=chosen.guide), chosen


def calibrate_in_background(deps: PlannerDeps, config: PlannerConfig,
                            offered: Sequence[TaskTypeSpec]) -> Callable[[], Awaitable[None]]:
    """Starts choosing the guide for the planner of `deps` (it plans under fixed until then); the hook that
    stops it, for the server's shutdown."""
    task = asyncio.create_task(steer(deps.planner, deps.make, deps.llm, offered, budget_s=config.calibration_seconds,
                                     cache=GuideCache(config.guide_cache)))

    async def stop() -> None:
        task.cancel()

    return stop


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.planner.calibration", description=__doc__.split("\n")[0])
    parser.add_argument("--no-cache", action="store_true", help="calibrate even when the choice is cached")
    parser.add_argument("--budget", type=float, default=0.0,
                        help="seconds allowed (default: HUGGINGGPT_PLANNER_CALIBRATION_SECONDS)")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from hugginggpt.tasktypes import load_task_types
    from services.planner.embedded_llm import ensure_llm

    config = PlannerConfig.from_env()
    async with ensure_llm(config.llm) as llm:
        config = replace(config, llm=llm, guide="auto")
        types = load_task_types()
        deps = build_planner(config, types, allow_direct_answer=False)
        try:
            model = await endpoint_model(deps.llm)
            chosen = await choose_guide(deps.make, model, llm.base_url, list(types.values()),
                                        budget_s=args.budget or config.calibration_seconds,
                                        cache=None if args.no_cache else GuideCache(config.guide_cache))
        finally:
            await deps.close()
    return {"model": model, "base_url": llm.base_url, **asdict(chosen)}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        print(json.dumps(asyncio.run(_run(parse_args(argv)))))
    except HuggingGPTError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

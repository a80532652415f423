"""`HUGGINGGPT_PLANNER_GUIDE=auto`: the guide chosen by planning calibration requests under each, cached by endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hugginggpt.errors import InvalidRequest
from hugginggpt.llm import Usage
from hugginggpt.settings import SettingsError
from hugginggpt.tasktypes import load_task_types
from services.planner import calibration
from services.planner.calibration import (
    GuideCache,
    cache_key,
    calibrate_in_background,
    gold_sets,
    load_set,
    overlap,
    settle,
    steer,
)
from services.planner.clients import PlannerDeps, build_planner
from services.planner.config import PlannerConfig
from services.planner.demos import Demo, DemoBank
from services.planner.planning import Planner
from services.planner.prompting import Budget, PromptBuilder
from services.planner.samples import load_samples, load_tools
from services.planner.templates import load_demo_lines
from services.planner.tokens import EstimatingCounter
from tests.doubles.embedder import HashEmbedder
from tests.doubles.llm import Answer, DownLlm, ScriptedLlm

TYPES = load_task_types()
OFFERED = list(TYPES.values())
DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "taskbench-hf"

SAMPLES: list[dict[str, Any]] = [
    {"id": "c1", "type": "single", "instruction": "Summarize this article about bikes: 'Bikes are good.'",
     "task_nodes": [{"task": "Summarization"}], "task_links": []},
    {"id": "c2", "type": "chain", "instruction": "Translate 'good morning' into French, then read it aloud.",
     "task_nodes": [{"task": "Translation"}, {"task": "Text-to-Speech"}],
     "task_links": [{"source": "Translation", "target": "Text-to-Speech"}]},
    {"id": "c3", "type": "single", "instruction": "Read 'good night' aloud.",
     "task_nodes": [{"task": "Text-to-Speech"}], "task_links": []},
]


def plan(*names: str, chained: bool = False) -> str:
    tasks = [{"task": name, "id": i, "dep": [i - 1] if chained and i else [],
              "args": {"text": f"<GENERATED>-{i - 1}" if chained and i else "some words"}}
             for i, name in enumerate(names)]
    return json.dumps({"tasks": tasks})


RIGHT = [plan("summarization"), plan("translation", "text-to-speech", chained=True), plan("text-to-speech")]
HALF = [plan("summarization"), plan("translation"), plan("text-generation")]
WRONG = [plan("text-generation"), plan("text-generation"), plan("text-generation")]


def prompts() -> PromptBuilder:
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    return PromptBuilder(bank, EstimatingCounter(), Budget())


class ByRequestLlm(ScriptedLlm):
    """Answers with the scripted answer of the calibration request in the prompt (plans are asked for at once)."""

    def _next(self, messages: list[dict[str, str]], usage: Usage, kwargs: dict[str, Any]) -> str | list[str]:
        asked = next(i for i, s in enumerate(SAMPLES) if str(s["instruction"]) in messages[-1]["content"])
        self.answers = [self.script[asked]]
        return super()._next(messages, usage, kwargs)

    def __init__(self, answers: Sequence[Answer]) -> None:
        super().__init__([])
        self.script = list(answers)


class Factory:
    """Planners whose LLM answers as scripted for their guide; records the guides asked for."""

    def __init__(self, scripts: Mapping[str, Sequence[Answer]],
                 llm: Callable[[list[Answer]], ScriptedLlm] = ByRequestLlm) -> None:
        self.scripts = scripts
        self.llm = llm
        self.made: list[str] = []

    def __call__(self, guide: str) -> Planner:
        self.made.append(guide)
        return Planner(self.llm(list(self.scripts.get(guide, ()))), prompts(), TYPES, repair_rounds=0, salvage=False,
                       cover_files=False, fix_types=guide == "fixed")


async def choose(factory: Factory, cache: GuideCache | None = None, model: str = "m", url: str = "http://a/v1",
                 budget: float = 30.0) -> Any:
    return await calibration.choose_guide(factory, model, url, OFFERED, budget_s=budget, cache=cache, samples=SAMPLES)


async def test_the_guide_that_plans_the_calibration_requests_best_is_chosen() -> None:
    chosen = await choose(Factory({"fixed": HALF, "hint": RIGHT, "off": WRONG}))
    assert chosen.guide == "hint" and not chosen.reason and chosen.samples == 3
    assert chosen.scores["hint"] == (1.0, 1.0)
    assert chosen.scores["off"][0] == 0.0 and 0 < chosen.scores["fixed"][0] < 1


@pytest.mark.parametrize(("scripts", "expected"), [
    ({"fixed": RIGHT, "hint": RIGHT, "off": RIGHT}, "fixed"),
    ({"fixed": WRONG, "hint": HALF, "off": HALF}, "hint"),
])
async def test_ties_go_to_fixed_then_hint(scripts: dict[str, list[str]], expected: str) -> None:
    assert (await choose(Factory(scripts))).guide == expected


async def test_the_choice_is_cached_by_model_endpoint_and_calibration_set(tmp_path: Path) -> None:
    cache = GuideCache(tmp_path / "guides.json")
    first = await choose(Factory({"fixed": WRONG, "hint": HALF, "off": RIGHT}), cache)
    assert first.guide == "off" and not first.cached
    again = Factory({})  # no answers: any plan would fail the test
    hit = await choose(again, cache)
    assert hit.guide == "off" and hit.cached and hit.scores == first.scores and again.made == []
    for model, url in (("another", "http://a/v1"), ("m", "http://b/v1")):
        fresh = Factory({"fixed": RIGHT, "hint": RIGHT, "off": RIGHT})
        assert (await choose(fresh, cache, model, url)).guide == "fixed"
        assert fresh.made == list(calibration.CHOICES)
    stored = json.loads((tmp_path / "guides.json").read_text())
    assert len(stored) == 3 and {e["guide"] for e in stored.values()} == {"off", "fixed"}
    assert cache_key("m", "http://a/v1", "x") != cache_key("m", "http://a/v1", "y")  # the set is in the key


class SlowLlm(ByRequestLlm):
    async def complete(self, messages: list[dict[str, str]], usage: Usage, **kwargs: Any) -> str:
        await asyncio.sleep(5)
        return await super().complete(messages, usage, **kwargs)


async def test_a_calibration_out_of_time_falls_back_to_fixed_and_is_not_cached(tmp_path: Path) -> None:
    cache = GuideCache(tmp_path / "guides.json")
    chosen = await choose(Factory({"fixed": RIGHT, "hint": RIGHT}, llm=SlowLlm), cache, budget=0.3)
    assert chosen.guide == "fixed" and "ran out of its 0.3 s" in chosen.reason
    assert not (tmp_path / "guides.json").exists()


async def test_an_llm_that_fails_falls_back_to_fixed_and_is_not_cached(tmp_path: Path) -> None:
    cache = GuideCache(tmp_path / "guides.json")
    chosen = await choose(Factory({}, llm=lambda _: DownLlm()), cache)
    assert chosen.guide == "fixed" and chosen.reason.startswith("LLM error")
    assert cache.get(cache_key("m", "http://a/v1", "anything")) is None and not (tmp_path / "guides.json").exists()


async def test_an_unreadable_cache_is_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "guides.json"
    path.write_text("{not json")
    assert (await choose(Factory({"fixed": RIGHT, "hint": RIGHT, "off": RIGHT}), GuideCache(path))).guide == "fixed"
    assert len(json.loads(path.read_text())) == 1


async def test_steering_applies_the_choice_and_a_broken_calibration_leaves_the_planner_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.planner.calibration.load_set", lambda: SAMPLES)
    served = Factory({})("fixed")
    llm = DownLlm()
    llm.settings = type("S", (), {"base_url": "http://a/v1", "model": "m"})()  # type: ignore[attr-defined]
    factory = Factory({"fixed": WRONG, "hint": RIGHT, "off": HALF})
    chosen = await steer(served, factory, llm, OFFERED, budget_s=30, cache=GuideCache(tmp_path / "g.json"))  # type: ignore[arg-type]
    assert chosen.guide == "hint" and served.fix_types is False

    def broken(guide: str) -> Planner:
        raise RuntimeError("no such thing")

    again = Factory({})("fixed")
    chosen = await steer(again, broken, llm, OFFERED, budget_s=30, cache=None)  # type: ignore[arg-type]
    assert chosen.guide == "fixed" and "calibration failed" in chosen.reason and again.fix_types is True


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="HUGGINGGPT_PLANNER_GUIDE must be one of off, hint, fixed, auto"):
        PlannerConfig.from_env({"HUGGINGGPT_PLANNER_GUIDE": "automatic"})
    for bad in ("0", "-5", "soon"):
        with pytest.raises(SettingsError, match="HUGGINGGPT_PLANNER_CALIBRATION_SECONDS"):
            PlannerConfig.from_env({"HUGGINGGPT_PLANNER_GUIDE": "auto", "HUGGINGGPT_PLANNER_CALIBRATION_SECONDS": bad})
    with pytest.raises(SettingsError, match="HUGGINGGPT_PLANNER_STEPS needs"):
        PlannerConfig.from_env({"HUGGINGGPT_PLANNER_GUIDE": "auto", "HUGGINGGPT_PLANNER_STEPS": "1"})
    config = PlannerConfig.from_env({"HUGGINGGPT_PLANNER_GUIDE": "auto", "HUGGINGGPT_PLANNER_CALIBRATION_SECONDS": "45",
                                     "HUGGINGGPT_PLANNER_GUIDE_CACHE": "/tmp/g.json"})
    assert (config.guide, config.calibration_seconds, str(config.guide_cache)) == ("auto", 45.0, "/tmp/g.json")


def test_auto_serves_under_fixed_until_calibrated_and_makes_each_guide() -> None:
    config = replace(PlannerConfig.from_env({}), guide="auto")
    deps = build_planner(config, TYPES, embedder=HashEmbedder())
    assert deps.planner.fix_types and deps.planner.intents is not None
    off, hint = deps.make("off"), deps.make("hint")
    assert off.intents is None and not off.prompts.guide
    assert hint.intents is not None and hint.prompts.guide and not hint.fix_types
    deps.planner.steer(off)
    assert deps.planner.intents is None and not deps.planner.fix_types


def test_the_calibration_set_uses_the_types_on_offer_in_every_shape() -> None:
    samples = load_set()
    assert len(samples) >= 8 and {s["type"] for s in samples} == {"single", "chain", "dag"}
    assert all(gold_sets(s)[0] <= set(TYPES) for s in samples)
    if (DEV / "tool_desc.json").is_file():
        names = {spec.name for spec in load_tools(DEV / "tool_desc.json")[0]}
        assert all(gold_sets(s)[0] <= names for s in samples)


@pytest.mark.skipif(not (DEV / "dev.jsonl").is_file(), reason="TaskBench's dev subset is not here")
def test_no_calibration_request_is_or_resembles_a_taskbench_dev_sample() -> None:
    dev = load_samples(DEV / "dev.jsonl")
    requests = load_set()
    assert overlap(requests, dev) == []

    def words(text: str) -> set[str]:
        return {w.strip(".,?!'\"()").lower() for w in text.split() if len(w) > 3}

    for sample in requests:
        closest = max(len(words(sample["instruction"]) & words(d["instruction"])) /
                      len(words(sample["instruction"]) | words(d["instruction"])) for d in dev)
        assert closest < 0.4, sample["id"]


async def test_an_evaluation_keeps_an_explicit_guide_and_refuses_samples_that_are_calibration_requests() -> None:
    config = PlannerConfig.from_env({"HUGGINGGPT_PLANNER_GUIDE": "hint"})
    assert await settle(config, TYPES, load_set()) == (config, None)  # no calibration, nothing asked of an LLM
    auto = replace(config, guide="auto")
    with pytest.raises(InvalidRequest, match="cal-01"):
        await settle(auto, TYPES, [{"id": "x", "instruction": "  " + load_set()[0]["instruction"].upper()}])
    assert overlap(load_set(), [{"id": "cal-02", "instruction": "something else"}]) == ["cal-02"]


async def test_the_service_calibrates_in_the_background_and_its_stop_hook_ends_that(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.planner.calibration.load_set", lambda: SAMPLES)
    llm = DownLlm()
    llm.settings = type("S", (), {"base_url": "http://a/v1", "model": "m"})()  # type: ignore[attr-defined]
    config = replace(PlannerConfig.from_env({}), guide="auto", guide_cache=tmp_path / "g.json")
    factory = Factory({"fixed": WRONG, "hint": HALF, "off": RIGHT})
    deps = PlannerDeps(llm, factory("fixed"), factory)  # type: ignore[arg-type]
    stop = calibrate_in_background(deps, config, OFFERED)
    for _ in range(200):
        if not deps.planner.fix_types:
            break
        await asyncio.sleep(0.01)
    assert deps.planner.intents is None and not deps.planner.fix_types  # off, chosen and applied
    await stop()

    slow = Factory({"fixed": RIGHT, "hint": RIGHT, "off": RIGHT}, llm=SlowLlm)
    deps = PlannerDeps(llm, slow("fixed"), slow)  # type: ignore[arg-type]
    stop = calibrate_in_background(deps, replace(config, guide_cache=tmp_path / "h.json"), OFFERED)
    await asyncio.sleep(0.05)
    await stop()  # shutdown while calibrating: the planner stays under fixed, nothing cached
    await asyncio.sleep(0.05)
    assert deps.planner.fix_types and not (tmp_path / "h.json").exists()

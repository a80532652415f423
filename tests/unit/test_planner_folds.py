"""K-fold scoring of the planner: stratified folds, choices fitted on the other folds, pooled held-out figures."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from hugginggpt.domain import Kind, TaskTypeSpec
from services.planner.evaluation import main, write_fit
from services.planner.folds import FittedChoice, FoldError, RetrievalScorer, make_folds, run_folds, summary_lines
from services.planner.intents import IntentBank, load_fit
from services.planner.scoring import Scores
from tests.doubles.embedder import HashEmbedder

PHRASES = {
    "summarization": ["summarize this article", "give me a short summary of the text"],
    "translation": ["translate this sentence into french", "translate the text into german"],
}
CONTEXT = ["i am working on a project", "i have a file named notes"]
TYPES = {name: TaskTypeSpec(name, "", (Kind.TEXT,), (Kind.TEXT,)) for name in PHRASES}
NAMES = {"summarization": "Summarization", "translation": "Translation"}


def sample(index: int, kind: str = "single") -> dict:
    if kind == "single":
        return {"id": f"s{index}", "type": "single", "instruction": "Summarize this article for me.",
                "task_nodes": [{"task": "Summarization"}], "task_links": []}
    return {"id": f"c{index}", "type": "chain", "instruction": "Summarize this article, then translate the text.",
            "task_nodes": [{"task": "Summarization"}, {"task": "Translation"}],
            "task_links": [{"source": "Summarization", "target": "Translation"}]}


SAMPLES = [sample(i) for i in range(7)] + [sample(i, "chain") for i in range(5)]


def scorer() -> RetrievalScorer:
    return RetrievalScorer({"phrases": IntentBank(PHRASES, CONTEXT, HashEmbedder())}, TYPES, NAMES)


def test_folds_hold_every_sample_once_each_type_spread_evenly_and_depend_on_the_seed() -> None:
    folds = make_folds(SAMPLES, 3, seed=1)
    assert sorted(s["id"] for f in folds for s in f) == sorted(s["id"] for s in SAMPLES)
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    for kind in ("single", "chain"):
        counts = [Counter(s["type"] for s in f)[kind] for f in folds]
        assert max(counts) - min(counts) <= 1
    assert make_folds(SAMPLES, 3, seed=1) == folds
    assert make_folds(SAMPLES, 3, seed=2) != folds


@pytest.mark.parametrize("k", [0, 1, 13])
def test_impossible_fold_counts_are_refused_with_the_reason(k: int) -> None:
    with pytest.raises(FoldError, match="at least 2|more than the 12 samples"):
        make_folds(SAMPLES, k)


@pytest.mark.parametrize(("k", "message"), [("1", "at least 2"), ("5", "more than the 2 samples")])
def test_the_command_line_exits_2_on_a_bad_fold_count(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      k: str, message: str) -> None:
    data, tools = tmp_path / "d.jsonl", tmp_path / "t.json"
    data.write_text("\n".join(json.dumps(s) for s in SAMPLES[:2]) + "\n")
    tools.write_text(json.dumps({"nodes": []}))
    code = main(["--data", str(data), "--tools", str(tools), "--predictions-out", str(tmp_path / "p.jsonl"),
                 "--folds", k, "--retrieval-only"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_fitting_keeps_the_choice_that_scores_best_on_the_training_samples() -> None:
    retrieval = scorer()
    strict = FittedChoice("phrases", 0.99, 0.99)  # nothing clears it: no task at all
    usual = FittedChoice("phrases", 0.3, 0.2)
    assert retrieval.fit(SAMPLES, [strict, usual]) == usual
    assert retrieval.score(strict, SAMPLES).overall.nodes.tp == 0
    assert retrieval.score(usual, SAMPLES).overall.nodes.tp > 0


async def test_folds_are_fitted_without_the_fold_they_score_and_pooled() -> None:
    retrieval = scorer()
    folds = make_folds(SAMPLES, 3)
    seen: list[tuple[set[str], set[str]]] = []

    def fit(training: list[dict]) -> FittedChoice:
        seen.append(({s["id"] for s in training}, set()))
        return FittedChoice("phrases", 0.3, 0.2)

    async def plan_fold(index: int, choice: FittedChoice, held_out: Sequence[dict], into: Scores) -> None:
        seen[-1][1].update(s["id"] for s in held_out)
        retrieval.score(choice, held_out, into)

    report = await run_folds(folds, fit, plan_fold)
    assert all(not training & held for training, held in seen)
    whole = retrieval.score(FittedChoice("phrases", 0.3, 0.2), SAMPLES).report()
    assert report["pooled"]["node_f1"] == whole["node_f1"] and report["pooled"]["samples"] == len(SAMPLES)
    assert report["pooled"]["by_type"]["chain"]["samples"] == 5
    assert len(report["per_fold"]) == 3 and report["per_fold"][0]["choice"]["threshold"] == 0.3
    assert report["spread"]["node_f1"]["min"] <= report["pooled"]["node_f1"] <= report["spread"]["node_f1"]["max"]
    assert summary_lines(report)[0].startswith("pooled held-out over 3 folds")


def test_a_bank_decides_from_its_scores_as_it_proposes_at_any_threshold() -> None:
    bank = IntentBank(PHRASES, CONTEXT, HashEmbedder())
    request = "Summarize this article. Then translate the text into German."
    scored = bank.score(request, set(PHRASES))
    assert scored is not None
    for threshold, floor in ((0.3, 0.2), (0.6, 0.5), (0.99, 0.99)):
        fitted = bank.fitted(threshold, floor)
        assert bank.decide(scored, threshold, floor) == fitted.propose(request, set(PHRASES))
    assert bank.threshold == 0.40  # fitting copies the bank


def test_a_finder_trained_on_the_samples_gets_its_threshold_from_inner_folds_it_was_not_trained_on() -> None:
    retrieval = scorer()
    trained_on: list[set[str]] = []

    def train(samples: list[dict]) -> IntentBank:
        trained_on.append({s["id"] for s in samples})
        return IntentBank(PHRASES, CONTEXT, HashEmbedder())

    choice, merit = retrieval.fit_trained(SAMPLES, train, "test", grid="phrases", inner=3)
    assert len(trained_on) == 4 and trained_on[-1] == {s["id"] for s in SAMPLES}  # 3 inner fits, then on all
    assert all(len(ids) < len(SAMPLES) for ids in trained_on[:3])
    assert choice.finder in retrieval.finders and choice.finder.startswith("test-")
    assert 0.0 < merit <= 2.0


def test_an_offset_is_kept_only_where_it_helps_the_training_samples() -> None:
    retrieval = scorer()
    strict = FittedChoice("phrases", 0.99, 0.99)  # nothing found: raising summarization's scores finds it
    fitted = retrieval.fit_offsets(SAMPLES, strict, steps=(0.0, 0.9))
    assert fitted.offsets == (("summarization", 0.9), ("translation", 0.9))  # most asked first; 0.0 gains nothing
    assert retrieval.score(fitted, SAMPLES).overall.nodes.tp > 0
    usual = FittedChoice("phrases", 0.3, 0.2)
    assert retrieval.fit_offsets(SAMPLES, usual, steps=(-0.9,)).offsets == ()  # it would lose every task


def test_the_written_bank_loads_with_the_choice_fitted_for_it_and_explicit_values_win() -> None:
    fit = load_fit()
    bank = IntentBank.load(HashEmbedder())
    assert (bank.threshold, bank.floor, bank.offsets) == (fit["threshold"], min(fit["floor"], fit["threshold"]),
                                                          fit["offsets"])
    assert IntentBank.load(HashEmbedder(), threshold=0.5, floor=0.45).threshold == 0.5


def test_the_fit_on_all_samples_is_written_with_what_it_was_fitted_on(tmp_path: Path) -> None:
    args = argparse.Namespace(data=Path("dev.jsonl"), finders="phrases", offsets=True, folds=5, seed=0)
    fitted = FittedChoice("phrases", 0.4, 0.25, (("translation", -0.04),))
    written = write_fit(tmp_path / "fitted.json", fitted, args, 133)
    assert json.loads((tmp_path / "fitted.json").read_text()) == written
    assert written["offsets"] == {"translation": -0.04} and "133 samples" in written["fitted_on"]


def test_retrieval_only_without_folds_scores_the_shipped_finder_and_writes_each_prediction(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("services.planner.evaluation.MiniLm", HashEmbedder)
    data, tools, out = tmp_path / "d.jsonl", tmp_path / "t.json", tmp_path / "p.jsonl"
    data.write_text("".join(json.dumps(s) + "\n" for s in SAMPLES[:3]))
    tools.write_text(json.dumps({"nodes": [{"id": name, "desc": "", "input-type": ["text"], "output-type": ["text"]}
                                           for name in NAMES.values()]}))
    assert main(["--data", str(data), "--tools", str(tools), "--predictions-out", str(out), "--retrieval-only"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    fit = load_fit()
    assert report["samples"] == 3 and report["retrieval_only"]["threshold"] == fit["threshold"]
    assert dict(report["retrieval_only"]["offsets"]) == fit["offsets"]
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["s0", "s1", "s2"]


def test_retrieval_only_folds_write_each_held_out_prediction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("services.planner.evaluation.MiniLm", HashEmbedder)
    data, tools, out = tmp_path / "d.jsonl", tmp_path / "t.json", tmp_path / "p.jsonl"
    data.write_text("".join(json.dumps(s) + "\n" for s in SAMPLES))
    tools.write_text(json.dumps({"nodes": [{"id": name, "desc": "", "input-type": ["text"], "output-type": ["text"]}
                                           for name in NAMES.values()]}))
    out.write_text("left over from an earlier run\n")
    assert main(["--data", str(data), "--tools", str(tools), "--predictions-out", str(out), "--folds", "3",
                 "--retrieval-only", "--finders", "phrases", "--no-offsets"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["pooled"]["samples"] == len(SAMPLES)
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == sorted(s["id"] for s in SAMPLES)

"""The TaskBench evaluation: tool loading, sample files, metrics as TaskBench computes them, output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hugginggpt.domain import Kind
from hugginggpt.tasktypes import load_task_types
from services.planner.demos import Demo, DemoBank
from services.planner.evaluation import load_tools, main, run_samples, sample_turn, stratified
from services.planner.planning import Planner
from services.planner.prompting import Budget, PromptBuilder, plan_schema
from services.planner.scoring import Counts, Scores, score_sample
from services.planner.templates import load_demo_lines
from services.planner.tokens import EstimatingCounter
from tests.doubles.embedder import HashEmbedder
from tests.doubles.llm import ScriptedLlm

TOOLS = {"nodes": [
    {"id": "Image-to-Text", "desc": "Image to text.", "input-type": ["image"], "output-type": ["text"]},
    {"id": "Summarization", "desc": "Summarizes.", "input-type": ["text"], "output-type": ["text"]},
    {"id": "Image Editing", "desc": "Edits.", "input-type": ["text", "image"], "output-type": ["image"]},
]}
SAMPLE = {"id": "s1", "type": "chain", "instruction": "Describe 'photo.jpg' and summarize the description.",
          "task_nodes": [{"task": "Image-to-Text", "arguments": ["photo.jpg"]},
                         {"task": "Summarization", "arguments": ["<node-0>"]}],
          "task_links": [{"source": "Image-to-Text", "target": "Summarization"}]}


def test_tools_become_task_types_with_names_mapped_back(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(TOOLS))
    specs, names = load_tools(path)
    assert [s.name for s in specs] == ["image-to-text", "summarization", "image-editing"]
    assert specs[2].inputs == (Kind.TEXT, Kind.IMAGE) and names["image-editing"] == "Image Editing"


def test_files_named_in_the_instruction_become_attachments() -> None:
    turn = sample_turn("Use example.jpg and 'clip.wav', not example.jpg twice.")
    assert [(a.name, a.kind) for a in turn.attachments] == [("example.jpg", Kind.IMAGE), ("clip.wav", Kind.AUDIO)]


def test_micro_f1_pools_counts_and_failures_count_as_empty() -> None:
    scores = Scores()
    plan = [{"task": "Image-to-Text", "id": 0, "dep": []}, {"task": "Summarization", "id": 1, "dep": [0]}]
    score_sample(scores, SAMPLE, plan, "", 1.0)
    score_sample(scores, SAMPLE, [], "the LLM could not write a valid plan", 2.0)
    report = scores.report()
    assert scores.overall.nodes.tp == 2 and scores.overall.nodes.fn == 2
    assert report["node_f1"] == pytest.approx(2 / 3, abs=1e-4) and report["valid_share"] == 0.5
    assert report["by_type"]["chain"]["edge_f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert Counts().f1() == 0.0


def test_stratified_takes_each_type_in_turn() -> None:
    samples = [{"type": t, "id": i} for i, t in enumerate(["single"] * 5 + ["chain"] * 5 + ["dag"] * 2)]
    assert [s["type"] for s in stratified(samples, 6)] == ["single", "chain", "dag"] * 2


def test_schema_lets_media_slots_name_only_files_of_that_kind() -> None:
    turn = sample_turn("photo.jpg and clip.wav")
    types = load_task_types()
    offered = [types[n] for n in ("image-to-text", "automatic-speech-recognition", "text-to-video",
                                  "visual-question-answering", "question-answering")]
    schema = plan_schema(offered, {a.name: a for a in turn.attachments})
    variants = {v["properties"]["task"]["enum"][0]: v["properties"]["args"]
                for v in schema["properties"]["tasks"]["items"]["anyOf"]}
    assert variants["image-to-text"]["properties"]["image"]["anyOf"][0]["enum"] == ["photo.jpg"]
    assert variants["automatic-speech-recognition"]["properties"]["audio"]["anyOf"][0]["enum"] == ["clip.wav"]
    assert variants["visual-question-answering"]["required"] == ["image", "text"]
    assert variants["question-answering"]["properties"]["text"]["minItems"] == 2
    assert variants["text-to-video"]["additionalProperties"] is False


async def test_run_samples_writes_one_line_per_sample_with_tool_names(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(TOOLS))
    specs, names = load_tools(path)
    answer = {"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "photo.jpg"}},
                        {"task": "summarization", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}}]}
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    planner = Planner(ScriptedLlm([json.dumps(answer), "nonsense", "nonsense", "nonsense"]),
                      PromptBuilder(bank, EstimatingCounter(), Budget()), {s.name: s for s in specs},
                      allow_direct_answer=False)
    out = tmp_path / "pred.jsonl"
    scores = await run_samples(planner, [SAMPLE, {**SAMPLE, "id": "s2"}], specs, names, out, 30.0)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(lines[0]) == {"id", "tasks", "error", "latency_s"}
    assert lines[0]["tasks"][1] == {"task": "Summarization", "id": 1, "dep": [0], "args": ["<GENERATED>-0"]}
    assert lines[0]["tasks"][0]["args"] == ["photo.jpg"] and lines[1]["error"]
    assert scores.overall.valid == 1 and scores.report()["by_type"]["chain"]["samples"] == 2


def test_main_refuses_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data", str(tmp_path / "nope.jsonl"), "--tools", str(tmp_path / "t.json"),
                 "--predictions-out", str(tmp_path / "p.jsonl")])
    assert code == 2 and "not a file" in capsys.readouterr().err

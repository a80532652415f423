"""The learned type finder (softmax regression over clause vectors) and the requests generated to train it."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hugginggpt.tasktypes import load_task_types
from services.planner.generation import (
    Graph,
    as_demo,
    done_ids,
    export_samples,
    generate_one,
    generated_demos,
    names_a_tool,
    sample_subgraph,
    user_files,
    with_files,
)
from services.planner.intents import NONE, IntentBank
from services.planner.typefinder import (
    align,
    build_finders,
    fit_softmax,
    generated_examples,
    phrase_examples,
    train_scorer,
    with_generated,
)
from tests.doubles.embedder import HashEmbedder
from tests.doubles.llm import ScriptedLlm

RAW: dict[str, Any] = {"types": {"summarization": ["summarize this article", "give me a short summary of the text"],
                 "translation": ["translate this sentence into french", "translate the text into german"]},
       "none": ["i am working on a project", "i have a file named notes"]}
GRAPH = {"nodes": [{"id": "Image-to-Text", "desc": "Describes an image. More.", "input-type": ["image"],
                    "output-type": ["text"]},
                   {"id": "Summarization", "desc": "Shortens a text.", "input-type": ["text"], "output-type": ["text"]},
                   {"id": "Translation", "desc": "Translates a text.", "input-type": ["text"], "output-type": ["text"]},
                   {"id": "Text-to-Speech", "desc": "Speaks a text.", "input-type": ["text"],
                    "output-type": ["audio"]}],
         "links": [{"source": a, "target": b} for a, b in (
             ("Image-to-Text", "Summarization"), ("Image-to-Text", "Translation"), ("Image-to-Text", "Text-to-Speech"),
             ("Summarization", "Translation"), ("Summarization", "Text-to-Speech"), ("Translation", "Summarization"),
             ("Translation", "Text-to-Speech"))]}


def test_a_fitted_scorer_labels_its_examples_and_gives_probabilities_over_the_names_asked() -> None:
    embedder = HashEmbedder()
    scorer = train_scorer(embedder, RAW)
    texts, labels = zip(*phrase_examples(RAW), strict=True)
    names = ("summarization", "translation", NONE)
    scores = scorer.scores(embedder.embed(list(texts)), names)
    assert np.allclose(scores.sum(axis=1), 1.0)
    assert [names[i] for i in scores.argmax(axis=1)] == list(labels)
    assert scorer.scores(embedder.embed(["summarize the text"]), ("summarization", NONE)).shape == (1, 2)


def test_a_class_without_examples_is_an_error_not_a_silent_zero() -> None:
    with pytest.raises(ValueError, match="no examples for translation"):
        fit_softmax(np.eye(2), ["summarization", "summarization"], ["summarization", "translation"])


def test_only_kept_generated_requests_with_known_types_train_the_finder() -> None:
    rows = [{"kept": True, "clauses": [{"text": "I have notes.", "type": ""},
                                       {"text": "Shorten them please.", "type": "summarization"}]},
            {"kept": False, "clauses": [{"text": "Say it aloud.", "type": "summarization"}]},
            {"kept": True, "clauses": [{"text": "Draw a cat.", "type": "text-to-image"}]}]
    assert generated_examples(rows, RAW["types"]) == [("I have notes.", NONE),
                                                      ("Shorten them please.", "summarization")]


def test_a_bank_with_a_fitted_scorer_proposes_the_types_asked() -> None:
    embedder = HashEmbedder()
    bank = IntentBank(RAW["types"], RAW["none"], embedder, threshold=0.5, floor=0.3, scorer=train_scorer(embedder, RAW))
    found = bank.propose("I have a file named notes. Summarize this article, then translate the text into german.",
                         set(RAW["types"]))
    assert [p.type for p in found] == ["summarization", "translation"]
    assert not bank.scores_phrases


def test_an_unknown_finder_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="unknown type finder 'magic'"):
        build_finders(["magic"], HashEmbedder())


def graph(tmp_path: Path) -> Graph:
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(GRAPH))
    return Graph.load(path)


def test_sampled_subgraphs_follow_the_graph_links_in_order_and_depend_on_the_id(tmp_path: Path) -> None:
    g = graph(tmp_path)
    shapes = set()
    for index in range(60):
        sub = sample_subgraph(g, random.Random(f"0-{index}"))
        shapes.add(sub.shape)
        assert len(set(sub.tools)) == len(sub.tools)
        for source, target in sub.edges:
            assert source < target and sub.tools[target] in g.links[sub.tools[source]]
        if sub.shape == "chain":
            assert sub.edges == tuple((i, i + 1) for i in range(len(sub.tools) - 1))
        if sub.shape == "dag":
            assert len({s for s, _ in sub.edges}) < len(sub.edges)  # some tool feeds two
    assert shapes == {"single", "chain", "dag"}
    assert sample_subgraph(g, random.Random("0-7")) == sample_subgraph(g, random.Random("0-7"))


async def test_a_request_is_kept_only_when_each_sentence_checks_back_to_its_tool(tmp_path: Path) -> None:
    g = graph(tmp_path)
    sub = next(s for i in range(100) if (s := sample_subgraph(g, random.Random(f"0-{i}"))).tools[:1] == (
        "Image-to-Text",) and len(s.tools) == 2)
    files = user_files(g, sub, random.Random(1))
    assert len(files) == 1 and files[0].endswith((".jpg", ".png"))
    written = json.dumps({"context": f"I took {files[0]} on holiday.",
                          "clauses": ["Tell me what the picture shows.", "Then shorten what it says."]})
    kept = await generate_one(ScriptedLlm([written, json.dumps({"tools": list(sub.tools)})]), g, sub, files)
    assert kept["kept"] and [c["type"] for c in kept["clauses"]][0] == NONE
    assert kept["clauses"][1] == {"text": "Tell me what the picture shows.", "type": "image-to-text"}
    wrong = await generate_one(ScriptedLlm([written, json.dumps({"tools": ["Translation", sub.tools[1]]})]),
                               g, sub, files)
    assert not wrong["kept"] and "checked back" in wrong["reason"]
    short = await generate_one(ScriptedLlm([json.dumps({"context": "", "clauses": ["Describe it."]})]), g, sub, files)
    assert not short["kept"] and "1 usable sentences for 2 tools" in short["reason"]


def test_done_ids_are_read_back_for_resuming(tmp_path: Path) -> None:
    out = tmp_path / "generated.jsonl"
    assert done_ids(out) == set()
    out.write_text(json.dumps({"id": "0-0"}) + "\n\n" + json.dumps({"id": "0-1"}) + "\n")
    assert done_ids(out) == {"0-0", "0-1"}


def test_clauses_of_a_sample_are_labelled_by_its_gold_types_and_the_rest_as_context() -> None:
    bank = IntentBank(RAW["types"], RAW["none"], HashEmbedder())
    scored = bank.score("I have a file named notes. Summarize this article. Then translate the text into german.",
                        set(RAW["types"]))
    assert scored is not None
    assert align(scored, ["summarization", "translation"]) == [(0, NONE), (1, "summarization"), (2, "translation")]
    assert align(scored, ["translation"]) == [(0, NONE), (2, "translation")]  # the summary clause: not labelled


async def test_a_sentence_that_reads_as_two_clauses_is_not_kept(tmp_path: Path) -> None:
    g = graph(tmp_path)
    sub = next(s for i in range(100) if (s := sample_subgraph(g, random.Random(f"0-{i}"))).shape == "single"
               and s.tools[0] == "Summarization")
    written = json.dumps({"context": "I wrote a long report.", "clauses": ["Shorten the report and then read it."]})
    row = await generate_one(ScriptedLlm([written, json.dumps({"tools": ["Summarization"]})]), g, sub, [])
    assert not row["kept"] and "several clauses" in row["reason"]
    assert row["checked"]  # it checked back: a test request with a known plan, though not a labelled clause


async def test_a_sentence_that_names_its_tool_is_dropped_before_the_check(tmp_path: Path) -> None:
    g = graph(tmp_path)
    sub = next(s for i in range(100) if (s := sample_subgraph(g, random.Random(f"0-{i}"))).shape == "single"
               and s.tools[0] == "Summarization")
    for clause in ("Please use the summarization tool on my notes.", "Run an image-to-text model on it.",
                   "Give me Image to Text of my notes."):
        row = await generate_one(ScriptedLlm([json.dumps({"context": "I wrote notes.", "clauses": [clause]})]),
                                 g, sub, [])
        assert not row["kept"] and not row["checked"] and "names a tool" in row["reason"]
    assert not names_a_tool("Please shorten my notes for the meeting.", g.nodes)


def test_file_names_the_llm_made_up_become_the_given_files_of_their_kind() -> None:
    texts = ["I have city.jpg and talk.mp3.", "Look at city.jpg again, then at b.png and notes.pdf."]
    assert with_files(texts, ["photo.png", "picture.jpg", "recording.mp3"]) == [
        "I have photo.png and recording.mp3.", "Look at photo.png again, then at picture.jpg and notes.pdf."]
    assert with_files(["I have photo.png and x.jpg."], ["photo.png"]) == ["I have photo.png and x.jpg."]
    assert with_files(["A clip.mp4 here."], []) == ["A clip.mp4 here."]


def test_a_finder_on_generated_requests_alone_says_where_they_come_from_when_there_are_none() -> None:
    with pytest.raises(ValueError, match="generated.jsonl holds none kept"):
        train_scorer(HashEmbedder(), RAW, [], phrases=False)


def test_a_kept_generated_request_becomes_a_worked_plan_fed_along_its_links() -> None:
    types = load_task_types()
    row = {"kept": True, "request": "I have photo.png. Describe it. Then summarize that. Read the summary aloud.",
           "tools": ["Image-to-Text", "Summarization", "Text-to-Speech"], "files": ["photo.png"],
           "links": [["Image-to-Text", "Summarization"], ["Summarization", "Text-to-Speech"]],
           "clauses": [{"text": "I have photo.png.", "type": ""}, {"text": "Describe it.", "type": "image-to-text"},
                       {"text": "Then summarize that.", "type": "summarization"},
                       {"text": "Read the summary aloud.", "type": "text-to-speech"}]}
    demo = as_demo(row, types)
    assert demo is not None and demo.files == ("photo.png",)
    assert [(t["task"], t["dep"], t["args"]) for t in demo.plan["tasks"]] == [
        ("image-to-text", [], {"image": "photo.png"}),
        ("summarization", [0], {"text": "<GENERATED>-0"}),
        ("text-to-speech", [1], {"text": "<GENERATED>-1"})]
    assert demo.plan["steps"] == ["Describe it.", "Then summarize that.", "Read the summary aloud."]
    assert as_demo({**row, "files": []}, types) is None  # no image for the first tool
    assert as_demo({**row, "kept": False}, types) is None
    assert generated_demos([row, {**row, "kept": False}], types) == [demo]


def test_requests_that_checked_back_are_exported_as_taskbench_samples(tmp_path: Path) -> None:
    g = graph(tmp_path)
    row = {"id": "2-5", "shape": "chain", "checked": True, "kept": False, "files": ["photo.png"],
           "request": "I took photo.png. Tell me what it shows. Shorten that.",
           "tools": ["Image-to-Text", "Summarization"], "links": [["Image-to-Text", "Summarization"]],
           "clauses": [{"text": "I took photo.png.", "type": NONE},
                       {"text": "Tell me what it shows.", "type": "image-to-text"},
                       {"text": "Shorten that.", "type": "summarization"}]}
    named = {**row, "id": "2-6", "clauses": [*row["clauses"][:2], {"text": "Use the image to text tool.",
                                                                   "type": "summarization"}]}
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in (row, named, {**row, "id": "2-7", "checked": False})))
    out = tmp_path / "samples.jsonl"
    assert export_samples(rows, g, out) == 1  # the unchecked row and the one naming a tool are left out
    (sample,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert sample == {"id": "gen-2-5", "type": "chain", "n_tools": 2, "instruction": row["request"],
                      "task_nodes": [{"task": "Image-to-Text", "arguments": ["photo.png"]},
                                     {"task": "Summarization", "arguments": ["<node-0>"]}],
                      "task_links": [{"source": "Image-to-Text", "target": "Summarization"}]}


async def test_the_writer_gets_the_topic_and_a_separate_checker_checks_back(tmp_path: Path) -> None:
    g = graph(tmp_path)
    sub = next(s for i in range(100) if (s := sample_subgraph(g, random.Random(f"0-{i}"))).shape == "single"
               and s.tools[0] == "Summarization")
    writer = ScriptedLlm([json.dumps({"context": "I wrote up the charity run.", "clauses": ["Shorten my notes."]})])
    checker = ScriptedLlm([json.dumps({"tools": ["Summarization"]})])
    row = await generate_one(writer, g, sub, [], checker=checker, topic="a charity event")
    assert row["kept"]
    assert "The request is about a charity event." in writer.calls[0]["messages"][0]["content"]
    assert len(writer.calls) == 1 and len(checker.calls) == 1


def test_generated_clauses_join_the_written_phrases_of_their_types(monkeypatch: pytest.MonkeyPatch) -> None:
    row = {"kept": True, "clauses": [{"text": "I run a small bakery.", "type": NONE},
                                     {"text": "Boil my notes down to three lines.", "type": "summarization"}]}
    bank = with_generated(RAW, [row, {**row, "kept": False}])
    assert bank["types"]["summarization"] == [*RAW["types"]["summarization"], "Boil my notes down to three lines."]
    assert bank["none"] == [*RAW["none"], "I run a small bakery."]
    assert RAW["types"]["summarization"][-1] == "give me a short summary of the text"  # the written bank is kept
    monkeypatch.setattr("services.planner.typefinder.load_generated", lambda: [row])
    finder = build_finders(["phrases-generated"], HashEmbedder())["phrases-generated"]
    assert finder.scores_phrases
    assert [p.type for p in finder.fitted(0.3, 0.2).propose("Boil my notes down to three lines.",
                                                           {"summarization", "translation"})] == ["summarization"]
    with pytest.raises(ValueError, match="holds none kept"):
        with_generated(RAW, [])

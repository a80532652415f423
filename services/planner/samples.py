"""TaskBench-format data: samples (one JSON a line), the tools on offer, the graph of tools, a sample as a turn."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hugginggpt.artifacts import guess_media_type, kind_of
from hugginggpt.domain import Artifact, Kind, TaskTypeSpec, Turn
from hugginggpt.tasktypes import hf_task_id

FILE_NAME = re.compile(r"\b[\w-]+\.(?:jpe?g|png|gif|bmp|webp|wav|mp3|flac|ogg|m4a|mp4|avi|mov|mkv|txt|csv|pdf)\b",
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
    for name in dict.fromkeys(FILE_NAME.findall(instruction)):
        media = guess_media_type(name)
        files.append(Artifact(f"artifact://eval/{name}", name, media, 0, kind_of(media)))
    return Turn("user", instruction, tuple(files))


def load_samples(path: Path) -> list[dict[str, Any]]:
    """The samples of a JSONL file, blank lines skipped."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_links(path: Path) -> frozenset[tuple[str, str]]:
    """graph_desc.json's links as (source, target) task-type pairs (Hugging Face ids): which tool may feed which."""
    return frozenset((hf_task_id(link["source"]), hf_task_id(link["target"]))
                     for link in json.loads(path.read_text())["links"])

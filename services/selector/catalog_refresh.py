"""`hugginggpt catalog refresh`: fetch current models per task type from the Hub into a catalogue file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hugginggpt.tasktypes import load_task_types
from services.selector.catalog import from_facts
from services.selector.config import REFRESHED


def _row(info: Any, task: str) -> dict[str, Any]:
    card = info.card_data.to_dict() if getattr(info, "card_data", None) else {}
    row = {"id": info.id, "task": task, "pipeline_tag": info.pipeline_tag or task,
           "downloads": info.downloads or 0, "likes": info.likes or 0,
           "language": card.get("language") or [], "license": card.get("license"),
           "datasets": card.get("datasets") or [],
           "tags": [t for t in (info.tags or []) if ":" not in t]}
    row["description"] = from_facts(row).description
    return row


def fetch(tasks: list[str], per_task: int, endpoint: str | None, token: str | None) -> list[dict[str, Any]]:
    """The most downloaded models of each task with their card metadata (language, license, datasets)."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    rows = []
    for task in tasks:
        for info in api.list_models(pipeline_tag=task, sort="downloads", limit=per_task, cardData=True):
            rows.append(_row(info, task))
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hugginggpt catalog refresh", description=__doc__)
    parser.add_argument("--output", type=Path, default=REFRESHED, help=f"catalogue file (default {REFRESHED})")
    parser.add_argument("--per-task", type=int, default=30)
    parser.add_argument("--task", action="append", help="task type (repeatable; default: every known type)")
    parser.add_argument("--endpoint", default=None, help="Hub endpoint (default: HF_ENDPOINT or huggingface.co)")
    args = parser.parse_args(argv)
    import os

    tasks = args.task or sorted(load_task_types())
    try:
        rows = fetch(tasks, args.per_task, args.endpoint, os.environ.get("HF_TOKEN"))
    except Exception as exc:  # noqa: BLE001 - any network or Hub error: explain and fail
        print(f"catalog refresh failed: cannot list models from the Hub ({exc}); the old catalogue is kept",
              file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(args.output)
    print(f"wrote {len(rows)} models over {len(tasks)} task types to {args.output}; the selector uses it "
          f"when HUGGINGGPT_CATALOG_SNAPSHOT points there (default path is picked up automatically)")
    return 0

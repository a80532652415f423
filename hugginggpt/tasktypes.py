"""The task types the system knows, with their input and output kinds (a data file, not code)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from hugginggpt.domain import Kind, TaskTypeSpec


def _raw() -> dict[str, Any]:
    return dict(json.loads(resources.files("hugginggpt").joinpath("data/task_types.json").read_text()))


def load_task_types() -> dict[str, TaskTypeSpec]:
    """Every known task type by name, from hugginggpt/data/task_types.json."""
    raw = _raw()
    return {
        item["name"]: TaskTypeSpec(
            name=item["name"],
            description=item["description"],
            inputs=tuple(Kind(k) for k in item["inputs"]),
            outputs=tuple(Kind(k) for k in item["outputs"]),
        )
        for item in raw["task_types"]
    }


def declined_sentence(task_type: str, reason: str) -> str:
    """What the user reads for a task type asked for that this deployment cannot run ("I can't generate images
    in this deployment: ..."); the verb phrase is the type's "ability" in the data file."""
    ability = next((t.get("ability") for t in _raw()["task_types"] if t["name"] == task_type), None)
    return f"I can't {ability or f'run {task_type}'} in this deployment: {reason}."


def hf_task_id(name: str) -> str:
    """TaskBench's display name ("Image-to-Text") as a Hugging Face task id ("image-to-text")."""
    return "-".join(name.strip().lower().split())

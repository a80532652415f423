"""The task types the system knows, with their input and output kinds (a data file, not code)."""

from __future__ import annotations

import json
from importlib import resources

from hugginggpt.domain import Kind, TaskTypeSpec


def load_task_types() -> dict[str, TaskTypeSpec]:
    """Every known task type by name, from hugginggpt/data/task_types.json."""
    raw = json.loads(resources.files("hugginggpt").joinpath("data/task_types.json").read_text())
    return {
        item["name"]: TaskTypeSpec(
            name=item["name"],
            description=item["description"],
            inputs=tuple(Kind(k) for k in item["inputs"]),
            outputs=tuple(Kind(k) for k in item["outputs"]),
        )
        for item in raw["task_types"]
    }


def hf_task_id(name: str) -> str:
    """TaskBench's display name ("Image-to-Text") as a Hugging Face task id ("image-to-text")."""
    return "-".join(name.strip().lower().split())

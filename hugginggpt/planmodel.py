"""The plan as the LLM writes it: one typed model, read leniently, from which the planner's JSON schemas come."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

REF_PATTERN = "^<GENERATED>-[0-9]+$"
MAX_STEPS = 10  # a plan's "steps" (when asked for): more is rambling, not planning


def _texts(value: Any) -> Any:
    """An argument value as text: a number or other scalar is read as its text, a list item by item."""
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value]
    return value if isinstance(value, str) else str(value)


def _integer(value: Any) -> int:
    """An id as Python reads it: "3" and 3.7 are 3 (a schema-constrained endpoint writes integers anyway)."""
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an integer") from exc


def _deps(value: Any, info: ValidationInfo) -> list[int]:
    """The task ids a task waits for: a single id reads as a list; a negative id (-1: "none") is left out."""
    deps = []
    for dep in value if isinstance(value, list) else [value]:
        try:
            if int(dep) >= 0:
                deps.append(int(dep))
        except (TypeError, ValueError):
            _report(info, "dep", f"dependency {dep!r} must be a task id")
    return deps


def _args(value: Any, info: ValidationInfo) -> dict[str, Any]:
    if isinstance(value, dict):
        return {str(slot): _texts(v) for slot, v in value.items()}
    _report(info, "args", 'args must be an object like {"text": "..."}')
    return {}


def _report(info: ValidationInfo, field: str, message: str) -> None:
    """A problem with one field that leaves the task readable: the caller's `report(task id, field, message)`."""
    if info.context is not None and "id" in info.data:
        info.context["report"](info.data["id"], field, message)


class WireTask(BaseModel):
    """One task of an answer: its type, its id, the tasks whose output it uses, and its arguments by slot."""

    model_config = ConfigDict(extra="ignore")

    task: Annotated[str, BeforeValidator(lambda v: str(v).strip())]
    id: Annotated[int, BeforeValidator(_integer)]
    dep: Annotated[list[int], BeforeValidator(_deps)]
    args: Annotated[dict[str, str | list[str]], BeforeValidator(_args)]

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """A field the LLM left out: the task's place for its id, no type, no dependencies, no arguments."""
        if not isinstance(data, dict):
            return data
        index = info.context.get("index", 0) if info.context else 0
        return {"task": "", "id": index, "dep": [], "args": {}, **data}


class WirePlan(BaseModel):
    """A whole answer: the request in short steps (when asked for), the tasks, or a direct answer."""

    steps: list[str] = Field(default_factory=list, max_length=MAX_STEPS)
    tasks: list[WireTask]
    answer: str = ""


@cache
def _properties(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Each field's JSON schema as the model declares it, without pydantic's titles and defaults. Cached
    (pydantic takes milliseconds to write a model's schema; a plan's needs one per task type on offer), so
    a schema built from it takes a copy of what it uses."""
    return {name: {k: v for k, v in prop.items() if k not in ("title", "default")}
            for name, prop in model.model_json_schema()["properties"].items()}


def task_schema(name: str, slots: Mapping[str, Any], fixed: tuple[int, Sequence[int]] | None = None) -> dict[str, Any]:
    """The schema of one task of type `name` with exactly the argument slots `slots` (slot -> schema).

    `fixed`: the task's id and dependencies, when they are decided already (the planner's skeleton)."""
    fields = _properties(WireTask)
    narrowed: dict[str, Any] = {"task": {**fields["task"], "enum": [name]}}
    if fixed is not None:
        task_id, deps = fixed
        narrowed = {"task": {"const": name}, "id": {"const": task_id},
                    "dep": {"type": "array", "prefixItems": [{"const": d} for d in deps],
                            "minItems": len(deps), "maxItems": len(deps)}}
    narrowed["args"] = {"type": "object", "properties": dict(slots), "required": list(slots),
                        "additionalProperties": False}
    properties = {name: narrowed[name] if name in narrowed else copy.deepcopy(base) for name, base in fields.items()}
    return {"type": "object", "properties": properties, "required": list(fields)}


def answer_schema(tasks: dict[str, Any], *, steps: bool = False, answer: bool = True) -> dict[str, Any]:
    """The schema of a whole answer with its "tasks" array given: "steps" first and required when asked for,
    and a direct "answer" unless the tasks are fixed."""
    fields = _properties(WirePlan)
    properties = {"steps": copy.deepcopy(fields["steps"])} if steps else {}
    properties["tasks"] = tasks
    if answer:
        properties["answer"] = copy.deepcopy(fields["answer"])
    return {"type": "object", "properties": properties, "required": ["steps", "tasks"] if steps else ["tasks"]}

"""The planner's prompt files (services/planner/prompts/), read and rendered by the shared loader."""

from __future__ import annotations

from hugginggpt.prompts import PromptFiles

PROMPTS = PromptFiles("services.planner")


def load_demo_lines() -> list[str]:
    """The raw lines of the demo bank (one JSON demonstration a line)."""
    return PROMPTS.lines("demos.jsonl")

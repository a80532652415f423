"""Prompt templates as data files (services/planner/prompts/), rendered strictly: a missing variable is an error."""

from __future__ import annotations

import string
from importlib import resources
from typing import Any


class TemplateError(ValueError):
    """A template names a variable the caller did not supply."""


class Template:
    """One prompt file; render() fails loudly on a missing variable instead of leaving a placeholder."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self._template = string.Template(text)

    @classmethod
    def load(cls, name: str) -> Template:
        text = resources.files("services.planner").joinpath(f"prompts/{name}").read_text(encoding="utf-8")
        return cls(name, text)

    def render(self, **values: Any) -> str:
        try:
            return self._template.substitute(**values)
        except KeyError as exc:
            raise TemplateError(f"prompt {self.name} needs variable {exc.args[0]!r}") from None
        except ValueError as exc:
            raise TemplateError(f"prompt {self.name} is malformed: {exc}") from None


def load_demo_lines() -> list[str]:
    """The raw lines of the demo bank (one JSON demonstration a line)."""
    text = resources.files("services.planner").joinpath("prompts/demos.jsonl").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]

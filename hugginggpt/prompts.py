"""The one prompt loader: prompt files are data next to the code that uses them, rendered strictly."""

from __future__ import annotations

import json
import string
from importlib import resources
from typing import Any


class TemplateError(ValueError):
    """A template names a variable the caller did not supply, or is malformed."""


class PromptTemplate:
    """One prompt; render() fails loudly on a missing variable instead of leaving a placeholder."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self._template = string.Template(text)

    def render(self, **values: Any) -> str:
        try:
            return self._template.substitute(**values)
        except KeyError as exc:
            raise TemplateError(f"prompt {self.name} needs variable {exc.args[0]!r}") from None
        except ValueError as exc:
            raise TemplateError(f"prompt {self.name} is malformed: {exc}") from None


class PromptFiles:
    """The files under a package's prompts/ folder, read as package data (so they work from a wheel too)."""

    def __init__(self, package: str, folder: str = "prompts") -> None:
        self.package = package
        self.folder = folder

    def text(self, name: str) -> str:
        return resources.files(self.package).joinpath(f"{self.folder}/{name}").read_text(encoding="utf-8")

    def has(self, name: str) -> bool:
        """Whether the file is there (for one that is optional, such as data fitted later)."""
        return resources.files(self.package).joinpath(f"{self.folder}/{name}").is_file()

    def template(self, name: str) -> PromptTemplate:
        return PromptTemplate(name, self.text(name))

    def json(self, name: str) -> Any:
        return json.loads(self.text(name))

    def lines(self, name: str) -> list[str]:
        """The file's non-blank lines (a JSON Lines file's records)."""
        return [line for line in self.text(name).splitlines() if line.strip()]

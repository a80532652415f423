"""Incremental JSON reading of a plan as the LLM writes it: each task object as soon as it is closed."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


class TaskExtractor:
    """Feed text pieces; get back the task objects of {"tasks": [...]} (or a bare [...]) completed so far."""

    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._stack: list[str] = []
        self._in_string = False
        self._escape = False
        self._start: int | None = None
        self._length = 0
        self.tasks: list[dict[str, Any]] = []

    def feed(self, piece: str) -> list[dict[str, Any]]:
        """The task objects that this piece completed, in order."""
        done: list[dict[str, Any]] = []
        for char in piece:
            position = self._length
            self._buffer.append(char)
            self._length += 1
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif char == "\\":
                    self._escape = True
                elif char == '"':
                    self._in_string = False
                continue
            if char == '"':
                self._in_string = True
            elif char in "{[":
                if char == "{" and self._at_task_level():
                    self._start = position
                self._stack.append(char)
            elif char in "}]" and self._stack:
                self._stack.pop()
                if char == "}" and self._start is not None and self._at_task_level():
                    done.extend(self._close(position))
        return done

    def _at_task_level(self) -> bool:
        return self._stack in (["{", "["], ["["])

    def _close(self, end: int) -> list[dict[str, Any]]:
        assert self._start is not None
        text = "".join(self._buffer[self._start : end + 1])
        self._start = None
        try:
            item = json.loads(text)
        except json.JSONDecodeError:
            return []
        if not isinstance(item, dict):
            return []
        self.tasks.append(item)
        return [item]


def parse_lenient(text: str) -> Any:
    """The JSON in an LLM answer: tolerates code fences and prose around it, and a cut-off tail.

    Returns None when no plan-like JSON can be recovered."""
    cleaned = _FENCE.sub("", text.strip())
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError:
        pass
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(cleaned[start : end + 1])
        except json.JSONDecodeError:
            pass
    extractor = TaskExtractor()
    tasks = extractor.feed(cleaned)
    return {"tasks": tasks} if tasks else None

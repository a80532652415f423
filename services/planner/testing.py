"""Test doubles for the planner: a scripted LLM and a deterministic bag-of-words embedder (no model, no network)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import numpy as np

from hugginggpt.errors import Unavailable
from hugginggpt.llm import Usage


class ScriptedLlm:
    """Answers each call with the next scripted text (or raises it, if it is an exception); records calls."""

    def __init__(self, answers: Sequence[str | Exception], piece_chars: int = 7, delay: float = 0.0) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []
        self.piece_chars = piece_chars
        self.delay = delay

    def _next(self, messages: list[dict[str, str]], kwargs: dict[str, Any]) -> str:
        self.calls.append({"messages": messages, **kwargs})
        if not self.answers:
            raise AssertionError("the scripted LLM ran out of answers")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def complete(
        self, messages: list[dict[str, str]], usage: Usage, *, schema: dict[str, Any] | None = None,
        max_tokens: int = 512, timeout: float | None = None,
    ) -> str:
        usage.calls += 1
        return self._next(messages, {"schema": schema, "max_tokens": max_tokens, "timeout": timeout})

    async def stream(
        self, messages: list[dict[str, str]], usage: Usage, *, schema: dict[str, Any] | None = None,
        max_tokens: int = 512, timeout: float | None = None,
    ) -> AsyncGenerator[str, None]:
        usage.calls += 1
        text = self._next(messages, {"schema": schema, "max_tokens": max_tokens, "timeout": timeout})
        for start in range(0, len(text), self.piece_chars):
            if self.delay:
                await asyncio.sleep(self.delay)
            yield text[start : start + self.piece_chars]


class DownLlm(ScriptedLlm):
    """An LLM endpoint that cannot be reached."""

    def __init__(self) -> None:
        super().__init__([Unavailable("the LLM endpoint http://127.0.0.1:9/v1 cannot be reached")] * 10)


class HashEmbedder:
    """Bag-of-words vectors from hashed lower-case words, normalised: similar wording, similar vectors."""

    def __init__(self, dims: int = 256) -> None:
        self.dims = dims

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        matrix = np.zeros((len(texts), self.dims))
        for row, text in enumerate(texts):
            for word in text.lower().replace(".", " ").replace(",", " ").split():
                matrix[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dims] += 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1.0, norms)

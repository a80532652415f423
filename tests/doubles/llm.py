"""A scripted LLM for the cores' tests: the answers it gives are written by the test, and every call is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from hugginggpt.errors import Unavailable
from hugginggpt.llm import Usage

#: A text, an exception to raise, or the exact pieces a stream yields (a list of texts).
Answer = str | Exception | list[str]


class ScriptedLlm:
    """Answers each call with the next scripted answer (raising it, if it is an exception); records every call.

    A stream yields a text in pieces of `piece_chars` characters (an answer given as a list: those pieces),
    waiting `delay` seconds after each piece.
    """

    def __init__(self, answers: Sequence[Answer], piece_chars: int = 7, delay: float = 0.0) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []  # messages, schema, max_tokens, timeout of each call
        self.piece_chars = piece_chars
        self.delay = delay

    def _next(self, messages: list[dict[str, str]], usage: Usage, kwargs: dict[str, Any]) -> str | list[str]:
        usage.calls += 1
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
        answer = self._next(messages, usage, {"schema": schema, "max_tokens": max_tokens, "timeout": timeout})
        return answer if isinstance(answer, str) else "".join(answer)

    async def stream(
        self, messages: list[dict[str, str]], usage: Usage, *, schema: dict[str, Any] | None = None,
        max_tokens: int = 512, timeout: float | None = None,
    ) -> AsyncGenerator[str, None]:
        answer = self._next(messages, usage, {"schema": schema, "max_tokens": max_tokens, "timeout": timeout})
        pieces = answer if isinstance(answer, list) else [
            answer[start : start + self.piece_chars] for start in range(0, len(answer), self.piece_chars)]
        for piece in pieces:
            yield piece
            if self.delay:
                await asyncio.sleep(self.delay)


class DownLlm(ScriptedLlm):
    """An LLM endpoint that cannot be reached, however often it is called."""

    def __init__(self) -> None:
        super().__init__([])

    def _next(self, messages: list[dict[str, str]], usage: Usage, kwargs: dict[str, Any]) -> str | list[str]:
        self.answers = [Unavailable("the LLM endpoint http://127.0.0.1:9/v1 cannot be reached")]
        return super()._next(messages, usage, kwargs)

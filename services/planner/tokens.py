"""Counting prompt text in the model's own tokens: llama.cpp's tokenize endpoint, else a safe estimate."""

from __future__ import annotations

import logging
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Qwen's BPE averages ~4 characters a token on English; 3 over-counts, so trimming never overflows.
CHARS_PER_TOKEN = 3.0


class TokenCounter(Protocol):
    async def count(self, text: str) -> int: ...


class EstimatingCounter:
    """A conservative estimate (characters / 3), for endpoints without a tokenize route."""

    async def count(self, text: str) -> int:
        return int(len(text) / CHARS_PER_TOKEN) + 1


# The tokenize routes of the llama.cpp servers, tried in turn until one answers: llama-cpp-python's, then
# llama-server's (each with the name its body gives the text).
ROUTES = (("/extras/tokenize", "input"), ("/tokenize", "content"))


class EndpointCounter:
    """The endpoint's own tokenizer through the openai client's request method (a llama.cpp server's tokenize
    route, whichever of ROUTES it has); caches counts, and estimates once no route answers."""

    def __init__(self, openai_client: Any, base_url: str, timeout: float = 2.0) -> None:
        self._client = openai_client
        root = base_url.rstrip("/")
        self._root = root[: -len("/v1")] if root.endswith("/v1") else root
        self._routes = list(ROUTES)
        self._timeout = timeout
        self._cache: dict[str, int] = {}
        self._fallback = EstimatingCounter()

    async def count(self, text: str) -> int:
        if text in self._cache:
            return self._cache[text]
        while self._routes:
            path, field = self._routes[0]
            try:
                body = await self._client.post(
                    self._root + path, body={field: text}, cast_to=object, options={"timeout": self._timeout}
                )
                value = len(body["tokens"])
                break
            except Exception as exc:  # noqa: BLE001 - any failure means: not this route
                if self._routes[:1] != [(path, field)]:
                    continue  # another count, at the same time, has already found this route unusable
                logger.info("tokenize route %s%s unusable (%s)", self._root, path, exc)
                self._routes.pop(0)
                if not self._routes:
                    logger.info("no tokenize route at %s; estimating token counts", self._root)
        else:
            return await self._fallback.count(text)
        if len(self._cache) < 4096:
            self._cache[text] = value
        return value

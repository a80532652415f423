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


class EndpointCounter:
    """llama-cpp-python's /extras/tokenize through the openai client's own request method; caches counts."""

    def __init__(self, openai_client: Any, base_url: str, timeout: float = 2.0) -> None:
        self._client = openai_client
        root = base_url.rstrip("/")
        self._url = (root[: -len("/v1")] if root.endswith("/v1") else root) + "/extras/tokenize"
        self._timeout = timeout
        self._cache: dict[str, int] = {}
        self._fallback = EstimatingCounter()
        self._broken = False

    async def count(self, text: str) -> int:
        if text in self._cache:
            return self._cache[text]
        if self._broken:
            return await self._fallback.count(text)
        try:
            body = await self._client.post(
                self._url, body={"input": text}, cast_to=object, options={"timeout": self._timeout}
            )
            value = len(body["tokens"])
        except Exception as exc:  # noqa: BLE001 - any failure means: estimate from now on
            logger.info("tokenize endpoint %s unusable (%s); estimating token counts", self._url, exc)
            self._broken = True
            return await self._fallback.count(text)
        if len(self._cache) < 4096:
            self._cache[text] = value
        return value

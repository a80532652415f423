"""The one way to reach an LLM: the openai client against any OpenAI-compatible endpoint."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

import openai

from hugginggpt.errors import DeadlineExceeded, InvalidRequest, Unavailable
from hugginggpt.settings import env_float, env_int, env_str

logger = logging.getLogger(__name__)

DIALECTS = ("auto", "json_schema", "json_object", "none")


@dataclass(frozen=True)
class LlmSettings:
    """Where a stage's LLM is and how to talk to it."""

    base_url: str
    model: str
    api_key: str
    schema_dialect: str
    timeout_seconds: float
    context_window: int
    temperature: float = 0.0  # greedy by default: plans and answers are reproducible; generating data samples

    @classmethod
    def from_env(cls, stage: str, env: Mapping[str, str] | None = None) -> LlmSettings:
        """HUGGINGGPT_<STAGE>_LLM_* overrides HUGGINGGPT_LLM_* for one stage."""

        def pick(key: str, default: str) -> str:
            return env_str(f"HUGGINGGPT_{stage.upper()}_LLM_{key}", env_str(f"HUGGINGGPT_LLM_{key}", default, env), env)

        dialect = pick("SCHEMA_DIALECT", "auto")
        if dialect not in DIALECTS:
            raise InvalidRequest(f"HUGGINGGPT_LLM_SCHEMA_DIALECT must be one of {DIALECTS}, got {dialect!r}")
        return cls(
            base_url=pick("BASE_URL", "http://127.0.0.1:8080/v1"),
            model=pick("MODEL", "qwen2.5-coder-0.5b-instruct"),
            api_key=pick("API_KEY", "not-needed"),
            schema_dialect=dialect,
            timeout_seconds=env_float("HUGGINGGPT_LLM_TIMEOUT_SECONDS", 120.0, env),
            context_window=env_int("HUGGINGGPT_LLM_CONTEXT_WINDOW", 8192, env),
        )


@dataclass
class Usage:
    """Accumulated LLM cost of one request in one stage."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds


class LlmClient:
    """Chat completions with optional JSON-schema constraint, in whichever dialect the endpoint speaks."""

    def __init__(self, settings: LlmSettings) -> None:
        self.settings = settings
        self._dialect = settings.schema_dialect
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key,
            max_retries=0,
            timeout=settings.timeout_seconds,
        )

    async def close(self) -> None:
        await self._client.close()

    async def complete(
        self,
        messages: list[dict[str, str]],
        usage: Usage,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        timeout: float | None = None,
    ) -> str:
        """The completion's text; Unavailable / DeadlineExceeded when the endpoint fails."""
        started = time.perf_counter()
        try:
            response = await self._create(messages, schema, max_tokens, timeout, stream=False)
        finally:
            usage.calls += 1
            usage.seconds += time.perf_counter() - started
        if response.usage:
            usage.prompt_tokens += response.usage.prompt_tokens or 0
            usage.completion_tokens += response.usage.completion_tokens or 0
        return response.choices[0].message.content or ""

    async def stream(
        self,
        messages: list[dict[str, str]],
        usage: Usage,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        timeout: float | None = None,
    ) -> AsyncGenerator[str, None]:
        """Yields the completion's text piece by piece as the endpoint produces it."""
        started = time.perf_counter()
        usage.calls += 1
        pieces, reported, finished = 0, False, False
        response: Any = None
        try:
            response = await self._create(messages, schema, max_tokens, timeout, stream=True)
            async for chunk in response:
                finished = finished or any(c.finish_reason for c in chunk.choices or ())
                if chunk.usage:
                    reported = True
                    usage.prompt_tokens += chunk.usage.prompt_tokens or 0
                    usage.completion_tokens += chunk.usage.completion_tokens or 0
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces += 1
                    yield chunk.choices[0].delta.content
            if not reported:
                # Servers that send no usage in streams (llama.cpp's) send one token per chunk.
                usage.completion_tokens += pieces
            if not finished:  # e.g. llama-cpp-python with interrupt_requests on, when another call queues
                logger.warning("the LLM endpoint ended a stream without a finish reason after %d pieces: "
                               "the answer may be cut short", pieces)
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise _infrastructure_error(exc, self.settings) from None
        finally:
            if response is not None:  # a reader that stopped early: release the connection now, in this task
                await response.close()
            usage.seconds += time.perf_counter() - started

    async def _create(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        max_tokens: int,
        timeout: float | None,
        *,
        stream: bool,
    ) -> Any:
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
            "stream": stream,
            **({"stream_options": {"include_usage": True}} if stream else {}),
            "timeout": timeout or self.settings.timeout_seconds,
        }
        dialect = "json_schema" if self._dialect == "auto" else self._dialect
        try:
            return await self._client.chat.completions.create(**kwargs, **_format(schema, dialect))
        except openai.APIStatusError as exc:
            if schema is None or self._dialect != "auto" or exc.status_code >= 502:
                raise _infrastructure_error(exc, self.settings) from None
            # The endpoint rejected OpenAI's json_schema dialect (llama-cpp-python does): remember it.
            logger.info("endpoint rejected json_schema (%s); using json_object from now on", exc.status_code)
            self._dialect = "json_object"
            return await self._create(messages, schema, max_tokens, timeout, stream=stream)
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise _infrastructure_error(exc, self.settings) from None


def _format(schema: dict[str, Any] | None, dialect: str) -> dict[str, Any]:
    if schema is None or dialect == "none":
        return {}
    if dialect == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": False},
        }
    }


def _infrastructure_error(exc: Exception, settings: LlmSettings) -> Exception:
    where = f"the LLM endpoint {settings.base_url} (model {settings.model})"
    if isinstance(exc, openai.APITimeoutError):
        return DeadlineExceeded(f"{where} did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return Unavailable(f"{where} cannot be reached; is the LLM server running?")
    if isinstance(exc, openai.APIStatusError):
        return Unavailable(f"{where} answered HTTP {exc.status_code}: {str(exc)[:300]}")
    return Unavailable(f"{where} failed: {exc}")

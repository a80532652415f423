"""Responder settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hugginggpt.admission import DEFAULT_CONCURRENCY, concurrency_limit
from hugginggpt.llm import LlmSettings
from hugginggpt.settings import env_bool, env_float, env_int, env_str
from services.responder.responding import ResponderPolicy


@dataclass(frozen=True)
class ResponderConfig:
    listen: str
    metrics_port: int
    policy: ResponderPolicy
    llm: LlmSettings
    max_concurrent_requests: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ResponderConfig:
        llm = LlmSettings.from_env("responder", env)
        policy = ResponderPolicy(
            context_window=env_int("HUGGINGGPT_RESPONDER_CONTEXT_WINDOW", llm.context_window, env),
            max_answer_tokens=env_int("HUGGINGGPT_RESPONDER_MAX_TOKENS", 200, env),
            footnote=env_bool("HUGGINGGPT_RESPONDER_FOOTNOTE", True, env),
            reply_timeout_seconds=env_float("HUGGINGGPT_RESPONDER_REPLY_TIMEOUT_SECONDS", 60.0, env),
        )
        return cls(
            listen=env_str("HUGGINGGPT_RESPONDER_LISTEN", "127.0.0.1:50056", env),
            metrics_port=env_int("HUGGINGGPT_RESPONDER_METRICS_PORT", 0, env),
            policy=policy,
            llm=llm,
            max_concurrent_requests=concurrency_limit("responder", env),
        )

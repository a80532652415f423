"""Selector settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hugginggpt.admission import DEFAULT_CONCURRENCY, concurrency_limit
from hugginggpt.domain import InferenceMode
from hugginggpt.llm import LlmSettings
from hugginggpt.settings import SettingsError, env_float, env_int, env_str
from services.selector.catalog import BUNDLED_SNAPSHOT
from services.selector.selection import Policy

REFRESHED = Path(".hugginggpt/catalog/hf-models.jsonl")
OFFLINE = Path(__file__).resolve().parents[2] / "hugginggpt" / "data" / "offline_models.json"


@dataclass(frozen=True)
class SelectorConfig:
    listen: str
    metrics_port: int
    router_address: str
    router_cache_seconds: float
    snapshot: Path
    extra: Path | None
    policy: Policy
    llm: LlmSettings
    max_concurrent_requests: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SelectorConfig:
        default_snapshot = REFRESHED if REFRESHED.exists() else BUNDLED_SNAPSHOT
        snapshot = Path(env_str("HUGGINGGPT_CATALOG_SNAPSHOT", str(default_snapshot), env))
        if not snapshot.is_file():
            raise SettingsError(f"HUGGINGGPT_CATALOG_SNAPSHOT: {snapshot} is not a file")
        extra_raw = env_str("HUGGINGGPT_CATALOG_EXTRA", "", env)
        extra = Path(extra_raw) if extra_raw else None
        if extra is not None and not extra.is_file():
            raise SettingsError(f"HUGGINGGPT_CATALOG_EXTRA: {extra} is not a file")
        hosted = env_str("HUGGINGGPT_SELECTOR_HOSTED", "auto", env).lower()
        if hosted not in ("auto", "on", "off"):
            raise SettingsError("HUGGINGGPT_SELECTOR_HOSTED must be auto, on or off")
        mode_raw = env_str("HUGGINGGPT_SELECTOR_DEFAULT_MODE", "hybrid", env).lower()
        try:
            mode = InferenceMode(mode_raw)
        except ValueError:
            message = "HUGGINGGPT_SELECTOR_DEFAULT_MODE must be local, huggingface or hybrid"
            raise SettingsError(message) from None
        policy = Policy(
            top_k=env_int("HUGGINGGPT_SELECTOR_TOP_K", 5, env),
            margin=env_float("HUGGINGGPT_SELECTOR_MARGIN", 0.08, env),
            fallbacks=env_int("HUGGINGGPT_SELECTOR_FALLBACKS", 4, env),
            hosted=hosted,
            default_mode=mode,
        )
        return cls(
            listen=env_str("HUGGINGGPT_SELECTOR_LISTEN", "127.0.0.1:50052", env),
            metrics_port=env_int("HUGGINGGPT_SELECTOR_METRICS_PORT", 0, env),
            max_concurrent_requests=concurrency_limit("selector", env),
            router_address=env_str("HUGGINGGPT_ROUTER_ADDRESS", "127.0.0.1:50054", env),
            router_cache_seconds=env_float("HUGGINGGPT_SELECTOR_ROUTER_CACHE_SECONDS", 5.0, env),
            snapshot=snapshot,
            extra=extra,
            policy=policy,
            llm=LlmSettings.from_env("selector", env),
        )

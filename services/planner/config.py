"""The planner's settings, read once from the environment (fails fast with the variable's name)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hugginggpt.admission import DEFAULT_CONCURRENCY, concurrency_limit
from hugginggpt.llm import LlmSettings
from hugginggpt.settings import SettingsError, env_bool, env_float, env_int, env_str

GUIDES = ("off", "hint", "fixed", "auto")


def default_cache_path() -> Path:
    """Where `auto` keeps the guides it chose: $HUGGINGGPT_CACHE_DIR, else ~/.cache/hugginggpt."""
    return Path(os.environ.get("HUGGINGGPT_CACHE_DIR") or Path.home() / ".cache" / "hugginggpt") / "planner_guides.json"


@dataclass(frozen=True)
class PlannerConfig:
    """Where the planner listens, its LLM, and its prompting and repair limits."""

    listen: str
    metrics_port: int
    llm: LlmSettings
    repair_rounds: int
    demo_tokens: int
    max_demos: int
    max_answer_tokens: int
    default_timeout_seconds: float
    use_tokenizer_endpoint: bool
    salvage: bool
    cover_files: bool
    steps: bool = False
    guide: str = "fixed"  # off | hint | fixed: how the task types found by retrieval steer the plan; auto: calibrated
    calibration_seconds: float = 300.0  # auto: the most a calibration may take (then fixed)
    guide_cache: Path = field(default_factory=default_cache_path)  # auto: the guides chosen, by endpoint
    max_concurrent_requests: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PlannerConfig:
        rounds = env_int("HUGGINGGPT_PLANNER_REPAIR_ROUNDS", 2, env)
        if not 0 <= rounds <= 10:
            raise SettingsError(f"HUGGINGGPT_PLANNER_REPAIR_ROUNDS must be 0..10, got {rounds}")
        guide = env_str("HUGGINGGPT_PLANNER_GUIDE", "fixed", env)
        if guide not in GUIDES:
            raise SettingsError(f"HUGGINGGPT_PLANNER_GUIDE must be one of {', '.join(GUIDES)}, got {guide!r}")
        steps = env_bool("HUGGINGGPT_PLANNER_STEPS", False, env)
        if steps and guide in ("fixed", "auto"):
            raise SettingsError("HUGGINGGPT_PLANNER_STEPS needs HUGGINGGPT_PLANNER_GUIDE=off or hint: with "
                                f"{guide}, the tasks may come from the request, not from steps the LLM writes")
        calibration = env_float("HUGGINGGPT_PLANNER_CALIBRATION_SECONDS", 300.0, env)
        if not calibration > 0:
            raise SettingsError(f"HUGGINGGPT_PLANNER_CALIBRATION_SECONDS must be positive, got {calibration}")
        cache = env_str("HUGGINGGPT_PLANNER_GUIDE_CACHE", "", env)
        return cls(
            listen=env_str("HUGGINGGPT_PLANNER_LISTEN", "127.0.0.1:50051", env),
            metrics_port=env_int("HUGGINGGPT_PLANNER_METRICS_PORT", 0, env),
            max_concurrent_requests=concurrency_limit("planner", env),
            llm=LlmSettings.from_env("planner", env),
            repair_rounds=rounds,
            demo_tokens=env_int("HUGGINGGPT_PLANNER_DEMO_TOKENS", 600, env),
            max_demos=env_int("HUGGINGGPT_PLANNER_MAX_DEMOS", 4, env),
            max_answer_tokens=env_int("HUGGINGGPT_PLANNER_MAX_ANSWER_TOKENS", 384, env),
            default_timeout_seconds=env_float("HUGGINGGPT_PLANNER_TIMEOUT_SECONDS", 120.0, env),
            use_tokenizer_endpoint=env_bool("HUGGINGGPT_PLANNER_TOKENIZE_ENDPOINT", True, env),
            salvage=env_bool("HUGGINGGPT_PLANNER_SALVAGE", True, env),
            cover_files=env_bool("HUGGINGGPT_PLANNER_COVER_FILES", True, env),
            steps=steps,
            guide=guide,
            calibration_seconds=calibration,
            guide_cache=Path(cache) if cache else default_cache_path(),
        )

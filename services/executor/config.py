"""Executor settings, read once from the environment (fails fast naming the bad variable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hugginggpt.admission import DEFAULT_CONCURRENCY, concurrency_limit
from hugginggpt.domain import InferenceMode
from hugginggpt.planvalidation import DEFAULT_MAX_TASKS, MAX_TASKS_SETTING
from hugginggpt.settings import SettingsError, env_float, env_int, env_str


@dataclass(frozen=True)
class ExecutorConfig:
    """Where the executor listens, where the router is, and the defaults of a run."""

    listen: str
    router_address: str
    metrics_port: int
    max_parallel: int
    task_timeout_seconds: float
    request_timeout_seconds: float
    mode: InferenceMode
    artifact_dir: Path
    artifact_max_bytes: int
    max_tasks: int = DEFAULT_MAX_TASKS
    max_concurrent_requests: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ExecutorConfig:
        # The deployment's mode, shared with the router: hosted inference only makes sense with a token.
        default_mode = "hybrid" if env_str("HUGGINGGPT_HF_TOKEN", "", env) else "local"
        mode = env_str("HUGGINGGPT_INFERENCE_MODE", default_mode, env).strip().lower()
        if mode not in {m.value for m in InferenceMode}:
            raise SettingsError(
                "environment variable HUGGINGGPT_INFERENCE_MODE must be local, huggingface "
                f"or hybrid, got {mode!r}")
        config = cls(
            listen=env_str("HUGGINGGPT_EXECUTOR_LISTEN", "127.0.0.1:50053", env),
            router_address=env_str("HUGGINGGPT_ROUTER_ADDRESS", "127.0.0.1:50054", env),
            metrics_port=env_int("HUGGINGGPT_EXECUTOR_METRICS_PORT", 0, env),
            max_concurrent_requests=concurrency_limit("executor", env),
            max_parallel=env_int("HUGGINGGPT_EXECUTOR_MAX_PARALLEL", 8, env),
            task_timeout_seconds=env_float("HUGGINGGPT_EXECUTOR_TASK_TIMEOUT_SECONDS", 120.0, env),
            request_timeout_seconds=env_float("HUGGINGGPT_EXECUTOR_REQUEST_TIMEOUT_SECONDS", 600.0, env),
            mode=InferenceMode(mode),
            artifact_dir=Path(env_str("HUGGINGGPT_ARTIFACT_DIR", ".hugginggpt/artifacts", env)),
            artifact_max_bytes=env_int("HUGGINGGPT_ARTIFACT_MAX_BYTES", 50 * 1024 * 1024, env),
            max_tasks=env_int(MAX_TASKS_SETTING, DEFAULT_MAX_TASKS, env),
        )
        if config.max_parallel < 1:
            raise SettingsError("environment variable HUGGINGGPT_EXECUTOR_MAX_PARALLEL must be at least 1")
        if config.max_tasks < 1:
            raise SettingsError(f"environment variable {MAX_TASKS_SETTING} must be at least 1")
        if config.task_timeout_seconds <= 0 or config.request_timeout_seconds <= 0:
            raise SettingsError("HUGGINGGPT_EXECUTOR_*_TIMEOUT_SECONDS must be positive")
        return config

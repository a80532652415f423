"""Replica settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hugginggpt.admission import DEFAULT_CONCURRENCY, concurrency_limit
from hugginggpt.settings import SettingsError, env_bool, env_float, env_int, env_list, env_str
from services.replica.backends.limits import AUDIO_SETTING, PIXELS_SETTING, MediaLimits

MB = 1024 * 1024


@dataclass(frozen=True)
class ReplicaConfig:
    """Everything the replica reads from the environment."""

    listen: str
    replica_id: str
    advertise_address: str
    metrics_port: int
    artifact_dir: Path
    artifact_max_bytes: int
    memory_budget_bytes: int
    preload: tuple[str, ...]
    max_batch: int
    max_queue_delay_ms: float
    batching: bool
    workers: int
    max_in_flight: int
    local_model_roots: tuple[str, ...]
    router_address: str
    device: str
    limits: MediaLimits = MediaLimits()
    allow_any_model: bool = False
    max_concurrent_requests: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReplicaConfig:
        e = os.environ if env is None else env
        listen = env_str("HUGGINGGPT_REPLICA_LISTEN", "127.0.0.1:50055", e)
        return cls(
            listen=listen,
            replica_id=env_str(
                "HUGGINGGPT_REPLICA_ID", f"replica-{os.uname().nodename}-{listen.rsplit(':', 1)[-1]}", e
            ),
            advertise_address=env_str("HUGGINGGPT_REPLICA_ADVERTISE_ADDRESS", listen, e),
            metrics_port=env_int("HUGGINGGPT_REPLICA_METRICS_PORT", 0, e),
            max_concurrent_requests=concurrency_limit("replica", e),
            artifact_dir=Path(env_str("HUGGINGGPT_ARTIFACT_DIR", ".hugginggpt/artifacts", e)),
            artifact_max_bytes=env_int("HUGGINGGPT_ARTIFACT_MAX_BYTES", 50 * MB, e),
            memory_budget_bytes=env_int("HUGGINGGPT_REPLICA_MEMORY_BUDGET_MB", 4096, e) * MB,
            preload=env_list("HUGGINGGPT_REPLICA_PRELOAD", env=e),
            max_batch=env_int("HUGGINGGPT_REPLICA_MAX_BATCH", 32, e),
            max_queue_delay_ms=env_float("HUGGINGGPT_REPLICA_MAX_QUEUE_DELAY_MS", 5.0, e),
            batching=env_bool("HUGGINGGPT_REPLICA_BATCHING", True, e),
            workers=env_int("HUGGINGGPT_REPLICA_WORKERS", 2, e),
            max_in_flight=env_int("HUGGINGGPT_REPLICA_MAX_IN_FLIGHT", 64, e),
            local_model_roots=env_list("HUGGINGGPT_REPLICA_LOCAL_MODEL_ROOTS", env=e),
            router_address=env_str("HUGGINGGPT_ROUTER_ADDRESS", "", e),
            device=env_str("HUGGINGGPT_REPLICA_DEVICE", "auto", e),
            limits=_limits(e),
            allow_any_model=env_bool("HUGGINGGPT_REPLICA_ALLOW_ANY_MODEL", False, e),
        )


def _limits(env: Mapping[str, str]) -> MediaLimits:
    limits = MediaLimits(
        env_float(AUDIO_SETTING, MediaLimits.max_audio_seconds, env),
        env_int(PIXELS_SETTING, MediaLimits.max_image_pixels, env),
    )
    if limits.max_audio_seconds <= 0 or limits.max_image_pixels <= 0:
        raise SettingsError(f"{AUDIO_SETTING} and {PIXELS_SETTING} must be positive")
    return limits

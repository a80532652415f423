"""The model router's settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hugginggpt.admission import DEFAULT_CONCURRENCY, concurrency_limit
from hugginggpt.domain import InferenceMode
from hugginggpt.settings import SettingsError, env_float, env_int, env_str
from services.router.hosted import DEFAULT_ENDPOINT

_SA_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class RouterConfig:
    """Everything the router needs to start."""

    listen: str
    metrics_port: int
    replica_ttl_seconds: float
    heartbeat_seconds: float
    default_max_in_flight: int
    max_attempts: int
    timeout_seconds: float
    mode: InferenceMode
    hf_token: str
    hf_endpoint: str
    artifact_dir: Path
    artifact_max_bytes: int
    discovery: str
    namespace: str
    replica_selector: str
    replica_port: int
    max_concurrent_requests: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RouterConfig:
        token = env_str("HUGGINGGPT_HF_TOKEN", "", env)
        # Without a token there is no hosted fallback, so local is the only honest default.
        mode_raw = env_str("HUGGINGGPT_INFERENCE_MODE", "hybrid" if token else "local", env).lower()
        try:
            mode = InferenceMode(mode_raw)
        except ValueError:
            raise SettingsError(
                "environment variable HUGGINGGPT_INFERENCE_MODE must be local, huggingface or hybrid, "
                f"got {mode_raw!r}"
            ) from None
        discovery = env_str("HUGGINGGPT_ROUTER_DISCOVERY", "none", env).lower()
        if discovery not in {"none", "kubernetes"}:
            raise SettingsError(
                "environment variable HUGGINGGPT_ROUTER_DISCOVERY must be none or kubernetes, "
                f"got {discovery!r}"
            )
        heartbeat = env_float("HUGGINGGPT_ROUTER_HEARTBEAT_SECONDS", 5.0, env)
        ttl = env_float("HUGGINGGPT_ROUTER_REPLICA_TTL_SECONDS", 15.0, env)
        if heartbeat <= 0 or ttl <= heartbeat:
            raise SettingsError(
                "HUGGINGGPT_ROUTER_REPLICA_TTL_SECONDS must be greater than "
                "HUGGINGGPT_ROUTER_HEARTBEAT_SECONDS, which must be positive"
            )
        return cls(
            listen=env_str("HUGGINGGPT_ROUTER_LISTEN", "127.0.0.1:50054", env),
            metrics_port=env_int("HUGGINGGPT_ROUTER_METRICS_PORT", 0, env),
            max_concurrent_requests=concurrency_limit("router", env),
            replica_ttl_seconds=ttl,
            heartbeat_seconds=heartbeat,
            default_max_in_flight=env_int("HUGGINGGPT_ROUTER_DEFAULT_MAX_IN_FLIGHT", 4, env),
            max_attempts=env_int("HUGGINGGPT_ROUTER_MAX_ATTEMPTS", 3, env),
            timeout_seconds=env_float("HUGGINGGPT_ROUTER_TIMEOUT_SECONDS", 300.0, env),
            mode=mode,
            hf_token=token,
            hf_endpoint=env_str("HUGGINGGPT_HF_ENDPOINT", DEFAULT_ENDPOINT, env),
            artifact_dir=Path(env_str("HUGGINGGPT_ARTIFACT_DIR", ".hugginggpt/artifacts", env)),
            artifact_max_bytes=env_int("HUGGINGGPT_ARTIFACT_MAX_BYTES", 50 * 1024 * 1024, env),
            discovery=discovery,
            namespace=env_str("HUGGINGGPT_ROUTER_NAMESPACE", _default_namespace(), env),
            replica_selector=env_str(
                "HUGGINGGPT_ROUTER_REPLICA_SELECTOR", "hugginggpt.io/model-replica=true", env
            ),
            replica_port=env_int("HUGGINGGPT_ROUTER_REPLICA_PORT", 50055, env),
        )


def _default_namespace() -> str:
    try:
        return _SA_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"

"""The gateway's settings, read once from the environment (failing fast with the variable's name)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.retention import Retention
from hugginggpt.budget import LlmCallBudget
from hugginggpt.settings import SettingsError, env_bool, env_float, env_int, env_str


@dataclass(frozen=True)
class GatewayConfig:
    """Where the gateway listens, its peers, limits and operational switches."""

    listen: str = "127.0.0.1:50050"
    metrics_port: int = 0
    planner_address: str = "127.0.0.1:50051"
    selector_address: str = "127.0.0.1:50052"
    executor_address: str = "127.0.0.1:50053"
    responder_address: str = "127.0.0.1:50056"
    artifact_dir: Path = Path(".hugginggpt/artifacts")
    artifact_max_bytes: int = 50 * 1024 * 1024
    session_store: str = "sqlite:///.hugginggpt/sessions.db"
    # Redis's password (HUGGINGGPT_SESSION_STORE_PASSWORD, from the Secret in Kubernetes); never printed.
    session_store_password: str | None = field(default=None, repr=False)
    history_messages: int = 20
    request_timeout_seconds: float = 600.0
    task_timeout_seconds: float = 0.0
    stream_execution: bool = True
    respond_to_direct_answers: bool = False
    max_llm_calls: int = 3
    tls_cert: Path | None = None
    tls_key: Path | None = None
    auth_token: str = ""
    max_attachments: int = 16
    max_session_messages: int = 1000
    max_concurrent_requests: int = 64
    retention: Retention = Retention()
    open_access: bool = False  # serve without a token; only when HUGGINGGPT_GATEWAY_OPEN=true says so
    offer_runnable_only: bool = True  # the planner is offered only the task types the selector says can run
    task_types_ttl_seconds: float = 30.0  # how long the selector's answer is kept, per inference mode

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewayConfig:
        cert = env_str("HUGGINGGPT_GATEWAY_TLS_CERT", "", env)
        key = env_str("HUGGINGGPT_GATEWAY_TLS_KEY", "", env)
        if bool(cert) != bool(key):
            raise SettingsError(
                "set both HUGGINGGPT_GATEWAY_TLS_CERT and HUGGINGGPT_GATEWAY_TLS_KEY, or neither"
            )
        for name, value in (("HUGGINGGPT_GATEWAY_TLS_CERT", cert), ("HUGGINGGPT_GATEWAY_TLS_KEY", key)):
            if value and not Path(value).is_file():
                raise SettingsError(f"{name} names {value!r}, which is not a readable file")
        config = cls(
            listen=env_str("HUGGINGGPT_GATEWAY_LISTEN", cls.listen, env),
            metrics_port=env_int("HUGGINGGPT_GATEWAY_METRICS_PORT", 0, env),
            planner_address=env_str("HUGGINGGPT_PLANNER_ADDRESS", cls.planner_address, env),
            selector_address=env_str("HUGGINGGPT_SELECTOR_ADDRESS", cls.selector_address, env),
            executor_address=env_str("HUGGINGGPT_EXECUTOR_ADDRESS", cls.executor_address, env),
            responder_address=env_str("HUGGINGGPT_RESPONDER_ADDRESS", cls.responder_address, env),
            artifact_dir=Path(env_str("HUGGINGGPT_ARTIFACT_DIR", str(cls.artifact_dir), env)),
            artifact_max_bytes=env_int("HUGGINGGPT_ARTIFACT_MAX_BYTES", cls.artifact_max_bytes, env),
            session_store=env_str("HUGGINGGPT_SESSION_STORE", cls.session_store, env),
            session_store_password=env_str("HUGGINGGPT_SESSION_STORE_PASSWORD", "", env) or None,
            history_messages=env_int("HUGGINGGPT_GATEWAY_HISTORY_MESSAGES", cls.history_messages, env),
            request_timeout_seconds=env_float(
                "HUGGINGGPT_GATEWAY_REQUEST_TIMEOUT_SECONDS", cls.request_timeout_seconds, env
            ),
            task_timeout_seconds=env_float("HUGGINGGPT_GATEWAY_TASK_TIMEOUT_SECONDS", 0.0, env),
            stream_execution=env_bool("HUGGINGGPT_GATEWAY_STREAM_EXECUTION", True, env),
            respond_to_direct_answers=env_bool("HUGGINGGPT_GATEWAY_RESPOND_TO_DIRECT_ANSWERS", False, env),
            max_llm_calls=env_int("HUGGINGGPT_GATEWAY_MAX_LLM_CALLS", cls.max_llm_calls, env),
            tls_cert=Path(cert) if cert else None,
            tls_key=Path(key) if key else None,
            auth_token=env_str("HUGGINGGPT_GATEWAY_AUTH_TOKEN", "", env),
            max_attachments=env_int("HUGGINGGPT_GATEWAY_MAX_ATTACHMENTS", cls.max_attachments, env),
            max_session_messages=env_int(
                "HUGGINGGPT_GATEWAY_MAX_SESSION_MESSAGES", cls.max_session_messages, env
            ),
            max_concurrent_requests=env_int(
                "HUGGINGGPT_GATEWAY_MAX_CONCURRENT_REQUESTS", cls.max_concurrent_requests, env
            ),
            retention=Retention(
                env_float("HUGGINGGPT_SESSION_RETENTION_HOURS", Retention.session_hours, env),
                env_float("HUGGINGGPT_ARTIFACT_RETENTION_HOURS", Retention.artifact_hours, env),
                env_float("HUGGINGGPT_RETENTION_INTERVAL_SECONDS", Retention.interval_seconds, env),
            ),
            open_access=env_bool("HUGGINGGPT_GATEWAY_OPEN", False, env),
            offer_runnable_only=env_bool("HUGGINGGPT_GATEWAY_OFFER_RUNNABLE_ONLY", True, env),
            task_types_ttl_seconds=env_float("HUGGINGGPT_GATEWAY_TASK_TYPES_TTL_SECONDS",
                                             cls.task_types_ttl_seconds, env),
        )
        config.check()
        return config

    def check(self) -> None:
        """Rejects values that cannot work."""
        if self.request_timeout_seconds <= 0:
            raise SettingsError("HUGGINGGPT_GATEWAY_REQUEST_TIMEOUT_SECONDS must be positive")
        if self.artifact_max_bytes <= 0:
            raise SettingsError("HUGGINGGPT_ARTIFACT_MAX_BYTES must be positive")
        LlmCallBudget(self.max_llm_calls)  # raises SettingsError naming the rule
        for name, value in (("MAX_ATTACHMENTS", self.max_attachments),
                            ("MAX_SESSION_MESSAGES", self.max_session_messages),
                            ("MAX_CONCURRENT_REQUESTS", self.max_concurrent_requests)):
            if value < 1:
                raise SettingsError(f"HUGGINGGPT_GATEWAY_{name} must be at least 1")
        if 0 < self.retention.artifact_hours < 1 or self.retention.session_hours < 0:
            # Files of a request in flight are named by no message until it ends: keep them past any deadline.
            raise SettingsError("HUGGINGGPT_ARTIFACT_RETENTION_HOURS must be 0 (keep) or at least 1, and "
                                "HUGGINGGPT_SESSION_RETENTION_HOURS 0 (keep) or more")
        if self.task_types_ttl_seconds <= 0:
            raise SettingsError("HUGGINGGPT_GATEWAY_TASK_TYPES_TTL_SECONDS must be positive (to offer the planner "
                                "every task type, set HUGGINGGPT_GATEWAY_OFFER_RUNNABLE_ONLY=false)")
        if self.retention.interval_seconds <= 0:
            raise SettingsError("HUGGINGGPT_RETENTION_INTERVAL_SECONDS must be positive")
        if self.history_messages < 0:
            raise SettingsError("HUGGINGGPT_GATEWAY_HISTORY_MESSAGES must be zero or more")
        if not self.session_store.startswith(("sqlite://", "redis://", "rediss://", "memory://")):
            raise SettingsError(
                "HUGGINGGPT_SESSION_STORE must be sqlite:///PATH, redis://HOST:PORT/DB or memory://, "
                f"got {self.session_store!r}"
            )
        if not self.auth_token and not self.open_access:
            raise SettingsError(
                "HUGGINGGPT_GATEWAY_AUTH_TOKEN is not set: the gateway serves only callers with its bearer "
                "token; set it, or set HUGGINGGPT_GATEWAY_OPEN=true to serve anyone who can reach it"
            )


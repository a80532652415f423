"""The HTTP edge's settings, read once from the environment (failing fast with the variable's name)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hugginggpt.settings import SettingsError, env_float, env_int, env_list, env_str

UI_DIR = Path(__file__).resolve().parent / "ui" / "dist"


@dataclass(frozen=True)
class EdgeConfig:
    """Where the edge listens, the gateway it calls, and its limits."""

    listen: str = "127.0.0.1:8000"
    gateway_address: str = "127.0.0.1:50050"
    # The gateway's bearer token: clients must send it to the edge, and the edge sends it on.
    auth_token: str = ""
    max_body_bytes: int = 72 * 1024 * 1024  # a 50 MiB file, base64-encoded, plus the JSON around it
    max_attachment_bytes: int = 50 * 1024 * 1024
    max_streams: int = 64
    request_timeout_seconds: float = 600.0
    cors_origins: tuple[str, ...] = ()
    ui_dir: Path = UI_DIR
    metrics_port: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EdgeConfig:
        config = cls(
            listen=env_str("HUGGINGGPT_EDGE_LISTEN", cls.listen, env),
            gateway_address=env_str("HUGGINGGPT_GATEWAY_ADDRESS", cls.gateway_address, env),
            auth_token=env_str("HUGGINGGPT_GATEWAY_AUTH_TOKEN", "", env),
            max_body_bytes=env_int("HUGGINGGPT_EDGE_MAX_BODY_BYTES", cls.max_body_bytes, env),
            max_attachment_bytes=env_int("HUGGINGGPT_ARTIFACT_MAX_BYTES", cls.max_attachment_bytes, env),
            max_streams=env_int("HUGGINGGPT_EDGE_MAX_STREAMS", cls.max_streams, env),
            request_timeout_seconds=env_float(
                "HUGGINGGPT_EDGE_REQUEST_TIMEOUT_SECONDS", cls.request_timeout_seconds, env
            ),
            cors_origins=env_list("HUGGINGGPT_EDGE_CORS_ORIGINS", "", env),
            ui_dir=Path(env_str("HUGGINGGPT_EDGE_UI_DIR", str(UI_DIR), env)),
            metrics_port=env_int("HUGGINGGPT_EDGE_METRICS_PORT", 0, env),
        )
        config.check()
        return config

    def check(self) -> None:
        """Rejects values that cannot work."""
        for name, value in (("HUGGINGGPT_EDGE_MAX_BODY_BYTES", self.max_body_bytes),
                            ("HUGGINGGPT_ARTIFACT_MAX_BYTES", self.max_attachment_bytes),
                            ("HUGGINGGPT_EDGE_MAX_STREAMS", self.max_streams),
                            ("HUGGINGGPT_EDGE_REQUEST_TIMEOUT_SECONDS", self.request_timeout_seconds)):
            if value <= 0:
                raise SettingsError(f"{name} must be positive, got {value}")
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit():
            raise SettingsError(f"HUGGINGGPT_EDGE_LISTEN must be HOST:PORT, got {self.listen!r}")

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

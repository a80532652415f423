"""Wiring of the mediapipe replica: `.venv-mediapipe/bin/python -m services.replica.mediapipe`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "HUGGINGGPT_MEDIAPIPE_REPLICA_"


def use_protobuf4_code() -> None:
    """Makes `hugginggpt.v1` resolve to the code generated for protobuf 4 by scripts/setup_mediapipe.sh."""
    import hugginggpt

    gen = Path(os.environ.get("HUGGINGGPT_MEDIAPIPE_GEN_DIR", str(ROOT / ".venv-mediapipe" / "gen")))
    if not (gen / "hugginggpt" / "v1" / "replica_pb2.py").is_file():
        raise SystemExit(f"no generated code under {gen}; run scripts/setup_mediapipe.sh")
    hugginggpt.__path__.insert(0, str(gen / "hugginggpt"))


def mediapipe_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The replica settings, with this replica's own listen address, id, metrics port and preload list.

    On the local stack both replicas share one environment, so this one's settings come prefixed
    (HUGGINGGPT_MEDIAPIPE_REPLICA_*) and replace the other's. In its own pod (no prefixed setting) the
    environment is this replica's alone and is used as it is."""
    env = dict(os.environ if environ is None else environ)
    if not any(key.startswith(PREFIX) for key in env):
        return env
    env["HUGGINGGPT_REPLICA_LISTEN"] = env.get(f"{PREFIX}LISTEN", "127.0.0.1:50057")
    for key in ("ID", "ADVERTISE_ADDRESS", "METRICS_PORT", "PRELOAD"):
        env.pop(f"HUGGINGGPT_REPLICA_{key}", None)
        if f"{PREFIX}{key}" in env:
            env[f"HUGGINGGPT_REPLICA_{key}"] = env[f"{PREFIX}{key}"]
    return env


async def main() -> None:
    use_protobuf4_code()
    from hugginggpt import logs
    from services.replica.__main__ import serve
    from services.replica.config import ReplicaConfig

    logs.configure("mediapipe-replica", os.environ.get("HUGGINGGPT_REPLICA_LOG_LEVEL", "INFO"))
    env = mediapipe_env()
    await serve(ReplicaConfig.from_env(env), only=frozenset({"mediapipe"}), allow_any=False)


if __name__ == "__main__":
    asyncio.run(main())

"""Retention: idle sessions go, then files no remaining session names; a live session's files always stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.retention import Retention, collect
from gateway.sessions import MemorySessionStore, SessionStore, SqliteSessionStore, StoredMessage
from hugginggpt.artifacts import ArtifactStore
from hugginggpt.domain import Artifact
from hugginggpt.errors import NotFound
from hugginggpt.settings import SettingsError

DAY = 86400.0
NOW = time.time()


def _old(store: ArtifactStore, artifact: Artifact) -> Artifact:
    os.utime(store.path(artifact.uri), (NOW - 60 * DAY, NOW - 60 * DAY))
    return artifact


async def _session(sessions: SessionStore, files: list[Artifact], at: float,
                   monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: at)
        session_id = await sessions.create()
        await sessions.append(session_id, [StoredMessage("user", "look", tuple(files))])
    return session_id


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
async def test_idle_sessions_and_orphans_go_and_what_a_live_session_names_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    store = ArtifactStore(tmp_path / "artifacts", 10_000)
    sessions: SessionStore = SqliteSessionStore(tmp_path / "s.db") if kind == "sqlite" else MemorySessionStore()
    kept = _old(store, store.put_bytes("kept.png", b"x"))  # old, but a live session names it
    idle_file = _old(store, store.put_bytes("idle.png", b"x"))  # named only by a session that expires
    orphan = _old(store, store.put_bytes("orphan.png", b"x"))  # named by nobody
    fresh = store.put_bytes("fresh.png", b"x")  # named by nobody, but newer than the retention
    live = await _session(sessions, [kept], NOW - DAY, monkeypatch)
    idle = await _session(sessions, [idle_file], NOW - 40 * DAY, monkeypatch)

    assert await collect(sessions, store, Retention(session_hours=30 * 24, artifact_hours=7 * 24), NOW) == (1, 2)

    assert await sessions.exists(live) and not await sessions.exists(idle)
    assert store.read_bytes(kept.uri) == b"x" and store.read_bytes(fresh.uri) == b"x"
    for gone in (idle_file, orphan):
        with pytest.raises(NotFound):
            store.path(gone.uri)
    assert sorted(p.name for p in store.root.glob("*/*")) == ["fresh.png", "kept.png"]
    await sessions.close()


async def test_zero_keeps_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, sessions = ArtifactStore(tmp_path / "a", 100), MemorySessionStore()
    orphan = _old(store, store.put_bytes("orphan.png", b"x"))
    await _session(sessions, [], NOW - 400 * DAY, monkeypatch)
    assert await collect(sessions, store, Retention(0, 0), NOW) == (0, 0)
    assert store.read_bytes(orphan.uri) == b"x"


def test_retention_settings() -> None:
    base = {"HUGGINGGPT_GATEWAY_OPEN": "true"}
    config = GatewayConfig.from_env({**base, "HUGGINGGPT_SESSION_RETENTION_HOURS": "48",
                                     "HUGGINGGPT_ARTIFACT_RETENTION_HOURS": "0"})
    assert config.retention == Retention(48.0, 0.0, 600.0)
    with pytest.raises(SettingsError, match="ARTIFACT_RETENTION_HOURS must be 0 .keep. or at least 1"):
        GatewayConfig.from_env({**base, "HUGGINGGPT_ARTIFACT_RETENTION_HOURS": "0.1"})

"""Retention: sessions idle past their time are deleted, then artifacts that no remaining session names."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from gateway.sessions import SessionStore
from hugginggpt.artifacts import ArtifactStore

logger = logging.getLogger(__name__)
HOUR = 3600.0


@dataclass(frozen=True)
class Retention:
    """How long sessions (since their last message) and artifacts (since written) are kept; 0 keeps forever."""

    session_hours: float = 720.0
    artifact_hours: float = 168.0
    interval_seconds: float = 600.0


async def collect(sessions: SessionStore, store: ArtifactStore, retention: Retention,
                  now: float | None = None) -> tuple[int, int]:
    """One pass: (sessions deleted, artifact files deleted).

    Artifacts are judged after sessions, against what every remaining session names: a live session's
    uploads and generated files are never deleted, however old. A turn names its files when it starts, so
    a request in flight holds its uploads too.
    """
    now = time.time() if now is None else now
    expired = await sessions.idle_since(now - retention.session_hours * HOUR) if retention.session_hours else []
    for session_id in expired:
        await sessions.delete(session_id)
    files = 0
    if retention.artifact_hours:
        live = await sessions.referenced_uris()
        files = await asyncio.to_thread(store.remove_unreferenced, live, now - retention.artifact_hours * HOUR)
    return len(expired), files


class Collector:
    """Runs collect() every interval in the background of the gateway, until stopped."""

    def __init__(self, sessions: SessionStore, store: ArtifactStore, retention: Retention) -> None:
        self._args = (sessions, store, retention)
        self._interval = retention.interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._args[2].session_hours or self._args[2].artifact_hours:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                sessions, files = await collect(*self._args)
            except Exception:  # noqa: BLE001 - a failed pass is logged and retried at the next interval
                logger.exception("retention pass failed")
                continue
            if sessions or files:
                logger.info("retention: deleted %d idle sessions and %d unreferenced files", sessions, files)

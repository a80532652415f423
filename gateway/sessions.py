"""Conversation sessions kept outside the gateway process: an SQLite file by default, or Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hugginggpt.domain import Artifact, Kind
from hugginggpt.errors import InvalidRequest, NotFound, Unavailable
from hugginggpt.settings import SettingsError

T = TypeVar("T")

_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# How a turn ended, on its assistant message; a user message with none after it is a turn still running,
# or one a crash interrupted.
ANSWERED, FAILED, CANCELLED = "answered", "failed", "cancelled"


@dataclass(frozen=True)
class StoredMessage:
    """One message of a conversation, with the files it carried (user uploads or generated outputs)."""

    role: str  # "user" or "assistant"
    content: str
    attachments: tuple[Artifact, ...] = field(default_factory=tuple)
    status: str = ""  # on an assistant message: ANSWERED, FAILED or CANCELLED

    def to_json(self) -> str:
        return json.dumps({
            "role": self.role,
            "status": self.status,
            "content": self.content,
            "attachments": [
                {"uri": a.uri, "name": a.name, "media_type": a.media_type, "size_bytes": a.size_bytes,
                 "kind": a.kind.value}
                for a in self.attachments
            ],
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> StoredMessage:
        data = json.loads(raw)
        return cls(data["role"], data["content"], tuple(
            Artifact(a["uri"], a["name"], a["media_type"], int(a["size_bytes"]), Kind(a["kind"]))
            for a in data.get("attachments", ())
        ), str(data.get("status", "")))


def check_session_id(session_id: str) -> str:
    """The id itself; InvalidRequest when it could not have come from this gateway."""
    if not _SESSION_ID.match(session_id):
        raise InvalidRequest("session_id must be 1-64 letters, digits, '-' or '_' (as returned by Chat)")
    return session_id


def _unknown(session_id: str) -> NotFound:
    return NotFound(f"session {session_id} does not exist; leave session_id empty to start a new one")


class SessionStore(Protocol):
    """Where conversations live; every method is safe to call from several gateway replicas."""

    async def create(self) -> str: ...
    async def exists(self, session_id: str) -> bool: ...
    async def messages(self, session_id: str) -> list[StoredMessage]: ...
    async def append(self, session_id: str, messages: list[StoredMessage]) -> None: ...
    async def close(self) -> None: ...
    # Retention: sessions with no activity since a time, deleting one, and the artifacts all sessions name.
    async def idle_since(self, before: float) -> list[str]: ...
    async def delete(self, session_id: str) -> None: ...
    async def referenced_uris(self) -> set[str]: ...


def _uris(messages: list[StoredMessage]) -> set[str]:
    return {a.uri for m in messages for a in m.attachments}


class SqliteSessionStore:
    """Sessions in one SQLite file (WAL mode, so several processes on one host can share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0, isolation_level=None)
        self._lock = asyncio.Lock()
        # Worker threads hold this while they use the connection, and close() takes it too: a caller cancelled
        # mid-write releases the asyncio lock but not the thread, and closing under it crashed the process.
        self._guard = threading.Lock()
        self._closed = False
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created REAL NOT NULL)")
        with contextlib.suppress(sqlite3.OperationalError):  # a database from before retention existed
            self._db.execute("ALTER TABLE sessions ADD COLUMN touched REAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS messages (session_id TEXT NOT NULL, seq INTEGER NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (session_id, seq))"
        )

    def _guarded(self, work: Callable[[], T]) -> T:
        with self._guard:
            if self._closed:
                raise Unavailable("the session store is closed (the gateway is stopping)")
            return work()

    async def _run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self._lock:
            return await asyncio.to_thread(self._guarded, lambda: self._db.execute(sql, params).fetchall())

    async def create(self) -> str:
        session_id = uuid.uuid4().hex
        now = time.time()
        await self._run("INSERT INTO sessions (id, created, touched) VALUES (?, ?, ?)", session_id, now, now)
        return session_id

    async def exists(self, session_id: str) -> bool:
        return bool(await self._run("SELECT 1 FROM sessions WHERE id = ?", session_id))

    async def messages(self, session_id: str) -> list[StoredMessage]:
        if not await self.exists(session_id):
            raise _unknown(session_id)
        rows = await self._run("SELECT body FROM messages WHERE session_id = ? ORDER BY seq", session_id)
        return [StoredMessage.from_json(body) for (body,) in rows]

    async def append(self, session_id: str, messages: list[StoredMessage]) -> None:
        def write() -> None:
            with self._db:  # one transaction: both messages of a turn, or neither
                self._db.execute("BEGIN IMMEDIATE")
                (top,) = self._db.execute(
                    "SELECT COALESCE(MAX(seq), -1) FROM messages WHERE session_id = ?", (session_id,)
                ).fetchone()
                self._db.executemany(
                    "INSERT INTO messages (session_id, seq, body) VALUES (?, ?, ?)",
                    [(session_id, top + 1 + i, m.to_json()) for i, m in enumerate(messages)],
                )
                self._db.execute("UPDATE sessions SET touched = ? WHERE id = ?", (time.time(), session_id))

        if not await self.exists(session_id):
            raise _unknown(session_id)
        async with self._lock:
            await asyncio.to_thread(self._guarded, write)

    async def close(self) -> None:
        def shut() -> None:
            with self._guard:  # waits for a write still running in a worker thread
                self._closed = True
                self._db.close()

        await asyncio.to_thread(shut)

    async def idle_since(self, before: float) -> list[str]:
        rows = await self._run("SELECT id FROM sessions WHERE COALESCE(touched, created) < ?", before)
        return [session_id for (session_id,) in rows]

    async def delete(self, session_id: str) -> None:
        await self._run("DELETE FROM messages WHERE session_id = ?", session_id)
        await self._run("DELETE FROM sessions WHERE id = ?", session_id)

    async def referenced_uris(self) -> set[str]:
        rows = await self._run("SELECT body FROM messages WHERE body LIKE '%artifact://%'")
        return _uris([StoredMessage.from_json(body) for (body,) in rows])


class _RedisCalls:
    """The Redis client's commands, with its failures told as UNAVAILABLE a person can act on (not INTERNAL)."""

    def __init__(self, client: Any, where: str) -> None:
        self._client, self._where = client, where

    def __getattr__(self, name: str) -> Any:
        command = getattr(self._client, name)
        if name == "scan_iter":
            return command  # an async generator; its errors surface in the command that follows it

        async def call(*args: Any, **kwargs: Any) -> Any:
            import redis.exceptions

            try:
                return await command(*args, **kwargs)
            except redis.exceptions.AuthenticationError as exc:
                raise Unavailable(f"the session store at {self._where} refused the gateway's password ({exc}): "
                                  "check HUGGINGGPT_SESSION_STORE_PASSWORD against the store's") from None
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                raise Unavailable(f"the session store at {self._where} cannot be reached ({exc}); try again "
                                  "shortly") from None
            except redis.exceptions.ResponseError as exc:
                if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
                    raise Unavailable(f"the session store at {self._where} needs a password the gateway does not "
                                      "have: set HUGGINGGPT_SESSION_STORE_PASSWORD") from None
                raise

        return call


class RedisSessionStore:
    """Sessions in Redis: a marker key and a list of JSON messages per session."""

    def __init__(self, url: str, prefix: str = "hugginggpt:session:", password: str | None = None) -> None:
        import redis.asyncio as redis

        where = url.split("@")[-1]  # never a password written into the URL
        self._redis = _RedisCalls(redis.from_url(url, **({"password": password} if password else {})), where)
        self._prefix = prefix

    def _keys(self, session_id: str) -> tuple[str, str]:
        return f"{self._prefix}{session_id}", f"{self._prefix}{session_id}:messages"

    async def create(self) -> str:
        session_id = uuid.uuid4().hex
        await self._redis.set(self._keys(session_id)[0], str(time.time()))  # the time of its last activity
        return session_id

    async def exists(self, session_id: str) -> bool:
        return bool(await self._redis.exists(self._keys(session_id)[0]))

    async def messages(self, session_id: str) -> list[StoredMessage]:
        if not await self.exists(session_id):
            raise _unknown(session_id)
        raws = await self._redis.lrange(self._keys(session_id)[1], 0, -1)
        return [StoredMessage.from_json(raw) for raw in raws]

    async def append(self, session_id: str, messages: list[StoredMessage]) -> None:
        if not await self.exists(session_id):
            raise _unknown(session_id)
        if messages:
            await self._redis.rpush(self._keys(session_id)[1], *[m.to_json() for m in messages])
            await self._redis.set(self._keys(session_id)[0], str(time.time()))

    async def close(self) -> None:
        await self._redis.aclose()

    async def _session_ids(self) -> list[str]:
        keys = [k.decode() async for k in self._redis.scan_iter(match=f"{self._prefix}*", count=500)]
        return [k[len(self._prefix):] for k in keys if not k.endswith(":messages")]

    async def idle_since(self, before: float) -> list[str]:
        idle = []
        for session_id in await self._session_ids():
            touched = await self._redis.get(self._keys(session_id)[0])
            if touched is not None and float(touched) < before:
                idle.append(session_id)
        return idle

    async def delete(self, session_id: str) -> None:
        await self._redis.delete(*self._keys(session_id))

    async def referenced_uris(self) -> set[str]:
        uris: set[str] = set()
        for session_id in await self._session_ids():
            raws = await self._redis.lrange(self._keys(session_id)[1], 0, -1)
            uris |= _uris([StoredMessage.from_json(raw) for raw in raws])
        return uris


class MemorySessionStore:
    """Sessions in this process only (tests and throwaway runs; a restart loses them)."""

    def __init__(self) -> None:
        self._sessions: dict[str, list[StoredMessage]] = {}
        self._touched: dict[str, float] = {}

    async def create(self) -> str:
        session_id = uuid.uuid4().hex
        self._sessions[session_id] = []
        self._touched[session_id] = time.time()
        return session_id

    async def exists(self, session_id: str) -> bool:
        return session_id in self._sessions

    async def messages(self, session_id: str) -> list[StoredMessage]:
        if session_id not in self._sessions:
            raise _unknown(session_id)
        return list(self._sessions[session_id])

    async def append(self, session_id: str, messages: list[StoredMessage]) -> None:
        if session_id not in self._sessions:
            raise _unknown(session_id)
        self._sessions[session_id].extend(messages)
        self._touched[session_id] = time.time()

    async def close(self) -> None:
        return None

    async def idle_since(self, before: float) -> list[str]:
        return [s for s, touched in self._touched.items() if touched < before]

    async def delete(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
        self._touched.pop(session_id, None)

    async def referenced_uris(self) -> set[str]:
        return _uris([m for messages in self._sessions.values() for m in messages])


def open_store(url: str, password: str | None = None) -> SessionStore:
    """The store a URL names: sqlite:///relative.db, sqlite:////absolute.db, redis://host:port/db, memory://.

    `password`: Redis's (HUGGINGGPT_SESSION_STORE_PASSWORD, from a Secret), kept out of the URL and the config."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise SettingsError("HUGGINGGPT_SESSION_STORE sqlite URL needs a file path: sqlite:///sessions.db")
        return SqliteSessionStore(Path(path))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisSessionStore(url, password=password)
    if url == "memory://":
        return MemorySessionStore()
    raise SettingsError(f"HUGGINGGPT_SESSION_STORE {url!r} is not sqlite:///PATH, redis://HOST:PORT/DB or memory://")

"""Session stores, settings and upload naming of the gateway, without gRPC."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.sessions import SqliteSessionStore, StoredMessage, check_session_id, open_store
from gateway.uploads import _name_for
from hugginggpt.domain import Artifact, Kind
from hugginggpt.errors import InvalidRequest, NotFound
from hugginggpt.settings import SettingsError

PHOTO = Artifact("artifact://AAAAAAAAAAAAAAAAAAAAAAAA/p.png", "p.png", "image/png", 3, Kind.IMAGE)


async def test_sqlite_keeps_turns_across_reopening(tmp_path: Path) -> None:
    store = SqliteSessionStore(tmp_path / "s.db")
    session_id = await store.create()
    await store.append(session_id, [StoredMessage("user", "hi", (PHOTO,)), StoredMessage("assistant", "hello")])
    await store.close()
    reopened = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        await reopened.append(session_id, [StoredMessage("user", "again")])
        messages = await reopened.messages(session_id)
    finally:
        await reopened.close()
    assert [m.content for m in messages] == ["hi", "hello", "again"]
    assert messages[0].attachments == (PHOTO,)


@pytest.mark.parametrize("url", ["memory://", "sqlite:///{tmp}/x.db"])
async def test_unknown_sessions_are_not_found(tmp_path: Path, url: str) -> None:
    store = open_store(url.format(tmp=tmp_path))
    try:
        with pytest.raises(NotFound):
            await store.messages("feedface")
        with pytest.raises(NotFound):
            await store.append("feedface", [StoredMessage("user", "x")])
        assert not await store.exists("feedface")
    finally:
        await store.close()


@pytest.mark.parametrize("session_id", ["", "a/b", "x" * 65, "../etc", "id with space"])
def test_malformed_session_ids(session_id: str) -> None:
    with pytest.raises(InvalidRequest):
        check_session_id(session_id)


@pytest.mark.parametrize("url", ["postgres://x", "sqlite:///", "file:///tmp/x"])
def test_bad_store_urls(url: str) -> None:
    with pytest.raises(SettingsError):
        open_store(url)


def test_config_defaults_and_overrides() -> None:
    assert GatewayConfig.from_env({"HUGGINGGPT_GATEWAY_OPEN": "true"}).listen == "127.0.0.1:50050"
    config = GatewayConfig.from_env({
        "HUGGINGGPT_GATEWAY_REQUEST_TIMEOUT_SECONDS": "30", "HUGGINGGPT_PLANNER_ADDRESS": "planner:50051",
        "HUGGINGGPT_SESSION_STORE": "redis://127.0.0.1:6379/0", "HUGGINGGPT_GATEWAY_AUTH_TOKEN": "t",
    })
    assert (config.request_timeout_seconds, config.planner_address, config.auth_token) == (30, "planner:50051", "t")


@pytest.mark.parametrize(("env", "message"), [
    ({"HUGGINGGPT_GATEWAY_TLS_CERT": "/nonexistent.pem"}, "both"),
    ({"HUGGINGGPT_GATEWAY_TLS_CERT": "/no.pem", "HUGGINGGPT_GATEWAY_TLS_KEY": "/no.key"}, "not a readable file"),
    ({"HUGGINGGPT_GATEWAY_REQUEST_TIMEOUT_SECONDS": "0"}, "positive"),
    ({"HUGGINGGPT_GATEWAY_REQUEST_TIMEOUT_SECONDS": "soon"}, "number"),
    ({"HUGGINGGPT_SESSION_STORE": "mysql://db"}, "HUGGINGGPT_SESSION_STORE"),
    ({"HUGGINGGPT_GATEWAY_STREAM_EXECUTION": "maybe"}, "true or false"),
    ({}, "HUGGINGGPT_GATEWAY_AUTH_TOKEN is not set"),  # no token and not said to be open: refuses to start
    ({"HUGGINGGPT_GATEWAY_OPEN": "false"}, "HUGGINGGPT_GATEWAY_OPEN=true"),
])
def test_bad_config_fails_fast_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        GatewayConfig.from_env(env)


@pytest.mark.parametrize(("name", "media_type", "expected"), [
    ("photo.png", "", "photo.png"),
    ("notes", "text/plain", "notes.txt"),
    ("../../etc/passwd.txt", "", "passwd.txt"),
    ("clip.mp4", "video/mp4", "clip.mp4"),
])
def test_upload_names(name: str, media_type: str, expected: str) -> None:
    assert _name_for(name, media_type) == expected


@pytest.mark.parametrize(("name", "media_type"), [("a.zip", ""), ("a.png", "application/pdf"), ("run", "")])
def test_refused_upload_types(name: str, media_type: str) -> None:
    with pytest.raises(InvalidRequest, match="only image, audio, video and text"):
        _name_for(name, media_type)


async def test_closing_while_a_cancelled_write_still_runs_waits_for_it_then_refuses(tmp_path: Path) -> None:
    import asyncio

    from hugginggpt.errors import Unavailable

    store = SqliteSessionStore(tmp_path / "s.db")
    session_id = await store.create()
    big = [StoredMessage("user", "x" * 100_000) for _ in range(50)]
    writer = asyncio.create_task(store.append(session_id, big))
    await asyncio.sleep(0.01)
    writer.cancel()  # the caller goes; the worker thread goes on writing
    await store.close()  # must wait for that thread, not close the connection under it (a segfault)
    with pytest.raises(Unavailable, match="closed"):
        await store.messages(session_id)

"""The artifact store: unguessable names, size and type limits, URIs that cannot escape the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from hugginggpt.artifacts import ArtifactStore, is_artifact_uri, safe_name, staging_path
from hugginggpt.domain import Kind
from hugginggpt.errors import InvalidRequest, NotFound, ResourceExhausted


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "store", max_bytes=1000)


def test_put_and_read_back(store: ArtifactStore) -> None:
    artifact = store.put_bytes("invoice.png", b"\x89PNG data")
    assert is_artifact_uri(artifact.uri)
    assert artifact.kind is Kind.IMAGE and artifact.media_type == "image/png"
    assert store.read_bytes(artifact.uri) == b"\x89PNG data"
    assert store.describe(artifact.uri).size_bytes == 9


def test_names_are_unguessable_and_distinct(store: ArtifactStore) -> None:
    first = store.put_bytes("a.wav", b"1")
    second = store.put_bytes("a.wav", b"2")
    assert first.uri != second.uri
    token = first.uri.removeprefix("artifact://").split("/")[0]
    assert len(token) >= 24


def test_oversized_upload_is_refused_and_nothing_kept(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(ResourceExhausted, match="larger than the limit"):
        store.put_chunks("big.png", [b"x" * 600, b"x" * 600])
    assert not any(p.is_file() for p in (tmp_path / "store").rglob("*"))


def test_disallowed_type_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(InvalidRequest, match="only image, audio, video and text"):
        store.put_bytes("tool.exe", b"MZ")


@pytest.mark.parametrize(
    "uri", ["/etc/passwd", "../secrets", "artifact://short/x.png", "artifact://" + "a" * 24 + "/../../etc/passwd",
            "http://example.com/x.png", "file:///etc/passwd"],
)
def test_malformed_or_escaping_uris_are_refused(store: ArtifactStore, uri: str) -> None:
    with pytest.raises(InvalidRequest, match="not an artifact URI"):
        store.path(uri)


def test_missing_artifact_is_not_found(store: ArtifactStore) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        store.path("artifact://" + "a" * 24 + "/gone.png")


def test_safe_name_drops_directories() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\photo 1.jpg") == "photo 1.jpg"
    assert safe_name("...") == "file"


KEY = "k" * 24


def test_a_symlink_planted_in_the_store_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    secret = tmp_path / "environ"
    secret.write_text("HUGGINGGPT_LLM_API_KEY=sk-secret")
    (store.root / KEY).mkdir()
    (store.root / KEY / "notes.txt").symlink_to(secret)
    with pytest.raises(InvalidRequest, match="link or resolves outside"):
        store.read_bytes(f"artifact://{KEY}/notes.txt")
    with pytest.raises(InvalidRequest):
        store.describe(f"artifact://{KEY}/notes.txt")


def test_a_symlinked_folder_and_a_hard_link_are_refused(store: ArtifactStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "page.txt").write_text("not the store's")
    (store.root / KEY).symlink_to(outside)
    with pytest.raises(InvalidRequest, match="link or resolves outside"):
        store.path(f"artifact://{KEY}/page.txt")
    inside = store.put_bytes("copy.txt", b"x")
    (tmp_path / "twin.txt").hardlink_to(store.path(inside.uri))
    with pytest.raises(InvalidRequest, match="link"):
        store.path(inside.uri)


def test_a_store_whose_root_is_a_link_still_serves(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "mounted").symlink_to(tmp_path / "real")
    store = ArtifactStore(tmp_path / "mounted", 1000)
    assert store.read_bytes(store.put_bytes("a.txt", b"ok").uri) == b"ok"


async def test_a_file_being_written_is_invisible_until_complete(store: ArtifactStore) -> None:
    seen: list[list[str]] = []

    async def chunks():  # type: ignore[no-untyped-def]
        for part in (b"first ", b"second"):
            seen.append([p.name for p in store.root.glob("*/*") if not p.name.startswith(".")])
            yield part

    artifact = await store.put_stream("speech.txt", chunks())
    assert seen == [[], []]  # no readable file while the chunks were arriving
    assert store.read_bytes(artifact.uri) == b"first second"
    assert [p.name for p in store.root.glob("*/*")] == ["speech.txt"]  # the staging file is gone


def test_a_write_that_fails_midway_leaves_nothing(store: ArtifactStore) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b"partial"
        raise ConnectionError("the client went away")

    with pytest.raises(ConnectionError):
        store.put_chunks("half.txt", chunks())
    assert list(store.root.iterdir()) == []


def test_a_file_staged_beside_new_path_appears_only_at_commit(store: ArtifactStore) -> None:
    target, uri = store.new_path("upload.txt")
    staging_path(target).write_bytes(b"uploaded")
    with pytest.raises(NotFound):
        store.path(uri)
    assert store.commit(uri).size_bytes == 8 and store.read_bytes(uri) == b"uploaded"

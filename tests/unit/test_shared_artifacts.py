"""The artifact store: unguessable names, size and type limits, URIs that cannot escape the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from hugginggpt.artifacts import ArtifactStore, is_artifact_uri, safe_name
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

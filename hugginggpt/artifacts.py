"""The artifact store: binary resources named by URI, never carried inside prompts or plans."""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from hugginggpt.domain import Artifact, Kind
from hugginggpt.errors import InvalidRequest, NotFound, ResourceExhausted

SCHEME = "artifact://"
_URI = re.compile(r"^artifact://([A-Za-z0-9_-]{16,64})/([A-Za-z0-9][A-Za-z0-9._ -]{0,127})$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")
ALLOWED_PREFIXES = ("image/", "audio/", "video/", "text/")
EXTRA_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".webp": "image/webp", ".mp4": "video/mp4"}


def kind_of(media_type: str) -> Kind:
    """The value kind a MIME type stands for."""
    head = media_type.split("/", 1)[0]
    return Kind(head) if head in {"image", "audio", "video"} else Kind.TEXT


def guess_media_type(name: str) -> str:
    """The MIME type a file name suggests; application/octet-stream when unknown."""
    suffix = Path(name).suffix.lower()
    return EXTRA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def safe_name(name: str) -> str:
    """A file name reduced to safe characters, without any directory part."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).lstrip(".-_ ")[:128]
    return base or "file"


def is_artifact_uri(value: str) -> bool:
    """Whether the value is a well-formed artifact URI."""
    return bool(_URI.match(value))


def new_target(folder_root: Path, name: str, media_type: str) -> tuple[Path, str, str]:
    """A fresh, unguessable local path for a new artifact, its URI and media type; refuses other types."""
    clean = safe_name(name)
    media_type = media_type or guess_media_type(clean)
    if not media_type.startswith(ALLOWED_PREFIXES):
        raise InvalidRequest(
            f"{clean!r} has type {media_type}; only image, audio, video and text files are accepted"
        )
    key = secrets.token_urlsafe(18)
    folder = folder_root / key
    folder.mkdir(parents=True)
    return folder / clean, f"{SCHEME}{key}/{clean}", media_type


def check_size(size: int, max_bytes: int, target: Path) -> int:
    """size, or ResourceExhausted after removing the partly written file (and its folder) when over max_bytes."""
    if size > max_bytes:
        target.unlink(missing_ok=True)
        os.rmdir(target.parent)
        raise ResourceExhausted(
            f"file is larger than the limit of {max_bytes} bytes; send a smaller file "
            "or raise HUGGINGGPT_ARTIFACT_MAX_BYTES"
        )
    return size


class ArtifactStore:
    """Artifacts in a local (or shared, ReadWriteMany) directory, under unguessable names."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def path(self, uri: str) -> Path:
        """The local file behind a URI; InvalidRequest for a malformed URI, NotFound when absent."""
        match = _URI.match(uri)
        if not match:
            raise InvalidRequest(f"{uri!r} is not an artifact URI (expected artifact://<id>/<name>)")
        path = self.root / match.group(1) / match.group(2)
        if not path.is_file():
            raise NotFound(f"artifact {uri} does not exist (it may have expired or never been uploaded)")
        return path

    def describe(self, uri: str) -> Artifact:
        """The artifact's metadata."""
        path = self.path(uri)
        media_type = guess_media_type(path.name)
        return Artifact(uri, path.name, media_type, path.stat().st_size, kind_of(media_type))

    def read_bytes(self, uri: str) -> bytes:
        """The artifact's content."""
        return self.path(uri).read_bytes()

    def put_bytes(self, name: str, data: bytes, media_type: str = "") -> Artifact:
        """Stores bytes under a new unguessable URI."""
        return self.put_chunks(name, [data], media_type)

    def put_chunks(self, name: str, chunks: Iterable[bytes], media_type: str = "") -> Artifact:
        """Stores chunks; ResourceExhausted (and nothing kept) when they exceed the size limit."""
        target, uri, media_type = self._new_target(name, media_type)
        size = 0
        with open(target, "wb") as out:
            for chunk in chunks:
                size = self._check_size(size + len(chunk), target)
                out.write(chunk)
        return Artifact(uri, target.name, media_type, size, kind_of(media_type))

    async def put_stream(self, name: str, chunks: AsyncIterator[bytes], media_type: str = "") -> Artifact:
        """Stores an async stream of chunks, enforcing the size limit as they arrive."""
        target, uri, media_type = self._new_target(name, media_type)
        size = 0
        with open(target, "wb") as out:
            async for chunk in chunks:
                size = self._check_size(size + len(chunk), target)
                out.write(chunk)
        return Artifact(uri, target.name, media_type, size, kind_of(media_type))

    def new_path(self, name: str) -> tuple[Path, str]:
        """A fresh file path and its URI, for a model that writes its output file itself."""
        target, uri, _ = self._new_target(name, "")
        return target, uri

    def _new_target(self, name: str, media_type: str) -> tuple[Path, str, str]:
        return new_target(self.root, name, media_type)

    def _check_size(self, size: int, target: Path) -> int:
        return check_size(size, self.max_bytes, target)

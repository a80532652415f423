"""The artifact store: binary resources named by URI, never carried inside prompts or plans."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import secrets
import stat
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import BinaryIO

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


def contained(root: Path, key: str, name: str, uri: str) -> Path:
    """root/key/name when it is a regular file that is no link and resolves inside root; else refused."""
    path = root / key / name
    real_root = os.path.realpath(root)
    if os.path.realpath(path) != os.path.join(real_root, key, name) or path.is_symlink():
        raise InvalidRequest(f"artifact {uri} is a link or resolves outside the artifact store; refused")
    try:
        info = path.stat()
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        raise NotFound(f"artifact {uri} does not exist (it may have expired or never been uploaded)")
    if info.st_nlink > 1:  # the store never links files; a hard link may reach a file outside it
        raise InvalidRequest(f"artifact {uri} is a link or resolves outside the artifact store; refused")
    return path


def staging_path(target: Path) -> Path:
    """Where a file is written before it is renamed into place (a dot name no URI can address)."""
    return target.with_name(f".{target.name}.part")


class StagedFile:
    """Writes a file under its staging name and renames it into place only when complete and within
    max_bytes: a reader never sees a partial file, and nothing is left behind on a failure."""

    def __init__(self, target: Path, max_bytes: int) -> None:
        self.target = target
        self.max_bytes = max_bytes
        self.size = 0
        self._staged = staging_path(target)
        self._out: BinaryIO | None = None

    def __enter__(self) -> StagedFile:
        self._out = open(self._staged, "xb")  # exclusive: never follows a link planted at that name
        return self

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise ResourceExhausted(
                f"file is larger than the limit of {self.max_bytes} bytes; send a smaller file "
                "or raise HUGGINGGPT_ARTIFACT_MAX_BYTES"
            )
        assert self._out is not None
        self._out.write(chunk)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        assert self._out is not None
        self._out.close()
        if kind is None:
            os.replace(self._staged, self.target)
            return
        self._staged.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.rmdir(self.target.parent)


class ArtifactStore:
    """Artifacts in a local (or shared, ReadWriteMany) directory, under unguessable names."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def path(self, uri: str) -> Path:
        """The local file behind a URI; InvalidRequest for a malformed URI or a file that is a link or
        resolves outside the store's root, NotFound when absent."""
        match = _URI.match(uri)
        if not match:
            raise InvalidRequest(f"{uri!r} is not an artifact URI (expected artifact://<id>/<name>)")
        return contained(self.root, match.group(1), match.group(2), uri)

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
        """Stores chunks atomically; ResourceExhausted (and nothing kept) when they exceed the size limit."""
        target, uri, media_type = self._new_target(name, media_type)
        with StagedFile(target, self.max_bytes) as out:
            for chunk in chunks:
                out.write(chunk)
        return Artifact(uri, target.name, media_type, out.size, kind_of(media_type))

    async def put_stream(self, name: str, chunks: AsyncIterator[bytes], media_type: str = "") -> Artifact:
        """Stores an async stream of chunks atomically, enforcing the size limit as they arrive."""
        target, uri, media_type = self._new_target(name, media_type)
        with StagedFile(target, self.max_bytes) as out:
            async for chunk in chunks:
                out.write(chunk)
        return Artifact(uri, target.name, media_type, out.size, kind_of(media_type))

    def new_path(self, name: str) -> tuple[Path, str]:
        """A fresh file path and its URI, for a writer that handles the file itself; the URI is handed out
        only once the file is complete (write to staging_path(path) and rename for atomicity)."""
        target, uri, _ = self._new_target(name, "")
        return target, uri

    def commit(self, uri: str) -> Artifact:
        """Makes a file written at new_path() final: its staging file (when one was used) renamed into
        place; ResourceExhausted (and the file removed) when too large."""
        match = _URI.match(uri)
        if not match:
            raise InvalidRequest(f"{uri!r} is not an artifact URI (expected artifact://<id>/<name>)")
        final = self.root / match.group(1) / match.group(2)
        staged = staging_path(final)
        if staged.is_file() and not staged.is_symlink():
            os.replace(staged, final)
        self._check_size(self.path(uri).stat().st_size, final)
        return self.describe(uri)

    def remove_unreferenced(self, keep: set[str], before: float) -> int:
        """Deletes files last written before `before` whose URI is not in keep (and then-empty folders);
        the number deleted. Staging files left by a crash go too; links and other odd entries are left."""
        removed = 0
        for folder in self.root.iterdir():
            if folder.is_symlink() or not folder.is_dir():
                continue
            for entry in folder.iterdir():
                info = entry.lstat()
                uri = f"{SCHEME}{folder.name}/{entry.name}"
                if stat.S_ISREG(info.st_mode) and info.st_mtime < before and uri not in keep:
                    entry.unlink(missing_ok=True)
                    removed += 1
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        return removed

    def _new_target(self, name: str, media_type: str) -> tuple[Path, str, str]:
        return new_target(self.root, name, media_type)

    def _check_size(self, size: int, target: Path) -> int:
        return check_size(size, self.max_bytes, target)

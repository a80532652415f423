"""Streamed artifact upload and download through the shared ArtifactStore, with size and type limits."""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import AsyncIterator
from pathlib import Path

from gateway import metrics
from hugginggpt.artifacts import ALLOWED_PREFIXES, ArtifactStore, guess_media_type, safe_name
from hugginggpt.domain import Artifact
from hugginggpt.errors import InvalidRequest, ResourceExhausted

CHUNK_BYTES = 64 * 1024


def _name_for(name: str, media_type: str) -> str:
    """The stored name: its extension must say its type, because the store reads the type from the name."""
    clean = safe_name(name)
    media_type = (media_type or guess_media_type(clean)).lower()
    if not media_type.startswith(ALLOWED_PREFIXES):
        raise InvalidRequest(
            f"{clean!r} has type {media_type}; only image, audio, video and text files are accepted"
        )
    if guess_media_type(clean).split("/")[0] != media_type.split("/")[0]:
        extension = mimetypes.guess_extension(media_type)
        if not extension:
            raise InvalidRequest(f"media type {media_type} is not one the gateway recognises")
        clean = f"{clean}{extension}"
    return clean


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    try:
        os.rmdir(path.parent)
    except OSError:
        pass


async def receive(store: ArtifactStore, name: str, media_type: str, chunks: AsyncIterator[bytes]) -> Artifact:
    """Stores an upload; nothing is kept when it is empty, too large, of a refused type or interrupted."""
    if not name.strip():
        raise InvalidRequest("the upload's metadata needs a file name, for example 'invoice.png'")
    target, uri = store.new_path(_name_for(name, media_type))
    size = 0
    try:
        with open(target, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > store.max_bytes:
                    raise ResourceExhausted(
                        f"file is larger than the limit of {store.max_bytes} bytes; send a smaller file "
                        "or raise HUGGINGGPT_ARTIFACT_MAX_BYTES"
                    )
                out.write(chunk)
        if size == 0:
            raise InvalidRequest(f"{name!r} is empty; upload a file with content")
    except BaseException:
        _discard(target)
        raise
    metrics.ARTIFACT_BYTES.labels("upload").inc(size)
    # The object store's copy is what other pods read; a local store only checks the file.
    return await asyncio.to_thread(store.commit, uri)


async def send(store: ArtifactStore, uri: str) -> AsyncIterator[Artifact | bytes]:
    """The artifact's description, then its content in chunks."""
    artifact = store.describe(uri)
    yield artifact
    with open(store.path(uri), "rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            metrics.ARTIFACT_BYTES.labels("download").inc(len(chunk))
            yield chunk

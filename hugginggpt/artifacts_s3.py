"""The artifact store factory every service uses, and the store on an S3-compatible object store."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from hugginggpt.artifacts import (
    _URI,
    ALLOWED_PREFIXES,
    ArtifactStore,
    check_size,
    guess_media_type,
    kind_of,
    new_target,
)
from hugginggpt.domain import Artifact
from hugginggpt.errors import InvalidRequest, NotFound, Unavailable
from hugginggpt.settings import SettingsError, env_int, env_str

if TYPE_CHECKING:  # minio is imported only where an object store is configured (not in the mediapipe venv)
    from minio import Minio

MISSING = {"NoSuchKey", "NoSuchObject", "NotFound"}


class S3ArtifactStore(ArtifactStore):
    """Artifacts as objects `<prefix>/<token>/<name>` in a bucket; files are cached locally for models.

    A subclass so that every service types its store as ArtifactStore; it overrides every public method.
    """

    def __init__(self, client: Minio, bucket: str, prefix: str, cache_dir: Path, max_bytes: int) -> None:
        self.root = cache_dir
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.cache_dir = cache_dir
        self.max_bytes = max_bytes
        cache_dir.mkdir(parents=True, exist_ok=True)

    def path(self, uri: str) -> Path:
        """The local copy of the artifact, downloaded on first use."""
        token, name = self._parse(uri)
        local = self.cache_dir / token / name
        if not local.is_file():
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(f".{name}.{secrets.token_hex(4)}.part")
            self._call(uri, self.client.fget_object, self.bucket, self._key(token, name), str(partial))
            partial.replace(local)
        return local

    def describe(self, uri: str) -> Artifact:
        """The artifact's metadata, from the object store (no download)."""
        token, name = self._parse(uri)
        stat = self._call(uri, self.client.stat_object, self.bucket, self._key(token, name))
        media_type = stat.content_type or guess_media_type(name)
        if not media_type.startswith(ALLOWED_PREFIXES):
            media_type = guess_media_type(name)
        return Artifact(uri, name, media_type, int(stat.size or 0), kind_of(media_type))

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
        self._upload(uri, target, media_type)
        return Artifact(uri, target.name, media_type, size, kind_of(media_type))

    async def put_stream(self, name: str, chunks: AsyncIterator[bytes], media_type: str = "") -> Artifact:
        """Stores an async stream of chunks, enforcing the size limit as they arrive."""
        target, uri, media_type = self._new_target(name, media_type)
        size = 0
        with open(target, "wb") as out:
            async for chunk in chunks:
                size = self._check_size(size + len(chunk), target)
                out.write(chunk)
        await asyncio.to_thread(self._upload, uri, target, media_type)
        return Artifact(uri, target.name, media_type, size, kind_of(media_type))

    def new_path(self, name: str) -> tuple[Path, str]:
        """A fresh local path and its URI; call commit(uri) once the file is written."""
        target, uri, _ = self._new_target(name, "")
        return target, uri

    def commit(self, uri: str) -> Artifact:
        """Uploads a file written at new_path(); ResourceExhausted (and the file removed) when too large."""
        token, name = self._parse(uri)
        local = self.cache_dir / token / name
        if not local.is_file():
            raise NotFound(f"nothing was written for {uri}; write the file returned by new_path() first")
        size = self._check_size(local.stat().st_size, local)
        media_type = guess_media_type(name)
        self._upload(uri, local, media_type)
        return Artifact(uri, name, media_type, size, kind_of(media_type))

    def _upload(self, uri: str, local: Path, media_type: str) -> None:
        token, name = self._parse(uri)
        self._call(uri, self.client.fput_object, self.bucket, self._key(token, name), str(local),
                   content_type=media_type)

    def _new_target(self, name: str, media_type: str) -> tuple[Path, str, str]:
        return new_target(self.cache_dir, name, media_type)

    def _check_size(self, size: int, target: Path) -> int:
        return check_size(size, self.max_bytes, target)

    def _key(self, token: str, name: str) -> str:
        return f"{self.prefix}/{token}/{name}" if self.prefix else f"{token}/{name}"

    @staticmethod
    def _parse(uri: str) -> tuple[str, str]:
        match = _URI.match(uri)
        if not match:
            raise InvalidRequest(f"{uri!r} is not an artifact URI (expected artifact://<id>/<name>)")
        return match.group(1), match.group(2)

    def _call(self, uri: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        from minio.error import S3Error
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, **kwargs)
        except S3Error as exc:
            if exc.code in MISSING:
                raise NotFound(f"artifact {uri} does not exist (it may have expired or never been uploaded)") from None
            raise Unavailable(f"object store error for {uri} in bucket {self.bucket!r}: {exc.code}") from exc
        except (OSError, HTTPError) as exc:  # connection refused, DNS, TLS, retries exhausted
            raise Unavailable(f"object store unreachable for {uri}: {exc}; check HUGGINGGPT_S3_ENDPOINT_URL") from exc


def s3_client(endpoint_url: str, region: str) -> Minio:
    """A client for an S3-compatible endpoint; keys from AWS_* or MINIO_* variables, else the IAM role."""
    import urllib3
    from minio import Minio
    from minio.credentials import ChainedProvider, EnvAWSProvider, EnvMinioProvider, IamAwsProvider

    parsed = urlparse(endpoint_url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise SettingsError(f"HUGGINGGPT_S3_ENDPOINT_URL must be http(s)://host[:port], got {endpoint_url!r}")
    provider = ChainedProvider([EnvAWSProvider(), EnvMinioProvider(), IamAwsProvider()])
    # Few retries: an unreachable store should surface as UNAVAILABLE within the caller's deadline.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=60), retries=urllib3.Retry(total=2, backoff_factor=0.2)
    )
    return Minio(parsed.netloc, secure=parsed.scheme == "https", region=region or None, credentials=provider,
                 http_client=http)


def open_artifact_store(
    env: Mapping[str, str] | None = None, *, root: Path | None = None, max_bytes: int | None = None
) -> ArtifactStore:
    """The store HUGGINGGPT_ARTIFACT_STORE names (s3://bucket/prefix), else the local/shared directory.

    Every service builds its store here. root and max_bytes, when given (from a service's own settings),
    take the place of HUGGINGGPT_ARTIFACT_DIR and HUGGINGGPT_ARTIFACT_MAX_BYTES.
    """
    source = os.environ if env is None else env
    if max_bytes is None:
        max_bytes = env_int("HUGGINGGPT_ARTIFACT_MAX_BYTES", 50 * 1024 * 1024, source)
    local = root or Path(env_str("HUGGINGGPT_ARTIFACT_DIR", ".hugginggpt/artifacts", source))
    store = source.get("HUGGINGGPT_ARTIFACT_STORE", "")
    if not store:
        return ArtifactStore(local, max_bytes)
    parsed = urlparse(store)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SettingsError(f"HUGGINGGPT_ARTIFACT_STORE must be s3://bucket[/prefix], got {store!r}")
    client = s3_client(
        env_str("HUGGINGGPT_S3_ENDPOINT_URL", "https://s3.amazonaws.com", source),
        env_str("HUGGINGGPT_S3_REGION", "us-east-1", source),
    )
    # With an object store, HUGGINGGPT_ARTIFACT_DIR is only the local cache of downloaded/written files.
    return S3ArtifactStore(client, parsed.netloc, parsed.path, local, max_bytes)

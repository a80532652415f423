"""UploadArtifact / DownloadArtifact: streamed round trip, size and type limits, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from gateway_fakes import Stack

from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import gateway_pb2, gateway_pb2_grpc
from hugginggpt_cli.gateway_client import GatewayClient

LIMIT = 200_000


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    s = await Stack(tmp_path, artifact_max_bytes=LIMIT).start()
    yield s
    await s.stop()


def stored_files(stack: Stack) -> list[Path]:
    return [p for p in stack.config.artifact_dir.rglob("*") if p.is_file()]


async def raw_upload(stack: Stack, messages: list[gateway_pb2.UploadArtifactRequest]) -> grpc.StatusCode:
    async def stream() -> AsyncIterator[gateway_pb2.UploadArtifactRequest]:
        for m in messages:
            yield m

    async with grpc.aio.insecure_channel(stack.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await gateway_pb2_grpc.GatewayServiceStub(channel).UploadArtifact(stream(), timeout=10)
    return caught.value.code()


async def test_round_trip_in_chunks(stack: Stack, tmp_path: Path) -> None:
    source = tmp_path / "speech.wav"
    source.write_bytes(bytes(range(256)) * 600)  # 153,600 bytes: three chunks each way
    async with GatewayClient(stack.address) as client:
        artifact = await client.upload(source)
        assert artifact.uri.startswith("artifact://") and artifact.name == "speech.wav"
        assert artifact.size_bytes == 153_600 and artifact.kind == pb.VALUE_KIND_AUDIO
        first = await client.download(artifact.uri, tmp_path / "out")
        second = await client.download(artifact.uri, tmp_path / "out")
    assert first.read_bytes() == source.read_bytes()
    assert (first.name, second.name) == ("speech.wav", "speech-1.wav")  # never overwrites


async def test_type_from_media_type_when_the_name_has_none(stack: Stack) -> None:
    artifact_name = await _upload_ok(stack, "notes", "text/plain", b"hello")
    assert artifact_name.endswith(".txt")


async def _upload_ok(stack: Stack, name: str, media_type: str, data: bytes) -> str:
    async def stream() -> AsyncIterator[gateway_pb2.UploadArtifactRequest]:
        yield gateway_pb2.UploadArtifactRequest(metadata=gateway_pb2.UploadMetadata(name=name, media_type=media_type))
        yield gateway_pb2.UploadArtifactRequest(chunk=data)

    async with grpc.aio.insecure_channel(stack.address) as channel:
        response = await gateway_pb2_grpc.GatewayServiceStub(channel).UploadArtifact(stream(), timeout=10)
    return str(response.artifact.name)


async def test_too_large_is_refused_and_nothing_kept(stack: Stack, tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (LIMIT + 1))
    async with GatewayClient(stack.address) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.upload(big)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "HUGGINGGPT_ARTIFACT_MAX_BYTES" in (caught.value.details() or "")
    assert stored_files(stack) == []


def meta(name: str, media_type: str = "") -> gateway_pb2.UploadArtifactRequest:
    return gateway_pb2.UploadArtifactRequest(metadata=gateway_pb2.UploadMetadata(name=name, media_type=media_type))


def chunk(data: bytes) -> gateway_pb2.UploadArtifactRequest:
    return gateway_pb2.UploadArtifactRequest(chunk=data)


@pytest.mark.parametrize(("messages", "code"), [
    ([meta("tool.exe"), chunk(b"MZ")], grpc.StatusCode.INVALID_ARGUMENT),
    ([meta("archive.zip"), chunk(b"PK")], grpc.StatusCode.INVALID_ARGUMENT),
    ([meta("x.png", "application/pdf"), chunk(b"%PDF")], grpc.StatusCode.INVALID_ARGUMENT),
    ([meta("empty.png")], grpc.StatusCode.INVALID_ARGUMENT),
    ([meta("empty.png"), chunk(b"")], grpc.StatusCode.INVALID_ARGUMENT),
    ([meta("")], grpc.StatusCode.INVALID_ARGUMENT),
    ([chunk(b"no metadata first")], grpc.StatusCode.INVALID_ARGUMENT),
    ([], grpc.StatusCode.INVALID_ARGUMENT),
    ([meta("a.png"), chunk(b"1"), meta("b.png")], grpc.StatusCode.INVALID_ARGUMENT),
])
async def test_bad_uploads(stack: Stack, messages: list[gateway_pb2.UploadArtifactRequest],
                           code: grpc.StatusCode) -> None:
    assert await raw_upload(stack, messages) == code
    assert stored_files(stack) == []


@pytest.mark.parametrize(("uri", "code"), [
    ("", grpc.StatusCode.INVALID_ARGUMENT),
    ("/etc/passwd", grpc.StatusCode.INVALID_ARGUMENT),
    ("artifact://../../etc/passwd", grpc.StatusCode.INVALID_ARGUMENT),
    ("artifact://AAAAAAAAAAAAAAAAAAAAAAAA/missing.png", grpc.StatusCode.NOT_FOUND),
])
async def test_bad_downloads(stack: Stack, tmp_path: Path, uri: str, code: grpc.StatusCode) -> None:
    async with GatewayClient(stack.address) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.download(uri, tmp_path)
    assert caught.value.code() == code

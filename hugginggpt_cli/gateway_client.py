"""A small async client of the gateway: upload files, chat and iterate events, download generated files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from types import TracebackType

import grpc

from hugginggpt.artifacts import guess_media_type, safe_name
from hugginggpt.rpc import MAX_MESSAGE_BYTES, RECONNECT_OPTIONS
from hugginggpt.v1 import common_pb2, gateway_pb2, gateway_pb2_grpc

CHUNK_BYTES = 64 * 1024


class GatewayClient:
    """One channel to the gateway. Use as `async with GatewayClient("127.0.0.1:50050") as client:`.

    Args:
        address: host:port of the gateway.
        token: the bearer token, when the gateway checks one (HUGGINGGPT_GATEWAY_AUTH_TOKEN).
        root_certificates: PEM of the CA (or self-signed certificate) to trust; switches TLS on.
        tls: use TLS with the system's trusted CAs when no root_certificates are given.
        server_name: the name to check the certificate against, when it differs from the address.
    """

    def __init__(self, address: str, *, token: str = "", root_certificates: bytes | None = None,
                 tls: bool = False, server_name: str = "") -> None:
        options: list[tuple[str, str | int]] = [
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            *RECONNECT_OPTIONS,  # a restarted gateway is used again within a second
        ]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if root_certificates is not None or tls:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.aio.secure_channel(address, credentials, options=options)
        else:
            self._channel = grpc.aio.insecure_channel(address, options=options)
        self._stub = gateway_pb2_grpc.GatewayServiceStub(self._channel)
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def upload(self, path: Path | str, media_type: str = "",
                     timeout: float = 300.0) -> common_pb2.Artifact:
        """Uploads a local file; returns the artifact to attach to chat()."""
        path = Path(path)

        async def messages() -> AsyncIterator[gateway_pb2.UploadArtifactRequest]:
            yield gateway_pb2.UploadArtifactRequest(metadata=gateway_pb2.UploadMetadata(
                name=path.name, media_type=media_type or guess_media_type(path.name)))
            with open(path, "rb") as source:
                while chunk := source.read(CHUNK_BYTES):
                    yield gateway_pb2.UploadArtifactRequest(chunk=chunk)

        response = await self._stub.UploadArtifact(messages(), timeout=timeout, metadata=self._metadata)
        return response.artifact

    async def chat(self, content: str, *, files: Iterable[Path | str] = (),
                   attachments: Sequence[common_pb2.Artifact] = (), session_id: str = "",
                   mode: int = common_pb2.INFERENCE_MODE_UNSPECIFIED,
                   timeout: float | None = None) -> AsyncIterator[gateway_pb2.ChatResponse]:
        """Uploads `files`, then yields every event of the turn; the last one carries the summary.

        Cancelling the iteration (or leaving the loop early) cancels the request in every stage.
        """
        uploaded = [*attachments, *[await self.upload(f) for f in files]]
        request = gateway_pb2.ChatRequest(session_id=session_id, content=content, attachments=uploaded,
                                          mode=mode)  # type: ignore[arg-type]
        call = self._stub.Chat(request, timeout=timeout, metadata=self._metadata)
        try:
            async for event in call:
                yield event
        finally:
            call.cancel()

    async def download(self, uri: str, folder: Path | str, timeout: float = 300.0) -> Path:
        """Writes one artifact into the folder under its own name (never overwriting); returns the path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        call = self._stub.DownloadArtifact(gateway_pb2.DownloadArtifactRequest(uri=uri), timeout=timeout,
                                           metadata=self._metadata)
        target: Path | None = None
        out = None
        try:
            async for message in call:
                if message.WhichOneof("item") == "artifact":
                    target = _free_path(folder, safe_name(message.artifact.name))
                    out = open(target, "wb")  # noqa: SIM115 - closed in finally
                elif out is not None:
                    out.write(message.chunk)
        finally:
            if out is not None:
                out.close()
        if target is None:
            raise RuntimeError(f"the gateway sent no description of {uri}")
        return target

    async def download_all(self, summary: gateway_pb2.ChatSummary, folder: Path | str) -> list[Path]:
        """Downloads every file a turn generated."""
        return [await self.download(a.uri, folder) for a in summary.artifacts]

    async def plan(self, content: str, *, session_id: str = "", timeout: float | None = None,
                   attachments: Sequence[common_pb2.Artifact] = ()) -> gateway_pb2.PlanTasksResponse:
        """The plan for a request, without running it."""
        request = gateway_pb2.PlanTasksRequest(session_id=session_id, content=content,
                                               attachments=attachments)
        return await self._stub.PlanTasks(request, timeout=timeout, metadata=self._metadata)

    async def run_tasks(self, content: str, *, session_id: str = "", timeout: float | None = None,
                        attachments: Sequence[common_pb2.Artifact] = (),
                        mode: int = common_pb2.INFERENCE_MODE_UNSPECIFIED) -> gateway_pb2.RunTasksResponse:
        """Plans, selects and runs a request; returns every task's final event, without an answer."""
        request = gateway_pb2.RunTasksRequest(session_id=session_id, content=content, attachments=attachments,
                                              mode=mode)  # type: ignore[arg-type]
        return await self._stub.RunTasks(request, timeout=timeout, metadata=self._metadata)

    async def session(self, session_id: str, timeout: float = 30.0) -> list[common_pb2.Message]:
        """The messages of a conversation, oldest first."""
        response = await self._stub.GetSession(gateway_pb2.GetSessionRequest(session_id=session_id),
                                               timeout=timeout, metadata=self._metadata)
        return list(response.messages)


def _free_path(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target

"""The edge's one channel to the gateway: upload, chat, download and health, each call with a deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hugginggpt.rpc import MAX_MESSAGE_BYTES
from hugginggpt.v1 import common_pb2, gateway_pb2, gateway_pb2_grpc

CHUNK_BYTES = 64 * 1024
UPLOAD_TIMEOUT_SECONDS = 120.0


class GatewayLink:
    """The gateway's stub, created once; every call carries the configured bearer token."""

    def __init__(self, address: str, token: str = "") -> None:
        self._channel = grpc.aio.insecure_channel(address, options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ])
        self._stub = gateway_pb2_grpc.GatewayServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()

    async def upload(self, name: str, media_type: str, data: bytes) -> common_pb2.Artifact:
        """Stores bytes in the gateway's artifact store; returns the artifact to attach."""

        async def messages() -> AsyncIterator[gateway_pb2.UploadArtifactRequest]:
            yield gateway_pb2.UploadArtifactRequest(
                metadata=gateway_pb2.UploadMetadata(name=name, media_type=media_type))
            for start in range(0, len(data), CHUNK_BYTES):
                yield gateway_pb2.UploadArtifactRequest(chunk=data[start:start + CHUNK_BYTES])

        response = await self._stub.UploadArtifact(messages(), timeout=UPLOAD_TIMEOUT_SECONDS,
                                                   metadata=self._metadata)
        return response.artifact

    async def chat(self, request: gateway_pb2.ChatRequest, timeout: float
                   ) -> AsyncIterator[gateway_pb2.ChatResponse]:
        """Every event of the turn; closing the iterator early cancels the turn in every stage."""
        call = self._stub.Chat(request, timeout=timeout, metadata=self._metadata)
        try:
            async for event in call:
                yield event
        finally:
            call.cancel()  # a no-op when finished

    async def download(self, uri: str) -> AsyncIterator[common_pb2.Artifact | bytes]:
        """The artifact's description, then its content in chunks."""
        call = self._stub.DownloadArtifact(gateway_pb2.DownloadArtifactRequest(uri=uri),
                                           timeout=UPLOAD_TIMEOUT_SECONDS, metadata=self._metadata)
        try:
            async for message in call:
                yield message.artifact if message.WhichOneof("item") == "artifact" else message.chunk
        finally:
            call.cancel()

    async def session(self, session_id: str) -> list[common_pb2.Message]:
        """The messages of a conversation, oldest first."""
        response = await self._stub.GetSession(gateway_pb2.GetSessionRequest(session_id=session_id),
                                               timeout=UPLOAD_TIMEOUT_SECONDS, metadata=self._metadata)
        return list(response.messages)

    async def unary(self, method: str, request: Any, timeout: float) -> Any:
        """Any unary or client-streaming RPC of GatewayService, by its name, as the gateway answers it."""
        return await getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)

    async def stream(self, method: str, request: Any, timeout: float) -> AsyncIterator[Any]:
        """Any server-streaming RPC of GatewayService, by its name; closing the iterator cancels the call."""
        call = getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)
        try:
            async for item in call:
                yield item
        finally:
            call.cancel()

    async def serving(self) -> bool:
        """Whether the gateway answers its health check with SERVING."""
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2.0)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def close(self) -> None:
        await self._channel.close()

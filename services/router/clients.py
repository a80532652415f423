"""Outbound gRPC stubs to model replicas: one channel per address, errors translated for the router core."""

from __future__ import annotations

import grpc

from hugginggpt.errors import DeadlineExceeded
from hugginggpt.rpc import MAX_MESSAGE_BYTES, outbound_metadata
from hugginggpt.v1 import replica_pb2, replica_pb2_grpc, router_pb2
from services.router.routing import ReplicaBusy, ReplicaGone

# No transparent retries: a replica that fails is the router's to reroute, not the channel's to hammer.
_OPTIONS = [
    ("grpc.enable_retries", 0),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


class ReplicaClients:
    """Stubs for the replicas the router talks to, created on first use and closed on shutdown."""

    def __init__(self) -> None:
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self, address: str) -> replica_pb2_grpc.ModelReplicaServiceStub:
        channel = self._channels.get(address)
        if channel is None:
            channel = grpc.aio.insecure_channel(address, options=_OPTIONS)
            self._channels[address] = channel
        return replica_pb2_grpc.ModelReplicaServiceStub(channel)

    async def predict(
        self, address: str, inference: router_pb2.Inference, timeout: float
    ) -> router_pb2.InferenceOutcome:
        try:
            response = await self._stub(address).Predict(
                replica_pb2.PredictRequest(inference=inference), timeout=timeout, metadata=outbound_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            raise _translate(exc, address) from exc
        return response.outcome

    async def list_models(self, address: str, timeout: float) -> replica_pb2.ListModelsResponse:
        try:
            return await self._stub(address).ListModels(
                replica_pb2.ListModelsRequest(), timeout=timeout, metadata=outbound_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            raise ReplicaGone(f"{address}: {exc.code().name}: {exc.details()}") from exc

    async def forget(self, address: str) -> None:
        channel = self._channels.pop(address, None)
        if channel is not None:
            await channel.close()

    async def close(self) -> None:
        for address in list(self._channels):
            await self.forget(address)


def _translate(exc: grpc.aio.AioRpcError, address: str) -> Exception:
    code = exc.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        # The connection broke or the replica cancelled the call while stopping: it did not finish there.
        # (The router's own caller cancelling arrives as asyncio.CancelledError, never as this.)
        return ReplicaGone(f"{address}: {code.name}: {exc.details()}")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ReplicaBusy(f"{address}: {exc.details()}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceeded(f"the replica at {address} did not answer before the deadline")
    return exc  # the replica chose a status and a message (bad input, model failure): pass both on

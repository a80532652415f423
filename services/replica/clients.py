"""Registration with the model router: register, heartbeat as asked, re-register when forgotten."""

from __future__ import annotations

import asyncio
import logging

import grpc

from hugginggpt.convert import model_status_to_pb
from hugginggpt.rpc import channel, outbound_metadata
from hugginggpt.v1 import router_pb2, router_pb2_grpc
from services.replica.replica import Replica

logger = logging.getLogger(__name__)
CALL_TIMEOUT_S = 5.0
RETRY_S = 2.0


class RouterRegistration:
    """Keeps this replica registered with the router for as long as it runs; never fails the replica."""

    def __init__(self, address: str, replica: Replica, advertise: str) -> None:
        self.address = address
        self.replica = replica
        self.advertise = advertise
        self._channel = channel(address)
        self._stub = router_pb2_grpc.ModelRouterServiceStub(self._channel)
        self._task: asyncio.Task[None] | None = None
        self.registrations = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
        await self._channel.close()

    def _info(self) -> router_pb2.ReplicaInfo:
        return router_pb2.ReplicaInfo(
            replica_id=self.replica.replica_id,
            address=self.advertise,
            models=[model_status_to_pb(s) for s in self.replica.models()],
            max_in_flight=self.replica.max_in_flight,
        )

    async def _loop(self) -> None:
        interval = 0.0
        while True:
            try:
                if interval <= 0:
                    interval = await self._register()
                elif not await self._heartbeat():
                    logger.info("router %s forgot this replica; registering again", self.address)
                    interval = 0.0
                    continue
            except grpc.aio.AioRpcError as exc:
                logger.warning("router %s refused or unreachable (%s: %s); retrying", self.address,
                               exc.code().name, exc.details())
                interval = 0.0
                await asyncio.sleep(RETRY_S)
                continue
            await asyncio.sleep(interval)

    async def _register(self) -> float:
        reply = await self._stub.RegisterReplica(
            router_pb2.RegisterReplicaRequest(replica=self._info()), timeout=CALL_TIMEOUT_S,
            metadata=outbound_metadata(),
        )
        self.registrations += 1
        logger.info("registered with router %s as %s", self.address, self.replica.replica_id)
        return reply.heartbeat_interval_seconds or 5.0

    async def _heartbeat(self) -> bool:
        models = [model_status_to_pb(s) for s in self.replica.models()]
        reply = await self._stub.Heartbeat(
            router_pb2.HeartbeatRequest(replica_id=self.replica.replica_id, models=models),
            timeout=CALL_TIMEOUT_S, metadata=outbound_metadata(),
        )
        return bool(reply.known)

"""ModelRouterService: translates protos to the routing core and back."""

from __future__ import annotations

import grpc

from hugginggpt.convert import model_status_from_pb
from hugginggpt.errors import InvalidRequest
from hugginggpt.rpc import remaining
from hugginggpt.v1 import router_pb2, router_pb2_grpc
from services.router.registry import RegisteredReplica
from services.router.routing import Router


class RouterServicer(router_pb2_grpc.ModelRouterServiceServicer):
    """The router's RPCs."""

    def __init__(self, router: Router, heartbeat_seconds: float, default_max_in_flight: int,
                 timeout_seconds: float) -> None:
        self._router = router
        self._heartbeat = heartbeat_seconds
        self._max_in_flight = default_max_in_flight
        self._timeout = timeout_seconds

    async def Infer(self, request: router_pb2.InferRequest, context: grpc.aio.ServicerContext
                    ) -> router_pb2.InferResponse:
        inference = request.inference
        if not inference.model_id:
            raise InvalidRequest("inference.model_id is required (for example 'openai/whisper-tiny.en')")
        if not inference.task_type:
            raise InvalidRequest(f"inference.task_type is required for model {inference.model_id}")
        outcome = await self._router.infer(inference, remaining(context, self._timeout))
        return router_pb2.InferResponse(outcome=outcome)

    async def RegisterReplica(
        self, request: router_pb2.RegisterReplicaRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.RegisterReplicaResponse:
        info = request.replica
        if not info.replica_id or not info.address:
            raise InvalidRequest("replica.replica_id and replica.address (host:port) are both required")
        if ":" not in info.address:
            raise InvalidRequest(f"replica.address {info.address!r} must be host:port")
        if info.max_in_flight < 0:
            raise InvalidRequest("replica.max_in_flight must not be negative (0 means the router's default)")
        await self._router.register(info.replica_id, info.address, [model_status_from_pb(m) for m in info.models],
                                    info.max_in_flight or self._max_in_flight)
        return router_pb2.RegisterReplicaResponse(heartbeat_interval_seconds=self._heartbeat)

    async def Heartbeat(self, request: router_pb2.HeartbeatRequest, context: grpc.aio.ServicerContext
                        ) -> router_pb2.HeartbeatResponse:
        if not request.replica_id:
            raise InvalidRequest("replica_id is required")
        known = await self._router.heartbeat(request.replica_id, [model_status_from_pb(m) for m in request.models])
        return router_pb2.HeartbeatResponse(known=known)

    async def ListDeployments(self, request: router_pb2.ListDeploymentsRequest,
                              context: grpc.aio.ServicerContext) -> router_pb2.ListDeploymentsResponse:
        registry = self._router.registry
        states = [
            router_pb2.ReplicaState(replica=_info(r), in_flight=r.in_flight,
                                    seconds_since_heartbeat=registry.seconds_since(r))
            for r in registry.replicas()
        ]
        hosted = self._router.hosted_available
        return router_pb2.ListDeploymentsResponse(replicas=states, hosted_available=hosted)


def _info(replica: RegisteredReplica) -> router_pb2.ReplicaInfo:
    models = [
        router_pb2.ModelStatus(model_id=m.model_id, task_types=list(m.task_types), loaded=m.loaded,
                               memory_bytes=m.memory_bytes, error=m.error)
        for m in replica.models.values()
    ]
    return router_pb2.ReplicaInfo(replica_id=replica.replica_id, address=replica.address, models=models,
                                  max_in_flight=replica.max_in_flight)

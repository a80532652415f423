"""The ModelReplicaService servicer: proto <-> domain translation only."""

from __future__ import annotations

import grpc

from hugginggpt.convert import model_status_to_pb
from hugginggpt.rpc import remaining
from hugginggpt.v1 import common_pb2, replica_pb2, replica_pb2_grpc, router_pb2
from services.replica.convert import request_from_pb, result_to_pb
from services.replica.replica import Replica


class ReplicaServicer(replica_pb2_grpc.ModelReplicaServiceServicer):
    def __init__(self, replica: Replica, default_timeout: float = 300.0) -> None:
        self.replica = replica
        self.default_timeout = default_timeout

    async def Predict(
        self,
        request: replica_pb2.PredictRequest,  # noqa: N802
        context: grpc.aio.ServicerContext,
    ) -> replica_pb2.PredictResponse:
        domain = request_from_pb(request.inference, remaining(context, self.default_timeout))
        result, seconds = await self.replica.predict(domain)
        return replica_pb2.PredictResponse(
            outcome=router_pb2.InferenceOutcome(
                result=result_to_pb(result),
                replica_id=self.replica.replica_id,
                site=common_pb2.INFERENCE_SITE_LOCAL,
                inference_seconds=seconds,
            )
        )

    async def LoadModel(
        self,
        request: replica_pb2.LoadModelRequest,  # noqa: N802
        context: grpc.aio.ServicerContext,
    ) -> replica_pb2.LoadModelResponse:
        state, seconds = await self.replica.load(request.model_id)
        return replica_pb2.LoadModelResponse(model=model_status_to_pb(state), load_seconds=seconds)

    async def UnloadModel(
        self,
        request: replica_pb2.UnloadModelRequest,  # noqa: N802
        context: grpc.aio.ServicerContext,
    ) -> replica_pb2.UnloadModelResponse:
        return replica_pb2.UnloadModelResponse(was_loaded=await self.replica.unload(request.model_id))

    async def ListModels(
        self,
        request: replica_pb2.ListModelsRequest,  # noqa: N802
        context: grpc.aio.ServicerContext,
    ) -> replica_pb2.ListModelsResponse:
        return replica_pb2.ListModelsResponse(
            replica_id=self.replica.replica_id, models=[model_status_to_pb(s) for s in self.replica.models()]
        )

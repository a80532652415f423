"""Outbound stub: runs each inference through the model router (ModelRouterService.Infer)."""

from __future__ import annotations

import grpc
from google.protobuf.struct_pb2 import Struct

from hugginggpt.convert import mode_to_pb
from hugginggpt.errors import DeadlineExceeded, HuggingGPTError, Unavailable
from hugginggpt.rpc import channel, outbound_metadata
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import router_pb2, router_pb2_grpc
from services.executor.runtypes import InferenceCall, InferenceReply


class InferenceFailed(HuggingGPTError):
    """The router or the model refused or failed one inference (the scheduler tries the next model)."""


def inference_to_pb(call: InferenceCall) -> router_pb2.Inference:
    """The call as the router's Inference message."""
    inputs = [
        router_pb2.InferenceInput(name=i.name, artifact_uri=i.artifact_uri) if i.artifact_uri is not None
        else router_pb2.InferenceInput(name=i.name, text=i.text or "")
        for i in call.inputs
    ]
    parameters = Struct()
    parameters.update(dict(call.parameters))
    return router_pb2.Inference(model_id=call.model_id, task_type=call.task_type, inputs=inputs,
                                parameters=parameters, mode=mode_to_pb(call.mode))


class RouterClient:
    """The model router behind one channel, created once and closed on shutdown."""

    def __init__(self, address: str) -> None:
        self._channel = channel(address)
        self._stub = router_pb2_grpc.ModelRouterServiceStub(self._channel)

    async def infer(self, call: InferenceCall, timeout: float) -> InferenceReply:
        """Runs one inference; raises InferenceFailed, Unavailable or DeadlineExceeded."""
        request = router_pb2.InferRequest(inference=inference_to_pb(call))
        try:
            response = await self._stub.Infer(request, timeout=timeout, metadata=outbound_metadata())
        except grpc.aio.AioRpcError as exc:
            detail = exc.details() or exc.code().name
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise DeadlineExceeded(f"no answer within {timeout:.1f} s") from None
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                raise Unavailable(f"router unavailable: {detail}") from None
            raise InferenceFailed(f"{exc.code().name.lower()}: {detail}") from None
        outcome = response.outcome
        return InferenceReply(outcome.result, outcome.site == pb.INFERENCE_SITE_HOSTED,
                              outcome.inference_seconds)

    async def close(self) -> None:
        await self._channel.close()

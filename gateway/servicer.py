"""GatewayService: translates the public RPCs to the conversation logic and back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from gateway import uploads
from gateway.clients import StageClients
from gateway.conversation import Conversations
from hugginggpt.artifacts import ArtifactStore
from hugginggpt.convert import artifact_to_pb
from hugginggpt.errors import InvalidRequest
from hugginggpt.logs import request_id_var
from hugginggpt.rpc import remaining
from hugginggpt.v1 import common_pb2, gateway_pb2, gateway_pb2_grpc, planner_pb2


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """The public entry point."""

    def __init__(self, conversations: Conversations, stages: StageClients, artifacts: ArtifactStore) -> None:
        self._conversations = conversations
        self._stages = stages
        self._artifacts = artifacts

    async def Chat(  # noqa: N802
        self, request: gateway_pb2.ChatRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[gateway_pb2.ChatResponse]:
        async for event in self._conversations.chat(request, request_id_var.get(), context.time_remaining()):
            yield event

    async def PlanTasks(  # noqa: N802
        self, request: gateway_pb2.PlanTasksRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.PlanTasksResponse:
        messages = await self._conversations.plan_messages(request)
        timeout = remaining(context, self._conversations.limits.request_timeout_seconds)
        availability = self._conversations.pipeline.availability
        offered = await availability.get(common_pb2.INFERENCE_MODE_UNSPECIFIED) if availability else []
        plan = await self._stages.plan(planner_pb2.PlanRequest(messages=messages, availability=offered), timeout)
        return gateway_pb2.PlanTasksResponse(plan=plan)

    async def RunTasks(  # noqa: N802
        self, request: gateway_pb2.RunTasksRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.RunTasksResponse:
        return await self._conversations.run_tasks(request, context.time_remaining())

    async def UploadArtifact(  # noqa: N802
        self,
        request_iterator: AsyncIterator[gateway_pb2.UploadArtifactRequest],
        context: grpc.aio.ServicerContext,
    ) -> gateway_pb2.UploadArtifactResponse:
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("item") != "metadata":
            raise InvalidRequest("an upload starts with a metadata message naming the file")

        async def chunks() -> AsyncIterator[bytes]:
            async for message in request_iterator:
                if message.WhichOneof("item") != "chunk":
                    raise InvalidRequest("only the first upload message may carry metadata")
                yield message.chunk

        metadata = first.metadata
        artifact = await uploads.receive(self._artifacts, metadata.name, metadata.media_type, chunks())
        return gateway_pb2.UploadArtifactResponse(artifact=artifact_to_pb(artifact))

    async def DownloadArtifact(  # noqa: N802
        self, request: gateway_pb2.DownloadArtifactRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[gateway_pb2.DownloadArtifactResponse]:
        async for item in uploads.send(self._artifacts, request.uri):
            if isinstance(item, bytes):
                yield gateway_pb2.DownloadArtifactResponse(chunk=item)
            else:
                yield gateway_pb2.DownloadArtifactResponse(artifact=artifact_to_pb(item))

    async def GetSession(  # noqa: N802
        self, request: gateway_pb2.GetSessionRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.GetSessionResponse:
        return gateway_pb2.GetSessionResponse(messages=await self._conversations.messages(request.session_id))

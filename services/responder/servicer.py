"""ResponderService: proto <-> domain translation around the Responder core."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf import json_format

from hugginggpt.convert import (
    artifact_from_pb,
    declined_from_pb,
    plan_from_pb,
    task_state_from_pb,
    turn_from_pb,
    usage_to_pb,
)
from hugginggpt.domain import FINAL_STATES
from hugginggpt.rpc import remaining
from hugginggpt.v1 import common_pb2, executor_pb2, responder_pb2, responder_pb2_grpc
from services.responder.outcomes import Result, TaskOutcome
from services.responder.responding import Done, Responder


def result_from_pb(m: common_pb2.TaskResult) -> Result:
    return Result(
        text=m.text,
        labels=tuple((x.label, x.score) for x in m.labels),
        detections=tuple((d.label, d.score) for d in m.detections),
        entities=tuple((e.text, e.label) for e in m.entities),
        keypoints=len(m.keypoints),
        artifacts=tuple(artifact_from_pb(a) for a in m.artifacts),
        vector_size=m.vector_length or len(m.vector),
        score=m.score if m.HasField("score") else None,
        extra=json_format.MessageToDict(m.extra) if m.extra.fields else {},
    )


def outcome_from_pb(e: executor_pb2.TaskEvent) -> TaskOutcome:
    final = task_state_from_pb(e.state)
    state = str(final) if final in FINAL_STATES else "unfinished"  # a task that started and never ended
    reason = e.reason or ("it never reported an end" if state == "unfinished" else "")
    return TaskOutcome(e.task_id, e.task_type, state, e.model_id, reason, result_from_pb(e.result))


class ResponderServicer(responder_pb2_grpc.ResponderServiceServicer):
    def __init__(self, responder: Responder) -> None:
        self._responder = responder

    async def Respond(self, request: responder_pb2.RespondRequest,
                      context: grpc.aio.ServicerContext) -> AsyncIterator[responder_pb2.RespondResponse]:
        turns = [turn_from_pb(m) for m in request.messages]
        outcomes = [outcome_from_pb(e) for e in request.results]
        async for item in self._responder.respond(turns, plan_from_pb(request.plan), outcomes,
                                                  timeout=remaining(context, 120.0),
                                                  declined=[declined_from_pb(d) for d in request.declined]):
            if isinstance(item, Done):
                done = responder_pb2.RespondDone(answer=item.answer, usage=usage_to_pb(item.usage))
                yield responder_pb2.RespondResponse(done=done)
            else:
                yield responder_pb2.RespondResponse(delta=item)

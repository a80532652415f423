"""SelectorService: proto <-> domain translation around the Selector core."""

from __future__ import annotations

import grpc

from hugginggpt.convert import availability_to_pb, candidate_to_pb, mode_from_pb, task_from_pb, usage_to_pb
from hugginggpt.domain import Candidate, InferenceMode
from hugginggpt.errors import InvalidRequest
from hugginggpt.rpc import remaining
from hugginggpt.v1 import common_pb2, selector_pb2, selector_pb2_grpc
from services.selector.selection import Selector, TaskSelection


def requested_mode(value: int) -> InferenceMode | None:
    """The request's mode (None: the policy's default); InvalidRequest for a value the contract does not define."""
    if value not in common_pb2.InferenceMode.values():
        raise InvalidRequest(f"unknown inference mode {value}; use LOCAL, HUGGINGFACE or HYBRID")
    return mode_from_pb(value)


def selection_to_pb(s: TaskSelection) -> common_pb2.Selection:
    """A task without a runnable model has no `chosen`; its reason says why (the executor fails just it)."""
    message = common_pb2.Selection(task_id=s.task_id, reason=s.reason,
                                   fallbacks=[candidate_to_pb(c) for c in s.fallbacks])
    if s.chosen is not None:
        message.chosen.CopyFrom(candidate_to_pb(s.chosen))
    return message


class SelectorServicer(selector_pb2_grpc.SelectorServiceServicer):
    def __init__(self, selector: Selector) -> None:
        self._selector = selector

    async def Select(self, request: selector_pb2.SelectRequest,
                     context: grpc.aio.ServicerContext) -> selector_pb2.SelectResponse:
        outcome = await self._selector.select(
            request.user_request, [task_from_pb(t) for t in request.tasks], requested_mode(request.mode),
            defer_undecided=request.defer_undecided, timeout=remaining(context, 60.0),
            ranking_only=request.ranking_only,
        )
        return selector_pb2.SelectResponse(selections=[selection_to_pb(s) for s in outcome.selections],
                                           usage=usage_to_pb(outcome.usage))

    async def ListCandidates(self, request: selector_pb2.ListCandidatesRequest,
                             context: grpc.aio.ServicerContext) -> selector_pb2.ListCandidatesResponse:
        if not request.task_type:
            raise InvalidRequest("task_type is required, for example 'image-classification'")
        ranked = await self._selector.candidates(request.task_type, request.user_request,
                                                 requested_mode(request.mode))
        return selector_pb2.ListCandidatesResponse(candidates=[
            candidate_to_pb(Candidate(r.model.id, r.local, r.score, r.model.description)) for r in ranked
        ])

    async def ListTaskTypes(self, request: selector_pb2.ListTaskTypesRequest,
                            context: grpc.aio.ServicerContext) -> selector_pb2.ListTaskTypesResponse:
        found = await self._selector.availability(requested_mode(request.mode))
        return selector_pb2.ListTaskTypesResponse(task_types=[availability_to_pb(a) for a in found])

"""SelectorService: proto <-> domain translation around the Selector core."""

from __future__ import annotations

import grpc

from hugginggpt.convert import candidate_to_pb, task_from_pb, usage_to_pb
from hugginggpt.errors import InvalidRequest
from hugginggpt.rpc import remaining
from hugginggpt.v1 import common_pb2, selector_pb2, selector_pb2_grpc
from services.selector.selection import Mode, Selector, TaskSelection

_MODES: dict[int, Mode | None] = {
    common_pb2.INFERENCE_MODE_UNSPECIFIED: None,
    common_pb2.INFERENCE_MODE_LOCAL: Mode.LOCAL,
    common_pb2.INFERENCE_MODE_HUGGINGFACE: Mode.HUGGINGFACE,
    common_pb2.INFERENCE_MODE_HYBRID: Mode.HYBRID,
}


def mode_from_pb(value: int) -> Mode | None:
    if value not in _MODES:
        raise InvalidRequest(f"unknown inference mode {value}; use LOCAL, HUGGINGFACE or HYBRID")
    return _MODES[value]


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
            request.user_request, [task_from_pb(t) for t in request.tasks], mode_from_pb(request.mode),
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
                                                 mode_from_pb(request.mode))
        return selector_pb2.ListCandidatesResponse(candidates=[
            common_pb2.ModelCandidate(
                model_id=r.model.id, score=r.score, description=r.model.description,
                site=common_pb2.INFERENCE_SITE_LOCAL if r.local else common_pb2.INFERENCE_SITE_HOSTED)
            for r in ranked
        ])

"""PlannerService over gRPC: translates protos to the planning core's types and back, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from hugginggpt.convert import (
    availability_from_pb,
    declined_to_pb,
    plan_to_pb,
    task_to_pb,
    task_type_from_pb,
    turn_from_pb,
    usage_to_pb,
)
from hugginggpt.rpc import remaining
from hugginggpt.v1 import planner_pb2, planner_pb2_grpc
from services.planner.planning import Planner, PlanOutcome


def response_of(outcome: PlanOutcome) -> planner_pb2.PlanResponse:
    return planner_pb2.PlanResponse(plan=plan_to_pb(outcome.plan), repair_rounds=outcome.repair_rounds,
                                    usage=usage_to_pb(outcome.usage),
                                    declined=[declined_to_pb(d) for d in outcome.declined])


class PlannerServicer(planner_pb2_grpc.PlannerServiceServicer):
    """Plan and StreamPlan, delegating to the Planner."""

    def __init__(self, planner: Planner, default_timeout: float) -> None:
        self._planner = planner
        self._timeout = default_timeout

    async def Plan(self, request: planner_pb2.PlanRequest, context: grpc.aio.ServicerContext
                   ) -> planner_pb2.PlanResponse:
        outcome = await self._planner.plan(
            [turn_from_pb(m) for m in request.messages], [task_type_from_pb(t) for t in request.task_types],
            timeout=remaining(context, self._timeout), max_llm_calls=request.max_llm_calls,
            availability=[availability_from_pb(a) for a in request.availability],
        )
        return response_of(outcome)

    async def StreamPlan(self, request: planner_pb2.StreamPlanRequest, context: grpc.aio.ServicerContext
                         ) -> AsyncIterator[planner_pb2.StreamPlanResponse]:
        events = self._planner.stream_plan(
            [turn_from_pb(m) for m in request.messages], [task_type_from_pb(t) for t in request.task_types],
            timeout=remaining(context, self._timeout), max_llm_calls=request.max_llm_calls,
            availability=[availability_from_pb(a) for a in request.availability],
        )
        async for event in events:
            if isinstance(event, PlanOutcome):
                yield planner_pb2.StreamPlanResponse(plan=response_of(event))
            else:
                yield planner_pb2.StreamPlanResponse(task=task_to_pb(event))

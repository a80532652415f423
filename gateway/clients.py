"""Outbound stubs to the four stages, created once; each call carries the request id and a deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from gateway.config import GatewayConfig
from hugginggpt.errors import Unavailable
from hugginggpt.rpc import channel, outbound_metadata
from hugginggpt.v1 import (
    executor_pb2,
    executor_pb2_grpc,
    planner_pb2,
    planner_pb2_grpc,
    responder_pb2,
    responder_pb2_grpc,
    selector_pb2,
    selector_pb2_grpc,
)


def _named(exc: grpc.aio.AioRpcError, stage: str, address: str) -> Exception:
    """Says which stage could not be reached; every other status passes on as the stage wrote it."""
    if exc.code() == grpc.StatusCode.UNAVAILABLE:
        return Unavailable(f"the {stage} at {address} is unavailable: {exc.details()}")
    return exc


async def _stream(call: Any, stage: str, address: str) -> AsyncIterator[Any]:
    try:
        async for item in call:
            yield item
    except grpc.aio.AioRpcError as exc:
        raise _named(exc, stage, address) from None
    finally:
        call.cancel()  # a no-op when finished; otherwise the stage stops working for nobody


async def _unary(call: Any, stage: str, address: str) -> Any:
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise _named(exc, stage, address) from None


class StageClients:
    """The stages the gateway chains. Each method takes the seconds left of the request."""

    def __init__(self, config: GatewayConfig) -> None:
        self._addresses = {
            "planner": config.planner_address, "selector": config.selector_address,
            "executor": config.executor_address, "responder": config.responder_address,
        }
        self._channels = [
            channel(config.planner_address),
            channel(config.selector_address),
            channel(config.executor_address),
            channel(config.responder_address),
        ]
        planner, selector, executor, responder = self._channels
        self._planner = planner_pb2_grpc.PlannerServiceStub(planner)
        self._selector = selector_pb2_grpc.SelectorServiceStub(selector)
        self._executor = executor_pb2_grpc.ExecutorServiceStub(executor)
        self._responder = responder_pb2_grpc.ResponderServiceStub(responder)

    def stream_plan(
        self, request: planner_pb2.StreamPlanRequest, timeout: float
    ) -> AsyncIterator[planner_pb2.StreamPlanResponse]:
        call = self._planner.StreamPlan(request, timeout=timeout, metadata=outbound_metadata())
        return _stream(call, "planner", self._addresses["planner"])

    async def plan(self, request: planner_pb2.PlanRequest, timeout: float) -> planner_pb2.PlanResponse:
        call = self._planner.Plan(request, timeout=timeout, metadata=outbound_metadata())
        return await _unary(call, "planner", self._addresses["planner"])

    async def select(
        self, request: selector_pb2.SelectRequest, timeout: float
    ) -> selector_pb2.SelectResponse:
        call = self._selector.Select(request, timeout=timeout, metadata=outbound_metadata())
        return await _unary(call, "selector", self._addresses["selector"])

    async def list_task_types(
        self, request: selector_pb2.ListTaskTypesRequest, timeout: float
    ) -> selector_pb2.ListTaskTypesResponse:
        call = self._selector.ListTaskTypes(request, timeout=timeout, metadata=outbound_metadata())
        return await _unary(call, "selector", self._addresses["selector"])

    def execute_stream(
        self, requests: AsyncIterator[executor_pb2.ExecuteStreamRequest], timeout: float
    ) -> AsyncIterator[executor_pb2.ExecuteStreamResponse]:
        call = self._executor.ExecuteStream(requests, timeout=timeout, metadata=outbound_metadata())
        return _stream(call, "executor", self._addresses["executor"])

    def execute(
        self, request: executor_pb2.ExecuteRequest, timeout: float
    ) -> AsyncIterator[executor_pb2.ExecuteResponse]:
        call = self._executor.Execute(request, timeout=timeout, metadata=outbound_metadata())
        return _stream(call, "executor", self._addresses["executor"])

    def respond(
        self, request: responder_pb2.RespondRequest, timeout: float
    ) -> AsyncIterator[responder_pb2.RespondResponse]:
        call = self._responder.Respond(request, timeout=timeout, metadata=outbound_metadata())
        return _stream(call, "responder", self._addresses["responder"])

    async def close(self) -> None:
        for ch in self._channels:
            await ch.close()

"""ExecutorService: translates protos to the executor's domain and events back; no logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf.json_format import MessageToDict

from hugginggpt.auth import check_mode
from hugginggpt.convert import choice_from_pb, mode_from_pb, task_from_pb, task_state_to_pb
from hugginggpt.domain import InferenceMode
from hugginggpt.errors import InvalidRequest
from hugginggpt.rpc import remaining
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2 as epb
from hugginggpt.v1 import executor_pb2_grpc
from services.executor.config import ExecutorConfig
from services.executor.engine import Executor
from services.executor.runtypes import PlanEnd, RunOptions, ScheduledItem, TaskEvent
from services.executor.validation import normalise, pair


def event_to_pb(e: TaskEvent) -> epb.TaskEvent:
    """A domain event as the wire message."""
    site = pb.INFERENCE_SITE_HOSTED if e.hosted else pb.INFERENCE_SITE_LOCAL
    return epb.TaskEvent(
        task_id=e.task_id, task_type=e.task_type, state=task_state_to_pb(e.state), model_id=e.model_id,
        site=site if e.model_id else pb.INFERENCE_SITE_UNSPECIFIED, result=e.result, reason=e.reason,
        attempts=e.attempts, at_seconds=e.at_seconds, duration_seconds=e.duration_seconds,
        inference_seconds=e.inference_seconds)


def _parameters(task: pb.Task) -> dict:
    return MessageToDict(task.parameters) if task.HasField("parameters") else {}


class ExecutorServicer(executor_pb2_grpc.ExecutorServiceServicer):
    """The gRPC face of the Executor."""

    def __init__(self, executor: Executor, config: ExecutorConfig) -> None:
        self._executor = executor
        self._config = config

    def _options(self, mode: int, task_timeout: float, context: grpc.aio.ServicerContext) -> RunOptions:
        return RunOptions(mode=self._mode(mode),
                          task_timeout_seconds=task_timeout or self._config.task_timeout_seconds,
                          max_parallel=self._config.max_parallel,
                          budget_seconds=remaining(context, self._config.request_timeout_seconds))

    def _mode(self, value: int) -> InferenceMode:
        """The requested mode, refused up front when it asks for hosted inference a local deployment forbids."""
        mode = mode_from_pb(value) or self._config.mode
        check_mode(mode.value, self._config.mode.value)
        return mode

    async def Execute(self, request: epb.ExecuteRequest,  # noqa: N802 - gRPC method name
                      context: grpc.aio.ServicerContext) -> AsyncIterator[epb.ExecuteResponse]:
        tasks = [task_from_pb(t) for t in request.tasks]
        items = pair(tasks, [choice_from_pb(s) for s in request.selections],
                     {t.id: _parameters(t) for t in request.tasks})
        options = self._options(request.mode, request.task_timeout_seconds, context)
        async for event in self._executor.execute(items, options):
            yield epb.ExecuteResponse(event=event_to_pb(event))

    async def ExecuteStream(self, request_iterator: AsyncIterator[epb.ExecuteStreamRequest],  # noqa: N802
                            context: grpc.aio.ServicerContext) -> AsyncIterator[epb.ExecuteStreamResponse]:
        first = await anext(aiter(request_iterator), None)
        if first is None:
            raise InvalidRequest("the stream is empty; send ExecuteOptions, then tasks, then PlanComplete")
        opts = first.options if first.WhichOneof("item") == "options" else epb.ExecuteOptions()
        options = self._options(opts.mode, opts.task_timeout_seconds, context)
        items = _stream_items(first, request_iterator)
        async for event in self._executor.execute_stream(items, options):
            yield epb.ExecuteStreamResponse(event=event_to_pb(event))


async def _stream_items(
    first: epb.ExecuteStreamRequest, rest: AsyncIterator[epb.ExecuteStreamRequest]
) -> AsyncIterator[ScheduledItem | PlanEnd]:
    if first.WhichOneof("item") != "options":
        yield _item(first)
    async for message in rest:
        yield _item(message)


def _item(message: epb.ExecuteStreamRequest) -> ScheduledItem | PlanEnd:
    kind = message.WhichOneof("item")
    if kind == "complete":
        return PlanEnd(message.complete.task_count)
    if kind != "task":
        raise InvalidRequest("ExecuteOptions may only come in the first message")
    scheduled = message.task
    if not scheduled.HasField("selection") or (
            scheduled.selection.task_id and scheduled.selection.task_id != scheduled.task.id):
        raise InvalidRequest(f"task {scheduled.task.id} arrived without its own model selection")
    task = normalise(task_from_pb(scheduled.task))
    return ScheduledItem(task, choice_from_pb(scheduled.selection), _parameters(scheduled.task))

"""Fake planner, selector, executor and responder (real gRPC servers on port 0) and a gateway in front."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc

from gateway.config import GatewayConfig
from gateway.wiring import build_spec
from hugginggpt.rpc import REQUEST_ID_KEY
from hugginggpt.server import ServerSpec, build_server, set_serving
from hugginggpt.v1 import common_pb2 as pb
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

DECISIVE = {"automatic-speech-recognition", "image-to-text"}  # the fake selector decides these by ranking


def task(task_id: int, task_type: str, deps: tuple[int, ...] = (), text: str = "x") -> pb.Task:
    args = [pb.Argument(name="text", task_ref=deps[0])] if deps else [pb.Argument(name="text", literal=text)]
    return pb.Task(id=task_id, type=task_type, dependencies=list(deps), arguments=args)


def usage(calls: int) -> pb.LlmUsage:
    return pb.LlmUsage(calls=calls, prompt_tokens=100 * calls, completion_tokens=10 * calls,
                       seconds=0.01 * calls)


@dataclass
class Script:
    """What the fakes do; tests change it per case."""

    tasks: list[pb.Task] = field(default_factory=list)
    direct_answer: str = ""
    wait_for_execution: bool = False  # the planner holds its last task until the executor saw the first
    plan_error: tuple[grpc.StatusCode, str] | None = None
    select_error: tuple[grpc.StatusCode, str] | None = None
    hang_executor: bool = False
    hang_planner: bool = False
    hold_executor: asyncio.Event | None = None  # each started task waits for it before it succeeds
    hold_selector: asyncio.Event | None = None  # the first selector call waits for it before it answers
    make_artifact: Callable[[pb.Task], pb.Artifact | None] = lambda t: None
    answer_parts: tuple[str, ...] = ("The ", "answer.")
    task_types: list[pb.TaskTypeAvailability] = field(default_factory=list)  # what ListTaskTypes says
    task_types_error: tuple[grpc.StatusCode, str] | None = None
    declined: list[pb.DeclinedTask] = field(default_factory=list)  # the plan's declined types


class Record:
    """What the fakes saw."""

    def __init__(self) -> None:
        self.plan_requests: list[planner_pb2.StreamPlanRequest] = []
        self.unary_plan_requests: list[planner_pb2.PlanRequest] = []
        self.select_requests: list[selector_pb2.SelectRequest] = []
        self.task_type_requests: list[selector_pb2.ListTaskTypesRequest] = []
        self.execute_items: list[str] = []
        self.respond_requests: list[responder_pb2.RespondRequest] = []
        self.request_ids: dict[str, set[str]] = {}
        self.first_task_executed = asyncio.Event()
        self.plan_streamed = asyncio.Event()  # the planner sent its final plan
        self.executed_before_plan_done: bool | None = None
        self.cancelled: dict[str, asyncio.Event] = {n: asyncio.Event() for n in ("planner", "executor")}

    def saw(self, stage: str, context: grpc.aio.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata() or ())
        self.request_ids.setdefault(stage, set()).add(str(metadata.get(REQUEST_ID_KEY, "")))


class FakePlanner(planner_pb2_grpc.PlannerServiceServicer):
    def __init__(self, script: Script, record: Record) -> None:
        self.s, self.r = script, record

    def _plan(self) -> planner_pb2.PlanResponse:
        return planner_pb2.PlanResponse(plan=pb.Plan(tasks=self.s.tasks, direct_answer=self.s.direct_answer),
                                        usage=usage(1), declined=self.s.declined)

    async def Plan(self, request: Any, context: grpc.aio.ServicerContext) -> planner_pb2.PlanResponse:  # noqa: N802
        self.r.saw("planner", context)
        self.r.unary_plan_requests.append(request)
        return self._plan()

    async def StreamPlan(self, request: Any, context: grpc.aio.ServicerContext  # noqa: N802
                         ) -> AsyncIterator[planner_pb2.StreamPlanResponse]:
        self.r.saw("planner", context)
        self.r.plan_requests.append(request)
        if self.s.plan_error:
            await context.abort(*self.s.plan_error)
        if self.s.hang_planner:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                self.r.cancelled["planner"].set()
                raise
        for i, t in enumerate(self.s.tasks):
            if self.s.wait_for_execution and i == len(self.s.tasks) - 1:
                try:
                    await asyncio.wait_for(self.r.first_task_executed.wait(), 5)
                    self.r.executed_before_plan_done = True
                except TimeoutError:
                    self.r.executed_before_plan_done = False
            yield planner_pb2.StreamPlanResponse(task=t)
        yield planner_pb2.StreamPlanResponse(plan=self._plan())
        self.r.plan_streamed.set()


def _choose(t: pb.Task, reason: str) -> pb.Selection:
    return pb.Selection(task_id=t.id, chosen=pb.ModelCandidate(model_id=f"model-for-{t.type}",
                                                              site=pb.INFERENCE_SITE_LOCAL), reason=reason)


class FakeSelector(selector_pb2_grpc.SelectorServiceServicer):
    def __init__(self, script: Script, record: Record) -> None:
        self.s, self.r = script, record

    async def Select(self, request: Any, context: grpc.aio.ServicerContext) -> selector_pb2.SelectResponse:  # noqa: N802
        self.r.saw("selector", context)
        self.r.select_requests.append(request)
        if self.s.select_error:
            await context.abort(*self.s.select_error)
        if self.s.hold_selector is not None and len(self.r.select_requests) == 1:
            await asyncio.wait_for(self.s.hold_selector.wait(), 5)
        decisive = [t for t in request.tasks if t.type in DECISIVE]
        if request.defer_undecided:
            return selector_pb2.SelectResponse(selections=[_choose(t, "only candidate") for t in decisive])
        undecided = len(decisive) < len(request.tasks)
        return selector_pb2.SelectResponse(selections=[_choose(t, "llm") for t in request.tasks],
                                           usage=usage(1 if undecided else 0))


    async def ListTaskTypes(self, request: Any, context: grpc.aio.ServicerContext  # noqa: N802
                            ) -> selector_pb2.ListTaskTypesResponse:
        self.r.task_type_requests.append(request)
        if self.s.task_types_error:
            await context.abort(*self.s.task_types_error)
        return selector_pb2.ListTaskTypesResponse(task_types=self.s.task_types)


class FakeExecutor(executor_pb2_grpc.ExecutorServiceServicer):
    def __init__(self, script: Script, record: Record) -> None:
        self.s, self.r = script, record

    def _events(self, t: pb.Task, selection: pb.Selection) -> list[executor_pb2.TaskEvent]:
        artifact = self.s.make_artifact(t)
        result = pb.TaskResult(text=f"result of {t.id}", artifacts=[artifact] if artifact else [])
        model = selection.chosen.model_id
        return [
            executor_pb2.TaskEvent(task_id=t.id, task_type=t.type, state=executor_pb2.TASK_STATE_STARTED,
                                   model_id=model),
            executor_pb2.TaskEvent(task_id=t.id, task_type=t.type, state=executor_pb2.TASK_STATE_SUCCEEDED,
                                   model_id=model, result=result, attempts=1, duration_seconds=0.02,
                                   inference_seconds=0.01),
        ]

    async def ExecuteStream(self, request_iterator: Any, context: grpc.aio.ServicerContext  # noqa: N802
                            ) -> AsyncIterator[executor_pb2.ExecuteStreamResponse]:
        self.r.saw("executor", context)
        async for item in request_iterator:
            kind = item.WhichOneof("item")
            self.r.execute_items.append(kind if kind != "task" else f"task:{item.task.task.id}")
            if kind == "task":
                self.r.first_task_executed.set()
                for event in self._events(item.task.task, item.task.selection):
                    yield executor_pb2.ExecuteStreamResponse(event=event)
                    if self.s.hold_executor is not None and event.state == executor_pb2.TASK_STATE_STARTED:
                        await self.s.hold_executor.wait()
                    if self.s.hang_executor:
                        try:
                            await asyncio.sleep(60)
                        except asyncio.CancelledError:
                            self.r.cancelled["executor"].set()
                            raise

    async def Execute(self, request: Any, context: grpc.aio.ServicerContext  # noqa: N802
                      ) -> AsyncIterator[executor_pb2.ExecuteResponse]:
        self.r.saw("executor", context)
        chosen = {s.task_id: s for s in request.selections}
        for t in request.tasks:
            self.r.execute_items.append(f"task:{t.id}")
            for event in self._events(t, chosen[t.id]):
                yield executor_pb2.ExecuteResponse(event=event)


class FakeResponder(responder_pb2_grpc.ResponderServiceServicer):
    def __init__(self, script: Script, record: Record) -> None:
        self.s, self.r = script, record

    async def Respond(self, request: Any, context: grpc.aio.ServicerContext  # noqa: N802
                      ) -> AsyncIterator[responder_pb2.RespondResponse]:
        self.r.saw("responder", context)
        self.r.respond_requests.append(request)
        for part in self.s.answer_parts:
            yield responder_pb2.RespondResponse(delta=part)
        yield responder_pb2.RespondResponse(done=responder_pb2.RespondDone(
            answer="".join(self.s.answer_parts), usage=usage(1)))


async def serve(name: str, register: Callable[[grpc.aio.Server], None]) -> tuple[grpc.aio.Server, int]:
    spec = ServerSpec(listen="127.0.0.1:0", service_names=[name], register=register)
    server, health, port = build_server(spec)
    await server.start()
    await set_serving(health, [name], True)
    return server, port


class Stack:
    """Four fake stages and a real gateway in front of them; restart_gateway() keeps the stores."""

    def __init__(self, tmp: Path, **config: Any) -> None:
        self.script, self.record = Script(), Record()
        defaults: dict[str, Any] = {"artifact_dir": tmp / "artifacts",
                                    "session_store": f"sqlite:///{tmp / 'sessions.db'}"}
        self.config = GatewayConfig(**{**defaults, **config})
        self.servers: list[grpc.aio.Server] = []
        self.gateway: grpc.aio.Server | None = None
        self.gateway_port = 0
        self._stop_hooks: list[Any] = []

    async def start(self, tracer: Any = None) -> Stack:
        fakes = [
            ("planner", planner_pb2_grpc.add_PlannerServiceServicer_to_server, FakePlanner),
            ("selector", selector_pb2_grpc.add_SelectorServiceServicer_to_server, FakeSelector),
            ("executor", executor_pb2_grpc.add_ExecutorServiceServicer_to_server, FakeExecutor),
            ("responder", responder_pb2_grpc.add_ResponderServiceServicer_to_server, FakeResponder),
        ]
        addresses = {}
        for name, add, cls in fakes:
            servicer = cls(self.script, self.record)
            server, port = await serve(name, lambda s, add=add, servicer=servicer: add(servicer, s))
            self.servers.append(server)
            addresses[f"{name}_address"] = f"127.0.0.1:{port}"
        self.config = replace(self.config, **addresses)
        self.tracer = tracer
        await self.start_gateway()
        return self

    async def start_gateway(self) -> None:
        spec = build_spec(replace(self.config, listen="127.0.0.1:0"), self.tracer)
        self.gateway, health, self.gateway_port = build_server(spec)
        self._stop_hooks = list(spec.on_stop)
        await self.gateway.start()
        await set_serving(health, spec.service_names, True)

    async def stop_gateway(self) -> None:
        if self.gateway is not None:
            await self.gateway.stop(None)
            for hook in self._stop_hooks:
                await hook()
            self.gateway = None

    async def restart_gateway(self) -> None:
        await self.stop_gateway()
        await self.start_gateway()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gateway_port}"

    async def stop(self) -> None:
        await self.stop_gateway()
        for server in self.servers:
            await server.stop(None)

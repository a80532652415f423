"""PlannerService on a real in-process gRPC server (port 0) with a scripted LLM: Plan, StreamPlan, bad input."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator

import grpc
import pytest

from hugginggpt.convert import task_type_to_pb
from hugginggpt.llm import LlmClient, LlmSettings
from hugginggpt.server import ServerSpec, build_server
from hugginggpt.tasktypes import load_task_types
from hugginggpt.v1 import common_pb2, planner_pb2, planner_pb2_grpc
from services.planner.demos import Demo, DemoBank
from services.planner.planning import Planner
from services.planner.prompting import Budget, PromptBuilder
from services.planner.servicer import PlannerServicer
from services.planner.templates import load_demo_lines
from services.planner.tokens import EstimatingCounter
from tests.doubles.embedder import HashEmbedder
from tests.doubles.llm import ScriptedLlm
from tests.unit.test_planner_availability import NO_SPEECH, guided

GOOD = {"tasks": [
    {"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "invoice_text.png"}},
    {"task": "question-answering", "id": 1, "dep": [0], "args": {"text": ["<GENERATED>-0", "What is the total?"]}},
    {"task": "automatic-speech-recognition", "id": 2, "dep": [], "args": {"audio": "speech_fox.wav"}},
    {"task": "token-classification", "id": 3, "dep": [2], "args": {"text": "<GENERATED>-2"}},
]}
FILES = [
    common_pb2.Artifact(uri="artifact://a/invoice_text.png", name="invoice_text.png", kind=common_pb2.VALUE_KIND_IMAGE),
    common_pb2.Artifact(uri="artifact://b/speech_fox.wav", name="speech_fox.wav", kind=common_pb2.VALUE_KIND_AUDIO),
]
REQUEST = "What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list the entities."


def planner_with(llm: object) -> Planner:
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    return Planner(llm, PromptBuilder(bank, EstimatingCounter(), Budget()), load_task_types())  # type: ignore[arg-type]


@pytest.fixture
async def serve() -> AsyncIterator:
    servers = []

    async def start(planner: Planner) -> planner_pb2_grpc.PlannerServiceStub:
        spec = ServerSpec(
            listen="127.0.0.1:0",
            service_names=[planner_pb2.DESCRIPTOR.services_by_name["PlannerService"].full_name],
            register=lambda s: planner_pb2_grpc.add_PlannerServiceServicer_to_server(PlannerServicer(planner, 30), s),
        )
        server, _, port = build_server(spec)
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        servers.append((server, channel))
        return planner_pb2_grpc.PlannerServiceStub(channel)

    yield start
    for server, channel in servers:
        await channel.close()
        await server.stop(None)


def user(text: str, files: list[common_pb2.Artifact] | None = None) -> common_pb2.Message:
    return common_pb2.Message(role=common_pb2.ROLE_USER, content=text, attachments=files or [])


async def test_plan_returns_the_demo_plan_with_artifact_uris(serve) -> None:
    stub = await serve(planner_with(ScriptedLlm([json.dumps(GOOD)])))
    response = await stub.Plan(planner_pb2.PlanRequest(messages=[user(REQUEST, FILES)]), timeout=10)
    assert [t.type for t in response.plan.tasks] == [
        "image-to-text", "question-answering", "automatic-speech-recognition", "token-classification"]
    assert response.plan.tasks[0].arguments[0].resource_uri == "artifact://a/invoice_text.png"
    assert response.plan.tasks[1].arguments[0].task_ref == 0
    assert response.usage.calls == 1


async def test_stream_plan_sends_tasks_before_the_final_plan(serve) -> None:
    stub = await serve(planner_with(ScriptedLlm([json.dumps(GOOD)], delay=0.01)))
    kinds = []
    async for event in stub.StreamPlan(planner_pb2.StreamPlanRequest(messages=[user(REQUEST, FILES)]), timeout=10):
        kinds.append(event.WhichOneof("event"))
    assert kinds == ["task", "task", "task", "task", "plan"]


async def test_files_from_earlier_turns_stay_referable(serve) -> None:
    task = {"task": "automatic-speech-recognition", "id": 0, "dep": [], "args": {"audio": "speech_fox.wav"}}
    answer = {"tasks": [task]}
    stub = await serve(planner_with(ScriptedLlm([json.dumps(answer)])))
    earlier = common_pb2.Message(role=common_pb2.ROLE_ASSISTANT, content="Here is the audio.", attachments=FILES[1:])
    messages = [user("Say hello"), earlier, user("Now transcribe the audio you generated")]
    response = await stub.Plan(planner_pb2.PlanRequest(messages=messages), timeout=10)
    assert response.plan.tasks[0].arguments[0].resource_uri == "artifact://b/speech_fox.wav"


async def test_offered_task_types_restrict_the_plan(serve) -> None:
    llm = ScriptedLlm([json.dumps(GOOD), json.dumps(GOOD), json.dumps(GOOD)])
    stub = await serve(planner_with(llm))
    types = load_task_types()
    request = planner_pb2.PlanRequest(messages=[user(REQUEST, FILES)],
                                      task_types=[task_type_to_pb(types["summarization"])])
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Plan(request, timeout=10)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "unknown task type 'image-to-text'" in (info.value.details() or "")


@pytest.mark.parametrize("messages", [[], [user("")], [user("   ")]])
async def test_empty_request_is_invalid_argument(serve, messages) -> None:
    stub = await serve(planner_with(ScriptedLlm([])))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Plan(planner_pb2.PlanRequest(messages=messages), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({"tasks": [{"task": "nonsense-task", "id": 0, "dep": [], "args": {"text": "x"}}]}, "unknown task type"),
        ({"tasks": [{"task": "summarization", "id": 0, "dep": [3], "args": {"text": "<GENERATED>-3"}}]},
         "not in the plan"),
        ({"tasks": [{"task": "summarization", "id": 0, "dep": [1], "args": {"text": "<GENERATED>-1"}},
                    {"task": "summarization", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}}]}, "cycle"),
        ({"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "/etc/passwd"}}]}, "outside"),
        ({"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "../secrets"}}]}, "outside"),
        ({"tasks": [{"task": "image-to-text", "id": 0, "dep": [], "args": {"image": "https://evil.example/a.png"}}]},
         "outside"),
    ],
)
async def test_plans_that_stay_invalid_are_rejected_clearly(serve, bad, words) -> None:
    stub = await serve(planner_with(ScriptedLlm([json.dumps(bad)] * 3)))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Plan(planner_pb2.PlanRequest(messages=[user(REQUEST, FILES)]), timeout=10)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert words in (info.value.details() or "")


async def test_llm_down_is_unavailable_within_the_deadline(serve) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = LlmSettings(f"http://127.0.0.1:{port}/v1", "m", "k", "auto", 30.0, 8192)
    stub = await serve(planner_with(LlmClient(settings)))
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Plan(planner_pb2.PlanRequest(messages=[user(REQUEST, FILES)]), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "cannot be reached" in (info.value.details() or "")
    assert time.monotonic() - started < 5


async def test_stream_plan_declines_a_type_the_availability_marks_not_runnable(serve) -> None:
    stub = await serve(guided([])[0])
    availability = [common_pb2.TaskTypeAvailability(task_type=a.task_type, runnable=a.runnable, reason=a.reason)
                    for a in NO_SPEECH]
    request = planner_pb2.StreamPlanRequest(messages=[common_pb2.Message(
        role=common_pb2.ROLE_USER, content="Read this text aloud")], availability=availability)
    events = [e async for e in stub.StreamPlan(request)]
    final = events[-1].plan
    assert [(d.task_type, d.request_text) for d in final.declined] == [("text-to-speech", "Read this text aloud")]
    assert final.plan.direct_answer.startswith("I can't speak text aloud in this deployment: only hosted models")
    assert not final.plan.tasks

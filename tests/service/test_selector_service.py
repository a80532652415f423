"""SelectorService over a real in-process gRPC server: a selection, a missing model, bad input."""

from __future__ import annotations

import json

import grpc
import pytest

from hugginggpt.server import ServerSpec, build_server
from hugginggpt.v1 import common_pb2, selector_pb2, selector_pb2_grpc
from services.selector.servicer import SelectorServicer
from tests.doubles.llm import ScriptedLlm
from tests.unit.test_selector_core import _selector


@pytest.fixture
async def stub():
    answer = json.dumps({"task_1": {"model": "b/cls-two", "reason": "ok"}})
    servicer = SelectorServicer(_selector(ScriptedLlm([answer])))
    spec = ServerSpec("127.0.0.1:0", ["hugginggpt.v1.SelectorService"],
                      lambda s: selector_pb2_grpc.add_SelectorServiceServicer_to_server(servicer, s))
    server, _, port = build_server(spec)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield selector_pb2_grpc.SelectorServiceStub(channel)
    await server.stop(None)


def _task(i: int, kind: str) -> common_pb2.Task:
    return common_pb2.Task(id=i, type=kind, arguments=[common_pb2.Argument(name="text", literal="hi")])


async def test_select_returns_choice_reason_fallbacks_and_usage(stub) -> None:
    reply = await stub.Select(selector_pb2.SelectRequest(user_request="classify", tasks=[
        _task(1, "text-classification"), _task(2, "automatic-speech-recognition")]))
    first, second = reply.selections
    assert first.chosen.model_id == "b/cls-two" and first.fallbacks[0].model_id == "a/cls-one"
    assert second.chosen.site == common_pb2.INFERENCE_SITE_HOSTED and reply.usage.calls == 1


async def test_task_type_without_model_has_no_chosen(stub) -> None:
    reply = await stub.Select(selector_pb2.SelectRequest(user_request="x", tasks=[_task(1, "depth-estimation")]))
    assert not reply.selections[0].HasField("chosen") and "depth-estimation" in reply.selections[0].reason


@pytest.mark.parametrize("request_", [
    selector_pb2.SelectRequest(user_request="x"),
    selector_pb2.SelectRequest(user_request="x", tasks=[_task(1, "bogus-task")]),
    selector_pb2.SelectRequest(user_request="x", tasks=[_task(1, "translation")], mode=42),
])
async def test_bad_input_is_invalid_argument(stub, request_) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Select(request_)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_candidates_ranks_and_rejects_empty_type(stub) -> None:
    reply = await stub.ListCandidates(selector_pb2.ListCandidatesRequest(task_type="text-classification"))
    assert [c.model_id for c in reply.candidates] == ["a/cls-one", "b/cls-two"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListCandidates(selector_pb2.ListCandidatesRequest())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_task_types_says_what_runs_and_rejects_an_unknown_mode(stub) -> None:
    reply = await stub.ListTaskTypes(selector_pb2.ListTaskTypesRequest(mode=common_pb2.INFERENCE_MODE_HYBRID))
    found = {t.task_type: t for t in reply.task_types}
    assert found["text-classification"].runnable and found["text-classification"].model_id
    depth = found["depth-estimation"]
    assert not depth.runnable and depth.site == common_pb2.INFERENCE_SITE_UNSPECIFIED
    assert "would serve it" in depth.reason
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListTaskTypes(selector_pb2.ListTaskTypesRequest(mode=42))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "unknown inference mode 42" in err.value.details()

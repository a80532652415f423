"""ResponderService over a real in-process gRPC server: streamed deltas then done, UNAVAILABLE, bad input."""

from __future__ import annotations

import grpc
import pytest

from hugginggpt.errors import Unavailable
from hugginggpt.server import ServerSpec, build_server
from hugginggpt.v1 import common_pb2, executor_pb2, responder_pb2, responder_pb2_grpc
from services.responder.responding import Responder
from services.responder.servicer import ResponderServicer
from tests.doubles.llm import ScriptedLlm


async def _stub(llm: ScriptedLlm):
    servicer = ResponderServicer(Responder(llm))
    spec = ServerSpec("127.0.0.1:0", ["hugginggpt.v1.ResponderService"],
                      lambda s: responder_pb2_grpc.add_ResponderServiceServicer_to_server(servicer, s))
    server, _, port = build_server(spec)
    await server.start()
    return server, grpc.aio.insecure_channel(f"127.0.0.1:{port}")


def _request(text: str = "What is in the photo?") -> responder_pb2.RespondRequest:
    art = common_pb2.Artifact(uri="artifact://t/cat.png", name="cat.png", kind=common_pb2.VALUE_KIND_IMAGE)
    return responder_pb2.RespondRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content=text)] if text else [],
        plan=common_pb2.Plan(tasks=[common_pb2.Task(id=1, type="object-detection")]),
        results=[executor_pb2.TaskEvent(task_id=1, task_type="object-detection", model_id="m/det",
                                        state=executor_pb2.TASK_STATE_SUCCEEDED,
                                        result=common_pb2.TaskResult(artifacts=[art]))])


@pytest.mark.parametrize("fail", [False, True])
async def test_respond_streams_findings_then_reply_even_with_the_llm_down(fail: bool) -> None:
    answer = Unavailable("the LLM endpoint cannot be reached") if fail else ["A ", "cat."]
    server, channel = await _stub(ScriptedLlm([answer]))
    stub = responder_pb2_grpc.ResponderServiceStub(channel)
    try:
        messages = [m async for m in stub.Respond(_request())]
        assert messages[0].delta.startswith("What the models found:")
        done = messages[-1].done
        assert "cat.png (artifact://t/cat.png)" in done.answer and "nothing detected" in done.answer
        if fail:  # the answer stands on the findings, and says why the summary is missing
            assert "the language model could not be reached" in done.answer
        else:
            assert "A cat." in done.answer
        assert done.usage.calls == 1
        with pytest.raises(grpc.aio.AioRpcError) as err:
            [m async for m in stub.Respond(_request(""))]
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await channel.close()
        await server.stop(None)


async def test_a_vector_sent_as_its_length_is_reported_as_that_many_numbers() -> None:
    server, channel = await _stub(ScriptedLlm([["It is an embedding."]]))
    request = _request("Embed this sentence.")
    request.results[0].task_type = "feature-extraction"
    request.results[0].result.CopyFrom(common_pb2.TaskResult(vector_length=384))
    try:
        messages = [m async for m in responder_pb2_grpc.ResponderServiceStub(channel).Respond(request)]
        assert "a vector of 384 numbers" in messages[-1].done.answer
    finally:
        await channel.close()
        await server.stop(None)


async def test_types_declined_by_the_planner_are_said_first_in_the_answer() -> None:
    server, channel = await _stub(ScriptedLlm([["There is a cat."]]))
    request = _request("Detect the objects in cat.png and generate an image of a dog.")
    request.declined.append(common_pb2.DeclinedTask(
        task_type="text-to-image", request_text="generate an image of a dog",
        reason="only hosted models serve text-to-image, and hosted inference is not set up"))
    try:
        messages = [m async for m in responder_pb2_grpc.ResponderServiceStub(channel).Respond(request)]
        assert messages[0].delta.startswith("I can't generate images in this deployment: only hosted models "
                                            "serve text-to-image, and hosted inference is not set up.\n"
                                            "What the models found:")
        assert "cat.png (artifact://t/cat.png)" in messages[-1].done.answer  # the runnable part still ran
    finally:
        await channel.close()
        await server.stop(None)

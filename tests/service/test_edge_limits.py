"""The HTTP edge's bad input and limits: JSON, attachments, sizes, tokens, disconnects, too many streams."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import openai
import pytest
from edge_fakes import EdgeServer, until
from gateway_fakes import Stack, task
from prometheus_client import REGISTRY

URL = "/v1/chat/completions"


@pytest.fixture
async def edge(stack: Stack) -> AsyncIterator[EdgeServer]:
    e = await EdgeServer(stack, max_attachment_bytes=1000, max_body_bytes=4000, max_streams=2).start()
    yield e
    await e.stop()


def body(content: Any, model: str = "hugginggpt", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


async def post(edge: EdgeServer, payload: Any, **kwargs: Any) -> httpx.Response:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with httpx.AsyncClient(base_url=edge.base_url, timeout=20) as http:
        return await http.post(URL, content=data, headers={"content-type": "application/json"}, **kwargs)


def error(response: httpx.Response) -> dict[str, Any]:
    err = response.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    return dict(err)


def image_part(media_type: str, data: bytes) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{base64.b64encode(data).decode()}"}}


@pytest.mark.parametrize(("payload", "status", "says"), [
    (b"{not json", 400, "not valid JSON"),
    ([1, 2], 400, "JSON object"),
    ({"messages": []}, 400, "'model' is required"),
    (body("hi", model="gpt-4o"), 404, "does not exist"),
    ({"model": "hugginggpt", "messages": []}, 400, "non-empty list"),
    ({"model": "hugginggpt", "messages": [{"role": "assistant", "content": "x"}]}, 400, "must be the user's"),
    (body([image_part("image/png", b"\x89PNG....")]), 400, "no text"),
    (body(["just a string"]), 400, "has type None"),
    (body([{"type": "text", "text": "read"}, image_part("application/pdf", b"%PDF-1.4")]), 400, "application/pdf"),
    (body([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}]),
     400, "fetches nothing"),
    (body([{"type": "text", "text": "x"}, {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "aac"}}]),
     400, "is not one of"),
    (body([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}]),
     400, "not valid base64"),
    (body([{"type": "text", "text": "x"}, image_part("image/png", b"\0" * 1001)]), 413, "limit of 1000 bytes"),
    (body("x" * 5000), 413, "HUGGINGGPT_EDGE_MAX_BODY_BYTES"),
    (body("hi", session_id=7), 400, "'session_id' must be a string"),
])
async def test_bad_requests_get_openai_errors(edge: EdgeServer, stack: Stack, payload: Any, status: int,
                                             says: str) -> None:
    response = await post(edge, payload)
    assert response.status_code == status, response.text
    assert says in error(response)["message"]
    assert not stack.record.plan_requests  # nothing reached the stages


async def test_gateway_errors_keep_their_meaning(edge: EdgeServer, stack: Stack) -> None:
    stack.script.plan_error = (grpc.StatusCode.INVALID_ARGUMENT, "the request names no task the planner knows")
    response = await post(edge, body("hi"))
    assert response.status_code == 400 and "no task the planner knows" in error(response)["message"]
    missing = await post(edge, body([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {
        "url": "artifact://AAAAAAAAAAAAAAAAAAAAAAAA/gone.png"}}]))
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"


async def test_an_error_mid_stream_reaches_the_openai_client(edge: EdgeServer, stack: Stack) -> None:
    stack.script.tasks = [task(1, "image-to-text")]
    stack.script.select_error = (grpc.StatusCode.UNAVAILABLE, "the selector's LLM is down")
    async with openai.AsyncOpenAI(base_url=f"{edge.base_url}/v1", api_key="-", max_retries=0) as c:
        stream = await c.chat.completions.create(model="hugginggpt", stream=True,
                                                 messages=[{"role": "user", "content": "go"}])
        with pytest.raises(openai.APIError, match="LLM is down"):
            async for _ in stream:
                pass


async def test_a_stopped_gateway_is_503(edge: EdgeServer, stack: Stack) -> None:
    await stack.stop_gateway()
    response = await post(edge, body("hi"))
    assert response.status_code == 503 and error(response)["type"] == "service_unavailable"
    async with httpx.AsyncClient(base_url=edge.base_url) as http:
        assert (await http.get("/healthz")).status_code == 503
        assert (await http.get("/livez")).status_code == 200  # not restarted for the gateway's sake


async def test_unknown_routes_and_methods_answer_in_the_same_shape(edge: EdgeServer) -> None:
    async with httpx.AsyncClient(base_url=edge.base_url) as http:
        assert error(await http.get("/v1/embeddings"))["type"] == "not_found_error"
        assert (await http.get(URL)).status_code == 405
        assert (await http.get("/healthz")).json() == {"status": "serving"}
        assert (await http.get("/livez")).status_code == 200


async def test_token_is_required_when_the_gateway_has_one(tmp_path: Path) -> None:
    stack = await Stack(tmp_path, auth_token="s3cret").start()
    edge = await EdgeServer(stack).start()
    try:
        missing = await post(edge, body("hi"))
        assert missing.status_code == 401 and error(missing)["type"] == "authentication_error"
        async with openai.AsyncOpenAI(base_url=f"{edge.base_url}/v1", api_key="wrong", max_retries=0) as c:
            with pytest.raises(openai.AuthenticationError, match="bearer token"):
                await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": "hi"}])
            with pytest.raises(openai.AuthenticationError):
                await c.models.list()
        assert not stack.record.plan_requests
        async with openai.AsyncOpenAI(base_url=f"{edge.base_url}/v1", api_key="s3cret", max_retries=0) as c:
            reply = await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == "The answer."  # the edge passed the token on
    finally:
        await edge.stop()
        await stack.stop()


async def test_a_client_leaving_mid_stream_cancels_the_gateway_work(edge: EdgeServer, stack: Stack) -> None:
    stack.script.tasks = [task(1, "image-to-text")]
    stack.script.hang_executor = True
    async with httpx.AsyncClient(base_url=edge.base_url, timeout=20) as http:
        async with http.stream("POST", URL, json=body("go", stream=True)) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if '"task"' in line:  # a task started; the executor now hangs
                    break
    await asyncio.wait_for(stack.record.cancelled["executor"].wait(), 5)
    await until(lambda: edge.app.state.edge.slots.used == 0)


async def test_a_client_leaving_a_plain_request_cancels_it(edge: EdgeServer, stack: Stack) -> None:
    stack.script.hang_planner = True
    with pytest.raises(httpx.ReadTimeout):
        await post(edge, body("go"), timeout=0.5)
    await asyncio.wait_for(stack.record.cancelled["planner"].wait(), 5)
    await until(lambda: edge.app.state.edge.slots.used == 0)


async def test_one_stream_too_many_is_429_and_the_slots_come_back(edge: EdgeServer, stack: Stack) -> None:
    stack.script.hang_planner = True
    waiting = [asyncio.create_task(post(edge, body("go", stream=True))) for _ in range(2)]
    await until(lambda: edge.app.state.edge.slots.used == 2)
    async with openai.AsyncOpenAI(base_url=f"{edge.base_url}/v1", api_key="-", max_retries=0) as c:
        with pytest.raises(openai.RateLimitError, match="HUGGINGGPT_EDGE_MAX_STREAMS"):
            await c.chat.completions.create(model="hugginggpt", messages=[{"role": "user", "content": "one more"}])
    for t in waiting:
        t.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    await until(lambda: edge.app.state.edge.slots.used == 0)
    stack.script.hang_planner = False
    assert (await post(edge, body("again"))).status_code == 200


async def test_a_hundred_tabs_at_once_get_64_streams_and_36_clear_429s(stack: Stack) -> None:
    edge = await EdgeServer(stack).start()  # the default limit, HUGGINGGPT_EDGE_MAX_STREAMS=64
    stack.script.hold_executor = gate = asyncio.Event()
    stack.script.tasks = [task(1, "image-to-text")]
    limits = httpx.Limits(max_connections=100)
    try:
        async with httpx.AsyncClient(base_url=edge.base_url, timeout=30, limits=limits) as http:
            tabs = [asyncio.create_task(http.post(URL, json=body(f"tab {i}", stream=True))) for i in range(100)]
            await until(lambda: sum(t.done() for t in tabs) >= 36, seconds=20)
            assert edge.app.state.edge.slots.used == 64
            gate.set()
            replies = await asyncio.gather(*tabs)
    finally:
        await edge.stop()
    refused = [r for r in replies if r.status_code == 429]
    assert len(refused) == 36 and all("HUGGINGGPT_EDGE_MAX_STREAMS" in error(r)["message"] for r in refused)
    assert sum(r.status_code == 200 and r.text.endswith("data: [DONE]\n\n") for r in replies) == 64


async def test_requests_are_counted_by_route_and_status(edge: EdgeServer, stack: Stack) -> None:
    def count(route: str, status: str) -> float:
        return REGISTRY.get_sample_value("hugginggpt_edge_requests_total", {"route": route, "status": status}) or 0

    before = (count("/v1/chat/completions", "200"), count("/v1/chat/completions", "400"), count("/healthz", "200"))
    await post(edge, body("hi"))
    await post(edge, b"{not json")
    async with httpx.AsyncClient(base_url=edge.base_url) as http:
        await http.get("/healthz")
    after = (count("/v1/chat/completions", "200"), count("/v1/chat/completions", "400"), count("/healthz", "200"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert REGISTRY.get_sample_value("hugginggpt_edge_chats_open") == 0


async def test_cors_is_off_unless_origins_are_named(edge: EdgeServer, stack: Stack) -> None:
    preflight = {"origin": "http://app.example", "access-control-request-method": "POST",
                 "access-control-request-headers": "content-type,connect-protocol-version"}
    async with httpx.AsyncClient(base_url=edge.base_url) as http:
        closed = await http.options("/hugginggpt.v1.GatewayService/Chat", headers=preflight)
        plain = await http.get("/v1/models", headers={"origin": "http://app.example"})
    assert "access-control-allow-origin" not in closed.headers and "access-control-allow-origin" not in plain.headers
    opened = await EdgeServer(stack, cors_origins=("http://app.example",)).start()
    try:
        async with httpx.AsyncClient(base_url=opened.base_url) as http:
            allowed = await http.options("/hugginggpt.v1.GatewayService/Chat", headers=preflight)
            other = await http.options("/v1/chat/completions", headers={**preflight, "origin": "http://evil.example"})
    finally:
        await opened.stop()
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://app.example"
    assert "connect-protocol-version" in allowed.headers["access-control-allow-headers"]
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers

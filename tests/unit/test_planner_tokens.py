"""Token counting: the tokenize endpoint through the openai client's request method, else a safe estimate."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import urlparse

from services.planner.embedded_llm import port_is_open
from services.planner.tokens import EndpointCounter, EstimatingCounter


class FakeOpenAi:
    def __init__(self, fail: bool = False, routes: tuple[str, ...] = ("/extras/tokenize",)) -> None:
        self.fail = fail
        self.routes = routes
        self.urls: list[str] = []

    async def post(self, url: str, *, body: dict[str, Any], cast_to: type, options: dict[str, Any]) -> Any:
        self.urls.append(url)
        if self.fail or urlparse(url).path not in self.routes:
            raise ConnectionError("no tokenize route")
        return {"tokens": list(range(len(next(iter(body.values())).split())))}


async def test_endpoint_counts_in_model_tokens_and_caches() -> None:
    client = FakeOpenAi()
    counter = EndpointCounter(client, "http://127.0.0.1:8080/v1")
    assert await counter.count("one two three") == 3
    assert await counter.count("one two three") == 3
    assert client.urls == ["http://127.0.0.1:8080/extras/tokenize"]


async def test_endpoint_failure_falls_back_to_a_conservative_estimate() -> None:
    client = FakeOpenAi(fail=True)
    counter = EndpointCounter(client, "http://127.0.0.1:8080/v1")
    text = "a fairly ordinary English sentence of some length"
    assert await counter.count(text) == await EstimatingCounter().count(text) >= len(text.split())
    await counter.count("again")
    assert len(client.urls) == 2  # each route tried once, never again once known to be missing


async def test_llama_servers_own_tokenize_route_is_found_after_the_other() -> None:
    client = FakeOpenAi(routes=("/tokenize",))
    counter = EndpointCounter(client, "http://127.0.0.1:8080/v1")
    assert await counter.count("one two three four") == 4
    assert await counter.count("five six") == 2
    assert client.urls == ["http://127.0.0.1:8080/extras/tokenize", "http://127.0.0.1:8080/tokenize",
                           "http://127.0.0.1:8080/tokenize"]


class SlowOpenAi(FakeOpenAi):
    async def post(self, url: str, *, body: dict[str, Any], cast_to: type, options: dict[str, Any]) -> Any:
        await asyncio.sleep(0.01)  # the counts asked for at once all wait on the first route together
        return await super().post(url, body=body, cast_to=cast_to, options=options)


async def test_counts_asked_for_at_once_drop_a_missing_route_once() -> None:
    client = SlowOpenAi(routes=("/tokenize",))
    counter = EndpointCounter(client, "http://127.0.0.1:8080/v1")
    assert await asyncio.gather(*(counter.count(" ".join(["w"] * n)) for n in (1, 2, 3, 4))) == [1, 2, 3, 4]
    assert await counter.count("five six") == 2
    assert client.urls[-1] == "http://127.0.0.1:8080/tokenize"  # llama-server's route stays known


def test_port_probe_sees_a_listener_and_an_empty_port() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_is_open("127.0.0.1", port)
    assert not port_is_open("127.0.0.1", port)

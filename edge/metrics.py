"""The edge's Prometheus metrics: requests by route and status, time to the response's start, chats open."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("hugginggpt_edge_requests_total", "HTTP requests the edge answered", ["route", "status"])
LATENCY = Histogram(
    "hugginggpt_edge_response_start_seconds", "Time from a request to its response's status line", ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
CHATS = Gauge("hugginggpt_edge_chats_open", "Chats open now, OpenAI and Connect together")
ROUTES = ("/v1/chat/completions", "/v1/models", "/v1/files", "/v1/sessions", "/healthz", "/livez")


def route_of(path: str) -> str:
    """A label with few values: the API route, the Connect method, or 'ui' / 'other'."""
    for route in ROUTES:
        if path == route or path.startswith(route + "/"):
            return route
    if path.startswith("/hugginggpt.v1.GatewayService/"):
        return path
    return "ui" if not path.startswith("/v1/") else "other"


def count_chats(open_now: Callable[[], int]) -> None:
    CHATS.set_function(lambda: float(open_now()))


def instrument(app: ASGIApp) -> ASGIApp:
    """Counts every HTTP request by route and status and times it to its response's start."""

    async def measured(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        route, started = route_of(scope["path"]), time.perf_counter()
        status = ["499"]  # what is recorded when the client leaves before any response

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = str(message["status"])
                LATENCY.labels(route).observe(time.perf_counter() - started)
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            REQUESTS.labels(route, status[0]).inc()

    return measured

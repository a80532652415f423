"""The HTTP edge's own cost per request: the same chat through the edge and straight to the gateway, paired.

Starts the gateway in front of fake stages (tests/service/gateway_fakes.py: a two-task plan, a two-piece answer,
no LLM and no model, so the stages cost almost nothing) and `python -m edge` as its own process calling that
gateway. For each of N requests it times, back to back and in alternating order, one Chat over gRPC
(GatewayClient) and one POST /v1/chat/completions to the edge (httpx; plain JSON, then SSE streaming); the
edge's overhead for that request is the difference. Also the time to the first SSE byte vs the first gRPC event.
Last line: {"overhead_ms_p50": ..., "overhead_ms_p99": ..., ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "service"))
sys.path.insert(0, str(ROOT))

from gateway_fakes import Stack, task  # noqa: E402

from hugginggpt_cli.gateway_client import GatewayClient  # noqa: E402

BODY = {"model": "hugginggpt", "messages": [{"role": "user", "content": "caption it, then summarise"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def direct(client: GatewayClient) -> tuple[float, float]:
    """Seconds to the first event and to the end of one Chat straight to the gateway."""
    started = time.perf_counter()
    first = 0.0
    async for _ in client.chat("caption it, then summarise"):
        first = first or time.perf_counter() - started
    return first, time.perf_counter() - started


async def via_edge(http: httpx.AsyncClient, stream: bool) -> tuple[float, float]:
    """Seconds to the first byte and to the end of one chat completion through the edge."""
    started = time.perf_counter()
    first = 0.0
    async with http.stream("POST", "/v1/chat/completions", json={**BODY, "stream": stream}) as response:
        async for _ in response.aiter_raw():
            first = first or time.perf_counter() - started
        assert response.status_code == 200, response.status_code
    return first, time.perf_counter() - started


async def wait_ready(http: httpx.AsyncClient, edge: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if edge.poll() is not None:
            raise RuntimeError("the edge exited during start-up")
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("the edge was not ready in 30 s")


async def measure(stack: Stack, port: int, n: int) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {k: [] for k in ("plain", "stream", "direct", "ttfb_edge", "ttfb_direct")}
    async with GatewayClient(stack.address) as client, \
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for _ in range(10):  # warm-up: connections, first-call paths
            await direct(client), await via_edge(http, False), await via_edge(http, True)
        for i in range(n):
            order = [False, True] if i % 2 else [True, False]  # alternate, so drift hits both sides alike
            timings = {}
            for edge_first in order:
                if edge_first:
                    timings["plain"] = (await via_edge(http, False))[1]
                    timings["stream"] = await via_edge(http, True)
                else:
                    timings["direct"] = await direct(client)
            rows["plain"].append(timings["plain"] - timings["direct"][1])
            rows["stream"].append(timings["stream"][1] - timings["direct"][1])
            rows["direct"].append(timings["direct"][1])
            rows["ttfb_edge"].append(timings["stream"][0])
            rows["ttfb_direct"].append(timings["direct"][0])
    return rows


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run(n: int) -> dict[str, object]:
    stack = await Stack(Path(tempfile.mkdtemp(prefix="edge-overhead-"))).start()
    stack.script.tasks = [task(1, "image-to-text"), task(2, "summarization", deps=(1,))]
    port = free_port()
    env = {**os.environ, "HUGGINGGPT_GATEWAY_ADDRESS": stack.address, "HUGGINGGPT_EDGE_LISTEN": f"127.0.0.1:{port}",
           "HUGGINGGPT_LOG_LEVEL": "WARNING"}
    edge = subprocess.Popen([sys.executable, "-m", "edge"], cwd=ROOT, env=env)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await wait_ready(http, edge)
        rows = await measure(stack, port, n)
    finally:
        edge.terminate()
        edge.wait(10)
        await stack.stop()
    ms = {k: [v * 1000 for v in values] for k, values in rows.items()}
    return {
        "requests": n,
        "overhead_ms_p50": round(statistics.median(ms["plain"]), 2),
        "overhead_ms_p99": round(pct(ms["plain"], 0.99), 2),
        "stream_overhead_ms_p50": round(statistics.median(ms["stream"]), 2),
        "stream_overhead_ms_p99": round(pct(ms["stream"], 0.99), 2),
        "direct_grpc_ms_p50": round(statistics.median(ms["direct"]), 2),
        "first_byte_edge_sse_ms_p50": round(statistics.median(ms["ttfb_edge"]), 2),
        "first_event_grpc_ms_p50": round(statistics.median(ms["ttfb_direct"]), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.requests))), flush=True)


if __name__ == "__main__":
    main()

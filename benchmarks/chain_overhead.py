"""The chain's own cost: gateway end-to-end time minus time inside LLM calls and model inference.

Starts the whole stack as separate processes (`hugginggpt up`) against a scripted OpenAI-compatible LLM (so LLM
time is tiny and measured, not guessed) and a real MiniLM model, sends N one-task requests through the gateway,
and computes per request: summary.total_seconds - summary.usage.seconds - summary.inference_seconds, as the
gateway reports them. Last line: {"grpc_overhead_ms_p50": ..., "grpc_overhead_ms_p99": ..., ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripted LLM lives with the tests

from hugginggpt.v1 import gateway_pb2, gateway_pb2_grpc  # noqa: E402
from hugginggpt_cli.launcher import Stack, StackSettings  # noqa: E402
from tests.doubles.fake_llm import FakeLlm, rule_replier  # noqa: E402

PLAN = json.dumps({"tasks": [{"task": "sentence-similarity", "id": 0, "dep": [-1],
                              "args": {"text": "A cat sits on the mat.", "text2": "A kitten rests on a rug."}}]})


async def one(stub: gateway_pb2_grpc.GatewayServiceStub, number: int) -> dict[str, float]:
    started = time.perf_counter()
    summary = None
    marks: dict[str, float] = {}
    # Each request's text differs, so no stage answers it from a cache of recent texts (real traffic does not repeat).
    content = f"How similar are the two sentences? (request {number})"
    async for event in stub.Chat(gateway_pb2.ChatRequest(content=content), timeout=60):
        kind = event.WhichOneof("event")
        marks.setdefault(kind, event.at_seconds)  # first time each kind of event arrives, gateway clock
        if kind == "summary":
            summary = event.summary
    client_total = time.perf_counter() - started
    assert summary is not None and summary.tasks_succeeded == 1, summary
    overhead = summary.total_seconds - summary.usage.seconds - summary.inference_seconds
    return {"overhead": overhead, "client_total": client_total, "llm": summary.usage.seconds,
            "inference": summary.inference_seconds, "llm_calls": summary.usage.calls,
            **{f"at_{kind}": seconds for kind, seconds in marks.items()}}


async def run(address: str, n: int) -> list[dict[str, float]]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        for _ in range(3):  # warm-up: connections, model load, first-call paths
            await one(stub, -1)
        return [await one(stub, i) for i in range(n)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    fake = FakeLlm(rule_replier({"": PLAN, "answer": "The sentences are similar."})).start()
    fake.replier = _replier()
    run_dir = Path(tempfile.mkdtemp(prefix="chain-overhead-"))
    os.environ.update({
        "HUGGINGGPT_RUN_DIR": str(run_dir), "HUGGINGGPT_PORT_OFFSET": "2000",
        "HUGGINGGPT_LLM_BASE_URL": fake.base_url, "HUGGINGGPT_LLM_MODEL": fake.model,
        "HUGGINGGPT_LLM_SCHEMA_DIALECT": "json_object",
        "HUGGINGGPT_REPLICA_PRELOAD": "sentence-transformers/all-MiniLM-L6-v2",
    })
    stack = Stack(StackSettings.from_env())
    try:
        addresses = stack.up()
        rows = asyncio.run(run(addresses["gateway"], args.requests))
    finally:
        stack.down()
        fake.stop()
    overhead_ms = [r["overhead"] * 1000 for r in rows]
    result = {
        "requests": len(rows),
        "grpc_overhead_ms_p50": round(statistics.median(overhead_ms), 2),
        "grpc_overhead_ms_p99": round(pct(overhead_ms, 0.99), 2),
        "client_total_ms_p50": round(statistics.median(r["client_total"] * 1000 for r in rows), 2),
        "llm_ms_p50": round(statistics.median(r["llm"] * 1000 for r in rows), 2),
        "inference_ms_p50": round(statistics.median(r["inference"] * 1000 for r in rows), 2),
        "llm_calls_per_request": max(r["llm_calls"] for r in rows),
        # when each kind of event first reached the client, ms after the gateway took the request (median)
        "event_ms_p50": {key[3:]: round(statistics.median(r[key] * 1000 for r in rows if key in r), 1)
                         for key in sorted({k for r in rows for k in r if k.startswith("at_")})},
    }
    print(json.dumps(result), flush=True)
    sys.exit(0)


def _replier():  # type: ignore[no-untyped-def]
    """Plans for the planner's prompt, answers everything else (responder, selector if asked)."""

    def reply(messages: list[dict[str, object]]) -> str:
        system = str(messages[0].get("content", "")) if messages else ""
        return PLAN if "<GENERATED>" in system else "The two sentences are very similar."

    return reply


if __name__ == "__main__":
    main()

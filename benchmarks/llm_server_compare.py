"""llama.cpp's own `llama-server` against llama-cpp-python's server, side by side in one run, on the embedded GGUF.

Each server is started in turn on the same model, threads and context per request (never both at once: they
would share the 2 cores), and measured the same way:
- `start_s`: from launch until /v1/models answers;
- planning: the real planner (default guide) on the four requests of planner_latency.py, `cold_s` with a
  never-seen system prefix, `warm_s` on the second identical plan, and the LLM calls each plan made;
- `decode`: one streamed answer of `--tokens` tokens: first-token seconds and tokens a second after it;
- `concurrent`: `--users` streamed answers at once (different prompts), wall seconds, completion tokens a
  second over all of them, and the slowest first token; next to the same answers one after another;
- `rss_mb`: the server's resident memory at the end.
Ratios (llama-cpp-python / llama-server; > 1 means llama-server is faster) close the last line.

Run: .venv/bin/python benchmarks/llm_server_compare.py [--model qwen2.5-coder-0.5b] [--order both-ways]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import openai

from hugginggpt import embedded
from hugginggpt.tasktypes import load_task_types
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig
from services.planner.embedded_llm import llm_is_up

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planner_latency import REQUESTS, timed_plan  # noqa: E402  (the same requests and timing)

PORT = 18470
PROMPTS = [
    "Write a detailed paragraph about how bridges are built, step by step.",
    "Explain to a child how rain forms, in several sentences.",
    "Describe a busy train station in the morning in vivid detail.",
    "List and explain ten ways to save energy at home.",
    "Tell a short story about a lighthouse keeper and a storm.",
    "Explain how a bicycle gear system works, in detail.",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def stream_once(client: openai.AsyncOpenAI, model: str, prompt: str, tokens: int) -> dict[str, float]:
    """One streamed answer: seconds to the first token, total seconds and completion tokens."""
    started = time.perf_counter()
    first = 0.0
    pieces = 0
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=tokens, temperature=0.0,
        stream=True, stream_options={"include_usage": True})
    usage = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces += 1
            if not first:
                first = time.perf_counter() - started
        if chunk.usage is not None:
            usage = chunk.usage.completion_tokens
    total = time.perf_counter() - started
    return {"first_s": first, "total_s": total, "tokens": float(usage or pieces)}


async def measure_server(kind: str, model_key: str, threads: int, ctx: int, tokens: int, users: int) -> dict[str, Any]:
    pack = embedded.PACKS[model_key]
    gguf = embedded.assemble(pack, embedded.default_cache_dir())
    command = embedded.server_command(gguf, pack.alias, "127.0.0.1", PORT, ctx, threads, kind)
    base_url = f"http://127.0.0.1:{PORT}/v1"
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not llm_is_up(base_url):
            if process.poll() is not None or time.perf_counter() - started > 300:
                raise RuntimeError(f"{kind} did not start: {' '.join(command)}")
            await asyncio.sleep(0.2)
        start_s = time.perf_counter() - started
        client = openai.AsyncOpenAI(base_url=base_url, api_key="none", timeout=600)
        result: dict[str, Any] = {"start_s": round(start_s, 2)}
        result["planning"] = await planning(base_url, pack.alias, kind)
        result["decode"] = await decode(client, pack.alias, tokens)
        result["concurrent"] = await concurrent(client, pack.alias, tokens // 2, users)
        result["rss_mb"] = rss_mb(process.pid)
        return result
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def planning(base_url: str, alias: str, kind: str) -> dict[str, Any]:
    config = PlannerConfig.from_env()
    llm = replace(config.llm, base_url=base_url, model=alias, schema_dialect=embedded.SCHEMA_DIALECTS[kind],
                  timeout_seconds=600.0)
    types = load_task_types()
    deps = build_planner(replace(config, llm=llm), types)
    rng = random.Random(7)
    cold, warm, calls = [], [], []
    try:
        for turn in REQUESTS:
            shuffled = rng.sample(list(types.values()), len(types))
            seconds, _, _ = await timed_plan(deps.planner, turn, shuffled)
            cold.append(seconds)
        for turn in REQUESTS:
            await timed_plan(deps.planner, turn, list(types.values()))
            seconds, _, used = await timed_plan(deps.planner, turn, list(types.values()))
            warm.append(seconds)
            calls.append(used)
    finally:
        await deps.close()
    return {"cold_s": [round(x, 2) for x in cold], "warm_s": [round(x, 2) for x in warm], "llm_calls": calls,
            "cold_median_s": round(statistics.median(cold), 2), "warm_median_s": round(statistics.median(warm), 2)}


async def decode(client: openai.AsyncOpenAI, alias: str, tokens: int) -> dict[str, float]:
    await stream_once(client, alias, "Say hello.", 8)  # the chat template's prefix, once
    one = await stream_once(client, alias, PROMPTS[0], tokens)
    rate = (one["tokens"] - 1) / max(one["total_s"] - one["first_s"], 1e-6)
    return {"first_token_s": round(one["first_s"], 3), "tokens": one["tokens"], "tokens_per_s": round(rate, 2)}


async def concurrent(client: openai.AsyncOpenAI, alias: str, tokens: int, users: int) -> dict[str, float]:
    prompts = [PROMPTS[1 + i % (len(PROMPTS) - 1)] for i in range(users)]
    started = time.perf_counter()
    serial = [await stream_once(client, alias, p, tokens) for p in prompts]
    serial_s = time.perf_counter() - started
    started = time.perf_counter()
    together = await asyncio.gather(*(stream_once(client, alias, p, tokens) for p in prompts))
    together_s = time.perf_counter() - started
    return {
        "users": users,
        "serial_s": round(serial_s, 2),
        "together_s": round(together_s, 2),
        "together_tokens_per_s": round(sum(r["tokens"] for r in together) / together_s, 2),
        "serial_tokens_per_s": round(sum(r["tokens"] for r in serial) / serial_s, 2),
        "together_slowest_first_token_s": round(max(r["first_s"] for r in together), 2),
    }


def ratios(slow: dict[str, Any], fast: dict[str, Any]) -> dict[str, float]:
    """llama-cpp-python / llama-server for times, llama-server / llama-cpp-python for rates (> 1: llama-server wins)."""
    return {
        "start": round(slow["start_s"] / fast["start_s"], 2),
        "planning_cold": round(slow["planning"]["cold_median_s"] / fast["planning"]["cold_median_s"], 2),
        "planning_warm": round(slow["planning"]["warm_median_s"] / max(fast["planning"]["warm_median_s"], 1e-3), 2),
        "decode_tokens_per_s": round(fast["decode"]["tokens_per_s"] / slow["decode"]["tokens_per_s"], 2),
        "concurrent_wall": round(slow["concurrent"]["together_s"] / fast["concurrent"]["together_s"], 2),
        "concurrent_tokens_per_s": round(fast["concurrent"]["together_tokens_per_s"]
                                         / slow["concurrent"]["together_tokens_per_s"], 2),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    order = ["llama-cpp-python", "llama-server"]
    if args.order == "both-ways":
        order = order + order[::-1]
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in embedded.SERVERS}
    for kind in order:
        runs[kind].append(await measure_server(kind, args.model, args.threads, args.ctx, args.tokens, args.users))
        print(json.dumps({kind: runs[kind][-1]}), flush=True)
    first = {kind: results[0] for kind, results in runs.items() if results}
    out: dict[str, Any] = {"model": args.model, "threads": args.threads, "order": order, **first,
                           "ratios": ratios(first["llama-cpp-python"], first["llama-server"])}
    if args.order == "both-ways":
        out["ratios_second_pass"] = ratios(runs["llama-cpp-python"][1], runs["llama-server"][1])
        out["second_pass"] = {kind: results[1] for kind, results in runs.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b", choices=sorted(embedded.PACKS))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--ctx", type=int, default=8192, help="context tokens per request")
    parser.add_argument("--tokens", type=int, default=128, help="completion tokens of the decode measure")
    parser.add_argument("--users", type=int, default=4, help="concurrent requests")
    parser.add_argument("--order", choices=("once", "both-ways"), default="once")
    print(json.dumps(asyncio.run(main_async(parser.parse_args()))))


if __name__ == "__main__":
    main()

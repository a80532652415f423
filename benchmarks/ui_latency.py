"""Time to first byte and to the first plan event: the web UI in a real browser vs the CLI, same request, same run.

Starts the whole stack as separate processes (`hugginggpt up`, edge included) against the scripted LLM and the
real MiniLM that benchmarks/chain_overhead.py uses (a one-task sentence-similarity plan), then for each of N
rounds, in alternating order, sends the same kind of request (its text numbered, so no cache answers it):
- the CLI as a person runs it, `hugginggpt ask` as a process: first byte = its first line on stdout, first plan
  event = its first `planned`/`plan:` line, both from the process's start (Python start-up included);
- the gRPC client the CLI runs (hugginggpt_cli/gateway_client.py, in this process): first event, first plan event;
- the web UI in Debian's chromium (Playwright): the UI's own marks, from its fetch to the reply's headers and
  to its first plan event (data-first-byte-ms, data-first-plan-ms).
Last line: {"browser_first_byte_ms_p50": ..., "cli_first_plan_ms_p50": ..., ...}.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import chain_overhead  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from hugginggpt_cli.gateway_client import GatewayClient  # noqa: E402
from hugginggpt_cli.launcher import Stack, StackSettings  # noqa: E402
from tests.doubles.fake_llm import FakeLlm, rule_replier  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def request(number: int) -> str:
    return f"How similar are the two sentences? (request {number})"


async def cli(gateway: str, number: int, out: Path) -> dict[str, float]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "hugginggpt"), "ask", request(number), "--gateway", gateway, "--out", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    marks: dict[str, float] = {}
    assert proc.stdout is not None
    async for line in proc.stdout:
        now = (time.perf_counter() - started) * 1000
        marks.setdefault("first_byte", now)
        if line.startswith((b"planned", b"plan:")):
            marks.setdefault("first_plan", now)
    assert await proc.wait() == 0 and "first_plan" in marks, marks
    return marks


async def grpc_client(client: GatewayClient, number: int) -> dict[str, float]:
    started = time.perf_counter()
    marks: dict[str, float] = {}
    async for event in client.chat(request(number)):
        now = (time.perf_counter() - started) * 1000
        marks.setdefault("first_byte", now)
        if event.WhichOneof("event") in ("planned_task", "plan"):
            marks.setdefault("first_plan", now)
    return marks


async def browser(page: Any, number: int) -> dict[str, float]:
    turns = page.locator("section.turn")
    before = await turns.count()
    await page.fill("textarea", request(number))
    await page.click("button[type=submit]")
    turn = turns.nth(before)
    await turn.locator(".summary").wait_for(timeout=60_000)
    return {"first_byte": float(await turn.get_attribute("data-first-byte-ms") or "nan"),
            "first_plan": float(await turn.get_attribute("data-first-plan-ms") or "nan")}


async def measure(addresses: dict[str, str], rounds: int) -> dict[str, list[dict[str, float]]]:
    rows: dict[str, list[dict[str, float]]] = {"cli": [], "grpc": [], "browser": []}
    out = Path(tempfile.mkdtemp(prefix="ui-latency-out-"))
    async with async_playwright() as p, GatewayClient(addresses["gateway"]) as client:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await chromium.new_page()
        await page.goto(f"http://{addresses['edge']}/")
        for warm in range(2):  # connections, first-call paths, the page's first fetch
            await grpc_client(client, -1 - warm), await browser(page, -3 - warm)
        for i in range(rounds):
            jobs = [("cli", lambda n: cli(addresses["gateway"], n, out)), ("grpc", lambda n: grpc_client(client, n)),
                    ("browser", lambda n: browser(page, n))]
            order = list(enumerate(jobs))  # alternate which goes first, so drift hits all three alike
            for k, (name, job) in order if i % 2 == 0 else reversed(order):
                rows[name].append(await job(3 * i + k))
        await chromium.close()
    return rows


def summary(rows: dict[str, list[dict[str, float]]]) -> dict[str, object]:
    result: dict[str, object] = {"rounds": len(rows["cli"])}
    for name, marks in rows.items():
        for mark in ("first_byte", "first_plan"):
            values = [m[mark] for m in marks]
            result[f"{name}_{mark}_ms_p50"] = round(statistics.median(values), 1)
            result[f"{name}_{mark}_ms_max"] = round(max(values), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    fake = FakeLlm(rule_replier({"": chain_overhead.PLAN})).start()
    fake.replier = chain_overhead._replier()
    os.environ.update({
        "HUGGINGGPT_RUN_DIR": tempfile.mkdtemp(prefix="ui-latency-"),
        "HUGGINGGPT_PORT_OFFSET": os.environ.get("HUGGINGGPT_PORT_OFFSET", "4000"),
        "HUGGINGGPT_LLM_BASE_URL": fake.base_url, "HUGGINGGPT_LLM_MODEL": fake.model,
        "HUGGINGGPT_LLM_SCHEMA_DIALECT": "json_object",
        "HUGGINGGPT_REPLICA_PRELOAD": "sentence-transformers/all-MiniLM-L6-v2",
    })
    stack = Stack(StackSettings.from_env())
    try:
        rows = asyncio.run(measure(stack.up(), args.rounds))
    finally:
        stack.down()
        fake.stop()
    print(json.dumps(summary(rows)), flush=True)


if __name__ == "__main__":
    main()

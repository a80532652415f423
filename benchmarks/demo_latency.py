"""The demo request end to end on the embedded default: latency by stage and the stack's peak memory.

Starts the whole stack (`hugginggpt up`: embedded LLM, every stage, replicas) in a fresh run directory on
its own ports, sends the demo request with its two files through the gateway, and records when each kind
of event arrived (gateway clock) while sampling the summed resident memory of every process of the stack.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from hugginggpt.v1.executor_pb2 import TaskState
from hugginggpt_cli.gateway_client import GatewayClient
from hugginggpt_cli.launcher import Stack, StackSettings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ("What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list the "
        "named entities in it.")
FILES = [ROOT / "examples" / "media" / "invoice_text.png", ROOT / "examples" / "media" / "speech_fox.wav"]


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakSampler(threading.Thread):
    """Samples the summed RSS of the given processes every interval; keeps the peak."""

    def __init__(self, pids: dict[str, int], interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peak_total, self.peak_by_process = 0.0, dict.fromkeys(pids, 0.0)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            sizes = {name: rss_mb(pid) for name, pid in self.pids.items()}
            self.peak_total = max(self.peak_total, sum(sizes.values()))
            for name, size in sizes.items():
                self.peak_by_process[name] = max(self.peak_by_process[name], size)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


async def ask(address: str) -> dict[str, object]:
    marks: dict[str, float] = {}
    tasks: dict[str, float] = {}
    async with GatewayClient(address) as client:
        started = time.perf_counter()
        async for event in client.chat(DEMO, files=FILES, timeout=600):
            kind = event.WhichOneof("event")
            marks.setdefault(kind, round(event.at_seconds, 2))
            if kind == "task":
                state = TaskState.Name(event.task.state).removeprefix("TASK_STATE_").lower()
                tasks[f"task {event.task.task_id} {event.task.task_type} {state}"] = round(event.at_seconds, 2)
            if kind == "summary":
                summary = event.summary
        client_total = time.perf_counter() - started
    return {"client_total_s": round(client_total, 2), "first_event_s": marks, "task_events_s": tasks,
            "llm_calls": summary.usage.calls, "llm_seconds": round(summary.usage.seconds, 2),
            "inference_seconds": round(summary.inference_seconds, 2),
            "tasks_succeeded": summary.tasks_succeeded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-offset", type=int, default=3000)
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="demo-latency-"))
    os.environ.update({"HUGGINGGPT_RUN_DIR": str(run_dir), "HUGGINGGPT_PORT_OFFSET": str(args.port_offset)})
    os.environ.pop("HUGGINGGPT_LLM_BASE_URL", None)  # the embedded default
    stack = Stack(StackSettings.from_env())
    try:
        started = time.perf_counter()
        addresses = stack.up(out=sys.stderr)
        up_seconds = time.perf_counter() - started
        sampler = PeakSampler({name: int(info["pid"]) for name, info in stack.running().items()})
        sampler.start()
        try:
            result = asyncio.run(ask(addresses["gateway"]))
        finally:
            sampler.stop()
    finally:
        stack.down()
    result.update({"stack_up_s": round(up_seconds, 1), "peak_stack_rss_mb": round(sampler.peak_total),
                   "peak_rss_mb_by_process": {k: round(v) for k, v in sampler.peak_by_process.items()}})
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""Fault test: while users' requests are in flight, kill -9 and restart, in turn, a replica, the router, the
executor, the planner, the selector, the responder, the gateway and the LLM server.

Users keep sending the load test's mix (one session each) through every kill. Each request must end with an
answer or a clear gRPC status within its deadline (`hung` counts those that did not end by then plus a
margin), no turn the gateway started may be missing from its session afterwards (`turns_lost`), and after
each restart a fresh request is sent (`probe`: answered, or the status it ended with, and its seconds).
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
import time

from traffic import Tally, request, turns_lost, user  # benchmarks/traffic.py, next to this script

from hugginggpt_cli.launcher import Proc, Stack, StackSettings

STAGES = ("replica", "router", "executor", "planner", "selector", "responder", "gateway", "llm")
UNCLEAR = {"UNKNOWN", "INTERNAL", "ENDED_WITHOUT_ANSWER"}


class RestartingStack(Stack):
    """`up` starts what is down but waits only for the restarted stage: the others are serving already, and an
    LLM server busy generating may answer its health check late on a loaded machine."""

    restarting = ""

    def _wait_healthy(self, proc: Proc, pid: int, deadline: float, alias: str) -> bool:
        if self.restarting == "llm" == proc.name and self.s.llm_server == "llama-cpp-python":
            # llama-cpp-python answers /v1/models under the lock a generation holds: the stages' retries keep
            # it busy from its first second, so it counts as back once it accepts connections. llama-server
            # answers it while generating (503 only while it loads the model): the usual health wait.
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", proc.port), 2):
                    return True
                time.sleep(0.5)
        if not self.restarting or proc.name == self.restarting:
            return super()._wait_healthy(proc, pid, deadline, alias)
        return True


async def kill_and_restart(stack: RestartingStack, stage: str) -> float:
    """SIGKILLs the stage's process group, starts it again, and returns the seconds until it is healthy."""
    os.killpg(int(stack.running()[stage]["pid"]), signal.SIGKILL)
    started = time.monotonic()
    while stage in stack.running():  # until the kernel has reaped it
        await asyncio.sleep(0.1)
    stack.restarting = stage
    await asyncio.to_thread(stack.up, sys.stderr)
    return time.monotonic() - started


async def probe(address: str, deadline: float) -> str:
    """How a fresh request (conversation only) ends after a restart: "answered", or its status."""
    tally = Tally()
    await request(address, "", 0, deadline, tally)
    return "answered" if tally.answered else ("hung" if tally.hung else next(iter(tally.errors_by_code)))


async def chaos(stack: RestartingStack, address: str, users: int, deadline: float, settle: float) -> dict[str, object]:
    tally = Tally()
    stopping = asyncio.Event()
    crowd = [asyncio.create_task(user(address, i, lambda: not stopping.is_set(), deadline, tally))
             for i in range(users)]
    kills = []
    for stage in STAGES:
        await asyncio.sleep(settle)  # requests in flight in every stage
        restart = await kill_and_restart(stack, stage)
        started = time.monotonic()
        outcome = await probe(address, deadline)
        kills.append({"stage": stage, "restart_s": round(restart, 1), "probe": outcome,
                      "probe_s": round(time.monotonic() - started, 1)})
        print(json.dumps(kills[-1]), file=sys.stderr, flush=True)
    stopping.set()
    await asyncio.gather(*crowd)
    clear = sum(n for code, n in tally.errors_by_code.items() if code not in UNCLEAR)
    return {"kills": kills, "requests": tally.sent, "answered": len(tally.answered), "clear_errors": clear,
            "errors_by_code": tally.errors_by_code, "hung": tally.hung,
            "turns_lost": await turns_lost(address, tally)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--deadline", type=float, default=180.0, help="each request's deadline in seconds")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds of traffic before each kill")
    parser.add_argument("--port-offset", type=int, default=3000)
    parser.add_argument("--preload", default="tesseract/eng",
                        help="models the replica loads before SERVING (the rest load on first use)")
    args = parser.parse_args()
    os.environ.update({"HUGGINGGPT_RUN_DIR": tempfile.mkdtemp(prefix="chaos-"),
                       "HUGGINGGPT_PORT_OFFSET": str(args.port_offset), "HUGGINGGPT_REPLICA_PRELOAD": args.preload})
    stack = RestartingStack(StackSettings.from_env())
    try:
        addresses = stack.up(out=sys.stderr)
        result = asyncio.run(chaos(stack, addresses["gateway"], args.users, args.deadline, args.settle))
    finally:
        stack.down()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

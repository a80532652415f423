"""Fault test: while users' requests are in flight, kill -9 and restart, in turn, a replica, the router, the
executor, the planner, the selector, the responder, the gateway and the LLM server.

Users keep sending the load test's mix (one session each) through every kill. Each request must end with an
answer or a clear gRPC status within its deadline (`hung` counts those that did not end by then plus a
margin), no turn the gateway started may be missing from its session afterwards (`turns_lost`), and after
each restart a fresh request must be answered (`resumed`). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time

from hugginggpt.launcher import Stack, StackSettings
from hugginggpt.testing.traffic import Tally, request, turns_lost, user

STAGES = ("replica", "router", "executor", "planner", "selector", "responder", "gateway", "llm")
UNCLEAR = {"UNKNOWN", "INTERNAL", "ENDED_WITHOUT_ANSWER"}


async def kill_and_restart(stack: Stack, stage: str) -> float:
    """SIGKILLs the stage's process group, starts it again, and returns the seconds until it is healthy."""
    os.killpg(int(stack.running()[stage]["pid"]), signal.SIGKILL)
    started = time.monotonic()
    while stage in stack.running():  # until the kernel has reaped it
        await asyncio.sleep(0.1)
    await asyncio.to_thread(stack.up, sys.stderr)
    return time.monotonic() - started


async def resumed(address: str, deadline: float) -> bool:
    """Whether a fresh request (conversation only) is answered after a restart."""
    probe = Tally()
    await request(address, "", 0, deadline, probe)
    return len(probe.answered) == 1


async def chaos(stack: Stack, address: str, users: int, deadline: float, settle: float) -> dict[str, object]:
    tally = Tally()
    stopping = asyncio.Event()
    crowd = [asyncio.create_task(user(address, i, lambda: not stopping.is_set(), deadline, tally))
             for i in range(users)]
    kills = []
    for stage in STAGES:
        await asyncio.sleep(settle)  # requests in flight in every stage
        restart = await kill_and_restart(stack, stage)
        kills.append({"stage": stage, "restart_s": round(restart, 1), "resumed": await resumed(address, deadline)})
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
    args = parser.parse_args()
    os.environ.update({"HUGGINGGPT_RUN_DIR": tempfile.mkdtemp(prefix="chaos-"),
                       "HUGGINGGPT_PORT_OFFSET": str(args.port_offset)})
    stack = Stack(StackSettings.from_env())
    try:
        addresses = stack.up(out=sys.stderr)
        result = asyncio.run(chaos(stack, addresses["gateway"], args.users, args.deadline, args.settle))
    finally:
        stack.down()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

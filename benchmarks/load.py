"""Load test: N users send a mix of real requests to the local stack for a bounded time; then the same with
two planner and two replica processes, to show what scaling a stage buys.

Each user keeps one session and sends one request after another (files uploaded each time) until the window
closes; every request has a deadline. A request is `completed` when its answer arrived within the deadline,
an error when it ended with a gRPC status (counted by code), and `lost` when it did not end within its
deadline (plus a margin), or when the gateway started its turn but the session does not hold it afterwards.
CPU seconds per process over the window show which stage saturates. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from traffic import Tally, turns_lost, user  # benchmarks/traffic.py, next to this script

from hugginggpt_cli.launcher import SERVICES, Stack, StackSettings, stack_env


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds each process has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[name] = (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            out[name] = 0.0
    return out


async def measure(address: str, users: int, window: float, deadline: float, pids: dict[str, int]) -> dict:
    """Runs the users for the window (and their last requests to the end); what they saw."""
    tally = Tally()
    before = cpu_seconds(pids)
    started = time.monotonic()
    def running() -> bool:
        return time.monotonic() < started + window

    await asyncio.gather(*(user(address, i, running, deadline, tally) for i in range(users)))
    elapsed = time.monotonic() - started
    after = cpu_seconds(pids)
    seconds = sorted(tally.answered)
    cpu = {name: round(after[name] - before[name], 1) for name in pids}
    return {
        "users": users, "requests": tally.sent, "completed": len(seconds), "errors_by_code": tally.errors_by_code,
        "lost": tally.hung + await turns_lost(address, tally),
        "p50_s": round(statistics.median(seconds), 2) if seconds else None,
        "p95_s": round(seconds[int(0.95 * (len(seconds) - 1))], 2) if seconds else None,
        "requests_per_minute": round(len(seconds) / elapsed * 60, 2), "elapsed_s": round(elapsed, 1),
        "cpu_seconds_by_process": dict(sorted(cpu.items(), key=lambda kv: -kv[1])),
    }


def extra(stack: Stack, name: str, port: int, env_over: dict[str, str]) -> subprocess.Popen[bytes]:
    """One more process of a stage on its own port, logging beside the stack's."""
    env = {**stack_env(stack.s, alias_of(stack)), **env_over}
    env[f"HUGGINGGPT_{name.upper()}_LISTEN"] = f"127.0.0.1:{port}"
    log = open(stack.s.run_dir / f"{name}-{port}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", SERVICES[name][0]], env=env, stdout=log, stderr=log)


def scale(stack: Stack) -> list[subprocess.Popen[bytes]]:
    """A second planner and a second replica; the gateway restarted to balance over both planners."""
    s = stack.s
    second_planner, second_replica = s.port(50061), s.port(50065)
    procs = [extra(stack, "planner", second_planner, {}),
             extra(stack, "replica", second_replica, {"HUGGINGGPT_REPLICA_ID": "replica-1",
                                                      "HUGGINGGPT_REPLICA_ADVERTISE_ADDRESS":
                                                          f"127.0.0.1:{second_replica}"})]
    stack.down(only=["gateway"])
    planners = f"ipv4:127.0.0.1:{s.port(50051)},127.0.0.1:{second_planner}"
    procs.append(extra(stack, "gateway", s.port(50050), {"HUGGINGGPT_PLANNER_ADDRESS": planners}))
    wait_serving([f"127.0.0.1:{p}" for p in (second_planner, second_replica, s.port(50050))])
    return procs


def wait_serving(addresses: list[str], timeout: float = 600) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    for address in addresses:
        while True:
            with grpc.insecure_channel(address) as channel:
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{address} did not become healthy")
            time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--window", type=float, default=120.0, help="seconds during which users send requests")
    parser.add_argument("--deadline", type=float, default=300.0, help="each request's deadline in seconds")
    parser.add_argument("--port-offset", type=int, default=3000)
    parser.add_argument("--no-scaled", action="store_true", help="skip the run with two planners and replicas")
    args = parser.parse_args()
    os.environ.update({"HUGGINGGPT_RUN_DIR": tempfile.mkdtemp(prefix="load-"),
                       "HUGGINGGPT_PORT_OFFSET": str(args.port_offset)})
    stack = Stack(StackSettings.from_env())
    extras: list[subprocess.Popen[bytes]] = []
    try:
        addresses = stack.up(out=sys.stderr)
        pids = {n: int(i["pid"]) for n, i in stack.running().items()}
        result = {"single": asyncio.run(measure(addresses["gateway"], args.users, args.window, args.deadline, pids))}
        print(json.dumps(result["single"]), file=sys.stderr, flush=True)
        if not args.no_scaled:
            extras = scale(stack)
            pids = {**{n: int(i["pid"]) for n, i in stack.running().items()},
                    "planner-2": extras[0].pid, "replica-2": extras[1].pid, "gateway": extras[2].pid}
            result["scaled"] = asyncio.run(measure(addresses["gateway"], args.users, args.window, args.deadline,
                                                   pids))
    finally:
        for proc in extras:
            proc.terminate()
        for proc in extras:
            proc.wait(timeout=30)
        stack.down()
    print(json.dumps({**result["single"], **{k: v for k, v in result.items() if k != "single"}}), flush=True)


def alias_of(stack: Stack) -> str:
    from hugginggpt import embedded

    return embedded.PACKS[stack.s.embedded_model].alias if stack.s.embedded_llm else os.environ.get(
        "HUGGINGGPT_LLM_MODEL", "-")


if __name__ == "__main__":
    main()

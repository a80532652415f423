"""Failover: 20 inferences in flight over two replica processes, one SIGKILLed midway; none lost or duplicated.

Starts the router (`python -m services.router`) and two real replicas (`services.replica` with the
`hugginggpt/debug-sleep` model) as separate processes. Each replica appends the key of every inference
it completes to a ledger file (fsynced before the reply leaves), so an inference that finished on the
killed replica and then ran again elsewhere is counted as duplicated. Last line:
{"requests": 20, "completed": ..., "lost": ..., "duplicated": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hugginggpt.v1 import router_pb2, router_pb2_grpc  # noqa: E402

MODEL = "hugginggpt/debug-sleep"


def run_recording_replica(ledger: str) -> None:
    """The real replica, with the sleep model recording each completed inference's key."""
    from tests.doubles import sleep_model

    original = sleep_model.SleepHandle._one

    async def recording(self: sleep_model.SleepHandle, request: sleep_model.Request) -> sleep_model.Outcome:
        outcome = await original(self, request)
        key = " ".join(i.text or "" for i in request.inputs).strip()
        fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{key}\t{os.getpid()}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return outcome

    sleep_model.SleepHandle._one = recording  # type: ignore[method-assign]
    from services.replica.__main__ import main

    asyncio.run(main(extra_models=sleep_model.sleep_model()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # One machine, loopback only: the services run open (HUGGINGGPT_SERVICE_OPEN) so the probes need no token.
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "HUGGINGGPT_SERVICE_OPEN": "true", **env}
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=full_env, stdout=out, stderr=out)


async def wait_for_replicas(stub: router_pb2_grpc.ModelRouterServiceStub, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            reply = await stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=2)
            if len(reply.replicas) >= count:
                return
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{count} replicas did not register within {seconds} s")


async def one(stub: router_pb2_grpc.ModelRouterServiceStub, key: str, sleep_s: float) -> tuple[str, str]:
    inference = router_pb2.Inference(model_id=MODEL, task_type="text-generation",
                                     inputs=[router_pb2.InferenceInput(name="text", text=key)])
    inference.parameters.update({"seconds": sleep_s})
    try:
        reply = await stub.Infer(router_pb2.InferRequest(inference=inference), timeout=60)
    except grpc.aio.AioRpcError as exc:
        return key, f"error {exc.code().name}: {exc.details()}"
    return key, reply.outcome.result.text


def scrape(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


async def run(requests: int, sleep_s: float, kill_after: float, per_replica: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="failover-"))
    ledger = work / "ledger.tsv"
    router_port, metrics_port = free_port(), free_port()
    router_env = {
        "HUGGINGGPT_ROUTER_LISTEN": f"127.0.0.1:{router_port}", "HUGGINGGPT_ROUTER_METRICS_PORT": str(metrics_port),
        "HUGGINGGPT_ROUTER_HEARTBEAT_SECONDS": "1", "HUGGINGGPT_ROUTER_REPLICA_TTL_SECONDS": "3",
        "HUGGINGGPT_INFERENCE_MODE": "local", "HUGGINGGPT_ARTIFACT_DIR": str(work / "artifacts"),
    }
    keep_logs = True
    procs: dict[str, subprocess.Popen[bytes]] = {
        "router": start(["-m", "services.router"], router_env, work / "router.log")
    }
    for n in range(2):
        port = free_port()
        procs[f"replica-{n}"] = start(["benchmarks/failover.py", "--replica", str(ledger)], {
            "HUGGINGGPT_REPLICA_LISTEN": f"127.0.0.1:{port}", "HUGGINGGPT_REPLICA_ID": f"replica-{n}",
            "HUGGINGGPT_ROUTER_ADDRESS": f"127.0.0.1:{router_port}",
            "HUGGINGGPT_REPLICA_MAX_IN_FLIGHT": str(per_replica), "HUGGINGGPT_REPLICA_DEVICE": "cpu",
            "HUGGINGGPT_REPLICA_BATCHING": "0", "HUGGINGGPT_ARTIFACT_DIR": str(work / "artifacts"),
        }, work / f"replica-{n}.log")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{router_port}") as channel:
            stub = router_pb2_grpc.ModelRouterServiceStub(channel)
            await wait_for_replicas(stub, 2, 60)
            keys = [f"req-{i:02d}-{uuid.uuid4().hex[:8]}" for i in range(requests)]
            started = time.monotonic()
            calls = [asyncio.create_task(one(stub, key, sleep_s)) for key in keys]
            await asyncio.sleep(kill_after)
            deployments = await stub.ListDeployments(router_pb2.ListDeploymentsRequest(), timeout=5)
            victim = max(deployments.replicas, key=lambda s: s.in_flight)
            in_flight_at_kill = {s.replica.replica_id: s.in_flight for s in deployments.replicas}
            procs[victim.replica.replica_id].send_signal(signal.SIGKILL)
            results = dict(await asyncio.gather(*calls))
            elapsed = time.monotonic() - started
        executions = Counter(line.split("\t")[0] for line in ledger.read_text().splitlines() if line)
        completed = sum(1 for key in keys if results[key].endswith(key))
        errors = sorted({v for v in results.values() if v.startswith("error")})
        details = {
            "killed": victim.replica.replica_id, "in_flight_at_kill": in_flight_at_kill,
            "reroutes": scrape(metrics_port, "hugginggpt_router_reroutes_total"),
            "executions": sum(executions.values()), "seconds": round(elapsed, 2),
            "sleep_s": sleep_s, "kill_after_s": kill_after, "errors": errors[:3],
        }
        if completed < requests:
            details["logs"] = str(work)  # kept for a look at what went wrong
        keep_logs = completed < requests
        return {
            "details": details,
            "result": {
                "requests": requests,
                "completed": completed,
                "lost": requests - completed,
                "duplicated": sum(1 for key in keys if executions[key] > 1),
            },
        }
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not keep_logs:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replica", metavar="LEDGER", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--sleep", type=float, default=2.0, help="seconds each inference takes")
    parser.add_argument("--kill-after", type=float, default=1.0, help="seconds after sending to SIGKILL")
    parser.add_argument("--max-in-flight", type=int, default=10, help="per replica")
    args = parser.parse_args()
    if args.replica:
        run_recording_replica(args.replica)
        return
    outcome = asyncio.run(run(args.requests, args.sleep, args.kill_after, args.max_in_flight))
    print(json.dumps(outcome["details"]))
    print(json.dumps(outcome["result"]))


if __name__ == "__main__":
    main()

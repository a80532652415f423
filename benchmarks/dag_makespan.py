"""Makespan of an 8-task DAG (two parallel chains and a join) across executor, router and replica processes.

Every task runs hugginggpt/debug-sleep for a known time, so the critical path (5 tasks) is known exactly;
the figure is the measured makespan over that critical path (target <= 1.05). `--stack real` uses
`python -m services.router` and `python -m services.replica`; `--stack fake` uses small stand-ins started
from this file (for when those services are not available). Every started process is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hugginggpt.server import ServerSpec, build_server  # noqa: E402
from hugginggpt.v1 import common_pb2 as pb  # noqa: E402
from hugginggpt.v1 import executor_pb2 as epb  # noqa: E402
from hugginggpt.v1 import executor_pb2_grpc, replica_pb2, replica_pb2_grpc, router_pb2, router_pb2_grpc  # noqa: E402

MODEL = "hugginggpt/debug-sleep"
CRITICAL_PATH_TASKS = 5  # 1 -> 2 -> 3 -> 7 -> 8 (and 4 -> 5 -> 6 -> 7 -> 8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dag(seconds: float) -> epb.ExecuteRequest:
    """Chains 1->2->3 and 4->5->6, joined by 7 (needs 3 and 6), then 8."""
    shape = {1: (), 2: (1,), 3: (2,), 4: (), 5: (4,), 6: (5,), 7: (3, 6), 8: (7,)}
    tasks, selections = [], []
    for task_id, deps in shape.items():
        arg = pb.Argument(name="text", task_ref=deps[0]) if deps else (
            pb.Argument(name="text", literal=f"start {task_id}"))
        task = pb.Task(id=task_id, type="text-generation", dependencies=list(deps), arguments=[arg])
        task.parameters.update({"seconds": seconds})
        tasks.append(task)
        selections.append(pb.Selection(task_id=task_id, chosen=pb.ModelCandidate(
            model_id=MODEL, site=pb.INFERENCE_SITE_LOCAL)))
    return epb.ExecuteRequest(tasks=tasks, selections=selections, mode=pb.INFERENCE_MODE_LOCAL)


# -- stand-ins for the router and the replica (--stack fake) ------------------------------------------------
class FakeReplica(replica_pb2_grpc.ModelReplicaServiceServicer):
    async def Predict(self, request, context):  # noqa: N802
        inference = request.inference
        seconds = float(inference.parameters.fields["seconds"].number_value)
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        text = f"slept {seconds:g} s: " + " ".join(i.text for i in inference.inputs)
        return replica_pb2.PredictResponse(outcome=router_pb2.InferenceOutcome(
            result=pb.TaskResult(text=text[:200]), replica_id="fake", site=pb.INFERENCE_SITE_LOCAL,
            inference_seconds=time.perf_counter() - started))


class FakeRouter(router_pb2_grpc.ModelRouterServiceServicer):
    def __init__(self, replica_address: str) -> None:
        self._channel = grpc.aio.insecure_channel(replica_address)
        self._stub = replica_pb2_grpc.ModelReplicaServiceStub(self._channel)

    async def Infer(self, request, context):  # noqa: N802
        reply = await self._stub.Predict(replica_pb2.PredictRequest(inference=request.inference),
                                         timeout=context.time_remaining())
        return router_pb2.InferResponse(outcome=reply.outcome)


async def serve_fake(role: str, port: int, peer: str) -> None:
    def register(server: grpc.aio.Server) -> None:
        if role == "replica":
            replica_pb2_grpc.add_ModelReplicaServiceServicer_to_server(FakeReplica(), server)
        else:
            router_pb2_grpc.add_ModelRouterServiceServicer_to_server(FakeRouter(peer), server)

    name = "hugginggpt.v1.ModelReplicaService" if role == "replica" else "hugginggpt.v1.ModelRouterService"
    server, _, _ = build_server(ServerSpec(f"127.0.0.1:{port}", [name], register))
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(1)


# -- the stack of processes ---------------------------------------------------------------------------------
class Stack:
    """Starts the processes, waits for health, and stops every one of them on exit."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports = {name: free_port() for name in ("executor", "router", "replica")}
        self.env = {**os.environ, "HUGGINGGPT_ARTIFACT_DIR": str(workdir / "artifacts"),
                    "HUGGINGGPT_INFERENCE_MODE": "local", "PYTHONPATH": str(ROOT),
                    "HUGGINGGPT_SERVICE_OPEN": "true"}  # loopback only; the client sends no token
        self.logs = workdir

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**self.env, **env},
                                           stdout=log, stderr=subprocess.STDOUT))

    def __enter__(self) -> Stack:
        router, replica, executor = (f"127.0.0.1:{self.ports[n]}" for n in ("router", "replica", "executor"))
        if self.kind == "real":
            self.start("router", ["-m", "services.router"], {"HUGGINGGPT_ROUTER_LISTEN": router,
                                                              "HUGGINGGPT_ROUTER_HEARTBEAT_SECONDS": "1",
                                                              "HUGGINGGPT_ROUTER_REPLICA_TTL_SECONDS": "5"})
            self.start("replica", ["-m", "tests.doubles.sleep_model"], {  # the real replica, plus the model
                "HUGGINGGPT_REPLICA_LISTEN": replica, "HUGGINGGPT_ROUTER_ADDRESS": router,
                "HUGGINGGPT_REPLICA_PRELOAD": MODEL})
        else:
            me = str(Path(__file__).resolve())
            self.start("replica", [me, "--serve-fake", "replica", str(self.ports["replica"]), ""], {})
            self.start("router", [me, "--serve-fake", "router", str(self.ports["router"]), replica], {})
        self.start("executor", ["-m", "services.executor"], {"HUGGINGGPT_EXECUTOR_LISTEN": executor,
                                                              "HUGGINGGPT_ROUTER_ADDRESS": router})
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    async def wait_healthy(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        for name, port in self.ports.items():
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                while True:
                    if any(p.poll() is not None for p in self.procs):
                        raise RuntimeError(f"a process exited early; see {self.logs}/*.log")
                    try:
                        reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                        if reply.status == health_pb2.HealthCheckResponse.SERVING:
                            break
                    except grpc.aio.AioRpcError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} not healthy after {timeout:.0f} s")
                    await asyncio.sleep(0.2)


async def run_once(stub: executor_pb2_grpc.ExecutorServiceStub, seconds: float) -> tuple[float, list]:
    started = time.perf_counter()
    events = [r.event async for r in stub.Execute(dag(seconds), timeout=120)]
    return time.perf_counter() - started, events


async def measure(stack: Stack, seconds: float, runs: int) -> dict[str, object]:
    await stack.wait_healthy()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports['executor']}") as channel:
        stub = executor_pb2_grpc.ExecutorServiceStub(channel)
        for _ in range(60):  # warm-up: the replica must have registered and loaded the model
            _, events = await run_once(stub, 0.0)
            if all(e.state == epb.TASK_STATE_SUCCEEDED for e in events if e.state != epb.TASK_STATE_STARTED):
                break
            await asyncio.sleep(0.5)
        else:
            failed = [e.reason for e in events if e.state == epb.TASK_STATE_FAILED]
            raise RuntimeError(f"warm-up never succeeded: {failed[:1]}")
        ratios, makespans = [], []
        for _ in range(runs):
            makespan, events = await run_once(stub, seconds)
            bad = [e for e in events if e.state in (epb.TASK_STATE_FAILED, epb.TASK_STATE_SKIPPED)]
            if bad:
                raise RuntimeError(f"task {bad[0].task_id} did not succeed: {bad[0].reason}")
            makespans.append(makespan)
            ratios.append(makespan / (CRITICAL_PATH_TASKS * seconds))
    return {"stack": stack.kind, "tasks": 8, "sleep_seconds_per_task": seconds,
            "critical_path_seconds": CRITICAL_PATH_TASKS * seconds, "runs": runs,
            "makespan_seconds": [round(m, 4) for m in makespans],
            "makespan_over_critical_path": round(statistics.median(ratios), 4),
            "worst_makespan_over_critical_path": round(max(ratios), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", choices=["auto", "real", "fake"], default="auto")
    parser.add_argument("--seconds", type=float, default=0.5, help="sleep per task")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve-fake", nargs=3, metavar=("ROLE", "PORT", "PEER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        role, port, peer = args.serve_fake
        asyncio.run(serve_fake(role, int(port), peer))
        return
    kind = args.stack
    if kind == "auto":
        real = all((ROOT / "services" / s / "__main__.py").exists() for s in ("router", "replica"))
        kind = "real" if real else "fake"
    with tempfile.TemporaryDirectory(prefix="dag-makespan-") as tmp, Stack(kind, Path(tmp)) as stack:
        try:
            result = asyncio.run(measure(stack, args.seconds, args.runs))
        except Exception:
            for log in sorted(Path(tmp).glob("*.log")):
                print(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Requests per second of 32 concurrent clients on MiniLM embeddings, dynamic batching on vs off.

Starts `python -m services.replica` twice as a separate process (once with HUGGINGGPT_REPLICA_BATCHING=1,
once with 0; same worker threads, same model, same inputs), waits until it reports SERVING (MiniLM
preloaded), then lets 32 concurrent clients each send REQUESTS_PER_CLIENT feature-extraction Predict
calls over gRPC. What is measured: end-to-end client-side throughput and latency through the real
servicer, batcher and model; the figure is batched RPS over unbatched RPS. Processes are stopped at the end.
"""

from __future__ import annotations

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
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hugginggpt.v1 import replica_pb2, replica_pb2_grpc, router_pb2  # noqa: E402

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
CLIENTS = 32
REQUESTS_PER_CLIENT = int(os.environ.get("BENCH_REQUESTS_PER_CLIENT", "24"))
WORDS = (
    "the quick brown fox jumps over a lazy dog while a model router sends requests to replicas "
    "that batch sentences for the encoder on a small machine"
).split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sentence(i: int) -> str:
    n = 8 + i % 12
    return " ".join(WORDS[(i + k) % len(WORDS)] for k in range(n))


def start(batching: bool, port: int, artifacts: str, metrics: int, backend: str) -> subprocess.Popen[bytes]:
    env = {
        "HUGGINGGPT_REPLICA_METRICS_PORT": str(metrics),
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HUGGINGGPT_SERVICE_OPEN": "true",  # one replica on loopback, called without a token
        "HUGGINGGPT_REPLICA_LISTEN": f"127.0.0.1:{port}",
        "HUGGINGGPT_REPLICA_PRELOAD": MODEL,
        "HUGGINGGPT_REPLICA_BATCHING": "1" if batching else "0",
        "HUGGINGGPT_ARTIFACT_DIR": artifacts,
        "HUGGINGGPT_REPLICA_ID": f"bench-{int(batching)}",
        "HUGGINGGPT_EMBEDDINGS_BACKEND": backend,
    }
    env.pop("HUGGINGGPT_ROUTER_ADDRESS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "services.replica"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_LOG", os.devnull), "a"),  # noqa: SIM115 - lives with the process
    )


async def wait_serving(channel: grpc.aio.Channel, proc: subprocess.Popen[bytes], limit: float = 120.0) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"replica exited with {proc.returncode}")
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.3)
    raise TimeoutError("replica did not become SERVING")


def request(i: int) -> replica_pb2.PredictRequest:
    return replica_pb2.PredictRequest(
        inference=router_pb2.Inference(
            model_id=MODEL,
            task_type="feature-extraction",
            inputs=[router_pb2.InferenceInput(name="text", text=sentence(i))],
        )
    )


async def load(stub: replica_pb2_grpc.ModelReplicaServiceStub) -> dict[str, float]:
    latencies: list[float] = []

    async def client(c: int) -> None:
        for r in range(REQUESTS_PER_CLIENT):
            t = time.perf_counter()
            reply = await stub.Predict(request(c * 1000 + r), timeout=120)
            assert len(reply.outcome.result.vector) == 384
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(client(c) for c in range(4)))  # warm-up
    latencies.clear()
    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


def mean_batch(metrics: int) -> float:
    """The replica's own mean batch size, from its Prometheus histogram (warm-up included)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("hugginggpt_replica_batch_size_") and MODEL in line:
            name = line.split("{", 1)[0].rsplit("_", 1)[-1]
            values[name] = float(line.rsplit(" ", 1)[-1])
    return round(values["sum"] / values["count"], 2) if values.get("count") else 1.0


async def run_mode(batching: bool, artifacts: str, backend: str) -> dict[str, float]:
    port, metrics = free_port(), free_port()
    proc = start(batching, port, artifacts, metrics, backend)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await wait_serving(channel, proc)
            figures = await load(replica_pb2_grpc.ModelReplicaServiceStub(channel))
            return {**figures, "mean_batch": mean_batch(metrics)}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def pair(backend: str, artifacts: str) -> dict[str, float]:
    off = await run_mode(False, artifacts, backend)
    print(json.dumps({"backend": backend, "batching": "off", **off}), flush=True)
    on = await run_mode(True, artifacts, backend)
    print(json.dumps({"backend": backend, "batching": "on", **on}), flush=True)
    return {"rps_batched": on["rps"], "rps_unbatched": off["rps"], "p50_ms_batched": on["p50_ms"],
            "p50_ms_unbatched": off["p50_ms"], "mean_batch_batched": on["mean_batch"],
            "batched_over_unbatched": round(on["rps"] / off["rps"], 2)}


async def main() -> None:
    """Both embedding backends of the replica, each batched and unbatched, in one run; the headline is
    the default backend (ONNX Runtime); torch is the backend a GPU replica uses."""
    with tempfile.TemporaryDirectory() as artifacts:
        by_backend = {backend: await pair(backend, artifacts) for backend in ("onnx", "torch")}
    default = by_backend["onnx"]
    print(json.dumps({"clients": CLIENTS, "model": MODEL, **default,
                      "torch_batched_over_unbatched": by_backend["torch"]["batched_over_unbatched"],
                      "onnx_batched_over_torch_batched": round(
                          default["rps_batched"] / by_backend["torch"]["rps_batched"], 2),
                      "by_backend": by_backend}))


if __name__ == "__main__":
    asyncio.run(main())

"""The demo's latency through the pods (`scripts/k8s_run.py`, images from `make k8s-run`) next to the same
through the local stack (`hugginggpt up`), in one run, one after the other (never both at once: 2 cores).

Both are asked with the same client (`hugginggpt ask` with the demo's two files) the same number of times; the
first ask is cold (models load on first use), the rest warm. Each answer must say the invoice's total and the
recording's words, else the run fails. Prints one JSON object last: per side the readiness time and the asks'
seconds, and the ratios pods / local.
    .venv/bin/python benchmarks/pods_vs_local.py [--asks 3] [--port-offset 5000]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from types import ModuleType

from hugginggpt_cli.launcher import Stack, StackSettings

REPO = Path(__file__).resolve().parents[1]


def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_run", REPO / "scripts" / "k8s_run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pods(asks: int) -> dict[str, object]:
    done = subprocess.run([sys.executable, str(REPO / "scripts/k8s_run.py"), "--asks", str(asks)], cwd=REPO,
                          stdout=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(done.stdout)
    if done.returncode:
        raise SystemExit(f"the pods' run failed (exit {done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"ready_s": max(result["ready_seconds"].values()), "ask_s": result["ask_seconds"]}


def local(asks: int, port_offset: int) -> dict[str, object]:
    k8s_run = runner()
    os.environ.update({"HUGGINGGPT_RUN_DIR": tempfile.mkdtemp(prefix="pods-vs-local-"),
                       "HUGGINGGPT_PORT_OFFSET": str(port_offset)})
    os.environ.pop("HUGGINGGPT_LLM_BASE_URL", None)  # the embedded default
    stack = Stack(StackSettings.from_env())
    try:
        started = time.monotonic()
        addresses = stack.up(out=sys.stderr)
        ready = round(time.monotonic() - started, 1)
        seconds = []
        for _ in range(asks):
            with contextlib.redirect_stdout(sys.stderr):  # the answers to stderr; the JSON alone last on stdout
                status, took = k8s_run.ask_demo(addresses["gateway"])
            if status:
                raise SystemExit(f"the local stack's answer failed (exit {status})")
            seconds.append(took)
    finally:
        stack.down()
    return {"ready_s": ready, "ask_s": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=3)
    parser.add_argument("--port-offset", type=int, default=5000)
    args = parser.parse_args()
    on_pods = pods(args.asks)
    on_local = local(args.asks, args.port_offset)
    pods_s, local_s = on_pods["ask_s"], on_local["ask_s"]
    assert isinstance(pods_s, list) and isinstance(local_s, list)
    result = {"pods": on_pods, "local": on_local, "first_ratio": round(pods_s[0] / local_s[0], 2)}
    if len(pods_s) > 1:
        result["warm_median_ratio"] = round(median(pods_s[1:]) / median(local_s[1:]), 2)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

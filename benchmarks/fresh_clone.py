"""Cold and warm time of the README's two commands (`make demo`, `make test`) on a fresh clone.

Clones this repository's HEAD into a temporary folder and runs, in order: `make demo` (cold: no .venv, and
with --cold, an empty pip cache, so llama-cpp-python is built from source, and an empty model cache, so the
GGUF is assembled and MiniLM exported again), `make demo` again (warm), `make test` (first run in a set-up
clone), `make test` again (warm); with --first test, the other way round. Debian packages are taken as
installed (setup installs them when missing; apt is not timed here). Last line: one JSON object,
{"demo_cold_s": ..., "demo_warm_s": ..., "test_first_s": ..., "test_warm_s": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(name: str, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n===== {name}: {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = round(time.perf_counter() - started, 1)
    print(f"{name}: exit {done.returncode} in {seconds} s", file=sys.stderr, flush=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed (exit {done.returncode}); see {log}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true",
                        help="also start from an empty pip cache and model cache (a new machine's state)")
    parser.add_argument("--keep", action="store_true", help="keep the clone (it holds a ~5 GB .venv)")
    parser.add_argument("--first", choices=["demo", "test"], default="demo",
                        help="which command meets the empty clone (the other then runs in a set-up clone)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fresh-clone-"))
    clone = work / "hugginggpt"
    log = work / "fresh_clone.log"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUGGINGGPT_")}
    if args.cold:
        env["PIP_CACHE_DIR"] = str(work / "pip-cache")
        env["HUGGINGGPT_CACHE_DIR"] = str(work / "model-cache")
    env["HUGGINGGPT_PORT_OFFSET"] = "3000"  # clear of a stack the developer may have running
    result: dict[str, object] = {"cold_caches": args.cold, "commit": subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True, check=True).stdout.strip()}
    try:
        order = ["demo", "test"] if args.first == "demo" else ["test", "demo"]
        for position, command in enumerate(order):
            first = "cold" if position == 0 else "first"  # the second command finds the clone set up
            result[f"{command}_{first}_s"] = timed(f"make {command} ({first})", ["make", command], clone, env, log)
            result[f"{command}_warm_s"] = timed(f"make {command} (warm)", ["make", command], clone, env, log)
    finally:
        print(f"log: {log}", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(clone, ignore_errors=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

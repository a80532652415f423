"""Time to the answer for a request for a type this deployment cannot run, with and without the availability.

Needs a running stack (`HUGGINGGPT_PORT_OFFSET=3000 hugginggpt up`, same environment when this runs). Its
gateway offers the planner only the runnable types (SelectorService.ListTaskTypes); a second gateway started here
on the stack's gateway port + 100, with HUGGINGGPT_GATEWAY_OFFER_RUNNABLE_ONLY=false, offers every type, as
before issue 14 item 5 (the type is planned and fails at selection). Each request goes to both, one after the
other; one JSON line per turn: first answer piece and whole turn in seconds, LLM calls, tasks, the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hugginggpt_cli.gateway_client import GatewayClient  # noqa: E402
from hugginggpt_cli.launcher import SERVICES, StackSettings, stack_env  # noqa: E402

REQUESTS = ["Generate an image of a cat."] * 3 + [
    "Translate 'good morning' into Spanish and draw a picture of the sun."]


async def turn(address: str, content: str) -> dict[str, Any]:
    started = time.perf_counter()
    first = None
    async with GatewayClient(address) as client:
        async for event in client.chat(content, timeout=600):
            if event.WhichOneof("event") == "answer_delta" and first is None:
                first = time.perf_counter() - started
            if event.WhichOneof("event") == "summary":
                summary = event.summary
    return {"request": content, "first_answer_s": round(first or -1.0, 2),
            "total_s": round(time.perf_counter() - started, 2), "llm_calls": summary.usage.calls,
            "tasks_succeeded": summary.tasks_succeeded, "tasks_failed": summary.tasks_failed,
            "answer": summary.answer}


async def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    settings = StackSettings.from_env()
    ours = f"127.0.0.1:{settings.port(SERVICES['gateway'][1])}"
    full = f"127.0.0.1:{settings.port(SERVICES['gateway'][1] + 100)}"
    env = {**stack_env(settings, "-"), "HUGGINGGPT_GATEWAY_LISTEN": full,
           "HUGGINGGPT_GATEWAY_OFFER_RUNNABLE_ONLY": "false"}
    with open(settings.run_dir / "gateway-full-catalogue.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "gateway"], env=env, stdout=log, stderr=log, cwd=ROOT)
        try:
            await asyncio.sleep(6)  # the second gateway starts
            for label, address in (("runnable only", ours), ("full catalogue", full)):
                for content in REQUESTS:
                    print(json.dumps({"gateway": label, **await turn(address, content)}), flush=True)
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    asyncio.run(main())

"""Planner latency on the configured LLM: cold vs warm prompt cache, prompt tokens, first task streamed vs plain."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Sequence
from contextlib import aclosing

from hugginggpt.domain import Artifact, Kind, Task, TaskTypeSpec, Turn
from hugginggpt.tasktypes import load_task_types
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig
from services.planner.embedded_llm import ensure_llm
from services.planner.planning import Planner

INVOICE = Artifact("artifact://b/invoice_text.png", "invoice_text.png", "image/png", 1, Kind.IMAGE)
SPEECH = Artifact("artifact://b/speech_fox.wav", "speech_fox.wav", "audio/wav", 1, Kind.AUDIO)
PHOTO = Artifact("artifact://b/photo.jpg", "photo.jpg", "image/jpeg", 1, Kind.IMAGE)
REQUESTS = [
    Turn("user", "What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list "
                 "the named entities in it.", (INVOICE, SPEECH)),
    Turn("user", "Describe photo.jpg and read the description aloud.", (PHOTO,)),
    Turn("user", "Translate 'the meeting moved to Friday' into German and summarize it.", ()),
    Turn("user", "Transcribe speech_fox.wav and translate the transcript into French.", (SPEECH,)),
]


async def timed_plan(planner: Planner, turn: Turn, types: Sequence[TaskTypeSpec]) -> tuple[float, int, int]:
    """Seconds, prompt tokens and LLM calls of one plan."""
    started = time.perf_counter()
    outcome = await planner.plan([turn], types)
    return time.perf_counter() - started, outcome.usage.prompt_tokens, outcome.usage.calls


async def first_task(planner: Planner, turn: Turn, types: Sequence[TaskTypeSpec]) -> float:
    started = time.perf_counter()
    async with aclosing(planner.stream_plan([turn], types)) as events:
        async for event in events:
            if isinstance(event, Task):
                return time.perf_counter() - started
    return time.perf_counter() - started


async def measure(n: int) -> dict[str, object]:
    config = PlannerConfig.from_env()
    types = list(load_task_types().values())
    async with ensure_llm(config.llm) as settings:
        from dataclasses import replace

        deps = build_planner(replace(config, llm=settings), load_task_types())
        planner = deps.planner
        turns = REQUESTS[:n]
        rng = random.Random(7)
        cold, warm, tokens, plain, streamed, calls = [], [], [], [], [], []
        for turn in turns:
            # A never-seen order of the task types makes a never-seen system prefix: a cold prompt cache.
            shuffled = rng.sample(types, len(types))
            seconds, _, _ = await timed_plan(planner, turn, shuffled)
            cold.append(seconds)
        await timed_plan(planner, turns[0], types)  # warms the standard prefix
        for turn in turns:
            await timed_plan(planner, turn, types)  # this request's demos too
            seconds, prompt, used = await timed_plan(planner, turn, types)
            calls.append(used)
            warm.append(seconds)
            tokens.append(prompt)
            plain.append(seconds)  # without streaming, the first task can start only once the plan is done
            streamed.append(await first_task(planner, turn, types))
        await deps.close()
    asked = [i for i, used in enumerate(calls) if used]  # plans the LLM wrote part of (the rest needed no call)

    def median(values: list[float], only: list[int] | None = None) -> float:
        picked = [values[i] for i in only] if only is not None else values
        return round(statistics.median(picked), 3) if picked else 0.0

    return {
        "machine": "2-core x86_64 VM, no GPU", "model": settings.model, "guide": config.guide,
        "requests": len(turns), "llm_calls_per_plan": calls,
        "cold_s": [round(x, 3) for x in cold], "warm_s": [round(x, 3) for x in warm],
        "cold_median_s": median(cold), "warm_median_s": median(warm),
        "cold_median_s_llm_plans": median(cold, asked), "warm_median_s_llm_plans": median(warm, asked),
        "prompt_tokens_median_llm_plans": int(median([float(t) for t in tokens], asked)),
        "first_task_plain_median_s": median(plain),
        "first_task_streaming_median_s": median(streamed),
        "first_task_streaming_s": [round(x, 3) for x in streamed],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4, help="how many of the built-in requests to time")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(max(1, min(args.requests, len(REQUESTS)))))))


if __name__ == "__main__":
    main()

"""Unit tests of the replica's dynamic batcher."""

from __future__ import annotations

import asyncio

from hugginggpt.errors import InvalidRequest, ModelFailed
from services.replica.backends.base import Outcome
from services.replica.batching import DynamicBatcher
from services.replica.results import Input, Request, Result


def _req(text: str) -> Request:
    return Request("m", "feature-extraction", (Input("text", text=text),))


class Recorder:
    def __init__(self, delay: float = 0.02, fail_on: str = "", crash: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.delay, self.fail_on, self.crash = delay, fail_on, crash

    async def __call__(self, batch: list[Request]) -> list[Outcome]:
        self.batches.append([r.inputs[0].text or "" for r in batch])
        await asyncio.sleep(self.delay)
        if self.crash:
            raise RuntimeError("boom")
        return [
            InvalidRequest("bad") if r.inputs[0].text == self.fail_on else Result(text=r.inputs[0].text or "")
            for r in batch
        ]


async def test_concurrent_requests_are_batched_and_answered_in_order() -> None:
    run = Recorder()
    batcher = DynamicBatcher(run, max_batch=8, max_delay_seconds=0.01)
    outcomes = await asyncio.gather(*(batcher.submit(_req(str(i))) for i in range(20)))
    assert [o.text for o in outcomes if isinstance(o, Result)] == [str(i) for i in range(20)]
    assert max(len(b) for b in run.batches) == 8  # never above max_batch
    assert len(run.batches) <= 4  # 20 requests in at most ceil(20/8)+1 batches, not 20 calls
    await batcher.close()


async def test_a_lone_request_waits_at_most_the_queue_delay() -> None:
    run = Recorder(delay=0.0)
    batcher = DynamicBatcher(run, max_batch=32, max_delay_seconds=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await batcher.submit(_req("solo"))
    assert isinstance(outcome, Result) and outcome.text == "solo"
    assert loop.time() - started < 0.5
    await batcher.close()


async def test_one_bad_request_fails_alone() -> None:
    batcher = DynamicBatcher(Recorder(fail_on="2"), max_batch=8, max_delay_seconds=0.01)
    outcomes = await asyncio.gather(*(batcher.submit(_req(str(i))) for i in range(4)))
    assert isinstance(outcomes[2], InvalidRequest)
    assert all(isinstance(o, Result) for i, o in enumerate(outcomes) if i != 2)
    await batcher.close()


async def test_a_crashing_batch_fails_its_requests_and_the_worker_survives() -> None:
    run = Recorder(crash=True)
    batcher = DynamicBatcher(run, max_batch=4, max_delay_seconds=0.0)
    first = await batcher.submit(_req("a"))
    assert isinstance(first, ModelFailed) and "boom" in first.message
    run.crash = False
    second = await batcher.submit(_req("b"))
    assert isinstance(second, Result) and second.text == "b"
    await batcher.close()


async def test_callers_that_gave_up_are_skipped() -> None:
    run = Recorder(delay=0.1)
    batcher = DynamicBatcher(run, max_batch=1, max_delay_seconds=0.0)
    first = asyncio.create_task(batcher.submit(_req("first")))
    await asyncio.sleep(0.01)
    abandoned = asyncio.create_task(batcher.submit(_req("abandoned")))
    await asyncio.sleep(0.01)
    abandoned.cancel()
    await first
    await batcher.submit(_req("last"))
    assert ["abandoned"] not in run.batches
    await batcher.close()


async def test_a_file_that_crashes_its_batch_fails_alone_and_its_batch_mates_succeed() -> None:
    async def run(batch: list[Request]) -> list[Outcome]:
        if any(r.inputs[0].text == "bomb" for r in batch):
            raise MemoryError("a decompression bomb")
        return [Result(text=r.inputs[0].text or "") for r in batch]

    batcher = DynamicBatcher(run, max_batch=8, max_delay_seconds=0.05)
    outcomes = await asyncio.gather(*(batcher.submit(_req(t)) for t in ("cat", "bomb", "dog")))
    assert isinstance(outcomes[1], ModelFailed) and "decompression bomb" in outcomes[1].message
    assert [o.text for o in (outcomes[0], outcomes[2]) if isinstance(o, Result)] == ["cat", "dog"]
    await batcher.close()

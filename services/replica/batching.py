"""A per-model dynamic batcher like Triton's: gather up to max_batch within max_delay, run once."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

from prometheus_client import Histogram

from hugginggpt.errors import ModelFailed
from services.replica.backends.base import Outcome
from services.replica.results import Request

BATCH_SIZE = Histogram(
    "hugginggpt_replica_batch_size",
    "Requests per model call",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
RunBatch = Callable[[list[Request]], Awaitable[list[Outcome]]]


class DynamicBatcher:
    """Queues requests for one model; a single worker runs them in batches, so batches form while one runs."""

    def __init__(self, run: RunBatch, max_batch: int, max_delay_seconds: float, name: str = "") -> None:
        self._sizes = BATCH_SIZE.labels(model=name or "unnamed")
        self._run = run
        self.max_batch = max(1, max_batch)
        self.max_delay = max(0.0, max_delay_seconds)
        self._queue: asyncio.Queue[tuple[Request, asyncio.Future[Outcome]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # recent sizes, for tests and debugging

    async def submit(self, request: Request) -> Outcome:
        """Queues one request and waits for its outcome."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        await self._queue.put((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return await future

    async def close(self) -> None:
        """Stops the worker; queued requests fail."""
        if self._worker:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(ModelFailed("the model was unloaded while the request waited"))

    async def _work(self) -> None:
        while True:
            batch = await self._collect()
            live = [(r, f) for r, f in batch if not f.done()]  # skip callers that gave up
            if not live:
                continue
            self.batch_sizes.append(len(live))
            self._sizes.observe(len(live))
            outcomes = await self._run_guarded([r for r, _ in live])
            for (_, future), outcome in zip(live, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    async def _run_guarded(self, batch: list[Request]) -> list[Outcome]:
        """The batch's outcomes; when the batch as a whole raises, each request runs alone, so one bad
        request fails only itself and its batch-mates still get their results."""
        try:
            return await self._run(batch)
        except Exception as exc:  # noqa: BLE001 - the worker lives on
            if len(batch) == 1:
                return [ModelFailed(f"the model failed: {type(exc).__name__}: {exc}")]
        return [(await self._run_guarded([request]))[0] for request in batch]

    async def _collect(self) -> list[tuple[Request, asyncio.Future[Outcome]]]:
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_delay
        while len(batch) < self.max_batch:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except TimeoutError:
                break
        return batch

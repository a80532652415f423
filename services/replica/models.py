"""Lazy loading, a memory budget with LRU eviction, and per-model batchers: the replica's core (no gRPC)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hugginggpt.domain import ModelStatus
from hugginggpt.errors import HuggingGPTError, InvalidRequest, NotFound, ResourceExhausted
from services.replica.backends import backend_for
from services.replica.backends.base import Backend, BackendContext, Handle, Outcome
from services.replica.batching import DynamicBatcher
from services.replica.catalog import Entry, ReplicaCatalog
from services.replica.errors import ModelBroken
from services.replica.results import Request

logger = logging.getLogger(__name__)
MB = 1024 * 1024
RETRY_FAILED_AFTER_S = 30.0


@dataclass
class Loaded:
    entry: Entry
    handle: Handle
    memory_bytes: int
    batcher: DynamicBatcher | None
    lock: asyncio.Lock  # serialises calls into a handle that is not thread-safe, without holding a thread


def resident_bytes() -> int:
    """This process's resident memory, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class ModelManager:
    """Loads models on first use, evicts the least recently used over the budget, runs batches in a pool."""

    def __init__(
        self,
        catalog: ReplicaCatalog,
        ctx: BackendContext,
        pool: ThreadPoolExecutor,
        budget_bytes: int,
        max_batch: int,
        max_delay_s: float,
        batching: bool,
        resolve: Callable[[str], Backend] = backend_for,
    ) -> None:
        self._resolve = resolve
        self.catalog, self.ctx, self.pool = catalog, ctx, pool
        self.budget_bytes = budget_bytes
        self.max_batch, self.max_delay_s, self.batching = max_batch, max_delay_s, batching
        self._loaded: OrderedDict[str, Loaded] = OrderedDict()
        self._failed: dict[str, tuple[HuggingGPTError, float]] = {}
        self._load_lock = asyncio.Lock()

    def states(self) -> list[ModelStatus]:
        out = []
        for e in self.catalog.entries():
            loaded = self._loaded.get(e.model_id)
            failed = self._failed.get(e.model_id)
            out.append(
                ModelStatus(
                    e.model_id,
                    e.task_types,
                    loaded is not None,
                    loaded.memory_bytes if loaded else e.memory_mb * MB,
                    failed[0].message if failed else "",
                )
            )
        return out

    def is_loaded(self, model_id: str) -> bool:
        return model_id in self._loaded

    async def predict(self, request: Request) -> Outcome:
        entry = self.catalog.get(request.model_id, request.task_type)
        if request.task_type and entry.backend != "transformers" and request.task_type not in entry.task_types:
            raise InvalidRequest(f"{entry.model_id} serves {', '.join(entry.task_types)}, not {request.task_type}")
        model, _ = await self.ensure(entry.model_id, request.task_type)
        self._loaded.move_to_end(entry.model_id, last=True)
        if model.batcher is not None:
            return await model.batcher.submit(request)
        return (await self._run(model, [request]))[0]

    async def ensure(self, model_id: str, task_type: str = "") -> tuple[Loaded, float]:
        """The loaded model, loading it first (seconds spent; 0 when it was loaded already)."""
        if model_id in self._loaded:
            return self._loaded[model_id], 0.0
        entry = self.catalog.get(model_id, task_type)
        async with self._load_lock:
            if model_id in self._loaded:
                return self._loaded[model_id], 0.0
            failed = self._failed.get(model_id)
            if failed and time.monotonic() - failed[1] < RETRY_FAILED_AFTER_S:
                raise failed[0]
            await self._make_room(entry.memory_mb * MB or await self._estimate(entry))
            started = time.perf_counter()
            model = await self._load(entry, task_type or (entry.task_types[0] if entry.task_types else ""))
            seconds = time.perf_counter() - started
            self._loaded[model_id] = model
            if model.memory_bytes > self.budget_bytes:  # the estimate was unknown or too low
                await self.unload(model_id)
                raise self._over_budget(model.memory_bytes)
            self._failed.pop(model_id, None)
            logger.info("loaded %s in %.2f s (%.0f MB)", model_id, seconds, model.memory_bytes / MB)
            await self._make_room(0, keep=model_id)
            return model, seconds

    async def unload(self, model_id: str) -> bool:
        model = self._loaded.pop(model_id, None)
        if model is None:
            return False
        if model.batcher:
            await model.batcher.close()
        await asyncio.get_running_loop().run_in_executor(self.pool, model.handle.close)
        logger.info("unloaded %s", model_id)
        return True

    async def close(self) -> None:
        for model_id in list(self._loaded):
            await self.unload(model_id)

    async def _load(self, entry: Entry, task_type: str) -> Loaded:
        loop = asyncio.get_running_loop()
        before = resident_bytes()
        try:
            backend = self._resolve(entry.backend)
            handle = await loop.run_in_executor(self.pool, backend.load, entry.model_id, task_type, self.ctx)
        except HuggingGPTError as exc:
            self._remember_failure(entry, exc)
            raise
        except ImportError as exc:
            self._remember_failure(entry, NotFound(f"{entry.model_id} needs a package that is not installed: {exc}"))
            raise self._failed[entry.model_id][0] from None
        except Exception as exc:  # noqa: BLE001 - a broken model must not take the replica down
            logger.exception("loading %s failed", entry.model_id)
            self._remember_failure(entry, ModelBroken(f"{entry.model_id} failed to load: {type(exc).__name__}: {exc}"))
            raise self._failed[entry.model_id][0] from None
        memory = handle.memory_bytes or max(resident_bytes() - before, MB)
        loaded = Loaded(entry, handle, memory, None, asyncio.Lock())
        size = min(self.max_batch, handle.max_batch)
        if self.batching and size > 1:
            loaded.batcher = DynamicBatcher(lambda b: self._run(loaded, b), size, self.max_delay_s, entry.model_id)
        return loaded

    def _remember_failure(self, entry: Entry, exc: HuggingGPTError) -> None:
        if entry.backend == "transformers" and isinstance(exc, NotFound):
            self.catalog.forget(entry.model_id)  # an id that does not exist is not listed as a broken model
            return
        self._failed[entry.model_id] = (exc, time.monotonic())

    async def _run(self, model: Loaded, batch: list[Request]) -> list[Outcome]:
        handle = model.handle
        if handle.is_async:
            return await handle.apredict(batch)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        if handle.thread_safe:
            outcomes = await loop.run_in_executor(self.pool, handle.predict, batch)
        else:
            async with model.lock:
                outcomes = await loop.run_in_executor(self.pool, handle.predict, batch)
        logger.debug("ran a batch of %d in %.1f ms", len(batch), (time.perf_counter() - started) * 1000)
        return outcomes

    async def _estimate(self, entry: Entry) -> int:
        """Bytes an on-demand model would take, from its files, before anything is loaded (0: unknown)."""
        if entry.backend != "transformers":
            return 0
        backend = self._resolve(entry.backend)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, backend.estimate_bytes, entry.model_id, self.ctx)
        except HuggingGPTError as exc:
            self._remember_failure(entry, exc)
            raise

    def _over_budget(self, needed: int) -> ResourceExhausted:
        return ResourceExhausted(
            f"a model of ~{needed // MB} MB exceeds the replica's memory budget "
            f"of {self.budget_bytes // MB} MB (HUGGINGGPT_REPLICA_MEMORY_BUDGET_MB)"
        )

    async def _make_room(self, needed: int, keep: str = "") -> None:
        """Evicts least recently used models until the loaded ones plus `needed` fit in the budget; refuses
        (evicting nothing) a model that could not fit even alone."""
        if needed > self.budget_bytes:
            raise self._over_budget(needed)
        while self._used() + needed > self.budget_bytes:
            victims = [m for m in self._loaded if m != keep]
            if not victims:
                return
            logger.info("evicting %s to stay under the memory budget", victims[0])
            await self.unload(victims[0])

    def _used(self) -> int:
        return sum(m.memory_bytes for m in self._loaded.values())

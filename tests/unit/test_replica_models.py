"""Unit tests of the replica's model manager: lazy loading, LRU eviction, errors that stay per model."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.errors import HuggingGPTError, InvalidRequest, ModelFailed, NotFound, ResourceExhausted
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.catalog import Entry, ReplicaCatalog
from services.replica.models import MB, ModelManager
from services.replica.results import Input, Request, Result
from tests.doubles.sleep_model import SLEEP_ENTRY, SLEEP_MODEL


class FakeHandle(Handle):
    def __init__(self, model_id: str, size_mb: int, batch: int) -> None:
        self.model_id, self.memory_bytes, self.max_batch = model_id, size_mb * MB, batch
        self.closed = False
        self.calls: list[int] = []

    def predict_one(self, request: Request) -> Result:
        if request.inputs and request.inputs[0].text == "raise":
            raise ZeroDivisionError("division by zero inside the model")
        return Result(text=f"{self.model_id}:{request.inputs[0].text}")

    def predict(self, batch: list[Request]) -> list:  # type: ignore[type-arg]
        self.calls.append(len(batch))
        return super().predict(batch)

    def close(self) -> None:
        self.closed = True


class FakeBackend(Backend):
    def __init__(self) -> None:
        self.loads: list[str] = []
        self.handles: dict[str, FakeHandle] = {}

    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        self.loads.append(model_id)
        if model_id == "broken":
            raise RuntimeError("weights file is truncated")
        handle = FakeHandle(model_id, 100, batch=8 if model_id == "batchy" else 1)
        self.handles[model_id] = handle
        return handle


def _manager(tmp_path: Path, budget_mb: int = 250) -> tuple[ModelManager, FakeBackend]:
    backend = FakeBackend()
    ids = ["a", "b", "c", "broken", "batchy"]
    catalog = ReplicaCatalog([Entry(i, ("text-generation",), "fake", 100) for i in ids], allow_any=False)
    ctx = BackendContext(ArtifactStore(tmp_path, MB))
    manager = ModelManager(catalog, ctx, ThreadPoolExecutor(2), budget_mb * MB, 8, 0.01, True, lambda _n: backend)
    return manager, backend


def _req(model: str, text: str = "hi", task: str = "text-generation") -> Request:
    return Request(model, task, (Input("text", text=text),))


async def test_models_load_lazily_on_first_use_only(tmp_path: Path) -> None:
    manager, backend = _manager(tmp_path)
    assert backend.loads == [] and not any(s.loaded for s in manager.states())
    assert (await manager.predict(_req("a"))).text == "a:hi"  # type: ignore[union-attr]
    await manager.predict(_req("a"))
    assert backend.loads == ["a"]


async def test_least_recently_used_model_is_evicted_over_budget(tmp_path: Path) -> None:
    manager, backend = _manager(tmp_path, budget_mb=250)
    await manager.predict(_req("a"))
    await manager.predict(_req("b"))
    await manager.predict(_req("a"))  # a is now more recent than b
    await manager.predict(_req("c"))
    loaded = {s.model_id for s in manager.states() if s.loaded}
    assert loaded == {"a", "c"}
    assert backend.handles["b"].closed


async def test_concurrent_first_requests_load_once(tmp_path: Path) -> None:
    manager, backend = _manager(tmp_path)
    await asyncio.gather(*(manager.predict(_req("a")) for _ in range(5)))
    assert backend.loads == ["a"]


async def test_batchable_models_get_batches(tmp_path: Path) -> None:
    manager, backend = _manager(tmp_path)
    await manager.ensure("batchy")
    await asyncio.gather(*(manager.predict(_req("batchy", str(i))) for i in range(16)))
    assert max(backend.handles["batchy"].calls) > 1


async def test_broken_model_is_unavailable_but_others_serve(tmp_path: Path) -> None:
    manager, _ = _manager(tmp_path)
    with pytest.raises(HuggingGPTError) as caught:
        await manager.predict(_req("broken"))
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "truncated" in caught.value.message
    state = next(s for s in manager.states() if s.model_id == "broken")
    assert not state.loaded and "truncated" in state.error
    assert (await manager.predict(_req("a"))).text == "a:hi"  # type: ignore[union-attr]


async def test_model_that_raises_fails_that_request_only(tmp_path: Path) -> None:
    manager, _ = _manager(tmp_path)
    outcome = await manager.predict(_req("a", "raise"))
    assert isinstance(outcome, ModelFailed) and "ZeroDivisionError" in outcome.message
    assert (await manager.predict(_req("a"))).text == "a:hi"  # type: ignore[union-attr]


async def test_unknown_model_id_is_not_found(tmp_path: Path) -> None:
    manager, _ = _manager(tmp_path)
    with pytest.raises(NotFound, match="not served"):
        await manager.predict(_req("nobody/nothing"))


async def test_task_the_model_does_not_serve_is_invalid(tmp_path: Path) -> None:
    manager, _ = _manager(tmp_path)
    with pytest.raises(InvalidRequest, match="serves text-generation"):
        await manager.predict(_req("a", task="image-classification"))


async def test_unload_frees_and_reports(tmp_path: Path) -> None:
    manager, backend = _manager(tmp_path)
    await manager.predict(_req("a"))
    assert await manager.unload("a") is True
    assert await manager.unload("a") is False
    assert backend.handles["a"].closed


def test_a_test_model_is_listed_only_when_its_caller_adds_it() -> None:
    assert SLEEP_MODEL not in {e.model_id for e in ReplicaCatalog.default().entries()}
    listed = {e.model_id for e in ReplicaCatalog.default(extra=[SLEEP_ENTRY]).entries()}
    assert SLEEP_MODEL in listed and "openai/whisper-tiny.en" in listed
    assert "google/mediapipe-pose" not in listed  # served by the mediapipe replica
    with pytest.raises(NotFound):
        ReplicaCatalog.default().get(SLEEP_MODEL)


async def test_preload_loads_what_it_can_and_records_the_rest(tmp_path: Path) -> None:
    from services.replica.replica import Replica

    manager, _ = _manager(tmp_path)
    replica = Replica("r", manager, 4)
    await replica.preload(("broken", "a"))
    states = {s.model_id: s for s in replica.models()}
    assert states["a"].loaded and not states["broken"].loaded and states["broken"].error


class CountingHandle(Handle):
    """Records how many calls overlap; sleeps so overlaps would show."""

    def __init__(self, thread_safe: bool) -> None:
        self.thread_safe = thread_safe
        self.active = self.peak = 0
        self.guard = threading.Lock()

    def predict_one(self, request: Request) -> Result:
        with self.guard:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.05)
        with self.guard:
            self.active -= 1
        return Result(text="ok")


@pytest.mark.parametrize("thread_safe", [False, True])
async def test_calls_into_unsafe_models_never_overlap(tmp_path: Path, thread_safe: bool) -> None:
    handle = CountingHandle(thread_safe)

    class OneBackend(Backend):
        def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
            return handle

    catalog = ReplicaCatalog([Entry("m", ("text-generation",), "fake", 1)], allow_any=False)
    ctx = BackendContext(ArtifactStore(tmp_path, MB))
    manager = ModelManager(catalog, ctx, ThreadPoolExecutor(2), 100 * MB, 8, 0.0, False, lambda _n: OneBackend())
    await asyncio.gather(*(manager.predict(_req("m")) for _ in range(4)))
    assert handle.peak == (2 if thread_safe else 1)


def test_hub_models_on_demand_are_off_by_default() -> None:
    with pytest.raises(NotFound, match="HUGGINGGPT_REPLICA_ALLOW_ANY_MODEL"):
        ReplicaCatalog.default().get("someone/a-70b-model", "text-generation")
    assert ReplicaCatalog.default(allow_any=True).get("someone/small", "text-generation")


class SizedPipelines(Backend):
    """The real size estimate of the transformers backend; loading only records the call."""

    def __init__(self, loaded_mb: int = 1) -> None:
        from services.replica.backends.hf_pipeline import PipelineBackend

        self.estimate = PipelineBackend().estimate_bytes
        self.loads: list[str] = []
        self.loaded_mb = loaded_mb

    def estimate_bytes(self, model_id: str, ctx: BackendContext) -> int:
        return self.estimate(model_id, ctx)

    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        self.loads.append(model_id)
        return FakeHandle(model_id, self.loaded_mb, batch=1)


def _on_demand(tmp_path: Path, backend: Backend, budget_mb: int) -> ModelManager:
    catalog = ReplicaCatalog([Entry("small", ("text-generation",), "fake", 1)], allow_any=True)
    ctx = BackendContext(ArtifactStore(tmp_path / "artifacts", MB), local_model_roots=(str(tmp_path),))
    return ModelManager(catalog, ctx, ThreadPoolExecutor(2), budget_mb * MB, 8, 0.0, False, lambda _n: backend)


async def test_an_on_demand_model_larger_than_the_budget_is_refused_before_loading(tmp_path: Path) -> None:
    model = tmp_path / "big-model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"\0" * 3 * MB)
    (model / "pytorch_model.bin").write_bytes(b"\0" * 3 * MB)  # the same weights again: not counted twice
    backend = SizedPipelines()
    manager = _on_demand(tmp_path, backend, budget_mb=5)
    await manager.predict(_req("small"))
    assert backend.estimate(str(model), manager.ctx) == 3 * MB
    manager.budget_bytes = 2 * MB
    with pytest.raises(ResourceExhausted, match="~3 MB exceeds the replica's memory budget of 2 MB"):
        await manager.predict(_req(str(model)))
    assert backend.loads == ["small"] and manager.is_loaded("small")  # nothing loaded, nothing evicted


async def test_an_on_demand_model_that_turns_out_too_big_is_unloaded_and_refused(tmp_path: Path) -> None:
    backend = SizedPipelines(loaded_mb=10)  # no files to size it by (offline Hub id): measured after loading
    manager = _on_demand(tmp_path, backend, budget_mb=5)
    with pytest.raises(ResourceExhausted, match="HUGGINGGPT_REPLICA_MEMORY_BUDGET_MB"):
        await manager.predict(_req("someone/unknown-size"))
    assert not manager.is_loaded("someone/unknown-size")

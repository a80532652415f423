"""Unit tests of the routing core with a scripted transport and hosted backend (no grpc, no network)."""

from __future__ import annotations

import asyncio

import pytest

from hugginggpt.domain import InferenceMode, ModelStatus
from hugginggpt.errors import NotFound, ResourceExhausted, Unavailable
from hugginggpt.v1 import common_pb2, router_pb2
from services.router.registry import Registry
from services.router.routing import ReplicaBusy, ReplicaGone, Router


class Transport:
    """Scripted replicas: per address, a delay and an optional failure; records every call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.delay: dict[str, float] = {}
        self.fail: dict[str, Exception] = {}
        self.running: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    async def predict(self, address: str, inference: router_pb2.Inference, timeout: float
                      ) -> router_pb2.InferenceOutcome:
        self.calls.append(address)
        self.running[address] = self.running.get(address, 0) + 1
        self.peak[address] = max(self.peak.get(address, 0), self.running[address])
        try:
            await asyncio.sleep(self.delay.get(address, 0.0))
            if address in self.fail:
                raise self.fail[address]
            return router_pb2.InferenceOutcome(result=common_pb2.TaskResult(text=f"from {address}"))
        finally:
            self.running[address] -= 1


class Hosted:
    def __init__(self, available: bool = True) -> None:
        self.available = available
        self.calls = 0

    async def infer(self, inference: router_pb2.Inference, timeout: float) -> router_pb2.InferenceOutcome:
        self.calls += 1
        return router_pb2.InferenceOutcome(result=common_pb2.TaskResult(text="hosted"))


def inference(model: str = "m", mode: int = 0) -> router_pb2.Inference:
    return router_pb2.Inference(model_id=model, task_type="text-classification", mode=mode)  # type: ignore[arg-type]


async def make(mode: InferenceMode = InferenceMode.LOCAL, hosted: Hosted | None = None, replicas: int = 2,
               max_in_flight: int = 4, loaded_on: str = "") -> tuple[Router, Transport]:
    transport = Transport()
    router = Router(Registry(ttl_seconds=30), transport, hosted, mode)
    for n in range(replicas):
        rid = f"r{n}"
        await router.register(rid, rid, [ModelStatus("m", loaded=(rid == loaded_on))], max_in_flight)
    return router, transport


async def test_routes_to_the_replica_that_holds_the_model() -> None:
    router, transport = await make(loaded_on="r1")
    outcome = await router.infer(inference(), 5)
    assert outcome.replica_id == "r1"
    assert outcome.site == common_pb2.INFERENCE_SITE_LOCAL
    assert transport.calls == ["r1"]


async def test_concurrent_first_requests_colocate_on_the_replica_that_loads_the_model() -> None:
    router, transport = await make()
    transport.delay = {"r0": 0.05, "r1": 0.05}
    await asyncio.gather(*(router.infer(inference(), 5) for _ in range(3)))
    assert set(transport.calls) == {"r0"}


async def test_in_flight_is_bounded_per_replica_and_excess_requests_queue() -> None:
    router, transport = await make(replicas=1, max_in_flight=2)
    transport.delay = {"r0": 0.05}
    outcomes = await asyncio.gather(*(router.infer(inference(), 5) for _ in range(6)))
    assert len(outcomes) == 6
    assert transport.peak["r0"] == 2
    assert router.registry.get("r0").in_flight == 0  # type: ignore[union-attr]


async def test_resource_exhausted_when_the_wait_would_outlast_the_deadline() -> None:
    router, transport = await make(replicas=1, max_in_flight=1)
    transport.delay = {"r0": 0.3}
    await router.infer(inference(), 5)  # teaches the router the model's latency
    first = asyncio.create_task(router.infer(inference(), 5))
    await asyncio.sleep(0.01)
    with pytest.raises(ResourceExhausted, match="in-flight limit .*r0 1/1"):
        await router.infer(inference(), 0.2)
    await first


async def test_replica_dying_mid_request_is_rerouted_exactly_once() -> None:
    router, transport = await make()
    transport.fail = {"r0": ReplicaGone("connection reset")}
    outcome = await router.infer(inference(), 5)
    assert transport.calls == ["r0", "r1"]
    assert outcome.replica_id == "r1"
    assert router.registry.get("r0").suspect  # type: ignore[union-attr]
    assert [r.replica_id for r in router.registry.capable("m", "t")] == ["r1"]


async def test_busy_replica_is_skipped_without_being_suspected() -> None:
    router, transport = await make()
    transport.fail = {"r0": ReplicaBusy("queue full")}
    outcome = await router.infer(inference(), 5)
    assert outcome.replica_id == "r1"
    assert not router.registry.get("r0").suspect  # type: ignore[union-attr]


async def test_every_replica_refusing_for_capacity_is_resource_exhausted() -> None:
    router, transport = await make()
    transport.fail = {"r0": ReplicaBusy("queue full"), "r1": ReplicaBusy("queue full")}
    with pytest.raises(ResourceExhausted, match="refused it for capacity"):
        await router.infer(inference(), 5)
    assert sorted(transport.calls) == ["r0", "r1"]


async def test_every_replica_failing_is_unavailable_not_a_hang() -> None:
    router, transport = await make()
    transport.fail = {"r0": ReplicaGone("reset"), "r1": ReplicaGone("reset")}
    with pytest.raises(Unavailable, match="every replica serving m"):
        await router.infer(inference(), 5)
    assert sorted(transport.calls) == ["r0", "r1"]


async def test_replica_errors_that_are_not_deaths_are_not_retried() -> None:
    router, transport = await make()
    transport.fail = {"r0": ValueError("model raised")}
    with pytest.raises(ValueError):
        await router.infer(inference(), 5)
    assert transport.calls == ["r0"]


async def test_unknown_model_is_not_found_naming_what_is_deployed() -> None:
    router, _ = await make()
    with pytest.raises(NotFound, match=r"model nope/x .*not deployed.*deployed models: m"):
        await router.infer(inference("nope/x"), 5)


async def test_no_replica_at_all_is_unavailable_with_a_remedy() -> None:
    router, _ = await make(replicas=0)
    with pytest.raises(Unavailable, match="no model replica is registered.*HUGGINGGPT_HF_TOKEN"):
        await router.infer(inference(), 5)


async def test_hybrid_falls_back_to_hosted_for_models_not_deployed() -> None:
    hosted = Hosted()
    router, transport = await make(InferenceMode.HYBRID, hosted)
    outcome = await router.infer(inference("hub/only"), 5)
    assert outcome.site == common_pb2.INFERENCE_SITE_HOSTED
    assert hosted.calls == 1 and transport.calls == []


async def test_hybrid_prefers_local_replicas() -> None:
    hosted = Hosted()
    router, transport = await make(InferenceMode.HYBRID, hosted)
    outcome = await router.infer(inference(), 5)
    assert outcome.site == common_pb2.INFERENCE_SITE_LOCAL and hosted.calls == 0


async def test_hybrid_goes_hosted_when_local_replicas_die() -> None:
    hosted = Hosted()
    router, transport = await make(InferenceMode.HYBRID, hosted, replicas=1)
    transport.fail = {"r0": ReplicaGone("reset")}
    outcome = await router.infer(inference(), 5)
    assert outcome.site == common_pb2.INFERENCE_SITE_HOSTED


async def test_request_mode_overrides_the_default() -> None:
    hosted = Hosted()
    router, transport = await make(InferenceMode.HYBRID, hosted)
    outcome = await router.infer(inference(mode=common_pb2.INFERENCE_MODE_HUGGINGFACE), 5)
    assert outcome.site == common_pb2.INFERENCE_SITE_HOSTED and transport.calls == []
    with pytest.raises(NotFound):
        await router.infer(inference("hub/only", mode=common_pb2.INFERENCE_MODE_LOCAL), 5)
    assert hosted.calls == 1


async def test_huggingface_mode_without_a_token_says_how_to_configure_it() -> None:
    router, _ = await make(InferenceMode.HUGGINGFACE, Hosted(available=False))
    with pytest.raises(Unavailable, match="HUGGINGGPT_HF_TOKEN"):
        await router.infer(inference(), 5)


async def test_waiters_wake_when_a_new_replica_registers() -> None:
    router, transport = await make(replicas=1, max_in_flight=1)
    transport.delay = {"r0": 1.0}
    slow = asyncio.create_task(router.infer(inference(), 5))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(router.infer(inference(), 5))
    await asyncio.sleep(0.01)
    await router.register("r9", "r9", [ModelStatus("m")], 1)
    outcome = await asyncio.wait_for(waiting, 0.5)
    assert outcome.replica_id == "r9"
    slow.cancel()

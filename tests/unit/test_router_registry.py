"""Unit tests of the router's registry and placement choice (no grpc, no network)."""

from __future__ import annotations

import pytest

from hugginggpt.domain import InferenceMode, ModelStatus
from hugginggpt.settings import SettingsError
from services.router.config import RouterConfig
from services.router.registry import ANY_MODEL, Registry, choose


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_replica_that_stops_heartbeating_is_dropped_after_ttl() -> None:
    clock = Clock()
    registry = Registry(ttl_seconds=10, clock=clock)
    registry.register("a", "h:1", [ModelStatus("m")], 2)
    registry.register("b", "h:2", [ModelStatus("m")], 2)
    clock.now += 8
    assert registry.heartbeat("b", None)
    clock.now += 5
    gone = registry.expire()
    assert [r.replica_id for r in gone] == ["a"]
    assert [r.replica_id for r in registry.replicas()] == ["b"]


def test_pinned_replicas_survive_the_ttl() -> None:
    clock = Clock()
    registry = Registry(ttl_seconds=1, clock=clock)
    registry.register("pod", "h:1", [ModelStatus("m")], 2, pinned=True)
    clock.now += 100
    assert registry.expire() == []


def test_heartbeat_from_unknown_replica_asks_it_to_register() -> None:
    registry = Registry(ttl_seconds=10)
    assert registry.heartbeat("ghost", [ModelStatus("m")]) is False


def test_heartbeat_replaces_models_and_clears_suspicion_but_keeps_in_flight() -> None:
    registry = Registry(ttl_seconds=10)
    replica = registry.register("a", "h:1", [ModelStatus("m1")], 2)
    replica.in_flight = 1
    registry.mark_suspect("a")
    assert registry.capable("m1", "t") == []
    registry.heartbeat("a", [ModelStatus("m2", loaded=True)])
    assert registry.capable("m1", "t") == []
    assert [r.replica_id for r in registry.capable("m2", "t")] == ["a"]
    assert replica.in_flight == 1


def test_models_with_errors_are_not_servable() -> None:
    registry = Registry(ttl_seconds=10)
    registry.register("a", "h:1", [ModelStatus("broken", error="weights missing")], 2)
    assert registry.capable("broken", "t") == []
    assert registry.deployed_models() == []


def test_wildcard_serves_any_model_of_its_task_types_only() -> None:
    registry = Registry(ttl_seconds=10)
    registry.register("generic", "h:1", [ModelStatus(ANY_MODEL, ("text-classification",))], 2)
    assert registry.capable("any/model", "text-classification")
    assert registry.capable("any/model", "image-classification") == []
    assert registry.deployed_models() == []


def test_choose_prefers_the_replica_holding_the_model_even_when_busier() -> None:
    registry = Registry(ttl_seconds=10)
    holder = registry.register("holder", "h:1", [ModelStatus("m", loaded=True)], 4)
    idle = registry.register("idle", "h:2", [ModelStatus("m")], 4)
    holder.in_flight = 3
    assert choose([holder, idle], "m") is holder


def test_choose_takes_least_loaded_when_nobody_holds_the_model() -> None:
    registry = Registry(ttl_seconds=10)
    a = registry.register("a", "h:1", [ModelStatus("m")], 4)
    b = registry.register("b", "h:2", [ModelStatus("m")], 2)
    a.in_flight, b.in_flight = 2, 0
    assert choose([a, b], "m") is b
    registry.mark_loaded("b", "m")
    assert b.holds("m")


def test_config_defaults_to_local_without_a_token_and_hybrid_with_one() -> None:
    assert RouterConfig.from_env({}).mode is InferenceMode.LOCAL
    assert RouterConfig.from_env({"HUGGINGGPT_HF_TOKEN": "hf_x"}).mode is InferenceMode.HYBRID
    assert RouterConfig.from_env({"HUGGINGGPT_INFERENCE_MODE": "HuggingFace"}).mode is InferenceMode.HUGGINGFACE


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"HUGGINGGPT_INFERENCE_MODE": "cloud"}, "HUGGINGGPT_INFERENCE_MODE"),
        ({"HUGGINGGPT_ROUTER_DISCOVERY": "consul"}, "HUGGINGGPT_ROUTER_DISCOVERY"),
        ({"HUGGINGGPT_ROUTER_REPLICA_TTL_SECONDS": "1"}, "HUGGINGGPT_ROUTER_REPLICA_TTL_SECONDS"),
        ({"HUGGINGGPT_ROUTER_MAX_ATTEMPTS": "many"}, "HUGGINGGPT_ROUTER_MAX_ATTEMPTS"),
    ],
)
def test_bad_settings_fail_fast_naming_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        RouterConfig.from_env(env)

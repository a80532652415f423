"""Trust by configuration: service token settings, allowed modes, the local stack's credentials, stores opened."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.artifacts_s3 import open_artifact_store
from hugginggpt.auth import check_mode, service_token
from hugginggpt.domain import ModelStatus
from hugginggpt.errors import PermissionDenied, ResourceExhausted
from hugginggpt.settings import SettingsError
from hugginggpt.v1 import common_pb2
from hugginggpt_cli.launcher import StackSettings, stack_env
from services.executor.config import ExecutorConfig
from services.executor.servicer import ExecutorServicer
from services.router.__main__ import hosted_backend
from services.router.config import RouterConfig
from services.router.registry import Registry


def test_services_refuse_to_start_without_a_token_unless_told_they_are_open() -> None:
    with pytest.raises(SettingsError, match="HUGGINGGPT_SERVICE_TOKEN is not set"):
        service_token({})
    with pytest.raises(SettingsError, match="HUGGINGGPT_SERVICE_OPEN=true"):
        service_token({"HUGGINGGPT_SERVICE_OPEN": "false"})
    with pytest.raises(SettingsError, match="at least 16"):
        service_token({"HUGGINGGPT_SERVICE_TOKEN": "short"})
    assert service_token({"HUGGINGGPT_SERVICE_OPEN": "true"}) == ""
    assert service_token({"HUGGINGGPT_SERVICE_TOKEN": " 0123456789abcdef \n"}) == "0123456789abcdef"


@pytest.mark.parametrize(("requested", "deployed", "allowed"), [
    ("huggingface", "local", False), ("hybrid", "local", False), ("local", "local", True),
    ("huggingface", "hybrid", True), ("local", "hybrid", True), ("local", "huggingface", True),
])
def test_a_request_may_narrow_the_mode_never_widen_it_to_hosted(requested: str, deployed: str, allowed: bool) -> None:
    if allowed:
        check_mode(requested, deployed)
    else:
        with pytest.raises(PermissionDenied, match="locally only"):
            check_mode(requested, deployed)


def test_the_local_stack_makes_one_private_token_and_keeps_the_gateway_open_on_loopback(tmp_path: Path) -> None:
    settings = StackSettings.from_env({"HUGGINGGPT_RUN_DIR": str(tmp_path)})
    first = stack_env(settings, "alias")
    token = first["HUGGINGGPT_SERVICE_TOKEN"]
    assert len(token) == 64 and service_token(first) == token
    assert stat.S_IMODE((tmp_path / "service-token").stat().st_mode) == 0o600
    assert stack_env(settings, "alias")["HUGGINGGPT_SERVICE_TOKEN"] == token  # `up` again: the same stack
    assert first["HUGGINGGPT_GATEWAY_OPEN"] == "true"
    assert first["HUGGINGGPT_GATEWAY_LISTEN"].startswith("127.0.0.1:")


def test_a_user_token_closes_the_local_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUGGINGGPT_GATEWAY_AUTH_TOKEN", "mine")
    monkeypatch.setenv("HUGGINGGPT_SERVICE_OPEN", "true")  # the stack makes its own token regardless
    env = stack_env(StackSettings.from_env({"HUGGINGGPT_RUN_DIR": str(tmp_path)}), "alias")
    assert "HUGGINGGPT_GATEWAY_OPEN" not in env and "HUGGINGGPT_SERVICE_OPEN" not in env


def test_a_live_replica_keeps_its_id_until_its_heartbeats_stop() -> None:
    now = [100.0]
    registry = Registry(ttl_seconds=10, clock=lambda: now[0])
    registry.register("r0", "10.0.0.1:1", [ModelStatus("m")], 2)
    with pytest.raises(PermissionDenied, match="held by the replica at 10.0.0.1:1"):
        registry.register("r0", "10.6.6.6:1", [ModelStatus("m")], 2)
    now[0] += 11  # r0 went silent: a restarted pod (new address) may take the id again
    assert registry.register("r0", "10.0.0.2:1", [ModelStatus("m")], 2).address == "10.0.0.2:1"
    registry.register("pod", "10.0.0.3:1", [ModelStatus("m")], 2, pinned=True)
    now[0] += 100
    with pytest.raises(PermissionDenied):  # discovered pods never expire, so nobody else takes their id
        registry.register("pod", "10.6.6.6:1", [ModelStatus("m")], 2)
    assert registry.register("pod", "10.0.0.4:1", [ModelStatus("m")], 2, pinned=True).address == "10.0.0.4:1"


def test_a_local_mode_router_opens_no_artifact_store(tmp_path: Path) -> None:
    missing = tmp_path / "read-only-root" / "artifacts"
    env = {"HUGGINGGPT_ARTIFACT_DIR": str(missing)}
    assert hosted_backend(RouterConfig.from_env(env)) is None
    assert hosted_backend(RouterConfig.from_env({**env, "HUGGINGGPT_HF_TOKEN": "hf_x",
                                                 "HUGGINGGPT_INFERENCE_MODE": "local"})) is None
    assert not missing.parent.exists()  # the pod's read-only root filesystem is never written
    hosted = hosted_backend(RouterConfig.from_env({**env, "HUGGINGGPT_HF_TOKEN": "hf_x"}))  # hybrid
    assert hosted is not None and missing.is_dir()


def test_the_factory_takes_a_services_own_folder_and_limit(tmp_path: Path) -> None:
    store = open_artifact_store({"HUGGINGGPT_ARTIFACT_DIR": str(tmp_path / "ignored")}, root=tmp_path / "mine",
                                max_bytes=4)
    assert type(store) is ArtifactStore and store.root == tmp_path / "mine" and store.max_bytes == 4
    path, uri = store.new_path("a.txt")
    path.write_bytes(b"1234")
    assert store.commit(uri).size_bytes == 4
    big, big_uri = store.new_path("b.txt")
    big.write_bytes(b"12345")
    with pytest.raises(ResourceExhausted):
        store.commit(big_uri)
    assert not big.exists()
    with pytest.raises(SettingsError, match="s3://bucket"):
        open_artifact_store({"HUGGINGGPT_ARTIFACT_STORE": "gs://bucket"}, root=tmp_path)


def test_the_executor_refuses_a_forbidden_mode_before_running_anything() -> None:
    servicer = ExecutorServicer(None, ExecutorConfig.from_env({}))  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied, match="locally only"):
        servicer._mode(common_pb2.INFERENCE_MODE_HUGGINGFACE)
    assert servicer._mode(common_pb2.INFERENCE_MODE_UNSPECIFIED) == "local"
    hybrid = ExecutorServicer(None, ExecutorConfig.from_env({"HUGGINGGPT_INFERENCE_MODE": "hybrid"}))  # type: ignore[arg-type]
    assert hybrid._mode(common_pb2.INFERENCE_MODE_HUGGINGFACE) == "huggingface"

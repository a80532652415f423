"""scripts/k8s_run.py turns each rendered workload into the podman run its manifest describes (no podman needed)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.k8s.conftest import REPO, Obj, by_name

SECRET = {"service-token": "s" * 64, "gateway-auth-token": "g" * 64}


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_run", REPO / "scripts" / "k8s_run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(args: list[str]) -> dict[str, str]:
    pairs = [args[i + 1] for i, a in enumerate(args) if a == "--env"]
    return dict(p.split("=", 1) for p in pairs)


def test_each_pod_runs_with_its_manifests_user_env_volumes_and_read_only_root(rendered: dict[str, list[Obj]]) -> None:
    k8s_run = _runner()
    cluster = k8s_run.Cluster(rendered["overlays/cpu"], SECRET)
    replica = by_name(rendered["overlays/cpu"], "Deployment")["replica"]
    args = k8s_run.run_args(cluster, replica)
    env = _env(args)
    assert env["HUGGINGGPT_SERVICE_TOKEN"] == SECRET["service-token"]
    assert env["HUGGINGGPT_REPLICA_ADVERTISE_ADDRESS"] == f"{cluster.ips['replica']}:50055"  # $(POD_IP) expanded
    assert env["HUGGINGGPT_REPLICA_ID"] == "replica-0" and "HF_TOKEN" not in env  # optional key absent
    assert {"--read-only", "--cap-drop=all"} <= set(args) and args[args.index("--user") + 1] == "10001:10001"
    assert "k8s-pvc-artifacts:/var/lib/hugginggpt/artifacts:rw,U" in args
    assert "--network-alias=replica.hugginggpt.svc.cluster.local" in args
    assert args[-1] == replica["spec"]["template"]["spec"]["containers"][0]["image"]
    llm = k8s_run.run_args(cluster, by_name(rendered["overlays/cpu"], "Deployment")["llm"])
    assert llm[llm.index("ghcr.io/hugginggpt/hugginggpt-llm:0.1.0") + 1:][:2] == ["--model",
                                                                            "/opt/hugginggpt/models/qwen2.5-coder-0.5b.gguf"]


def test_a_required_secret_key_that_is_missing_stops_the_run(rendered: dict[str, list[Obj]]) -> None:
    k8s_run = _runner()
    cluster = k8s_run.Cluster(rendered["overlays/cpu"], {"gateway-auth-token": "g" * 64})
    with pytest.raises(SystemExit, match="service-token"):
        k8s_run.run_args(cluster, by_name(rendered["overlays/cpu"], "Deployment")["router"])


def test_the_llm_pod_runs_llama_server_as_the_local_stack_does(rendered: dict[str, list[Obj]]) -> None:
    """The manifest's llama-server flags are the ones hugginggpt/embedded.py gives the local stack (same slots,
    context per slot, batch, polling), and the planner is told the server's JSON dialect."""
    from pathlib import Path

    from hugginggpt import embedded

    objects = rendered["overlays/cpu"]
    container = by_name(objects, "Deployment")["llm"]["spec"]["template"]["spec"]["containers"][0]
    local = embedded.server_command(Path("/opt/hugginggpt/models/qwen2.5-coder-0.5b.gguf"),
                                    "qwen2.5-coder-0.5b-instruct", "0.0.0.0", 8080, 8192, 4, "llama-server")
    assert container["args"] == local[1:]  # all but the binary, which is the image's entry point
    config = by_name(objects, "ConfigMap")
    dialects = {c["data"].get("HUGGINGGPT_LLM_SCHEMA_DIALECT") for c in config.values()} - {None}
    assert dialects == {embedded.SCHEMA_DIALECTS["llama-server"]}


def test_the_s3_overlay_gets_its_endpoint_and_keys_from_the_rendered_config_and_secret(
        rendered: dict[str, list[Obj]]) -> None:
    k8s_run = _runner()
    cluster = k8s_run.Cluster(rendered["overlays/cpu-s3"], SECRET)
    env = _env(k8s_run.run_args(cluster, by_name(rendered["overlays/cpu-s3"], "Deployment")["gateway"]))
    assert env["HUGGINGGPT_ARTIFACT_STORE"].startswith("s3://")
    assert env["HUGGINGGPT_S3_ENDPOINT_URL"] == "http://s3.hugginggpt.svc.cluster.local:9000"
    assert env["AWS_ACCESS_KEY_ID"] == "standin"  # the overlay's Secret hugginggpt-s3, decoded
    s3 = k8s_run.run_args(cluster, by_name(rendered["overlays/cpu-s3"], "Deployment")["s3"])
    assert "--network-alias=s3.hugginggpt.svc.cluster.local" in s3


def test_a_tcp_probe_on_a_named_port_checks_that_ports_number(rendered: dict[str, list[Obj]]) -> None:
    """The S3 stand-in's readiness probe names its port ("s3"); the runner looks the number up (it once tried
    to connect to the name and waited until its deadline)."""
    import copy
    import socket

    k8s_run = _runner()
    cluster = k8s_run.Cluster(rendered["overlays/cpu-s3"], SECRET)
    workload = copy.deepcopy(by_name(rendered["overlays/cpu-s3"], "Deployment")["s3"])  # shared by other tests
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        container = workload["spec"]["template"]["spec"]["containers"][0]
        container["ports"][0]["containerPort"] = listener.getsockname()[1]
        cluster.ips["s3"] = "127.0.0.1"
        assert k8s_run.ready(cluster, workload)
    assert not k8s_run.ready(cluster, workload)  # closed: not ready


def test_args_get_the_containers_env_expanded_as_the_kubelet_does(rendered: dict[str, list[Obj]]) -> None:
    k8s_run = _runner()
    cluster = k8s_run.Cluster(rendered["overlays/cpu"], {**SECRET, "redis-password": "r" * 64})
    args = k8s_run.run_args(cluster, by_name(rendered["overlays/cpu"], "Deployment")["redis"])
    assert args[args.index("--requirepass") + 1] == "r" * 64
    assert k8s_run.expand("$(UNKNOWN) stays", {}) == "$(UNKNOWN) stays"

"""Trust nobody by default: the service token in every service pod, the Hub token only where used, stores that open."""

from __future__ import annotations

from tests.k8s.conftest import Obj, by_name, of_kind, pod_spec
from tests.k8s.test_workloads import GRPC_STAGES

# Pods that build an artifact store at start-up (the router only when hosted inference is allowed).
STORE_USERS = {"gateway", "executor", "replica", "mediapipe-replica"}
HF_TOKEN_USERS = {"router": "HUGGINGGPT_HF_TOKEN", "replica": "HF_TOKEN"}


def _env(workload: Obj) -> dict[str, Obj]:
    return {e["name"]: e for c in pod_spec(workload)["containers"] for e in c.get("env", [])}


def _config(objects: list[Obj]) -> dict[str, str]:
    [config] = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("hugginggpt-config")]
    return dict(config["data"])


def test_every_service_pod_gets_the_service_token_from_a_required_secret(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        deployments = by_name(objects, "Deployment")
        for name in GRPC_STAGES:
            ref = _env(deployments[name])["HUGGINGGPT_SERVICE_TOKEN"]["valueFrom"]["secretKeyRef"]
            assert ref["key"] == "service-token" and not ref.get("optional"), f"{root}: {name}"
        config = _config(objects)
        assert config.get("HUGGINGGPT_SERVICE_OPEN", "false") == "false", root
        assert config.get("HUGGINGGPT_GATEWAY_OPEN", "false") == "false", root
        gateway_token = _env(deployments["gateway"])["HUGGINGGPT_GATEWAY_AUTH_TOKEN"]
        assert gateway_token["valueFrom"]["secretKeyRef"]["key"] == "gateway-auth-token", root


def test_only_the_pods_that_use_it_see_the_hugging_face_token(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        for name, deploy in by_name(objects, "Deployment").items():
            if name == "llm" and "vllm" in root:
                continue  # vLLM downloads its model from the Hub (components/vllm)
            refs = {e["name"] for e in _env(deploy).values()
                    if e.get("valueFrom", {}).get("secretKeyRef", {}).get("key") == "hf-token"}
            expected = {HF_TOKEN_USERS[name]} if name in HF_TOKEN_USERS else set()
            assert refs == expected, f"{root}: {name} sees the Hub token as {refs}"


def test_every_pod_that_opens_an_artifact_store_can_write_its_folder(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        config = _config(objects)
        folder = config["HUGGINGGPT_ARTIFACT_DIR"]
        users = set(STORE_USERS)
        if config.get("HUGGINGGPT_INFERENCE_MODE", "local") != "local":
            users.add("router")  # hosted inference writes its outputs to the store
        for name, deploy in by_name(objects, "Deployment").items():
            [container] = [c for c in pod_spec(deploy)["containers"] if c["name"] == name] or [None]
            if container is None:
                continue
            mounted = any(folder == m["mountPath"] or folder.startswith(m["mountPath"].rstrip("/") + "/")
                          for m in container.get("volumeMounts", []) if not m.get("readOnly"))
            read_only_root = container["securityContext"].get("readOnlyRootFilesystem", False)
            if name in users:
                assert mounted or not read_only_root, f"{root}: {name} cannot create {folder}"


def test_redis_requires_the_password_only_the_gateway_is_given(rendered: dict[str, list[Obj]]) -> None:
    """The session store trusts nobody either: --requirepass from the Secret, which only Redis and the gateway
    mount (the NetworkPolicy alone would leave every session open to any pod it is ever widened to)."""
    for root, objects in rendered.items():
        deployments = by_name(objects, "Deployment")
        redis = pod_spec(deployments["redis"])["containers"][0]
        args = redis["args"]
        assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)", root
        for name in ("REDIS_PASSWORD", "REDISCLI_AUTH"):  # the server's, and redis-cli's for the probe
            ref = _env(deployments["redis"])[name]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "hugginggpt-secrets", "key": "redis-password"}, f"{root}: {name}"
        for name, deploy in deployments.items():
            refs = {e["name"] for e in _env(deploy).values()
                    if e.get("valueFrom", {}).get("secretKeyRef", {}).get("key") == "redis-password"}
            expected = {"gateway": {"HUGGINGGPT_SESSION_STORE_PASSWORD"},
                        "redis": {"REDIS_PASSWORD", "REDISCLI_AUTH"}}.get(name, set())
            assert refs == expected, f"{root}: {name} sees the Redis password as {refs}"

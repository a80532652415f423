"""Runs every workload of a rendered overlay with podman as its manifest says, waits for readiness, then asks.

Each Deployment becomes one container (replicas: 1) on a podman network with the DNS names its Services
give it (`NAME` and `NAME.NAMESPACE.svc.cluster.local`) and a fixed address (status.podIP). The container
gets the manifest's command and args, env (values, ConfigMaps, Secrets, fieldRefs, $(VAR) expansion), volumes
(emptyDir and PVCs as podman volumes owned by the pod's user), user and group, read-only root filesystem,
dropped capabilities, no-new-privileges and memory and CPU limits. The Secret `hugginggpt-secrets` is made
here with fresh random tokens, as an operator would. Not a cluster: no scheduler, kube-proxy Services,
NetworkPolicy enforcement or admission; the router runs with HUGGINGGPT_ROUTER_DISCOVERY=none (no API
server), its replicas register themselves.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.k8s.kubectl import kubectl_path  # noqa: E402 - the repository's pinned kubectl

NETWORK, SUBNET = "hugginggpt-k8s-run", "10.89.77"
LABEL = "hugginggpt.io/k8s-run=1"
OVERRIDES = {"router": {"HUGGINGGPT_ROUTER_DISCOVERY": "none"}}  # no kube-apiserver here
Obj = dict[str, Any]


def podman(*args: str, check: bool = True) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"podman {' '.join(args[:3])} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def render(root: str) -> list[Obj]:
    out = subprocess.run([str(kubectl_path()), "kustomize", str(REPO / root)], capture_output=True, text=True,
                         check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def secret_values(secrets_file: Path) -> dict[str, str]:
    """hugginggpt-secrets, made once per run folder (kubectl create secret ... in a cluster)."""
    keys = ("service-token", "gateway-auth-token", "redis-password")
    values = json.loads(secrets_file.read_text()) if secrets_file.is_file() else {}
    if any(key not in values for key in keys):  # new, or from before a key was added
        values = {key: values.get(key) or secrets.token_hex(32) for key in keys}
        secrets_file.write_text(json.dumps(values))
        secrets_file.chmod(0o600)
    return dict(values)


def expand(value: str, env: dict[str, str]) -> str:
    """$(VAR) replaced by the container's VAR, as the kubelet does; an unknown one is left as written."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), value)


def _decoded(secret: Obj) -> dict[str, str]:
    """A rendered Secret's values (a secretGenerator writes them base64-encoded under data)."""
    values = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    return {**values, **(secret.get("stringData") or {})}


class Cluster:
    """The rendered objects and what a kubelet would resolve from them."""

    def __init__(self, objects: list[Obj], secret: dict[str, str]) -> None:
        self.objects = objects
        self.config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
        self.secrets = {o["metadata"]["name"]: _decoded(o) for o in objects if o["kind"] == "Secret"}
        self.secrets["hugginggpt-secrets"] = secret
        self.workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]
        self.ips = {w["metadata"]["name"]: f"{SUBNET}.{10 + i}" for i, w in enumerate(self.workloads)}

    def aliases(self, workload: Obj) -> list[str]:
        labels = workload["spec"]["template"]["metadata"].get("labels", {})
        names = []
        for svc in (o for o in self.objects if o["kind"] == "Service"):
            selector = svc["spec"].get("selector") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                ns = svc["metadata"].get("namespace", "default")
                names += [svc["metadata"]["name"], f"{svc['metadata']['name']}.{ns}.svc.cluster.local"]
        return names

    def env(self, workload: Obj, container: Obj) -> dict[str, str]:
        name = workload["metadata"]["name"]
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                env.update(self.config_maps[source["configMapRef"]["name"]])
            if "secretRef" in source:
                env.update(self.secrets.get(source["secretRef"]["name"], {}))
        for item in container.get("env", []):
            value = self._value(name, item)
            if value is not None:
                env[item["name"]] = expand(value, env)
        env.update(OVERRIDES.get(name, {}))
        return env

    def _value(self, pod: str, item: Obj) -> str | None:
        if "value" in item:
            return str(item["value"])
        ref = item.get("valueFrom", {})
        if "secretKeyRef" in ref or "configMapKeyRef" in ref:
            key_ref = ref.get("secretKeyRef") or ref["configMapKeyRef"]
            store = self.secrets if "secretKeyRef" in ref else self.config_maps
            value = store.get(key_ref["name"], {}).get(key_ref["key"])
            if value is None and not key_ref.get("optional"):
                raise SystemExit(f"{pod}: {item['name']} needs {key_ref['name']}/{key_ref['key']}, which is missing")
            return value
        field = ref.get("fieldRef", {}).get("fieldPath")
        return {"metadata.name": f"{pod}-0", "status.podIP": self.ips[pod], "metadata.namespace": "hugginggpt"}.get(
            field or "")


def run_args(cluster: Cluster, workload: Obj) -> list[str]:
    """podman run's arguments for the workload's (first) container."""
    name, spec = workload["metadata"]["name"], workload["spec"]["template"]["spec"]
    container = spec["containers"][0]
    pod_sc, sc = spec.get("securityContext", {}), container.get("securityContext", {})
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup", user))
    args = ["--name", f"k8s-{name}", "--label", LABEL, "--network", NETWORK, "--ip", cluster.ips[name],
            "--hostname", f"{name}-0", "--cap-drop=all", "--security-opt", "no-new-privileges"]
    args += [f"--network-alias={alias}" for alias in cluster.aliases(workload)]
    if user is not None:
        args += ["--user", f"{user}:{group}"]
    if sc.get("readOnlyRootFilesystem"):
        args += ["--read-only", "--read-only-tmpfs=false"]
    limits = container.get("resources", {}).get("limits", {})
    if "memory" in limits:
        args += ["--memory", limits["memory"].replace("Mi", "m").replace("Gi", "g")]
    for key, value in cluster.env(workload, container).items():
        args += ["--env", f"{key}={value}"]
    args += volume_args(name, spec, container)
    if container.get("command"):
        args += ["--entrypoint", json.dumps(container["command"])]
    env = cluster.env(workload, container)  # the kubelet expands $(VAR) in args from the container's env
    return [*args, container["image"], *[expand(str(a), env) for a in container.get("args", [])]]


def volume_args(name: str, spec: Obj, container: Obj) -> list[str]:
    """emptyDirs as per-pod volumes, PVCs as shared ones, each owned by the pod's user (fsGroup's effect)."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    args = []
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "persistentVolumeClaim" in volume:
            source = f"k8s-pvc-{volume['persistentVolumeClaim']['claimName']}"
        else:
            source = f"k8s-{name}-{mount['name']}"
        mode = "ro" if mount.get("readOnly") else "rw"
        args += ["-v", f"{source}:{mount['mountPath']}:{mode},U"]
    return args


def ready(cluster: Cluster, workload: Obj) -> bool:
    """The container's readiness probe, run from the host against the pod's address."""
    name = workload["metadata"]["name"]
    container = workload["spec"]["template"]["spec"]["containers"][0]
    probe = container.get("readinessProbe", {})
    ip = cluster.ips[name]
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    try:
        if "grpc" in probe:
            with grpc.insecure_channel(f"{ip}:{probe['grpc']['port']}") as chan:
                reply = health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest(), timeout=3)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
        if "httpGet" in probe:
            port = named.get(probe["httpGet"]["port"], probe["httpGet"]["port"])  # a port's name or number
            with urllib.request.urlopen(f"http://{ip}:{port}{probe['httpGet'].get('path', '/')}", timeout=3) as r:
                return 200 <= r.status < 400
        if "exec" in probe:
            return subprocess.run(["podman", "exec", f"k8s-{name}", *probe["exec"]["command"]],
                                  capture_output=True, check=False).returncode == 0
        port = named.get(probe["tcpSocket"]["port"], probe["tcpSocket"]["port"])
        socket.create_connection((ip, int(port)), timeout=3).close()
        return True
    except (grpc.RpcError, OSError):
        return False


def down() -> None:
    for cid in podman("ps", "-aq", "--filter", f"label={LABEL}").split():
        podman("rm", "-f", "-t", "10", cid, check=False)
    for vol in podman("volume", "ls", "-q").split():
        if vol.startswith("k8s-"):
            podman("volume", "rm", "-f", vol, check=False)


def up(cluster: Cluster, skip: set[str], timeout: float) -> dict[str, float]:
    """Starts every workload, then waits until each is ready; returns seconds to ready per workload."""
    if subprocess.run(["podman", "network", "exists", NETWORK], check=False).returncode != 0:
        podman("network", "create", "--subnet", f"{SUBNET}.0/24", NETWORK)
    started = time.monotonic()
    workloads = [w for w in cluster.workloads if w["metadata"]["name"] not in skip]
    for workload in workloads:
        podman("run", "-d", *run_args(cluster, workload))
    waiting = {w["metadata"]["name"]: w for w in workloads}
    times: dict[str, float] = {}
    while waiting and time.monotonic() - started < timeout:
        for name, workload in list(waiting.items()):
            if ready(cluster, workload):
                times[name] = round(time.monotonic() - started, 1)
                print(f"ready    {name:<18} {cluster.ips[name]:<14} after {times[name]} s", flush=True)
                del waiting[name]
        time.sleep(2)
    if waiting:
        for name in waiting:
            print(f"NOT READY {name}; its log ends:\n{podman('logs', '--tail', '30', f'k8s-{name}', check=False)}")
        raise SystemExit(1)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlay", default="k8s/overlays/cpu")
    parser.add_argument("--run-dir", type=Path, default=REPO / "build" / "k8s-run")
    parser.add_argument("--skip", default="", help="workloads not to run, comma-separated")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--keep", action="store_true", help="leave the pods running")
    parser.add_argument("--asks", type=int, default=1, help="ask the demo this many times (the first is cold)")
    args = parser.parse_args()
    args.run_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(render(args.overlay), secret_values(args.run_dir / "secrets.json"))
    down()
    try:
        times = up(cluster, set(filter(None, args.skip.split(","))), args.timeout)
        make_bucket(cluster)
        status, asked = 0, []
        for _ in range(max(1, args.asks)):
            status, seconds = ask(cluster)
            asked.append(seconds)
            if status:
                break
        print(json.dumps({"overlay": args.overlay, "ready_seconds": times, "ask_status": status,
                          "ask_seconds": asked}))
        return status
    finally:
        if not args.keep:
            down()


def make_bucket(cluster: Cluster) -> None:
    """With the S3 artifact store and an in-cluster S3 (overlays/cpu-s3), the bucket, as an operator makes it."""
    config = {k: v for name, data in cluster.config_maps.items() if name.startswith("hugginggpt-config")
              for k, v in data.items()}  # the generated name ends with a hash
    store, endpoint = config.get("HUGGINGGPT_ARTIFACT_STORE", ""), config.get("HUGGINGGPT_S3_ENDPOINT_URL", "")
    url = urlparse(endpoint)
    pod = (url.hostname or "").split(".")[0]
    if not store.startswith("s3://") or pod not in cluster.ips:
        return
    from minio import Minio

    keys = cluster.secrets.get("hugginggpt-s3", {})
    client = Minio(f"{cluster.ips[pod]}:{url.port or 80}", access_key=keys.get("AWS_ACCESS_KEY_ID"),
                   secret_key=keys.get("AWS_SECRET_ACCESS_KEY"), secure=False,
                   region=config.get("HUGGINGGPT_S3_REGION") or None)
    bucket = urlparse(store).netloc
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    print(f"bucket   {bucket} on {pod} ({cluster.ips[pod]})", flush=True)


# What the demo's answer must say: the invoice's total and the recording's words.
EXPECTED = (r"42\.50", r"quick brown fox")


def ask(cluster: Cluster) -> tuple[int, float]:
    """The demo through the gateway pod, with the deployment's gateway token."""
    return ask_demo(f"{cluster.ips['gateway']}:50050", cluster.secrets["hugginggpt-secrets"]["gateway-auth-token"])


def ask_demo(gateway: str, token: str | None = None) -> tuple[int, float]:
    """The demo request and its two files through `hugginggpt ask`; (exit status, seconds). Fails (1) unless
    the answer says the invoice's total and the recording's words."""
    request = ("What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list "
               "the named entities in it.")
    command = [sys.executable, "-m", "hugginggpt_cli", "ask", request, "--gateway", gateway,
               "--file", str(REPO / "examples/media/invoice_text.png"),
               "--file", str(REPO / "examples/media/speech_fox.wav"), "--out", str(REPO / "build/k8s-run/out")]
    if token:
        command += ["--token", token]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.PIPE, text=True)
    print(done.stdout, end="", flush=True)
    seconds = round(time.monotonic() - started, 1)
    print(f"answered in {seconds} s (exit {done.returncode})", flush=True)
    if done.returncode:
        return done.returncode, seconds
    missing = [want for want in EXPECTED if not re.search(want, done.stdout, re.IGNORECASE)]
    if missing:
        print(f"FAIL: the answer lacks {missing}", flush=True)
        return 1, seconds
    return 0, seconds


if __name__ == "__main__":
    raise SystemExit(main())

"""Rules that keep work from being lost: durable sessions in Redis, pods that drain their requests."""

from __future__ import annotations

from tests.k8s.conftest import Obj, by_name, containers, pod_spec

DRAINING = {"gateway", "planner", "selector", "executor", "router", "responder", "replica", "mediapipe-replica"}
LONGEST_REQUEST_SECONDS = 600  # HUGGINGGPT_GATEWAY_REQUEST_TIMEOUT_SECONDS' default


def test_redis_keeps_every_session_across_restarts(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        redis = by_name(objects, "Deployment").get("redis")
        if redis is None:
            continue
        args = containers(redis)[0]["args"]
        settings = dict(zip(args[::2], args[1::2], strict=False))
        assert settings["--appendonly"] == "yes", f"{root}: Redis without AOF persistence"
        assert settings["--maxmemory-policy"] == "noeviction", f"{root}: Redis may evict part of a session"
        volumes = {v["name"]: v for v in pod_spec(redis)["volumes"]}
        claim = volumes["data"].get("persistentVolumeClaim", {}).get("claimName")
        assert claim in by_name(objects, "PersistentVolumeClaim"), f"{root}: Redis data is not on a volume"


def test_stages_get_time_to_drain_their_longest_request(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        for name, deploy in by_name(objects, "Deployment").items():
            if name in DRAINING:
                grace = pod_spec(deploy).get("terminationGracePeriodSeconds", 30)
                assert grace > LONGEST_REQUEST_SECONDS, f"{root}: {name} is killed after {grace} s"

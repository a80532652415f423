"""Kubernetes discovery: list-then-watch replica pods by label; ready pods join the registry, others leave."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from kubernetes import client, watch

from hugginggpt.convert import model_status_from_pb
from hugginggpt.v1 import replica_pb2
from services.router.routing import ReplicaGone, Router

logger = logging.getLogger(__name__)

Event = tuple[str, Any]
Probe = Callable[[str, float], Awaitable[replica_pb2.ListModelsResponse]]


def pod_name(pod: client.V1Pod) -> str:
    return str(pod.metadata.name) if pod.metadata else ""


def pod_ready(pod: client.V1Pod) -> bool:
    """Running, Ready, with an IP, and not being deleted."""
    status = pod.status
    if (pod.metadata and pod.metadata.deletion_timestamp) or status is None:
        return False
    if status.phase != "Running" or not status.pod_ip:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in status.conditions or [])


def pod_address(pod: client.V1Pod, port_name: str, default_port: int) -> str:
    """host:port of the pod's gRPC port: the container port with that name, else the default."""
    ip = pod.status.pod_ip if pod.status else ""
    for container in pod.spec.containers if pod.spec else []:
        for port in container.ports or []:
            if port.name == port_name:
                return f"{ip}:{port.container_port}"
    return f"{ip}:{default_port}"


class KubernetesDiscovery:
    """Keeps the router's registry equal to the ready replica pods matching a label selector."""

    def __init__(
        self,
        router: Router,
        probe: Probe,
        api: client.CoreV1Api,
        namespace: str,
        selector: str,
        port: int,
        max_in_flight: int,
        port_name: str = "grpc",
        resync_seconds: float = 5.0,
        watch_timeout_seconds: int = 300,
    ) -> None:
        self._router = router
        self._probe = probe
        self._api = api
        self._namespace = namespace
        self._selector = selector
        self._port = port
        self._port_name = port_name
        self._max_in_flight = max_in_flight
        self._resync = resync_seconds
        self._watch_timeout = watch_timeout_seconds
        self._stop = threading.Event()
        self.known: dict[str, tuple[str, str]] = {}  # pod name -> (replica id, address)
        self.pending: dict[str, str] = {}  # ready pods whose ListModels failed -> address

    async def run(self) -> None:
        """Watches until cancelled; the blocking watch runs in a daemon thread."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue()
        thread = threading.Thread(target=self._watch_loop, args=(loop, queue), name="pod-watch", daemon=True)
        thread.start()
        resync = asyncio.create_task(self._resync_forever())
        try:
            while True:
                kind, payload = await queue.get()
                if kind == "SYNC":
                    await self.sync(payload)
                else:
                    await self.handle(kind, payload)
        finally:
            self._stop.set()
            resync.cancel()

    async def sync(self, pods: list[client.V1Pod]) -> None:
        """Applies a full listing: every listed pod as an update, unlisted known pods dropped."""
        names = {pod_name(p) for p in pods}
        for name in [n for n in self.known if n not in names]:
            await self._remove(name, "pod_gone")
        for name in [n for n in self.pending if n not in names]:
            self.pending.pop(name, None)
        for pod in pods:
            await self.handle("MODIFIED", pod)

    async def handle(self, event_type: str, pod: client.V1Pod) -> None:
        """Applies one watch event."""
        name = pod_name(pod)
        if event_type == "DELETED" or not pod_ready(pod):
            self.pending.pop(name, None)
            await self._remove(name, "pod_deleted" if event_type == "DELETED" else "pod_unready")
            return
        address = pod_address(pod, self._port_name, self._port)
        if name in self.known and self.known[name][1] == address:
            return
        await self._add(name, address)

    async def _add(self, name: str, address: str) -> None:
        try:
            listing = await self._probe(address, 5.0)
        except ReplicaGone as exc:
            logger.warning("pod %s is ready but ListModels failed (%s); will retry", name, exc)
            self.pending[name] = address
            return
        self.pending.pop(name, None)
        replica_id = listing.replica_id or name
        models = [model_status_from_pb(m) for m in listing.models]
        await self._router.register(replica_id, address, models, self._max_in_flight, pinned=True)
        self.known[name] = (replica_id, address)

    async def _remove(self, name: str, reason: str) -> None:
        entry = self.known.pop(name, None)
        if entry is not None:
            await self._router.drop(entry[0], reason)

    async def _resync_forever(self) -> None:
        """Refreshes what each known pod holds and retries pods that were not answering."""
        while True:
            await asyncio.sleep(self._resync)
            for name, address in list(self.pending.items()):
                await self._add(name, address)
            for _name, (replica_id, address) in list(self.known.items()):
                try:
                    listing = await self._probe(address, 5.0)
                except ReplicaGone:
                    continue  # the pod's readiness (and the watch) decide when it leaves
                await self._router.heartbeat(replica_id, [model_status_from_pb(m) for m in listing.models])

    def _watch_loop(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Event]) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self._list_then_watch(loop, queue)
                backoff = 1.0
            except client.ApiException as exc:
                hint = " (RBAC: the ServiceAccount needs get/list/watch on pods)" if exc.status == 403 else ""
                logger.warning("pod watch failed: %s %s%s", exc.status, exc.reason, hint)
            except Exception as exc:  # noqa: BLE001 - the watch must survive API hiccups
                logger.warning("pod watch failed: %s", exc)
            self._stop.wait(backoff)
            backoff = min(30.0, backoff * 2)

    def _list_then_watch(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Event]) -> None:
        listing = self._api.list_namespaced_pod(self._namespace, label_selector=self._selector)
        loop.call_soon_threadsafe(queue.put_nowait, ("SYNC", list(listing.items)))
        watcher = watch.Watch()
        for event in watcher.stream(
            self._api.list_namespaced_pod,
            self._namespace,
            label_selector=self._selector,
            resource_version=listing.metadata.resource_version if listing.metadata else None,
            timeout_seconds=self._watch_timeout,
        ):
            if self._stop.is_set():
                watcher.stop()
                return
            loop.call_soon_threadsafe(queue.put_nowait, (event["type"], event["object"]))

"""Routing: model-aware placement, bounded in-flight work, reroute on replica death, hosted fallback."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from hugginggpt.auth import check_mode
from hugginggpt.convert import mode_from_pb
from hugginggpt.domain import InferenceMode, ModelStatus
from hugginggpt.errors import DeadlineExceeded, NotFound, ResourceExhausted, Unavailable
from hugginggpt.v1 import common_pb2, router_pb2
from services.router import metrics
from services.router.registry import RegisteredReplica, Registry, choose

logger = logging.getLogger(__name__)


class ReplicaGone(Exception):
    """The replica died or cannot be reached; the inference did not complete there."""


class ReplicaBusy(Exception):
    """The replica refused the inference for capacity; it did not run there."""


class ReplicaTransport(Protocol):
    async def predict(
        self, address: str, inference: router_pb2.Inference, timeout: float
    ) -> router_pb2.InferenceOutcome: ...


class HostedBackend(Protocol):
    @property
    def available(self) -> bool: ...

    async def infer(self, inference: router_pb2.Inference, timeout: float) -> router_pb2.InferenceOutcome: ...


class Router:
    """Places each inference on a replica (or hosted inference) and keeps the registry current."""

    def __init__(
        self,
        registry: Registry,
        transport: ReplicaTransport,
        hosted: HostedBackend | None,
        default_mode: InferenceMode,
        max_attempts: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self._transport = transport
        self._hosted = hosted
        self.default_mode = default_mode
        self._max_attempts = max(1, max_attempts)
        self._clock = clock
        self._changed = asyncio.Condition()
        self._latency: dict[str, float] = {}  # EWMA seconds per model, to predict queue waits
        self._waiting: dict[str, int] = {}

    @property
    def hosted_available(self) -> bool:
        return self._hosted is not None and self._hosted.available

    # Registry changes (each wakes inferences waiting for a slot).

    async def register(
        self,
        replica_id: str,
        address: str,
        models: Iterable[ModelStatus],
        max_in_flight: int,
        pinned: bool = False,
    ) -> None:
        async with self._changed:
            replica = self.registry.register(replica_id, address, models, max_in_flight, pinned)
            metrics.REPLICA_CAPACITY.labels(replica_id).set(replica.max_in_flight)
            metrics.REPLICA_IN_FLIGHT.labels(replica_id).set(replica.in_flight)
            metrics.REPLICAS.set(len(self.registry.replicas()))
            self._changed.notify_all()
        logger.info("replica %s registered at %s", replica_id, address)

    async def heartbeat(self, replica_id: str, models: Iterable[ModelStatus] | None) -> bool:
        async with self._changed:
            known = self.registry.heartbeat(replica_id, models)
            self._changed.notify_all()
        return known

    async def drop(self, replica_id: str, reason: str) -> None:
        async with self._changed:
            if self.registry.remove(replica_id) is not None:
                self._forget(replica_id, reason)
            self._changed.notify_all()

    async def expire(self) -> list[str]:
        async with self._changed:
            gone = [r.replica_id for r in self.registry.expire()]
            for replica_id in gone:
                self._forget(replica_id, "missed_heartbeats")
            self._changed.notify_all()
        return gone

    async def expire_forever(self, interval: float) -> None:
        """Drops silent replicas every interval, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await self.expire()

    def _forget(self, replica_id: str, reason: str) -> None:
        logger.warning("replica %s dropped (%s)", replica_id, reason)
        metrics.DROPPED.labels(reason).inc()
        metrics.forget_replica(replica_id)
        metrics.REPLICAS.set(len(self.registry.replicas()))

    # Inference.

    async def infer(self, inference: router_pb2.Inference, timeout: float) -> router_pb2.InferenceOutcome:
        """Runs the inference where the mode allows; raises errors that name what to do."""
        deadline = self._clock() + timeout
        mode = self.resolve_mode(inference.mode)
        if mode is InferenceMode.HUGGINGFACE:
            return await self._run_hosted(inference, deadline, None)
        excluded: set[str] = set()
        refused: set[str] = set()
        failures = 0
        while True:
            candidates = self.registry.capable(inference.model_id, inference.task_type, excluded)
            if not candidates:
                return await self._nowhere(inference, mode, deadline, refused)
            replica = await self._acquire(inference, deadline, excluded)
            if replica is None:
                return await self._busy(inference, mode, deadline)
            try:
                return await self._run_on(replica, inference, deadline)
            except ReplicaGone as exc:
                failures += 1
                await self._suspect(replica, exc)
                excluded.add(replica.replica_id)
                metrics.REROUTES.labels("replica_gone").inc()
                if failures >= self._max_attempts:
                    raise Unavailable(
                        f"model {inference.model_id}: {failures} replicas failed in a row (last: "
                        f"{replica.replica_id}: {exc}); check the replicas' logs"
                    ) from exc
            except ReplicaBusy:
                excluded.add(replica.replica_id)
                refused.add(replica.replica_id)
                metrics.REROUTES.labels("replica_busy").inc()
            finally:
                await self._release(replica)

    def resolve_mode(self, value: int) -> InferenceMode:
        """The requested mode; PermissionDenied when it would send data to hosted inference the deployment forbids."""
        mode = mode_from_pb(value) or self.default_mode
        check_mode(mode.value, self.default_mode.value)
        return mode

    async def _run_on(
        self, replica: RegisteredReplica, inference: router_pb2.Inference, deadline: float
    ) -> router_pb2.InferenceOutcome:
        started = self._clock()
        left = deadline - started
        if left <= 0:
            raise DeadlineExceeded(f"model {inference.model_id}: the deadline ran out before it could run")
        outcome = await self._transport.predict(replica.address, inference, left)
        self._observe(inference.model_id, self._clock() - started)
        outcome.replica_id = outcome.replica_id or replica.replica_id
        outcome.site = common_pb2.INFERENCE_SITE_LOCAL
        metrics.ROUTED.labels("local").inc()
        return outcome

    async def _acquire(
        self, inference: router_pb2.Inference, deadline: float, excluded: set[str]
    ) -> RegisteredReplica | None:
        """Takes a slot on the best replica; waits for one within the deadline; None when too busy."""
        model, task = inference.model_id, inference.task_type
        started = self._clock()
        self._waiting[model] = self._waiting.get(model, 0) + 1
        try:
            async with self._changed:
                while True:
                    candidates = self.registry.capable(model, task, excluded)
                    free = [r for r in candidates if r.has_slot]
                    if free:
                        replica = choose(free, model)
                        replica.in_flight += 1
                        self.registry.mark_loaded(replica.replica_id, model, task)
                        metrics.REPLICA_IN_FLIGHT.labels(replica.replica_id).set(replica.in_flight)
                        metrics.QUEUE_WAIT.observe(self._clock() - started)
                        return replica
                    if not candidates:
                        return None
                    left = deadline - self._clock()
                    if left <= 0 or self._expected_wait(model, candidates) > left:
                        return None
                    try:
                        await asyncio.wait_for(self._changed.wait(), left)
                    except TimeoutError:
                        return None
        finally:
            self._waiting[model] -= 1

    async def _release(self, replica: RegisteredReplica) -> None:
        async with self._changed:
            replica.in_flight = max(0, replica.in_flight - 1)
            if self.registry.get(replica.replica_id) is replica:
                metrics.REPLICA_IN_FLIGHT.labels(replica.replica_id).set(replica.in_flight)
            self._changed.notify_all()

    async def _suspect(self, replica: RegisteredReplica, exc: Exception) -> None:
        logger.warning("replica %s failed mid-request (%s); suspect now, rerouting", replica.replica_id, exc)
        async with self._changed:
            self.registry.mark_suspect(replica.replica_id)

    def _expected_wait(self, model: str, candidates: list[RegisteredReplica]) -> float:
        """Seconds until a slot frees for the newest waiter, from the model's observed latency."""
        latency = self._latency.get(model)
        if latency is None:
            return 0.0  # nothing known yet: wait and let the deadline decide
        capacity = sum(r.max_in_flight for r in candidates)
        rounds = math.ceil(self._waiting.get(model, 1) / max(1, capacity))
        return rounds * latency + latency

    def _observe(self, model: str, seconds: float) -> None:
        previous = self._latency.get(model)
        self._latency[model] = seconds if previous is None else 0.8 * previous + 0.2 * seconds

    # When no replica can take the inference.

    async def _nowhere(
        self, inference: router_pb2.Inference, mode: InferenceMode, deadline: float, refused: set[str]
    ) -> router_pb2.InferenceOutcome:
        model = inference.model_id
        listing = self.registry.listing(model, inference.task_type)
        reason = "replica_failed" if listing else "not_deployed"
        if mode is InferenceMode.HYBRID and self.hosted_available:
            return await self._run_hosted(inference, deadline, reason)
        if listing and {r.replica_id for r in listing} <= refused:
            metrics.REJECTED.labels("busy").inc()
            raise ResourceExhausted(
                f"every replica serving {model} refused it for capacity; retry later, or add replicas"
            )
        replicas = self.registry.replicas()
        if not replicas:
            metrics.REJECTED.labels("no_replicas").inc()
            raise Unavailable(
                f"no model replica is registered with the router, so {model} cannot run locally; start a "
                "replica (python -m services.replica) pointed at this router, or enable hosted inference "
                "(HUGGINGGPT_INFERENCE_MODE=hybrid and HUGGINGGPT_HF_TOKEN)"
            )
        if listing:
            names = ", ".join(r.replica_id for r in listing)
            metrics.REJECTED.labels("replicas_failing").inc()
            raise Unavailable(
                f"every replica serving {model} ({names}) failed or is suspect; retry shortly"
                + ("" if mode is InferenceMode.LOCAL else ", or enable hosted inference with HUGGINGGPT_HF_TOKEN")
            )
        deployed = ", ".join(self.registry.deployed_models()) or "none"
        metrics.REJECTED.labels("not_deployed").inc()
        hint = "" if mode is not InferenceMode.LOCAL else "; hosted inference is off in local mode"
        raise NotFound(
            f"model {model} ({inference.task_type or 'no task type'}) is not deployed on any replica; "
            f"deployed models: {deployed}{hint}"
        )

    async def _busy(
        self, inference: router_pb2.Inference, mode: InferenceMode, deadline: float
    ) -> router_pb2.InferenceOutcome:
        if mode is InferenceMode.HYBRID and self.hosted_available:
            return await self._run_hosted(inference, deadline, "replicas_busy")
        listing = self.registry.capable(inference.model_id, inference.task_type)
        load = ", ".join(f"{r.replica_id} {r.in_flight}/{r.max_in_flight}" for r in listing)
        left = max(0.0, deadline - self._clock())
        metrics.REJECTED.labels("busy").inc()
        raise ResourceExhausted(
            f"every replica serving {inference.model_id} is at its in-flight limit ({load}) and no slot "
            f"is expected within the {left:.1f} s left of the deadline; retry later with a longer "
            "deadline, or add replicas"
        )

    async def _run_hosted(
        self, inference: router_pb2.Inference, deadline: float, reason: str | None
    ) -> router_pb2.InferenceOutcome:
        if self._hosted is None or not self._hosted.available:
            raise Unavailable(
                f"hosted inference is not configured, so {inference.model_id} cannot run in huggingface "
                "mode; set HUGGINGGPT_HF_TOKEN (and unset HF_HUB_OFFLINE), or use local mode"
            )
        if reason is not None:
            metrics.HOSTED_FALLBACKS.labels(reason).inc()
            logger.info("model %s: hosted fallback (%s)", inference.model_id, reason)
        outcome = await self._hosted.infer(inference, max(0.05, deadline - self._clock()))
        outcome.site = common_pb2.INFERENCE_SITE_HOSTED
        metrics.ROUTED.labels("hosted").inc()
        return outcome

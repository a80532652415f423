"""The router's registry of model replicas: what each can serve and holds, its load and liveness."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, field

from hugginggpt.domain import ModelStatus
from hugginggpt.errors import PermissionDenied

# A replica that lists this model id serves any model of the task types given with it
# (the transformers path loads arbitrary Hub ids); exact listings are preferred over it.
ANY_MODEL = "*"


@dataclass
class RegisteredReplica:
    """A model host as the router sees it."""

    replica_id: str
    address: str
    models: dict[str, ModelStatus]
    max_in_flight: int
    last_seen: float
    in_flight: int = 0
    suspect: bool = False
    pinned: bool = False  # kept by discovery, not by heartbeats

    def lists(self, model_id: str, task_type: str = "") -> bool:
        """Whether the replica can serve the model (by name, or through a wildcard for the task type)."""
        state = self.models.get(model_id)
        if state is not None:
            return not state.error
        wildcard = self.models.get(ANY_MODEL)
        return bool(wildcard and not wildcard.error and task_type and task_type in wildcard.task_types)

    def holds(self, model_id: str) -> bool:
        """Whether the model is loaded (or being loaded for the router) on this replica."""
        state = self.models.get(model_id)
        return bool(state and state.loaded and not state.error)

    @property
    def load(self) -> float:
        """Fraction of its in-flight capacity in use."""
        return self.in_flight / max(1, self.max_in_flight)

    @property
    def has_slot(self) -> bool:
        return self.in_flight < self.max_in_flight


@dataclass
class Registry:
    """Replicas by id; heartbeats keep them, the TTL drops the silent ones. No I/O, no grpc."""

    ttl_seconds: float
    clock: Callable[[], float] = time.monotonic
    _replicas: dict[str, RegisteredReplica] = field(default_factory=dict)

    def register(
        self,
        replica_id: str,
        address: str,
        models: Iterable[ModelStatus],
        max_in_flight: int,
        pinned: bool = False,
    ) -> RegisteredReplica:
        """Adds a replica or refreshes it; keeps its in-flight count and clears any suspicion.

        Raises PermissionDenied when a replica registering itself (not pinned) names an id that a live
        replica at another address holds: one replica never takes over another's traffic. Discovery
        (pinned) reads pod addresses from the Kubernetes API, so it may move an id.
        """
        existing = self._replicas.get(replica_id)
        if existing is not None and not pinned and existing.address != address and self._held(existing):
            raise PermissionDenied(
                f"replica id {replica_id!r} is held by the replica at {existing.address}; give this replica "
                f"(at {address}) an id of its own (HUGGINGGPT_REPLICA_ID), or wait until that one stops "
                f"heartbeating ({self.ttl_seconds:.0f} s)"
            )
        states = {m.model_id: m for m in models}
        if existing is None:
            existing = RegisteredReplica(replica_id, address, states, max(1, max_in_flight), self.clock())
            existing.pinned = pinned
            self._replicas[replica_id] = existing
            return existing
        existing.address = address
        existing.models = states
        existing.max_in_flight = max(1, max_in_flight)
        existing.last_seen = self.clock()
        existing.suspect = False
        existing.pinned = existing.pinned or pinned
        return existing

    def _held(self, replica: RegisteredReplica) -> bool:
        return replica.pinned or self.clock() - replica.last_seen <= self.ttl_seconds

    def heartbeat(self, replica_id: str, models: Iterable[ModelStatus] | None) -> bool:
        """Refreshes a known replica; False when unknown (it should register again)."""
        replica = self._replicas.get(replica_id)
        if replica is None:
            return False
        if models is not None:
            replica.models = {m.model_id: m for m in models}
        replica.last_seen = self.clock()
        replica.suspect = False
        return True

    def remove(self, replica_id: str) -> RegisteredReplica | None:
        return self._replicas.pop(replica_id, None)

    def expire(self) -> list[RegisteredReplica]:
        """Drops replicas whose last heartbeat is older than the TTL (pinned ones excepted)."""
        cutoff = self.clock() - self.ttl_seconds
        gone = [r for r in self._replicas.values() if not r.pinned and r.last_seen < cutoff]
        for replica in gone:
            del self._replicas[replica.replica_id]
        return gone

    def get(self, replica_id: str) -> RegisteredReplica | None:
        return self._replicas.get(replica_id)

    def replicas(self) -> list[RegisteredReplica]:
        return sorted(self._replicas.values(), key=lambda r: r.replica_id)

    def listing(self, model_id: str, task_type: str = "") -> list[RegisteredReplica]:
        """Every replica that lists the model, suspect or not."""
        return [r for r in self.replicas() if r.lists(model_id, task_type)]

    def capable(self, model_id: str, task_type: str, exclude: Set[str] = frozenset()) -> list[RegisteredReplica]:
        """Replicas that can serve the model now: listed, not suspect, not excluded."""
        return [r for r in self.listing(model_id, task_type) if not r.suspect and r.replica_id not in exclude]

    def mark_suspect(self, replica_id: str) -> None:
        replica = self._replicas.get(replica_id)
        if replica is not None:
            replica.suspect = True

    def mark_loaded(self, replica_id: str, model_id: str, task_type: str = "") -> None:
        """Records that the replica holds (or is loading) the model, ahead of its next heartbeat."""
        replica = self._replicas.get(replica_id)
        if replica is None:
            return
        state = replica.models.get(model_id) or ModelStatus(model_id, (task_type,) if task_type else ())
        replica.models[model_id] = ModelStatus(state.model_id, state.task_types, True, state.memory_bytes)

    def deployed_models(self) -> list[str]:
        """Model ids some replica lists (without wildcards), sorted."""
        return sorted({
            m for r in self._replicas.values() for m, s in r.models.items() if m != ANY_MODEL and not s.error
        })

    def seconds_since(self, replica: RegisteredReplica) -> float:
        return max(0.0, self.clock() - replica.last_seen)


def choose(free: list[RegisteredReplica], model_id: str) -> RegisteredReplica:
    """The replica to run on: one that holds the model if any, least loaded first, ties by id."""
    holders = [r for r in free if r.holds(model_id)]
    exact = [r for r in free if model_id in r.models]
    pool = holders or exact or free
    return min(pool, key=lambda r: (r.load, r.in_flight, r.replica_id))

"""Prometheus metrics of the model router (registered once, in the default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REPLICA_IN_FLIGHT = Gauge(
    "hugginggpt_router_replica_in_flight", "Inferences the router has running on each replica", ["replica"]
)
REPLICA_CAPACITY = Gauge(
    "hugginggpt_router_replica_max_in_flight", "In-flight limit of each replica", ["replica"]
)
REPLICAS = Gauge("hugginggpt_router_replicas", "Live replicas in the registry")
ROUTED = Counter("hugginggpt_router_inferences_total", "Inferences routed, by where they ran", ["site"])
REROUTES = Counter(
    "hugginggpt_router_reroutes_total", "Inferences sent to another replica after one failed", ["reason"]
)
HOSTED_FALLBACKS = Counter(
    "hugginggpt_router_hosted_fallbacks_total", "Inferences sent hosted in hybrid mode", ["reason"]
)
QUEUE_WAIT = Histogram(
    "hugginggpt_router_queue_wait_seconds",
    "Time an inference waited for a free replica slot",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
REJECTED = Counter("hugginggpt_router_rejected_total", "Inferences refused, by reason", ["reason"])
DROPPED = Counter("hugginggpt_router_replicas_dropped_total", "Replicas removed, by reason", ["reason"])


def forget_replica(replica_id: str) -> None:
    """Removes a dropped replica's series so dashboards do not show ghosts."""
    for gauge in (REPLICA_IN_FLIGHT, REPLICA_CAPACITY):
        try:
            gauge.remove(replica_id)
        except KeyError:
            pass

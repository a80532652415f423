"""Gateway-level Prometheus metrics: per-request LLM cost, tasks by state, request latency."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUEST_LATENCY = Histogram(
    "hugginggpt_gateway_request_seconds",
    "Time from a gateway request to its last event",
    ["rpc", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
)
LLM_CALLS_PER_REQUEST = Histogram(
    "hugginggpt_gateway_llm_calls_per_request",
    "LLM calls one request cost, over all stages",
    ["rpc"],
    buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10, 15),
)
LLM_TOKENS_PER_REQUEST = Histogram(
    "hugginggpt_gateway_llm_tokens_per_request",
    "LLM tokens (prompt + completion) one request cost, over all stages",
    ["rpc"],
    buckets=(100, 250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000),
)
LLM_CALLS = Counter("hugginggpt_gateway_llm_calls_total", "LLM calls made for gateway requests", ["stage"])
LLM_TOKENS = Counter(
    "hugginggpt_gateway_llm_tokens_total", "LLM tokens spent for gateway requests", ["stage", "kind"]
)
TASKS = Counter("hugginggpt_gateway_tasks_total", "Tasks that reached a final state", ["state"])
ARTIFACT_BYTES = Counter("hugginggpt_gateway_artifact_bytes_total", "Artifact bytes moved", ["direction"])

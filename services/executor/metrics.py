"""Prometheus metrics of the executor: tasks by final state, task latency, attempts."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TASKS = Counter("hugginggpt_executor_tasks_total", "Tasks that reached a final state", ["state"])
TASK_SECONDS = Histogram(
    "hugginggpt_executor_task_seconds",
    "Seconds from a task's start to its final state (all attempts)",
    ["state"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
ATTEMPTS = Counter("hugginggpt_executor_attempts_total", "Inference attempts by outcome", ["outcome"])

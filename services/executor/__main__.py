"""Runs the executor service: python -m services.executor."""

from __future__ import annotations

import asyncio

from hugginggpt import tracing
from hugginggpt.admission import concurrency_setting
from hugginggpt.artifacts_s3 import open_artifact_store
from hugginggpt.logs import configure
from hugginggpt.server import ServerSpec, run
from hugginggpt.tasktypes import load_task_types
from hugginggpt.v1 import executor_pb2, executor_pb2_grpc
from services.executor.clients import RouterClient
from services.executor.config import ExecutorConfig
from services.executor.engine import Executor
from services.executor.servicer import ExecutorServicer
from services.executor.validation import store_lookup


async def main() -> None:
    configure("executor")
    traces = tracing.setup("executor")  # no-op unless HUGGINGGPT_OTEL_ENABLED; before any channel
    config = ExecutorConfig.from_env()
    store = open_artifact_store(root=config.artifact_dir, max_bytes=config.artifact_max_bytes)
    router = RouterClient(config.router_address)
    executor = Executor(router, load_task_types(), store_lookup(store), config.max_tasks)
    servicer = ExecutorServicer(executor, config)
    spec = ServerSpec(
        listen=config.listen,
        service_names=[executor_pb2.DESCRIPTOR.services_by_name["ExecutorService"].full_name],
        register=lambda server: executor_pb2_grpc.add_ExecutorServiceServicer_to_server(servicer, server),
        metrics_port=config.metrics_port,
        max_concurrent_requests=config.max_concurrent_requests,
        concurrency_setting=concurrency_setting("executor"),
        on_stop=[traces.shutdown, router.close],
    )
    await run(spec)


if __name__ == "__main__":
    asyncio.run(main())

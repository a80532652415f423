"""`python -m services.planner`: wiring only (settings -> planner -> gRPC server)."""

from __future__ import annotations

import asyncio

import grpc

from hugginggpt import logs, tracing
from hugginggpt.admission import concurrency_setting
from hugginggpt.server import ServerSpec, run
from hugginggpt.tasktypes import load_task_types
from hugginggpt.v1 import planner_pb2, planner_pb2_grpc
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig
from services.planner.servicer import PlannerServicer


async def main() -> None:
    logs.configure("planner")
    traces = tracing.setup("planner")  # no-op unless HUGGINGGPT_OTEL_ENABLED; before any channel
    config = PlannerConfig.from_env()
    deps = build_planner(config, load_task_types())
    servicer = PlannerServicer(deps.planner, config.default_timeout_seconds)

    def register(server: grpc.aio.Server) -> None:
        planner_pb2_grpc.add_PlannerServiceServicer_to_server(servicer, server)

    await run(ServerSpec(
        listen=config.listen,
        service_names=[planner_pb2.DESCRIPTOR.services_by_name["PlannerService"].full_name],
        register=register,
        metrics_port=config.metrics_port,
        max_concurrent_requests=config.max_concurrent_requests,
        concurrency_setting=concurrency_setting("planner"),
        on_stop=[traces.shutdown, deps.close],
    ))


if __name__ == "__main__":
    asyncio.run(main())

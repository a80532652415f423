"""`python -m services.planner`: wiring only (settings -> planner -> gRPC server)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc

from hugginggpt import logs, tracing
from hugginggpt.admission import concurrency_setting
from hugginggpt.server import ServerSpec, run
from hugginggpt.tasktypes import load_task_types
from hugginggpt.v1 import planner_pb2, planner_pb2_grpc
from services.planner.calibration import calibrate_in_background
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig
from services.planner.servicer import PlannerServicer


async def main() -> None:
    logs.configure("planner")
    traces = tracing.setup("planner")  # no-op unless HUGGINGGPT_OTEL_ENABLED; before any channel
    config = PlannerConfig.from_env()
    types = load_task_types()
    deps = build_planner(config, types)
    servicer = PlannerServicer(deps.planner, config.default_timeout_seconds)
    stops: list[Callable[[], Awaitable[None]]] = [traces.shutdown, deps.close]
    if config.guide == "auto":  # calibrates in the background; the planner serves under fixed meanwhile
        stops.insert(0, calibrate_in_background(deps, config, list(types.values())))

    def register(server: grpc.aio.Server) -> None:
        planner_pb2_grpc.add_PlannerServiceServicer_to_server(servicer, server)

    await run(ServerSpec(
        listen=config.listen,
        service_names=[planner_pb2.DESCRIPTOR.services_by_name["PlannerService"].full_name],
        register=register,
        metrics_port=config.metrics_port,
        max_concurrent_requests=config.max_concurrent_requests,
        concurrency_setting=concurrency_setting("planner"),
        on_stop=stops,
    ))


if __name__ == "__main__":
    asyncio.run(main())

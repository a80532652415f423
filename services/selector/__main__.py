"""Runs the selector service: `python -m services.selector`."""

from __future__ import annotations

import asyncio

from hugginggpt import logs, tracing
from hugginggpt.admission import concurrency_setting
from hugginggpt.embedding import MiniLm
from hugginggpt.llm import LlmClient
from hugginggpt.server import ServerSpec, run
from hugginggpt.tasktypes import load_task_types
from hugginggpt.v1 import selector_pb2, selector_pb2_grpc
from services.selector.catalog import load_catalog
from services.selector.clients import DeploymentsClient, offline_fallback
from services.selector.config import OFFLINE, SelectorConfig
from services.selector.deployments import DeploymentCache
from services.selector.ranking import Ranker
from services.selector.selection import Selector
from services.selector.servicer import SelectorServicer


async def main() -> None:
    logs.configure("selector")
    traces = tracing.setup("selector")  # no-op unless HUGGINGGPT_OTEL_ENABLED; before any channel
    config = SelectorConfig.from_env()
    catalog = load_catalog(config.snapshot, OFFLINE, config.extra)
    router = DeploymentsClient(config.router_address)
    llm = LlmClient(config.llm)
    deployments = DeploymentCache(router.deployments, offline_fallback(OFFLINE), config.router_cache_seconds)
    embedder = MiniLm()
    await asyncio.to_thread(embedder.embed, ["warm-up"])  # load the model before taking traffic
    selector = Selector(catalog, Ranker(embedder), deployments, llm, load_task_types(), config.policy)
    servicer = SelectorServicer(selector)
    name = selector_pb2.DESCRIPTOR.services_by_name["SelectorService"].full_name
    await run(ServerSpec(
        listen=config.listen,
        service_names=[name],
        register=lambda server: selector_pb2_grpc.add_SelectorServiceServicer_to_server(servicer, server),
        metrics_port=config.metrics_port,
        max_concurrent_requests=config.max_concurrent_requests,
        concurrency_setting=concurrency_setting("selector"),
        on_stop=[traces.shutdown, router.close, llm.close],
    ))


if __name__ == "__main__":
    asyncio.run(main())

"""Runs the responder service: `python -m services.responder`."""

from __future__ import annotations

import asyncio

from hugginggpt import logs, tracing
from hugginggpt.admission import concurrency_setting
from hugginggpt.server import ServerSpec, run
from hugginggpt.v1 import responder_pb2, responder_pb2_grpc
from services.responder.clients import llm_client
from services.responder.config import ResponderConfig
from services.responder.responding import Responder
from services.responder.servicer import ResponderServicer


async def main() -> None:
    logs.configure("responder")
    traces = tracing.setup("responder")  # no-op unless HUGGINGGPT_OTEL_ENABLED; before any channel
    config = ResponderConfig.from_env()
    llm = llm_client(config.llm)
    servicer = ResponderServicer(Responder(llm, config.policy))
    name = responder_pb2.DESCRIPTOR.services_by_name["ResponderService"].full_name
    await run(ServerSpec(
        listen=config.listen,
        service_names=[name],
        register=lambda server: responder_pb2_grpc.add_ResponderServiceServicer_to_server(servicer, server),
        metrics_port=config.metrics_port,
        max_concurrent_requests=config.max_concurrent_requests,
        concurrency_setting=concurrency_setting("responder"),
        on_stop=[traces.shutdown, llm.close],
    ))


if __name__ == "__main__":
    asyncio.run(main())

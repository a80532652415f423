"""Runs the gateway: `python -m gateway`."""

from __future__ import annotations

import asyncio
import logging

from gateway.config import GatewayConfig
from gateway.wiring import build_spec
from hugginggpt import logs, tracing
from hugginggpt.server import run
from hugginggpt.settings import env_str


async def serve(config: GatewayConfig, traces: tracing.Tracing) -> None:
    # Channels belong to the loop that creates them, so everything is built inside the running loop.
    spec = build_spec(config, traces.tracer("gateway"))
    spec.on_stop.append(traces.shutdown)
    await run(spec)


def main() -> None:
    logs.configure("gateway", env_str("HUGGINGGPT_LOG_LEVEL", "INFO"))
    config = GatewayConfig.from_env()
    if not config.auth_token:
        logging.getLogger("gateway").warning(
            "HUGGINGGPT_GATEWAY_OPEN=true: serving anyone who can reach %s, without a token", config.listen)
    traces = tracing.setup("gateway")  # before any server or channel exists, so both are instrumented
    asyncio.run(serve(config, traces))


if __name__ == "__main__":
    main()

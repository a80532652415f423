"""Runs the HTTP edge: `python -m edge`."""

from __future__ import annotations

import asyncio

import uvicorn
from prometheus_client import start_http_server

from edge.app import build_asgi
from edge.clients import GatewayLink
from edge.config import EdgeConfig
from hugginggpt import logs
from hugginggpt.settings import env_str


async def serve(config: EdgeConfig) -> None:
    # The channel belongs to the loop that creates it, so it is built inside the running loop.
    gateway = GatewayLink(config.gateway_address, config.auth_token)
    if config.metrics_port:
        start_http_server(config.metrics_port)
    server = uvicorn.Server(uvicorn.Config(
        build_asgi(config, gateway), host=config.host, port=config.port, log_config=None, access_log=False,
        timeout_graceful_shutdown=int(config.request_timeout_seconds) + 5, lifespan="off",
    ))
    try:
        await server.serve()  # SIGTERM: stop accepting, let open chats finish (up to their deadline)
    finally:
        await gateway.close()


def main() -> None:
    logs.configure("edge", env_str("HUGGINGGPT_LOG_LEVEL", "INFO"))
    asyncio.run(serve(EdgeConfig.from_env()))


if __name__ == "__main__":
    main()

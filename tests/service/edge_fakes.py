"""A real HTTP edge (uvicorn on a loopback port 0) in front of the in-process gateway and fake stages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import uvicorn
from gateway_fakes import Stack

from edge.app import build_app
from edge.clients import GatewayLink
from edge.config import EdgeConfig
from edge.metrics import instrument


class EdgeServer:
    """The edge app served by uvicorn, instrumented, as `python -m edge` serves it, calling the stack's gateway."""

    def __init__(self, stack: Stack, **config: Any) -> None:
        self.config = replace(EdgeConfig(), gateway_address=stack.address,
                              auth_token=stack.config.auth_token, **config)
        self.link = GatewayLink(self.config.gateway_address, self.config.auth_token)
        self.app = build_app(self.config, self.link)
        self.server = uvicorn.Server(uvicorn.Config(instrument(self.app), host="127.0.0.1", port=0, log_config=None,
                                                    access_log=False, lifespan="off"))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> EdgeServer:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
        await self.link.close()


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Returns once `condition` holds; AssertionError after `seconds` (generous: CI machines are loaded)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the condition did not hold within {seconds} s")
        await asyncio.sleep(0.02)

"""Uses the LLM at the configured base URL, or starts the embedded llama.cpp server there for the duration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlparse

from hugginggpt import embedded
from hugginggpt.errors import Unavailable
from hugginggpt.llm import LlmSettings

logger = logging.getLogger(__name__)


def llm_is_up(base_url: str, timeout: float = 2.0) -> bool:
    """True when GET {base_url}/models answers 200."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


async def wait_until_up(base_url: str, seconds: float) -> bool:
    """Polls {base_url}/models until it answers or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await asyncio.to_thread(llm_is_up, base_url):
            return True
        await asyncio.sleep(2.0)
    return False


def port_is_open(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when something accepts connections there (a busy LLM server still does)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.asynccontextmanager
async def ensure_llm(settings: LlmSettings, wait_seconds: float = 300.0) -> AsyncIterator[LlmSettings]:
    """Yields settings for a running LLM; starts the embedded model (HUGGINGGPT_EMBEDDED_MODEL) if none is."""
    url = urlparse(settings.base_url)
    if llm_is_up(settings.base_url) or port_is_open(url.hostname or "127.0.0.1", url.port or 80):
        yield settings  # running (perhaps busy): never start a second server on the same port
        return
    if url.hostname not in ("127.0.0.1", "localhost"):
        raise Unavailable(f"the LLM endpoint {settings.base_url} is not answering")
    key = os.environ.get("HUGGINGGPT_EMBEDDED_MODEL", "qwen2.5-coder-0.5b")
    if key not in embedded.PACKS:
        raise Unavailable(f"HUGGINGGPT_EMBEDDED_MODEL={key!r} is not one of {sorted(embedded.PACKS)}")
    pack = embedded.PACKS[key]
    model_path = await asyncio.to_thread(embedded.assemble, pack, embedded.default_cache_dir())
    threads = int(os.environ.get("HUGGINGGPT_LLM_THREADS", str(os.cpu_count() or 2)))
    command = embedded.server_command(model_path, pack.alias, url.hostname or "127.0.0.1", url.port or 8080,
                                      settings.context_window, threads)
    logger.info("starting the embedded LLM: %s", " ".join(command))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + wait_seconds
        while not llm_is_up(settings.base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise Unavailable(f"the embedded LLM ({key}) did not start at {settings.base_url}")
            await asyncio.sleep(1.0)
        yield replace(settings, model=pack.alias)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

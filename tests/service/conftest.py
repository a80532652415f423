"""Fixtures shared by the service tests: a real gateway in front of fake stages (a module may define its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gateway_fakes import Stack


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    s = await Stack(tmp_path).start()
    yield s
    await s.stop()

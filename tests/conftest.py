"""Shared fixtures: every test runs offline, with artifacts in a temporary store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MEDIA = Path(__file__).resolve().parent.parent / "examples" / "media"


@pytest.fixture
def media() -> Path:
    """The folder of test media (images, speech) shipped with the project."""
    return MEDIA

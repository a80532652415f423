"""Image bytes for tests: what a user's upload of a PIL image would carry."""

from __future__ import annotations

import io

from PIL import Image


def png(image: Image.Image) -> bytes:
    """The image encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

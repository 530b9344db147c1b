"""Real image files for tests: small JPEG, PNG and WebP photos made with Pillow."""

from __future__ import annotations

import io

from PIL import Image


def photo(fmt: str = "png", size: tuple[int, int] = (120, 80)) -> bytes:
    """A real image of `size` pixels in `fmt` ('png', 'jpg' or 'webp')."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[fmt])
    return out.getvalue()

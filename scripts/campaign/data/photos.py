"""Action photos: the one rule for the issue-form route and for photos added by a pull request.

A photo is a plain JPEG, PNG or WebP file of at most `MAX_BYTES`, whose content is what its
name says (magic bytes, and Pillow can read its headers, of the format the extension names),
with sane dimensions. Only headers are read; nothing is decoded, so a "decompression bomb"
costs nothing to refuse.
"""

from __future__ import annotations

import io
import warnings

MAX_BYTES = 10 * 1024 * 1024
"""Largest accepted photo (10 MiB): a phone photo, not a raw camera file."""
MIN_SIDE, MAX_SIDE = 1, 16_384
MAX_PIXELS = 100_000_000
"""At most 100 megapixels: bigger is a crafted file, not a photo of a delivery."""
MAGIC = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
EXTENSIONS = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp"}


def kind(data: bytes) -> str | None:
    """'jpg', 'png' or 'webp' from the file's first bytes, or None."""
    found = next((ext for magic, ext in MAGIC.items() if data.startswith(magic)), None)
    if found is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        found = "webp"
    return found


def problem(data: bytes, name: str | None = None) -> str | None:
    """Why `data` (the file `name`, if given) is not an acceptable photo, or None."""
    if len(data) > MAX_BYTES:
        return f"is {len(data) / 1048576:.1f} MiB; photos may be at most {MAX_BYTES // 1048576} MiB"
    found = kind(data)
    if found is None:
        return "is not a JPEG, PNG or WebP image"
    if name is not None and EXTENSIONS.get(name.rpartition(".")[2].lower()) != found:
        return f"holds a {FORMATS[found]} image; name it .{found}"
    sizes = (f"photos must be {MIN_SIDE} to {MAX_SIDE:,} pixels a side and at most "
             f"{MAX_PIXELS // 1_000_000} megapixels")
    from PIL import Image  # here: only actions with photos need Pillow (13 ms at every start)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[FORMATS[found]]) as image:
                width, height = image.size  # from the headers (PNG's IHDR, JPEG's SOF, WebP's VP8 frame)
    except Image.DecompressionBombError:
        return f"has far too many pixels; {sizes}"
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a damaged or crafted file
        return f"is not a readable {FORMATS[found]} image"
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
        return f"is {width}×{height} pixels; {sizes}"
    return None

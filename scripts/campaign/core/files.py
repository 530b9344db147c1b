"""Atomic file writes: a temporary file in the same folder, fsynced, then renamed into place.

A reader sees the old file or the new one, never half of either; a crash leaves no temporary
file behind once the next write of the same folder succeeds.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o644) -> None:
    """Replace `path` with `data` atomically; with `durable`, the data and the rename survive a
    power cut (fsync of the file and its folder). Raises OSError; nothing is left on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make the names in `folder` durable (a new or renamed file)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_quietly(path: Path, data: Any) -> bool:
    """Write compact JSON atomically, not durably (a cache); False, and nothing written, on any
    error: a cache that cannot be kept is rebuilt next time."""
    try:
        # dumps, not dump: only dumps uses the C encoder
        write_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), durable=False)
    except (OSError, ValueError, UnicodeEncodeError):  # ValueError: a name that is not valid UTF-8
        return False
    return True

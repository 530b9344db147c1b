"""One timed child process: wall and CPU seconds and peak resident memory, shared by the benchmarks."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def child(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, capture: bool = False) -> dict[str, Any]:
    """Run `cmd` to the end; its wall and CPU seconds and peak RSS in MiB (and, with `capture`,
    its standard output as `stdout`). Exits with its stderr on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out if capture else subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"benchmark command failed in {cwd}: {' '.join(cmd)}\n{err.read().decode(errors='replace')[-3000:]}")
        out.seek(0)
        result: dict[str, Any] = {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                                  "peak_mib": usage.ru_maxrss / 1024}
        if capture:
            result["stdout"] = out.read().decode(errors="replace")
    return result

"""One timed child process: wall seconds and peak resident memory, shared by the benchmarks."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def child(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run `cmd` to the end; its wall seconds and peak RSS in MiB. Exits with its stderr on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode(errors="replace")[-3000:] if proc.stderr else ""
        raise SystemExit(f"benchmark command failed in {cwd}: {' '.join(cmd)}\n{err}")
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024}

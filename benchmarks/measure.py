"""One timed child process: wall and CPU seconds and peak memory, shared by the benchmarks.

`peak_mib` is the child's own peak resident set (getrusage). A command that forks workers (the
site build forks one process per language) is measured as a tree too: `tree_peak_mib` is the
highest sum of the proportional set sizes (PSS, /proc/PID/smaps_rollup) of the child and all its
descendants, sampled every 0.1 s. PSS divides each shared page among the processes that map it,
so pages the workers share copy-on-write are counted once: the figure a machine's memory limit
sees.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = {pid}, [pid]
    while todo:
        for kid in children.get(todo.pop(), []):
            if kid not in found:
                found.add(kid)
                todo.append(kid)
    return found


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _sample_tree(pid: int, done: threading.Event, peak: list[int]) -> None:
    while not done.wait(0.1):
        peak[0] = max(peak[0], sum(_pss_kib(p) for p in _descendants(pid)))


def child(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, capture: bool = False) -> dict[str, Any]:
    """Run `cmd` to the end; its wall and CPU seconds, its peak RSS and its process tree's peak
    PSS in MiB (and, with `capture`, its standard output as `stdout`). Exits with its stderr on
    failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out if capture else subprocess.DEVNULL, stderr=err)
        done, peak = threading.Event(), [0]
        sampler = threading.Thread(target=_sample_tree, args=(proc.pid, done, peak), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"benchmark command failed in {cwd}: {' '.join(cmd)}\n{err.read().decode(errors='replace')[-3000:]}")
        out.seek(0)
        result: dict[str, Any] = {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                                  "peak_mib": usage.ru_maxrss / 1024, "tree_peak_mib": peak[0] / 1024}
        if capture:
            result["stdout"] = out.read().decode(errors="replace")
    return result

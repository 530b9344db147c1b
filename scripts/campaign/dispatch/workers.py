"""The dry run's letters composed in forked worker processes (ARCHITECTURE.md, "Scale": dispatch).

A dry run composes every letter it would send: that is how a letter that cannot be made is found
before the day. Letters are independent CPU work, so `forked_map` does the first here (what it
loads, such as locale data, is then shared), cuts the rest into one contiguous run per worker
(`folders.jobs()`, CAMPAIGN_JOBS; a mission's letters stay together, so each worker makes a
mission's frames once) and forks a child for each. A child inherits the loaded data and the plan
copy-on-write, so nothing is pickled or imported again; it sends back its results as JSON
through a pipe and leaves with `os._exit`. This process only waits meanwhile: every page either
side writes while a child lives is copied, which costs more than the composing it would do.

Fork, not spawn (the record parsers spawn): a spawned worker would import the package and load
the data again, more CPU than composing ten thousand letters takes. A fork is safe only without
other threads (a lock held by one would stay held in the child), so with another thread alive,
where fork is missing, or for fewer than `PARALLEL_FROM` letters, everything runs here; a child
that fails has its run done here too.
"""

from __future__ import annotations

import gc
import json
import os
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from campaign.data import dataset, folders

T = TypeVar("T")
PARALLEL_FROM = 20_000
"""Fork workers from this many letters. A letter made from its frame costs about 40 us, while
forking the process that holds 100,000 records, and the pages either side then copies, cost
0.3-0.5 s of CPU: at 12,000 letters two workers were no faster than one process, at 100,000 they
saved 1-2 s of a 10-13 s dry run (benchmarks/results/dispatch-speed-2026-12-02.json)."""


def forked_map(fn: Callable[[T], str | None], items: Sequence[T]) -> list[str | None]:
    """`[fn(item) for item in items]`, in forked workers when there are many (see the module)."""
    processes = folders.workers_for(len(items), PARALLEL_FROM)
    if processes < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
        with dataset.no_cyclic_gc():
            return [fn(item) for item in items]
    size = -(-(len(items) - 1) // processes)
    runs = [range(start, min(start + size, len(items))) for start in range(1, len(items), size)]
    with dataset.no_cyclic_gc():
        found: list[str | None] = [fn(items[0])]  # what the first loads (locale data), the children inherit
        children = [(_fork(fn, items, run), run) for run in runs]
        for child, run in children:  # this process waits: a page it wrote now would be copied for it
            got = _collect(*child) if child else None
            found += got if got is not None and len(got) == len(run) else [fn(items[i]) for i in run]
    return found


def _fork(fn: Callable[[T], str | None], items: Sequence[T], run: range) -> tuple[int, int] | None:
    """(pid, read end of its pipe) of a child computing `run`, or None when it cannot fork."""
    try:
        read, write = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: compute, write, leave without running the parent's clean-up
        code = 1
        try:
            os.close(read)
            gc.disable()
            data = json.dumps([fn(items[i]) for i in run]).encode()
            with os.fdopen(write, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(pid: int, read: int) -> list[str | None] | None:
    """A child's results, or None when it failed."""
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        got = json.loads(data)
    except ValueError:
        return None
    return got if isinstance(got, list) and all(g is None or isinstance(g, str) for g in got) else None

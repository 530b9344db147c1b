"""When the ledger reaches the disk during a run (ARCHITECTURE.md, "Dispatch": durability).

The rule: a letter's `sending` line is on disk before its DATA. An fdatasync costs about as much
as sending a letter to a server on loopback, so a run does not wait for one per letter:

- the line is written before MAIL FROM, and made durable by a worker thread (`Syncer`) while
  MAIL FROM, RCPT TO and, for the letters declared ahead, the previous letter's DATA go out;
  the backend's `before_data` waits for that fsync;
- the run declares the next `AHEAD` letters it will send (their `sending` lines) together with
  the one in hand, so one fsync covers several letters and overlaps a whole letter's exchange;
- an outcome line (`sent`, `deferred`, ...) is written without an fsync of its own: the next
  fsync covers it, and a crash before that leaves the letter `sending`, which the next run
  records `unknown`: never a resend without a person.

So a crash can leave at most `AHEAD` + 1 letters `unknown` (the one in hand and those declared
ahead) instead of one; a run that ends any other way records the declared letters it did not
send as `deferred`. fdatasync releases the GIL, so the thread costs the sending thread nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

AHEAD = 6
"""Letters declared `sending` ahead of the one in hand (a new batch when half are sent)."""


class Syncer:
    """One worker thread that runs fsyncs; `start` returns the Future to wait on."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-sync")
        self.last: Future[None] | None = None

    def start(self, sync: Callable[[], None]) -> Future[None]:
        self.last = self._pool.submit(sync)
        return self.last

    def wait(self) -> None:
        """Wait for the last fsync started (before the ledger file is closed or pushed)."""
        if self.last is not None:
            self.last.result()

    def stop(self) -> None:
        self._pool.shutdown(wait=True)

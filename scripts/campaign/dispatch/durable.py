"""When the ledger reaches the disk during a run (ARCHITECTURE.md, "Dispatch": durability).

The rule: a letter's `sending` line is on disk before its DATA. An fdatasync costs about as much
as sending a letter to a server on loopback, so a run neither waits for one per letter nor
spends one per line:

- a letter's `sending` line is written once MAIL FROM is out; whenever the last fsync is done, the
  `sending` lines of the next `AHEAD` letters not yet declared go in the same write (declared
  ahead), and a worker thread (`Syncer`) fsyncs them all while MAIL FROM and RCPT TO go out; the
  backend's `before_data` waits for that fsync. One fsync covers as many letters as were sent
  while the last one ran (group commit: a slow disk gets larger batches, never more than
  `AHEAD` letters ahead);
- taking a letter declared ahead in hand writes its `sending` line again (without the `ahead`
  mark) together with the previous letter's outcome, in one write that the next fsync covers;
- the rest waits for the server too (`Chores`, the backend's `mail.base.Meanwhile`): the letter's
  `sending` line is written and its fsync started while MAIL FROM is answered, the next letter
  is composed while RCPT TO is, and flattened while the message is (not while DATA is: 354
  comes at once), so the network does not wait for that work;
- lines declared ahead carry the machine's boot id (`ledger.boot_id`). After a crash, the next
  run on the same boot still sees every line written (the page cache survives a killed
  process), so a letter whose last line is a declaration was never in hand: `deferred`, not
  `unknown`. After a reboot, or on another machine, nothing written after the last fsync can be
  trusted, and every `sending` letter is `unknown`: at most `AHEAD` + 1, instead of one.

A run that ends any other way records the declared letters it did not send as `deferred`.
fdatasync releases the GIL, so the worker thread costs the sending thread almost nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

AHEAD = 6
"""Letters declared `sending` ahead of the one in hand, at most."""


class Syncer:
    """One worker thread that runs fsyncs; `start` returns the Future to wait on."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-sync")
        self.last: Future[None] | None = None

    def start(self, sync: Callable[[], None]) -> Future[None]:
        self.last = self._pool.submit(sync)
        return self.last

    @property
    def idle(self) -> bool:
        """True when no fsync is running (the next batch may be declared)."""
        return self.last is None or self.last.done()

    def wait(self) -> None:
        """Wait for the last fsync started (before the ledger file is closed or pushed)."""
        if self.last is not None:
            self.last.result()

    def stop(self) -> None:
        self._pool.shutdown(wait=True)


class Chores:
    """Steps to run while the server answers (`mail.base.Meanwhile`): each call runs the next
    one; `upto` and `finish` run those a caller needs now."""

    def __init__(self, *steps: Callable[[], object]) -> None:
        self._steps = deque(steps)
        self._done = 0

    def __call__(self) -> None:
        if self._steps:
            self._steps.popleft()()
            self._done += 1

    def upto(self, count: int) -> None:
        """Run steps until the first `count` have run."""
        while self._steps and self._done < count:
            self()

    def finish(self) -> None:
        while self._steps:
            self()

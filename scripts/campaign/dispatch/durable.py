"""When the ledger reaches the disk during a run (ARCHITECTURE.md, "Dispatch": durability).

The rule: a letter's `sending` line is on disk before its DATA. An fdatasync costs about as much
as sending a letter to a server on loopback, so a run neither waits for one per letter nor
spends one per line:

- the `sending` lines of the next `AHEAD` letters are declared ahead, in one write, whenever
  half of them are sent and the last fsync is done; a worker thread (`Syncer`) fsyncs them
  while the network works, and a letter's DATA (the backend's `before_data`) waits for the
  fsync that covers its line. One fsync covers as many letters as were sent while the last one
  ran (group commit: a slow disk gets larger batches, never more than `AHEAD` letters ahead). A
  letter not declared ahead (the first, a retry) is declared when it is taken in hand;
- taking a letter declared ahead in hand writes its `sending` line again (without the `ahead`
  mark) together with the previous letter's outcome, in one write that the next fsync covers;
- that work waits for the server, not the server for it (`Chores`, the backend's
  `mail.base.Meanwhile`): the letter is taken in hand while MAIL FROM is answered, the next
  letters are composed while RCPT TO is, flattened and declared ahead while the message is
  (the server's longest wait); nothing is done while DATA is answered (354 comes at once);
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
    one; `upto` and `finish` run those a caller needs now. A step that raises stops the rest;
    `upto` (when that step was needed) and `finish` raise it, once the backend has read the
    server's reply (so the caller still learns what the server did with the letter)."""

    def __init__(self, *steps: Callable[[], object]) -> None:
        self._steps = deque(steps)
        self._done = 0
        self._failed: BaseException | None = None

    def __call__(self) -> None:
        if self._steps and self._failed is None:
            try:
                self._steps.popleft()()
            except Exception as exc:  # noqa: BLE001 - kept for the caller (upto/finish), not for the backend
                self._failed = exc
                return
            self._done += 1

    def upto(self, count: int) -> None:
        """Run steps until the first `count` have run."""
        while self._steps and self._done < count and self._failed is None:
            self()
        if self._done < count and self._failed is not None:
            raise self._failed

    def finish(self) -> None:
        while self._steps and self._failed is None:
            self()
        if self._failed is not None:
            raise self._failed

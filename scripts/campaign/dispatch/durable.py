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
  letters are composed while the first RCPT TO is, flattened and declared ahead at the next
  wait (for a letter to one address, the message's: the server's longest); nothing is done
  while DATA is answered (354 comes at once);
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
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from campaign.records.ledger import Ledger

if TYPE_CHECKING:
    from campaign.dispatch.work import Pending

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


class Declarations:
    """A run's `sending` lines: declared ahead in batches, written again when a letter is taken
    in hand, released (`deferred`) when it never was; fsynced by the `syncer`."""

    def __init__(self, ledger: Ledger, run: str, boot: str, msgid: Callable[[Pending], str]) -> None:
        self.ledger, self.run, self.boot, self.msgid = ledger, run, boot, msgid
        self.syncer = Syncer()

    def _declare(self, pending: Pending, ahead: bool) -> None:
        """Hold the letter's `sending` line (written with the next flush, then fsynced). A line
        declared ahead carries this boot's id; taking the letter in hand writes it again without,
        so a crashed run's successor on the same boot knows it was never handed over."""
        known = self.ledger.letters.get(pending.letter.key)
        pending.attempt = (known.attempts if known else 0) + 1
        self._sending(pending, self.boot if ahead else "")

    def _sending(self, pending: Pending, ahead: str) -> None:
        """Hold the letter's `sending` line, with the boot id it was declared ahead on, or none."""
        self.ledger.append(pending.letter.key, "sending", pending.mission.mission.id, self.msgid(pending),
                           attempt=pending.attempt, signatures=len(pending.letter.signatures), run=self.run,
                           to=pending.address, route=pending.mission.route.kind, held=True, ahead=ahead)

    def hand(self, pending: Pending, upcoming: Sequence[Pending]) -> Future[None]:
        """Take the letter in hand: write its `sending` line again, without the ahead mark, when it
        was declared ahead; else declare it now, with the next letters. Return the fsync its DATA
        waits for."""
        if pending.declared is None:  # the first letter, or a retry
            self.ahead(upcoming, pending)
        elif self.boot:
            self._sending(pending, "")
        self.ledger.flush()  # one write: the last outcome, this letter in hand
        synced, pending.declared = pending.declared, None  # a retry declares itself again
        assert synced is not None
        return synced

    def ahead(self, upcoming: Sequence[Pending], pending: Pending | None = None) -> None:
        """Declare the next composed letters (and `pending`, in hand) in one write and start its
        fsync: when half of those ahead are sent and the last fsync is done, so one covers several."""
        fresh = [pending] if pending is not None else []
        if fresh or self.syncer.idle and sum(u.declared is not None for u in upcoming) <= AHEAD // 2:
            fresh += [u for u in upcoming if u.declared is None and u.message is not None]
        if not fresh:
            return
        for p in fresh:
            self._declare(p, p is not pending)
        self.ledger.flush()
        synced = self.syncer.start(self.ledger.sync)
        for p in fresh:
            p.declared = synced

    def release(self, letters: Sequence[Pending], why: str, held: bool = False) -> None:
        """Letters declared ahead and never handed over are due again (`deferred`); `held` when the
        ledger may not take a write now (the lines go with the next one)."""
        for pending in (p for p in letters if p.declared is not None):
            self.ledger.append(pending.letter.key, "deferred", pending.mission.mission.id, self.msgid(pending),
                               detail=f"declared, not handed over: {why}"[:300], signatures=len(pending.letter.signatures),
                               run=self.run, to=pending.address, held=held)
            pending.declared = None

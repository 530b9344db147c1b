"""The dispatch ledger: what happened to every letter, append-only JSONL in data/dispatch/.

One file per dispatch (`data/dispatch/<campaign-id>-<date>.jsonl`), one line per state change,
each line written with a single `write` and fsynced before the caller goes on:

    {"at": "2026-12-10T09:00:02.120Z", "letter": "s-1f0c...", "state": "sending", "mission": "pt-lisbon",
     "message_id": "<free-assange.20261210.s-1f0c....3a9e@free-assange.example.org>", "attempt": 1, ...}

States (ARCHITECTURE.md, "Dispatch"): `sending` (written before DATA) -> `sent` | `deferred` | `failed`
| `unknown`; later `bounced` (a permanent DSN), `requeued` (due again: after a bounce, on the
mission's next route, or by `--retry-failed`) and `resolved` (a person settled an `unknown`
letter: `outcome` sent or unsent). `sent` is final but for a permanent bounce, so no rerun
resends a letter that arrived. A letter left in `sending` by a run that died is `unknown` to
the next run. Event lines change no state: `replied`, `auto-replied`, and a `bounced` line
that is not permanent (a delay warning). A line read from a mailbox carries the `source` it
came from (the mail's Message-ID or hash), so reading the same mailbox twice adds nothing.

Durability: `append` writes and fsyncs; `durable=False` writes without fsync and `held=True`
keeps the line for the next write (dispatch uses both: see `campaign.dispatch.durable`). An
fsync covers every line written before it. `close` writes and fsyncs what is left.

Privacy: a line names the letter by its key (a hash of the signature file's path, or the
mission id in per-mission mode), the mission and the server's reply; never a signer's name.

A line torn by a crash (or any line that is not JSON) is skipped and counted in `damaged`; the
next append starts on a fresh line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaign.core.errors import CampaignError, Problem
from campaign.core.files import sync_folder
from campaign.data.models import Campaign

FOLDER = "data/dispatch"
STATES = ("sending", "sent", "deferred", "failed", "unknown", "bounced", "requeued", "resolved", "replied", "auto-replied")
EVENTS = ("replied", "auto-replied")
"""Lines that record what happened after sending, without changing the letter's state."""


_sync = getattr(os, "fdatasync", os.fsync)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # the data and the file size; no need for timestamps


def path_for(campaign: Campaign) -> str:
    """The ledger of a campaign's dispatch, relative to the repository root."""
    return f"{FOLDER}/{campaign.id}-{campaign.dispatch.date.isoformat()}.jsonl"


def every(root: Path) -> dict[str, Ledger]:
    """Every ledger file in data/dispatch/, by its repository-relative path."""
    from campaign.data.parsing import data_files  # late: parsing imports the YAML reader

    return {rel: Ledger(root / rel, rel) for rel in data_files(root, FOLDER) if rel.endswith(".jsonl")}


def boot_id() -> str:
    """This machine's boot id (Linux), or '' elsewhere: lines written since the last fsync are
    still there after a crash of the process, but only while the machine has not rebooted."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def run_id() -> str:
    """This run's id: the GitHub Actions run (and attempt) when there is one."""
    gh = os.environ.get("GITHUB_RUN_ID")
    if gh:
        return f"gh-{gh}-{os.environ.get('GITHUB_RUN_ATTEMPT', '1')}"
    return f"local-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{os.getpid()}"


def _utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class LetterState:
    """A letter's state as the ledger tells it: the last state change (`sent` is final)."""

    state: str
    mission: str
    message_id: str
    at: str
    detail: str = ""
    attempts: int = 0  # how many tries had an outcome (lines with an `attempt` number)
    signatures: int = 1
    address: str = ""  # where the last try went (`to`)
    route: str = ""  # its delivery route (email, fallback)
    scope: str = ""  # what a failure or bounce was about: recipient, message, relay
    replies: int = 0
    auto_replies: int = 0
    bounces: list[str] = field(default_factory=list)  # the status of each bounce (permanent or not)
    ahead: str = ""  # for `sending`: the boot id of a run that declared it ahead, not yet in hand
    # the public delivery record (site/deliveries.py): when the try that arrived was handed over,
    # the server's reply to it, and the status of each permanent bounce that undid a `sent`
    sent_at: str = ""
    reply: str = ""
    hard_bounces: list[str] = field(default_factory=list)
    tried_at: str = ""  # the latest `sending` line (a resolved letter was sent then)


@dataclass
class Summary:
    """Counts of letters by state, overall and per mission."""

    states: Counter[str] = field(default_factory=Counter)
    by_mission: dict[str, Counter[str]] = field(default_factory=dict)
    signatures_sent: int = 0
    replies: int = 0  # letters that got a reply from a person

    @property
    def letters(self) -> int:
        return sum(self.states.values())

    @property
    def sent(self) -> int:
        return self.states["sent"]


class Ledger:
    """A ledger file: its letters' states in memory, and `append` for new state changes."""

    def __init__(self, path: Path, rel: str | None = None) -> None:
        self.path = path
        self.rel = rel or str(path)
        self.letters: dict[str, LetterState] = {}
        self.damaged: list[int] = []
        self.sources: set[str] = set()  # the mails already read into this ledger
        self._held: list[bytes] = []  # lines not written yet (`append(held=True)`)
        self._fd: int | None = None
        self._written = self._synced = 0  # lines written, and how many of them are known durable
        self._needs_newline = False
        self.read()

    @classmethod
    def for_campaign(cls, root: Path, campaign: Campaign, path: Path | None = None) -> Ledger:
        if path is None:
            rel = path_for(campaign)
            return cls(root / rel, rel)
        return cls(path, str(path))

    # --- reading ------------------------------------------------------------------------

    def read(self) -> None:
        """(Re)load the file; damaged lines are skipped and their numbers kept in `damaged`."""
        self.letters, self.damaged, self.sources = {}, [], set()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self._needs_newline = False
            return
        except OSError as exc:
            raise CampaignError([Problem(self.rel, 1, f"cannot read the ledger ({exc.strerror})")]) from None
        self._needs_newline = bool(raw) and not raw.endswith(b"\n")
        for number, line in enumerate(raw.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                self.damaged.append(number)
                continue
            if not isinstance(entry, dict):
                self.damaged.append(number)
                continue
            self._apply(number, entry)

    def _apply(self, number: int, entry: dict[str, Any]) -> None:
        key, state = entry.get("letter"), entry.get("state")
        if not isinstance(key, str) or state not in STATES:
            raise CampaignError([Problem(self.rel, number, f"ledger line with an unknown letter or state {state!r}; "
                                         "the ledger is written by `campaign dispatch` only: restore it from git")])
        if isinstance(entry.get("source"), str):
            self.sources.add(entry["source"])
        current = self.letters.get(key)
        if current is None:
            current = self.letters[key] = LetterState("", str(entry.get("mission", "")),
                                                      str(entry.get("message_id", "")), str(entry.get("at", "")))
        if state in EVENTS:
            if state == "replied":
                current.replies += 1
            else:
                current.auto_replies += 1
            return
        if state == "bounced":
            current.bounces.append(str(entry.get("status", "")))
            to = entry.get("to")
            if not entry.get("permanent") or (to and current.address and str(to).casefold() != current.address.casefold()):
                return  # a delay warning, or about an earlier try that went elsewhere
        elif state == "resolved":
            state = "sent" if entry.get("outcome") == "sent" else "requeued"
        if state != "sending" and "attempt" in entry:  # the outcome of a try (not a recovery note)
            current.attempts += 1
        if current.state == "sent" and state != "bounced":  # final: a later line (a resend) cannot undo it
            return
        if current.state == "bounced" and state not in ("requeued", "sending"):
            return
        current.state = state
        current.at = str(entry.get("at", current.at))
        current.detail = str(entry.get("detail", ""))
        current.scope = str(entry.get("scope", ""))
        count = entry.get("signatures", 1)
        current.signatures = count if isinstance(count, int) and count > 0 else 1
        current.ahead = str(entry.get("ahead", "")) if state == "sending" else ""
        if entry.get("to"):
            current.address, current.route = str(entry["to"]), str(entry.get("route", "email"))
        if entry.get("message_id") and not current.message_id:
            current.message_id = str(entry["message_id"])
        if state == "sending":
            current.tried_at = current.at
        elif state == "sent":
            resolved = entry.get("state") == "resolved"
            current.sent_at, current.reply = (current.tried_at or current.at, "") if resolved else (current.at, current.detail)
        elif state == "bounced":
            current.hard_bounces.append(str(entry.get("status", "")))

    def state(self, key: str) -> str | None:
        found = self.letters.get(key)
        return found.state if found else None

    def summary(self) -> Summary:
        result = Summary()
        for info in self.letters.values():
            result.states[info.state] += 1
            result.by_mission.setdefault(info.mission, Counter())[info.state] += 1
            result.replies += bool(info.replies)
            if info.state == "sent":
                result.signatures_sent += info.signatures
        return result

    # --- writing ------------------------------------------------------------------------

    def append(self, key: str, state: str, mission: str, message_id: str, *, detail: str = "",
               attempt: int | None = None, signatures: int = 1, run: str = "", durable: bool = True,
               held: bool = False, **extra: str | int | bool) -> None:
        """Record one state change: written and fsynced before returning; with `durable=False`
        written but not fsynced (the next fsync covers it); with `held` kept in memory until the
        next write (`flush`), so several lines cost one write. `extra` fields (to, route, status,
        source, ...) are written as given."""
        if state not in STATES:
            raise ValueError(f"unknown ledger state {state!r}")
        entry: dict[str, Any] = {"at": _utcnow(), "letter": key, "state": state, "mission": mission,
                                 "message_id": message_id}
        if attempt is not None:
            entry["attempt"] = attempt
        if signatures != 1:
            entry["signatures"] = signatures
        if detail:
            entry["detail"] = detail[:500]
        entry.update({name: value for name, value in extra.items() if value not in ("", None)})
        if run:
            entry["run"] = run
        self._held.append((_ENCODE(entry) + "\n").encode())
        self._apply(0, entry)
        if not held:
            self.flush()
            if durable:
                self.sync()

    def flush(self) -> None:
        """Write the held lines, in one write; what a failed write left is held for the next."""
        if not self._held:
            return
        data, count = b"".join(self._held), len(self._held)
        self._held = []
        view = memoryview(data)
        try:
            fd = self._open()
            if self._needs_newline:  # leave a torn last line on a line of its own
                view = memoryview(b"\n" + data)
                self._needs_newline = False
            while view:
                view = view[os.write(fd, view):]
        except OSError as exc:
            self._held = [view.tobytes()] if view else []
            raise self._unwritable(exc) from None
        self._written += count

    def sync(self) -> None:
        """Make every line written so far durable (one fdatasync covers them all); safe to run
        in another thread while this one appends (dispatch.durable.Syncer)."""
        target, fd = self._written, self._fd
        if fd is not None and target > self._synced:
            try:
                _sync(fd)
            except OSError as exc:
                raise self._unwritable(exc) from None
            self._synced = max(self._synced, target)

    def _unwritable(self, exc: OSError) -> CampaignError:
        return CampaignError([Problem(self.rel, 0, (
            f"cannot write the ledger ({exc.strerror or exc}); free space on that disk or fix it, then run again: "
            "the run stopped, and its last letter is settled by the next run (`unknown` if it may have gone)"))])

    def _open(self) -> int:
        if self._fd is None:
            existed = self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if not existed:  # make the new file's name durable too
                sync_folder(self.path.parent)
        return self._fd

    def close(self) -> None:
        """Write what is held, fsync and close the file (it is reopened by the next append, e.g.
        after a git rebase)."""
        self.flush()
        self.sync()
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def union(theirs: bytes, ours: bytes) -> bytes:
    """Two copies of one append-only ledger file as one: every line of `theirs`, in its order,
    then the lines only `ours` has (a copy that only grew is returned as it is). `sent` is final
    in any order (`Ledger._apply`), so a line put after others never makes a sent letter due."""
    if not theirs or (theirs.endswith(b"\n") and ours.startswith(theirs)):
        return ours
    seen = set(theirs.split(b"\n"))
    merged = [theirs if theirs.endswith(b"\n") else theirs + b"\n"]
    for line in ours.split(b"\n"):
        if line.strip() and line not in seen:
            seen.add(line)
            merged.append(line + b"\n")
    return b"".join(merged)


def load_campaign(root: Path) -> Campaign:
    """The campaign settings of `root` alone (data/campaign.yaml), for what needs no more."""
    from campaign.data import dataset  # late: dataset imports a lot

    record, problems = dataset.load_record(root, dataset.CAMPAIGN, Campaign)
    if record is None:
        raise CampaignError(problems)
    return record.model


def summary(root: Path, campaign: Campaign | None = None) -> Summary:
    """The ledger's counts for the campaign in `root` (for `campaign stats` and the site)."""
    return Ledger.for_campaign(root, campaign or load_campaign(root)).summary()


def sent_count(root: Path, campaign: Campaign | None = None) -> int:
    """How many letters the ledger records as sent ("letters sent" on the site)."""
    return summary(root, campaign).sent

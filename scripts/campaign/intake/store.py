"""Pending and confirmed signatures in an embedded SQLite database, so a restart loses nothing.

One table, one row per submission, moving through states:

    pending   --POST /confirm/{token}-->  confirmed  --flush-->  flushed
       |  (expired: row deleted)                       \\--flush--> rejected (now a duplicate)

The email address (and the raw confirmation token) are kept only while the confirmation mail
still has to be sent; both are erased once it went out, on confirmation and on expiry. Only a
SHA-256 of the token is kept to recognise the link. Erased values are overwritten on disk
(`secure_delete`), and every erasure is followed by a checkpoint that truncates the write-ahead
log, so no old page with an address survives in the WAL or in free pages.

Unique indexes make duplicate detection safe under concurrency: one live row per duplicate
key (normalised name + country) and per email fingerprint. The look-alike key (UTS #39
skeleton + country) is indexed but not unique: a row whose skeleton is taken is `held` (a
note says why) and is not flushed until a maintainer releases it (`campaign intake review`).

`throttle` counts the notices and resends per hour by key (an email fingerprint, a keyed hash
of a client), so they survive a restart. `PRAGMA user_version` is the schema's version;
`_migrate` brings an older database up to it.

Withdrawal (`withdrawal.py`): `withdraw_hash` recognises the withdrawal link; a confirmed entry
withdrawn is `rejected` (never committed), a flushed one gets `withdrawn` and, once its removal
pull request is opened, `removal_commit`. `followup` is the sealed box of a signer who asked
for a report (`followup.py`), erased on withdrawal, rejection and the campaign's erase date.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from campaign.data.duplicates import look_alike_key
from campaign.data.models import Signature
from campaign.intake.entries import Added, Entry, Mail, entry_of, mail_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id          INTEGER PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'flushed', 'rejected')),
    name_key    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    signature   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created     REAL NOT NULL,
    expires     REAL NOT NULL,
    confirmed   REAL,
    email       TEXT,
    token       TEXT,
    mail_tries  INTEGER NOT NULL DEFAULT 0,
    mail_next   REAL,
    mail_sent   REAL,
    path        TEXT,
    commit_id   TEXT,
    note        TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_per_name ON entries (name_key) WHERE state != 'rejected';
CREATE UNIQUE INDEX IF NOT EXISTS one_per_address ON entries (fingerprint) WHERE state != 'rejected';
CREATE INDEX IF NOT EXISTS by_state ON entries (state, expires);
CREATE INDEX IF NOT EXISTS mail_queue ON entries (mail_next) WHERE email IS NOT NULL;
CREATE TABLE IF NOT EXISTS throttle (key TEXT PRIMARY KEY, since REAL NOT NULL, count INTEGER NOT NULL);
"""
VERSION = 2
"""1: the look-alike key (`look_alike`, indexed, not unique) and the `held` note; 2: withdrawal
(`withdraw_hash`, `withdrawn`, `removal_commit`) and the sealed `followup` box."""
COLUMNS = {"look_alike": "TEXT", "held": "TEXT", "followup": "TEXT", "withdraw_hash": "TEXT", "withdrawn": "REAL",
           "removal_commit": "TEXT"}
WITHDRAWN = "withdrawn by the signer"
"""The note of a confirmed entry its signer withdrew before it was committed."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Store:
    """Thread-safe access to the intake database (one connection, serialised by a lock)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "secure_delete=ON", "foreign_keys=ON",
                       "busy_timeout=30000", "journal_size_limit=1048576"):
            self._db.execute(f"PRAGMA {pragma}")
        with self._lock:
            self._db.executescript(SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Bring a database of an older schema up to VERSION (in one transaction)."""
        if self._db.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
            return
        self._db.execute("BEGIN IMMEDIATE")
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(entries)")}
        for column, kind in COLUMNS.items():
            if column not in columns:
                self._db.execute(f"ALTER TABLE entries ADD COLUMN {column} {kind}")
        rows = self._db.execute("SELECT id, signature FROM entries WHERE look_alike IS NULL").fetchall()
        self._db.executemany("UPDATE entries SET look_alike = ? WHERE id = ?",
                             [(_look_alike(json.loads(r["signature"])), r["id"]) for r in rows])
        self._db.execute("CREATE INDEX IF NOT EXISTS by_look_alike ON entries (look_alike) WHERE state != 'rejected'")
        self._db.execute("CREATE INDEX IF NOT EXISTS by_withdraw_hash ON entries (withdraw_hash) WHERE withdraw_hash IS NOT NULL")
        self._db.execute(f"PRAGMA user_version = {VERSION}")
        self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self, erases: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE: other processes wait); one
        that `erases` an address is followed by a checkpoint that truncates the WAL."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if erases:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- submission ---------------------------------------------------------------------

    def add(self, *, name_key: str, fingerprint: str, signature: dict[str, Any], email: str, token: str,
            ttl: float, look_alike: str | None = None, held: str | None = None, resend_after: float = 600.0,
            now: float | None = None, withdraw: str | None = None, followup: str | None = None) -> Added:
        """Record a submission, or say why not; atomic against concurrent submissions.

        A second submission from an address still pending is `resend` with the entry's id (the
        caller may `rearm` it), or without one within `resend_after` seconds of the last mail;
        from an address already confirmed it is `known_address` (the caller mails a notice, so
        the answer does not reveal who signed). A new entry is `held` (with `held` as the note,
        or naming the live entry whose look-alike key it shares). `withdraw` is the hash of its
        withdrawal link, `followup` its sealed box.
        """
        now = time.time() if now is None else now
        with self._tx() as db:  # the mail that follows erases, and checkpoints, the expired rows too
            db.execute("DELETE FROM entries WHERE state = 'pending' AND expires < ?", (now,))
            row = db.execute("SELECT id, state, mail_sent, expires FROM entries WHERE fingerprint = ? AND state != 'rejected'",
                             (fingerprint,)).fetchone()
            if row is not None:
                if row["state"] != "pending":
                    return Added("known_address", row["id"])
                if row["mail_sent"] is not None and now - row["mail_sent"] < resend_after:
                    return Added("resend", None, row["expires"])
                return Added("resend", row["id"], row["expires"])
            if db.execute("SELECT 1 FROM entries WHERE name_key = ? AND state != 'rejected'", (name_key,)).fetchone():
                return Added("duplicate_name")
            look_alike = look_alike or _look_alike(signature)
            similar = db.execute("SELECT id FROM entries WHERE look_alike = ? AND state != 'rejected'", (look_alike,)).fetchone()
            held = held or (f"looks like intake entry {similar['id']}" if similar else None)
            cur = db.execute(
                "INSERT INTO entries (state, name_key, fingerprint, signature, token_hash, created, expires, email, token,"
                " mail_next, look_alike, held, withdraw_hash, followup) VALUES ('pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name_key, fingerprint, json.dumps(signature, sort_keys=True), token_hash(token), now, now + ttl,
                 email, token, now + 60, look_alike, held, withdraw, followup))
            return Added("new", cur.lastrowid, now + ttl, held)

    def rearm(self, entry_id: int, token: str, email: str, now: float | None = None, resend_after: float = 600.0,
              withdraw: str | None = None) -> bool:
        """A pending entry's confirmation is mailed again; False if gone, or if it was mailed
        within `resend_after` seconds (the retry loop may have sent it since `add` looked).

        A link already mailed is replaced by `token` (the old one stops working), and its
        withdrawal link by `withdraw`'s. A link not yet mailed is kept, so a mail in flight with it
        (the retry loop's) still works.
        """
        now = time.time() if now is None else now
        with self._tx() as db:
            return db.execute("UPDATE entries SET token_hash = CASE WHEN token IS NULL THEN ? ELSE token_hash END, "
                              "withdraw_hash = CASE WHEN token IS NULL THEN ? ELSE withdraw_hash END, "
                              "token = COALESCE(token, ?), email = ?, mail_next = ?, mail_tries = 0 "
                              "WHERE id = ? AND state = 'pending' AND (token IS NOT NULL OR mail_sent IS NULL OR mail_sent < ?)",
                              (token_hash(token), withdraw, token, email, now + 60, entry_id, now - resend_after)).rowcount == 1

    def discard(self, entry_id: int) -> None:
        """Delete a pending entry (with its address): a request that could not finish its work."""
        with self._tx(erases=True) as db:
            db.execute("DELETE FROM entries WHERE id = ? AND state = 'pending'", (entry_id,))

    def allow_mail(self, keys: dict[str, int], window: float = 3600.0, now: float | None = None) -> bool:
        """Take one mail from the allowance of every key (key -> mails per `window` seconds),
        or none if any key has used its allowance; atomic, and kept across restarts."""
        now = time.time() if now is None else now
        with self._tx() as db:
            db.execute("DELETE FROM throttle WHERE since < ?", (now - window,))
            for key, allowed in keys.items():
                row = db.execute("SELECT count FROM throttle WHERE key = ?", (key,)).fetchone()
                if row is not None and row["count"] >= allowed:
                    return False
            db.executemany("INSERT INTO throttle (key, since, count) VALUES (?, ?, 1) "
                           "ON CONFLICT (key) DO UPDATE SET count = count + 1", [(key, now) for key in keys])
            return True

    def mail(self, entry_id: int) -> Mail | None:
        """The confirmation mail of one entry, if it still has to be sent."""
        with self._lock:
            row = self._db.execute("SELECT id, email, token, signature, expires FROM entries "
                                   "WHERE id = ? AND email IS NOT NULL AND state = 'pending'", (entry_id,)).fetchone()
        return mail_of(row) if row else None

    def mail_queue(self, now: float | None = None, everything: bool = False, limit: int = 500, after: int = 0) -> list[Mail]:
        """Confirmation mails due for a (re)try, by entry id above `after`; `everything` ignores
        the retry times (startup)."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT id, email, token, signature, expires FROM entries WHERE email IS NOT NULL AND state = 'pending'"
                " AND expires >= ? AND (? OR mail_next <= ?) AND id > ? ORDER BY id LIMIT ?",
                (now, everything, now, after, limit)).fetchall()
        return [mail_of(r) for r in rows]

    def mail_sent(self, entry_id: int, token: str, now: float | None = None) -> None:
        """The mail went out: forget the address and the raw token (unless re-armed meanwhile)."""
        with self._tx(erases=True) as db:
            db.execute("UPDATE entries SET email = NULL, token = NULL, mail_next = NULL, mail_sent = ? "
                       "WHERE id = ? AND token = ?", (time.time() if now is None else now, entry_id, token))

    def mail_deferred(self, entry_id: int, now: float | None = None) -> None:
        """The mail could not be sent: retry with backoff (1, 2, 4 ... minutes, at most hourly)."""
        now = time.time() if now is None else now
        with self._tx() as db:
            db.execute("UPDATE entries SET mail_tries = mail_tries + 1, mail_next = ? + min(3600, 60 * (1 << min(mail_tries, 6))) "
                       "WHERE id = ?", (now, entry_id))

    # --- confirmation -------------------------------------------------------------------

    def lookup(self, token: str, now: float | None = None) -> Entry | None:
        """The live entry a confirmation link belongs to (pending and unexpired, or later)."""
        return self._live("token_hash", token_hash(token), now)

    def _live(self, column: str, value: str, now: float | None) -> Entry | None:
        now = time.time() if now is None else now
        with self._lock:  # `column` is one of this module's names, never input
            row = self._db.execute(f"SELECT * FROM entries WHERE {column} = ?", (value,)).fetchone()
        return None if _dead(row, now) else entry_of(row)

    def confirm(self, token: str, now: float | None = None) -> tuple[str, Entry | None]:
        """('confirmed' | 'already' | 'unknown', entry): confirm a pending entry by its link."""
        now = time.time() if now is None else now
        with self._tx(erases=True) as db:
            row = db.execute("SELECT * FROM entries WHERE token_hash = ?", (token_hash(token),)).fetchone()
            if _dead(row, now):
                return "unknown", None
            if row["state"] != "pending":
                return "already", entry_of(row)
            db.execute("UPDATE entries SET state = 'confirmed', confirmed = ?, email = NULL, token = NULL, mail_next = NULL "
                       "WHERE id = ?", (now, row["id"]))
            return "confirmed", entry_of(row)

    def expire(self, now: float | None = None) -> int:
        """Delete pending entries past their deadline (with their address); the number deleted."""
        with self._tx(erases=True) as db:
            return db.execute("DELETE FROM entries WHERE state = 'pending' AND expires < ?",
                              (time.time() if now is None else now,)).rowcount

    # --- flushing -----------------------------------------------------------------------

    def confirmed(self, limit: int = 5000) -> list[Entry]:
        """Confirmed entries not yet committed and not held, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM entries WHERE state = 'confirmed' AND held IS NULL "
                                    "ORDER BY confirmed, id LIMIT ?", (limit,)).fetchall()
        return [entry_of(r) for r in rows]

    def held(self) -> list[Entry]:
        """Live entries held for review (their look-alike key is taken), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM entries WHERE held IS NOT NULL AND state IN ('pending', 'confirmed') "
                                    "ORDER BY id").fetchall()
        return [entry_of(r) for r in rows]

    def release(self, entry_ids: list[int]) -> int:
        """A maintainer checked these held entries: flush them like any other; the number released."""
        with self._tx() as db:
            return sum(db.execute("UPDATE entries SET held = NULL WHERE id = ? AND held IS NOT NULL", (i,)).rowcount
                       for i in entry_ids)

    def flushed(self, done: dict[int, str], commit_id: str) -> None:
        """Mark entries as committed: id -> the file's path."""
        with self._tx() as db:
            db.executemany("UPDATE entries SET state = 'flushed', path = ?, commit_id = ? WHERE id = ? AND state = 'confirmed'",
                           [(path, commit_id, entry_id) for entry_id, path in done.items()])

    def reject(self, entry_id: int, note: str) -> None:
        """Set an entry aside (it became a duplicate of a signature added another way); its sealed box goes."""
        with self._tx(erases=True) as db:
            db.execute("UPDATE entries SET state = 'rejected', note = ?, followup = NULL WHERE id = ?", (note, entry_id))

    # --- withdrawal and reports ---------------------------------------------------------

    def withdraw(self, withdraw_hash: str, now: float | None = None) -> tuple[str, Entry | None]:
        """('withdrawn' | 'requested' | 'already' | 'pending' | 'unknown', entry) for a withdrawal link.

        A confirmed entry not yet committed is `withdrawn` (rejected: never committed); a committed
        one is `requested` (its removal pull request is to be opened: `removals`). Either way its
        sealed box is erased."""
        now = time.time() if now is None else now
        with self._tx(erases=True) as db:
            row = db.execute("SELECT * FROM entries WHERE withdraw_hash = ?", (withdraw_hash,)).fetchone()
            if _dead(row, now):
                return "unknown", None
            if row["state"] == "pending":
                return "pending", entry_of(row)
            if row["state"] == "rejected" or row["withdrawn"] is not None:
                return "already", entry_of(row)
            if row["state"] == "confirmed":
                db.execute("UPDATE entries SET state = 'rejected', note = ?, withdrawn = ?, followup = NULL WHERE id = ?",
                           (WITHDRAWN, now, row["id"]))
                return "withdrawn", entry_of(row)
            db.execute("UPDATE entries SET withdrawn = ?, followup = NULL WHERE id = ?", (now, row["id"]))
            return "requested", entry_of(row)

    def withdrawal(self, withdraw_hash: str, now: float | None = None) -> Entry | None:
        """The live entry a withdrawal link belongs to (like `lookup`)."""
        return self._live("withdraw_hash", withdraw_hash, now)

    def removals(self, waiting: bool = True) -> list[Entry]:
        """Committed entries their signers withdrew: those whose removal is not committed yet (`waiting`), or all."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM entries WHERE state = 'flushed' AND withdrawn IS NOT NULL "
                                    "AND (NOT ? OR removal_commit IS NULL) ORDER BY withdrawn, id", (waiting,)).fetchall()
        return [entry_of(r) for r in rows]

    def removed(self, entry_ids: list[int], commit_id: str) -> None:
        """The removal of these entries' files is committed (`commit_id`, on the withdrawals branch)."""
        with self._tx() as db:
            db.executemany("UPDATE entries SET removal_commit = ? WHERE id = ?", [(commit_id, i) for i in entry_ids])

    def followups(self) -> list[str]:
        """The sealed boxes of the signers who asked for a report (confirmed, committed or not), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT followup FROM entries WHERE followup IS NOT NULL AND state IN "
                                    "('confirmed', 'flushed') ORDER BY id").fetchall()
        return [r["followup"] for r in rows]

    def erase_followups(self) -> int:
        """Erase every sealed box (the campaign's erase date has come); the number erased."""
        with self._tx(erases=True) as db:
            return db.execute("UPDATE entries SET followup = NULL WHERE followup IS NOT NULL").rowcount

    def compact(self) -> None:
        """Checkpoint and truncate the write-ahead log, so erased addresses leave no old page behind."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- inspection ---------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) AS n FROM entries GROUP BY state").fetchall()
            queued = self._db.execute("SELECT count(*) FROM entries WHERE email IS NOT NULL").fetchone()[0]
        found = {state: 0 for state in ("pending", "confirmed", "flushed", "rejected")}
        found.update({r["state"]: r["n"] for r in rows})
        found["mail_queued"] = queued
        return found

    def entries(self) -> list[Entry]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM entries ORDER BY id").fetchall()
        return [entry_of(r) for r in rows]


def _dead(row: sqlite3.Row | None, now: float) -> bool:
    """No entry, or a pending one whose link has expired."""
    return row is None or (row["state"] == "pending" and row["expires"] < now)


def _look_alike(signature: dict[str, Any]) -> str:
    """The look-alike key of a stored signature."""
    return look_alike_key(Signature.model_construct(**signature))

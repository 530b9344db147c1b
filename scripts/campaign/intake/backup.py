"""`campaign intake backup DEST`: a consistent copy of the intake store while the service runs.

SQLite's online backup API (`sqlite3.Connection.backup`) copies the database page by page
under one read transaction, so the copy is a snapshot of one moment even while the service
writes (in WAL mode readers never block the writer, nor the writer them). The store is opened
read-only and, when no connection has it open, as immutable, so a backup leaves no file of its
own beside it (a -shm owned by root would lock the service out). The copy is
written under a temporary name with mode 0600 (it may hold the addresses of signers whose
confirmation mail has not gone out yet), turned into a single self-contained file (rollback
journal, not WAL), checked with `PRAGMA integrity_check`, fsynced, and only then renamed to
DEST. An existing DEST is never overwritten.

Restoring (GUIDE.md, "Backups and restore"): stop the service, delete `intake.sqlite3-wal` and
`intake.sqlite3-shm`, copy the backup to `intake.sqlite3` (owned by the service's user, mode
0600), start the service.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.core.files import sync_folder


def backup(db: Path, dest: Path) -> str:
    """Copy the store `db` to `dest` (a new file); what was copied."""
    if not db.is_file():
        raise CampaignError([Problem(str(db), 0, "there is no intake store here; pass --db (or set CAMPAIGN_INTAKE_DB) "
                                     "to the service's intake.sqlite3")])
    if dest.exists() or dest.is_symlink():
        raise CampaignError([Problem(str(dest), 0, "exists already; back up to a new name (e.g. with the date in it)")])
    if not dest.parent.is_dir():
        raise CampaignError([Problem(str(dest), 0, f"the folder {dest.parent} does not exist; create it first")])
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise CampaignError([Problem(str(dest), 0, f"cannot write there ({exc.strerror})")]) from None
    try:
        counts = _copy(db, partial)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    sync_folder(dest.parent)
    described = ", ".join(f"{n} {state}" for state, n in counts.items())
    return f"backed up the intake store to {dest}: {sum(counts.values())} entries ({described or 'none'})"


def _copy(db: Path, target_path: Path) -> dict[str, int]:
    # No -wal beside the store: no connection has it open (the service holds one while it runs),
    # and `immutable` reads it without creating -wal and -shm files owned by whoever runs this.
    idle = not db.with_name(db.name + "-wal").exists()
    try:
        source = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro{'&immutable=1' if idle else ''}", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise CampaignError([Problem(str(db), 0, f"cannot open the store read-only ({exc})")]) from None
    target = sqlite3.connect(target_path, isolation_level=None)
    try:
        source.execute("PRAGMA busy_timeout = 30000")
        source.backup(target)  # all pages in one step: one snapshot
        target.execute("PRAGMA journal_mode = DELETE")
        verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise CampaignError([Problem(str(db), 0, f"the copy failed SQLite's integrity check ({verdict}); "
                                         "the store itself may be damaged: keep the last good backup")])
        rows = target.execute("SELECT state, count(*) FROM entries GROUP BY state ORDER BY state").fetchall()
    except sqlite3.DatabaseError as exc:
        raise CampaignError([Problem(str(db), 0, f"is not a readable intake store ({exc})")]) from None
    finally:
        target.close()
        source.close()
    return {state: n for state, n in rows}

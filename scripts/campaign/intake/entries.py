"""What the intake store hands out: the outcome of a submission, a mail to send, an entry (`store.py`)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Added:
    """The outcome of `Store.add`: `kind` is new, duplicate_name, known_address or resend."""

    kind: str
    entry_id: int | None = None
    expires: float | None = None
    held: str | None = None


@dataclass(frozen=True)
class Mail:
    """A confirmation mail still to be sent."""

    entry_id: int
    email: str
    token: str
    signature: dict[str, Any]
    expires: float


@dataclass(frozen=True)
class Entry:
    entry_id: int
    state: str
    signature: dict[str, Any]
    fingerprint: str
    confirmed: float | None
    path: str | None
    held: str | None = None
    """Why the entry waits for a maintainer (a look-alike name), or None."""
    withdrawn: float | None = None
    """When its signer withdrew it (withdrawal.py), or None."""
    note: str | None = None
    removal_commit: str | None = None


def mail_of(row: sqlite3.Row) -> Mail:
    return Mail(row["id"], row["email"], row["token"], json.loads(row["signature"]), row["expires"])


def entry_of(row: sqlite3.Row) -> Entry:
    return Entry(row["id"], row["state"], json.loads(row["signature"]), row["fingerprint"], row["confirmed"], row["path"],
                 row["held"], row["withdrawn"], row["note"],
                 row["removal_commit"])

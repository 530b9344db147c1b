"""Withdrawal: a signer takes the signature back before the letters go (ARCHITECTURE.md, "Intake").

The link is `/withdraw/<token>`, the token an HMAC of the confirmation token under the
fingerprint key. It is written into the confirmation mail (the only mail the signer gets: the
address is erased once it is sent, so no mail can follow the confirmation) and shown on the
thank-you page; it works once the signature is confirmed. Only its SHA-256 is stored.

    confirmed, not committed yet   -> rejected ("withdrawn by the signer"): never committed
    committed (flushed)            -> withdrawn: removed by a pull request from BRANCH, opened
                                      once the file is on the base branch (its signatures pull
                                      request merged); a maintainer merges it

Removals are not additions: the pull-request rules report the deletion as needing a maintainer
and automerge leaves it alone (`review/`). Withdrawals close when the dispatch date begins
anywhere (00:00 at UTC+14), before the first letter can be due.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

from campaign.data.models import Campaign
from campaign.forge.base import Forge, Published
from campaign.intake.store import Store

BRANCH = "intake/withdrawals"
EARLIEST = dt.timezone(dt.timedelta(hours=14))
"""The first time zone where a day begins (Kiribati's Line Islands)."""


def token(key: bytes, confirm_token: str) -> str:
    """The withdrawal token that belongs to a confirmation token."""
    digest = hmac.new(key, b"withdraw\0" + confirm_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def closes(campaign: Campaign) -> dt.datetime:
    """The moment withdrawals close: the dispatch date's first minute anywhere."""
    return dt.datetime.combine(campaign.dispatch.date, dt.time(0), EARLIEST)


def too_late(campaign: Campaign, now: dt.datetime | None = None) -> bool:
    return (now or dt.datetime.now(dt.timezone.utc)) >= closes(campaign)


def publish(store: Store, forge: Forge, root: Path, title: str, sync: Callable[[], object] | None = None) -> Published | None:
    """Open or update the removal pull request for the committed signatures withdrawn since the last one.

    The branch is rebuilt from the base every time with every withdrawn file still on the base
    (`fresh`), so a removal never names a file the branch lacks. A file not on the base yet (its
    signatures pull request is not merged) waits for the next call."""
    if not store.removals():
        return None
    if sync is not None:
        sync()
    ready = [e for e in store.removals(waiting=False) if e.path and (root / e.path).is_file()]
    if not any(e.removal_commit is None for e in ready):
        return None
    count = len(ready)
    noun = "signature" if count == 1 else "signatures"
    message = (f"intake: withdraw {count} {noun}\n\nWithdrawn by their signers with the link of their confirmation mail, "
               "before the dispatch date.\n")
    published = forge.publish({}, removed=[e.path for e in ready if e.path], branch=BRANCH, fresh=True, message=message,
                              title=f"Withdrawn signatures ({title})", body=BODY)
    store.removed([e.entry_id for e in ready], published.commit)
    return published


BODY = """Signatures withdrawn by their signers, with the withdrawal link of their confirmation mail, before the letters are sent.

- This pull request only removes files under `data/signatories/`; the validation check reports each removal as needing a maintainer.
- Removals are never automerged. Merge it before the dispatch date: the letters are built from the default branch.
- Each further withdrawal rebuilds this branch from the default branch with every removal still to merge.
- The names stay in the repository's history (GUIDE.md, "Withdrawals").
"""

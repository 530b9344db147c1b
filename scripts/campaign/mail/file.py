"""File backend: one `.eml` file per message in an outbox folder (the default backend).

A newcomer's `campaign dispatch` therefore sends nothing anywhere: the letters land in
`outbox/` (git-ignored), where they can be opened with any mail client. A file is named after
the message's Message-ID, so sending the same letter again replaces its file; it is written to
a temporary name, fsynced and renamed, so a crash never leaves half a letter behind.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from email.message import EmailMessage
from pathlib import Path

from campaign.core.files import write_atomic
from campaign.mail.base import BaseBackend, BeforeData, Outcome

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(message: EmailMessage) -> str:
    """A safe file name from the Message-ID, or a timestamped unique one without it."""
    mid = str(message.get("Message-ID", "")).strip().strip("<>")
    stem = _UNSAFE.sub("_", mid).strip("._")[:150]
    if not stem:
        stem = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    return f"{stem}.eml"


class FileBackend(BaseBackend):
    name = "file"

    def __init__(self, outbox: Path | str = "outbox", **options: object) -> None:
        super().__init__(**options)
        self.outbox = Path(outbox)

    def open(self) -> bool:
        if not super().open():
            return False
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
        except OSError:
            self.opened = False
            raise
        return True

    def _deliver(self, message: EmailMessage, before_data: BeforeData) -> Outcome:
        try:
            self.open()
        except OSError as exc:
            return Outcome("deferred", f"cannot create the outbox {self.outbox}: {exc.strerror or exc}")
        target = self.outbox / file_name(message)
        before_data()
        try:
            write_atomic(target, message.as_bytes(policy=message.policy.clone(linesep="\n", utf8=True)))
        except OSError as exc:
            return Outcome("deferred", f"cannot write {target}: {exc.strerror or exc}")
        return Outcome("sent", f"written to {self.outbox.name}/{target.name}")

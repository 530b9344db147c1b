"""Memory backend: keeps messages in a list, for tests (after Django's `locmem` backend).

Like Django's `mail.outbox`, every memory backend appends to one list shared by the class,
`MemoryBackend.outbox` (also `campaign.mail.outbox`), unless it is given its own.
"""

from __future__ import annotations

import copy
from email.message import EmailMessage
from typing import ClassVar

from campaign.mail.base import BaseBackend, BeforeData, Outcome


class MemoryBackend(BaseBackend):
    name = "memory"
    outbox: ClassVar[list[EmailMessage]] = []  # the shared outbox; instances may shadow it

    def __init__(self, outbox: list[EmailMessage] | None = None, **options: object) -> None:
        super().__init__(**options)
        if outbox is not None:
            self.outbox = outbox  # type: ignore[misc]

    def _deliver(self, message: EmailMessage, before_data: BeforeData) -> Outcome:
        self.open()
        before_data()
        self.outbox.append(copy.deepcopy(message))
        return Outcome("sent", f"kept in memory as message {len(self.outbox)}")

"""Console backend: writes each message to a stream, standard output by default."""

from __future__ import annotations

import sys
import threading
from email.message import EmailMessage
from typing import TextIO

from campaign.mail.base import BaseBackend, BeforeData, Outcome

SEPARATOR = "-" * 79


class ConsoleBackend(BaseBackend):
    name = "console"

    def __init__(self, stream: TextIO | None = None, **options: object) -> None:
        super().__init__(**options)
        self.stream = stream
        self._lock = threading.Lock()

    def _deliver(self, message: EmailMessage, before_data: BeforeData) -> Outcome:
        self.open()
        stream = self.stream or sys.stdout  # looked up late, so capturing stdout works
        with self._lock:
            before_data()
            try:
                stream.write(message.as_string(policy=message.policy.clone(utf8=True)))
                stream.write(f"\n{SEPARATOR}\n")
                stream.flush()
            except (OSError, ValueError) as exc:  # a closed or broken stream
                return Outcome("deferred", f"cannot write to the console: {exc}")
        return Outcome("sent", "written to the console")

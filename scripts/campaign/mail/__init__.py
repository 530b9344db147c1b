"""Pluggable mail backends, after Django's `django/core/mail/backends/`.

    from campaign.mail import get_backend, Outcome

    with get_backend("file", outbox=root / "outbox") as backend:
        outcome = backend.send(message)      # Outcome(state="sent", detail="written to ...")

Backends: `smtp` (smtplib; settings from SMTP_* environment variables), `file` (one `.eml` per
message in an outbox folder: the default, sends nothing anywhere), `console` (prints), `memory`
(keeps messages in `campaign.mail.outbox`, for tests).
"""

from __future__ import annotations

from importlib import import_module

from campaign.core.errors import BackendError
from campaign.mail.base import BaseBackend, Outcome, State, envelope_sender, header_problem, recipients
from campaign.mail.memory import MemoryBackend

BACKENDS = {
    "smtp": ("campaign.mail.smtp", "SmtpBackend"),
    "file": ("campaign.mail.file", "FileBackend"),
    "console": ("campaign.mail.console", "ConsoleBackend"),
    "memory": ("campaign.mail.memory", "MemoryBackend"),
}
NAMES = tuple(BACKENDS)

outbox = MemoryBackend.outbox
"""The memory backends' shared outbox (Django's `mail.outbox`); tests clear it between runs."""


def get_backend(name: str, **options: object) -> BaseBackend:
    """A new, unopened backend by name; options go to its constructor (unknown ones: TypeError)."""
    try:
        module, cls = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown mail backend {name!r}; use one of {', '.join(NAMES)}") from None
    return getattr(import_module(module), cls)(**options)


__all__ = [
    "BACKENDS", "NAMES", "BackendError", "BaseBackend", "MemoryBackend", "Outcome", "State",
    "envelope_sender", "get_backend", "header_problem", "outbox", "recipients",
]

"""The shape every mail backend shares (after Django's `django/core/mail/backends/base.py`).

A backend is a context manager around one connection (or file handle, or list):

    with get_backend("smtp", timeout=30) as backend:
        outcome = backend.send(message)

`send` never raises for a delivery problem: it returns an `Outcome` whose state tells the
caller what to record (ARCHITECTURE.md, "Dispatch"): `sent`, `deferred` (try again later), `failed`
(never retry) or `unknown` (the link dropped after the message was handed over).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses
from functools import lru_cache
from typing import Literal

State = Literal["sent", "deferred", "failed", "unknown"]
STATES: tuple[State, ...] = ("sent", "deferred", "failed", "unknown")

BeforeData = Callable[[], None]
"""Called once the recipient accepted the envelope, just before the message itself is handed
over (SMTP DATA); the dispatcher waits there until its `sending` line is durable. Not called
when the message is refused earlier."""
Meanwhile = Callable[[], None]
"""Called while the server works on a command or the message, before its reply is read (a
backend that waits for a server calls it at each reply): the dispatcher records the letter in
hand and prepares the next there. What it raises is no delivery problem and passes through."""


@dataclass(frozen=True)
class Outcome:
    """What became of one message: a state and a human-readable detail (e.g. the server reply)."""

    state: State
    detail: str
    scope: str = ""  # for `failed`: what the refusal was about (recipient, message)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown outcome state {self.state!r}; expected one of {', '.join(STATES)}")

    @property
    def ok(self) -> bool:
        return self.state == "sent"


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")


def control_character(value: str) -> str | None:
    """The first control or invisible formatting character in `value` (tab allowed), or None."""
    if value.isascii():
        found = _ASCII_CONTROL.search(value)
        return found.group() if found else None
    for ch in value:
        if ch != "\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return ch
    return None


def header_problem(message: EmailMessage) -> str | None:
    """Why the message's headers must not be sent (control characters, no recipient), or None.

    Python's email package already refuses CR and LF in header values; this also refuses every
    other control or invisible formatting character, which a mail server or client might
    interpret (ARCHITECTURE.md, "Dispatch": header values are checked for control characters).
    """
    return _problem(message, envelope(message))


def _problem(message: EmailMessage, found: Envelope) -> str | None:
    for name, value in message.raw_items():  # raw: no parsing; a fold (newline + space) is allowed
        ch = control_character(_UNFOLD.sub("", value) if type(value) is str else str(value))
        if ch is not None:
            return f"header {name} contains the control character U+{ord(ch):04X}"
    if not found[1]:
        return "the message has no recipient (To, Cc or Bcc)"
    if not found[0]:
        return "the message has no sender (From or Sender)"
    return None


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN = re.compile(rf"<?({_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*)>?")


def plain_address(value: str) -> str | None:
    """The address in `value` when it is a plain `local@domain` of dot-atoms, bare or in angle
    brackets (what composed letters hold), else None. The email package's parser gives the
    same address for these, at a hundred times the cost (a VERP sender is new in every letter)."""
    found = _PLAIN.fullmatch(value)
    return found.group(1) if found else None


@lru_cache(maxsize=4096)
def _parsed(value: str) -> tuple[str, ...]:
    """The addresses in a raw header value (letters repeat a few hundred of them)."""
    plain = plain_address(value)
    return (plain,) if plain else tuple(addr for _, addr in getaddresses([value]) if addr)


def _addresses(message: EmailMessage, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """The addresses in each of `fields` (lower-case names), in one pass over the headers."""
    found: dict[str, list[str]] = {f: [] for f in fields}
    for name, value in message.raw_items():
        into = found.get(name.lower())
        if into is None:
            continue
        parsed = getattr(value, "addresses", None)  # a parsed header (policy.default): no reparse
        if parsed is not None:
            into += [a.addr_spec for a in parsed if a.username]
        else:
            into += _parsed(str(value))
    return found


Envelope = tuple[str, list[str]]
"""The envelope sender and recipients of a message."""


def envelope(message: EmailMessage) -> Envelope:
    """`envelope_sender` and `recipients`, in one pass over the headers."""
    found = _addresses(message, ("return-path", "sender", "from", "to", "cc", "bcc"))
    sender = next((addresses[0] for field in ("return-path", "sender", "from") if (addresses := found[field])), "")
    return sender, list(dict.fromkeys(found["to"] + found["cc"] + found["bcc"]))


def needs_smtputf8(found: Envelope) -> bool:
    """A non-ASCII address is in the envelope (SMTP then needs SMTPUTF8)."""
    return not all(a.isascii() for a in [found[0], *found[1]])


def recipients(message: EmailMessage) -> list[str]:
    """Every address in To, Cc and Bcc, in order, without repeats."""
    return envelope(message)[1]


def envelope_sender(message: EmailMessage) -> str:
    """The envelope sender: the Return-Path (a letter's VERP address), else the Sender header's
    address, else the first From address."""
    return envelope(message)[0]


@lru_cache(maxsize=4096)
def domain(address: str) -> str:
    """The lower-cased domain of an address ('' when there is none); remembered, as a
    run asks it of the same few hundred mission addresses for every letter."""
    try:
        return Address(addr_spec=address).domain.lower()
    except (ValueError, IndexError):
        return address.rpartition("@")[2].lower()


class BaseBackend:
    """Base class for mail backends; subclasses implement `_deliver` (and `open`/`close`).

    `send` opens the backend on first use and keeps it open until `close()`, so a run reuses
    one connection. Unknown options are an error, so a typo in a setting is not ignored.
    """

    name = "base"

    def __init__(self, **options: object) -> None:
        if options:
            raise TypeError(f"the {self.name} mail backend has no option(s) {', '.join(sorted(options))}")
        self.opened = False
        self.meanwhile: Meanwhile = _nothing
        self._checked: dict[int, tuple[EmailMessage, str | None, Envelope]] = {}  # by `prepare`
        self.envelope: Envelope = ("", [])  # of the message `send` has in hand

    def open(self) -> bool:
        """Open the connection; return True if a new one was opened (False if already open)."""
        if self.opened:
            return False
        self.opened = True
        return True

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        self.opened = False
        self._checked.clear()

    def __enter__(self) -> BaseBackend:
        try:
            self.open()
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, message: EmailMessage) -> None:
        """Do the CPU work of sending `message` ahead of time (while the server works on the one
        before): the header check here, more in a subclass; optional."""
        known = self._checked.get(id(message))
        if known is None or known[0] is not message:
            self._checked[id(message)] = self._check(message)

    @staticmethod
    def _check(message: EmailMessage) -> tuple[EmailMessage, str | None, Envelope]:
        found = envelope(message)
        return message, _problem(message, found), found

    def send(self, message: EmailMessage, before_data: BeforeData | None = None,
             meanwhile: Meanwhile | None = None) -> Outcome:
        """Deliver one message; never raises for a delivery problem (see Outcome).

        `before_data` is called once, just before the message itself is handed over; it is not
        called when the message is refused earlier (bad header, refused sender or recipient).
        BackendError is raised only for problems that would hit every message alike.
        """
        checked = self._checked.pop(id(message), None)
        _, problem, self.envelope = checked if checked is not None and checked[0] is message else self._check(message)
        if problem:
            return Outcome("failed", problem)
        self.meanwhile = meanwhile or _nothing
        return self._deliver(message, before_data or _nothing)

    def _deliver(self, message: EmailMessage, before_data: BeforeData) -> Outcome:  # pragma: no cover
        raise NotImplementedError("subclasses of BaseBackend must implement _deliver()")


def _nothing() -> None:
    return None

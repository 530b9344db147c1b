"""What an SMTP refusal is about: the whole session, one recipient, or one message.

A refusal of the session (our HELO name, our client address, our sender) would hit every
letter alike, so it must stop the run and leave the letters retryable, never fail them. Postfix
delays its HELO, client and sender refusals to RCPT (`smtpd_delay_reject`), so the stage alone
does not tell; nor does the enhanced status code (5.7.1 is a client refusal, a sender refusal,
relay denied or a content refusal). What tells is, in this order:

1. the stage: any refusal of the greeting, EHLO/HELO, STARTTLS, AUTH or MAIL FROM is about the
   session, except `552 5.3.4` (this message is too big);
2. the reply text: Postfix's `Helo command rejected`, `Client host rejected`, `Sender address
   rejected`, `access denied for`, `send HELO/EHLO first`;
3. the thing refused, which Postfix names first in angle brackets (`<localhost>: ...`): at RCPT,
   anything but the recipient just given is not about that recipient;
4. otherwise a RCPT refusal is about the recipient, and one after DATA about the message.

Dispatch adds a fifth rule over a run: the same 5xx for every recipient in a row is the
session too (`Streak` in dispatch). The same text classifies a DSN's Diagnostic-Code: a relay
refused by the next hop (`Client host rejected` naming our relay) is not the address's fault.
"""

from __future__ import annotations

import re
from typing import Literal

Scope = Literal["session", "recipient", "message"]
SESSION_STAGES = ("greeting", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL FROM")
SESSION_TEXT = re.compile(r"helo command rejected|client host rejected|sender address rejected|access denied for|"
                          r"send helo/ehlo first|need fully-qualified hostname|invalid (?:helo|ehlo)", re.IGNORECASE)
RECIPIENT_TEXT = re.compile(r"recipient address rejected|user unknown|no such user|mailbox unavailable|"
                            r"relay access denied", re.IGNORECASE)
_NAMED = re.compile(r"^\s*(?:\d{3}[ -])?(?:\d\.\d{1,3}\.\d{1,3}\s+)?<([^<>]*)>:")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def enhanced(text: str) -> str | None:
    """The enhanced status code in a reply ('5.1.1'), or None."""
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else None


def scope(stage: str, text: str, recipient: str | None = None) -> Scope:
    """What a refusal at `stage` ('MAIL FROM', 'RCPT', 'DATA', 'end of DATA', ...) is about."""
    if stage in SESSION_STAGES:
        return "message" if (enhanced(text) or "").startswith("5.3.4") else "session"
    if SESSION_TEXT.search(text):
        return "session"
    named = _NAMED.match(text)
    if stage == "RCPT" and named and recipient and named.group(1).strip().casefold() != recipient.casefold():
        return "session"
    if stage == "RCPT":
        return "recipient"
    return "message"


def bounce_scope(diagnostic: str, status: str, recipient: str) -> str:
    """What a permanent bounce is about, from its DSN fields: `relay` (the next hop refused our
    relay: not the address's fault), `recipient` (the address: 5.1.x, 5.2.x, 5.4.x, a message
    that expired undelivered with 4.x.x, or a recipient refusal's text), else `message`."""
    text = diagnostic.partition(";")[2].strip() or diagnostic
    if scope("RCPT", text, recipient) == "session":
        return "relay"
    if RECIPIENT_TEXT.search(text) or re.match(r"^(?:5\.[124]\.|4\.)", status.strip()):
        return "recipient"
    return "message"


def normalised(text: str, recipient: str | None = None) -> str:
    """The reply without what names the recipient, to compare refusals of different letters."""
    out = text.replace(f"<{recipient}>", "<>").replace(recipient, "") if recipient else text
    return " ".join(out.casefold().split())


_QUEUE_ID = (  # the server's id of an accepted message, in the reply to its DATA
    re.compile(r"\bqueued as\s+<?([\w.-]{1,64})", re.IGNORECASE),  # Postfix, aiosmtpd tests
    re.compile(r"\bOK\s+id=([\w.-]{1,60})", re.IGNORECASE),  # Exim
    re.compile(r"\bInternalId=(\d{1,30})"),  # Microsoft Exchange
    re.compile(r"^\s*250[ -](?:2\.\d{1,3}\.\d{1,3}\s+)?([A-Za-z0-9]{6,40})\s+Message accepted", re.IGNORECASE),  # Sendmail
    re.compile(r"\bOK\s+\d+\s+([\w.-]{1,60})\s+-\s+gsmtp\b"),  # Gmail
)


def queue_id(reply: str) -> str:
    """The queue id the server gave a message it accepted ('250 2.0.0 Ok: queued as 4QbW1n2xYz'
    -> '4QbW1n2xYz'; Exim's `id=`, Exchange's `InternalId=`, Sendmail's and Gmail's), or ''."""
    for pattern in _QUEUE_ID:
        found = pattern.search(reply)
        if found:
            return found.group(1).rstrip(".")
    return ""

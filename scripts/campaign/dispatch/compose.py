"""A letter as an email: plain text with an HTML alternative, a deterministic Message-ID and
checked, cached headers (dispatch only; the text itself is `campaign.data.letter`)."""

from __future__ import annotations

import binascii
import datetime as dt
import email.policy
import hashlib
import html as _html
import re
from collections.abc import Sequence
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache

from campaign.core.errors import LetterError
from campaign.data.letter import blocks, body
from campaign.data.models import Campaign, Mission, Signature
from campaign.data.text import bad_character


def message_id(campaign: Campaign, key: str, letter_version: str) -> str:
    """`<campaign-id.date.key.version@sender-domain>`: the same letter always gets the same id."""
    domain = _ascii_domain(campaign.dispatch.sender.email)
    return f"<{campaign.id}.{campaign.dispatch.date:%Y%m%d}.{key}.{letter_version}@{domain}>"


def to_html(text: str, lang: str = "en") -> str:
    """A plain-text letter as a small, fully escaped HTML document."""
    parts: list[str] = []
    for tag, rows in blocks(_html.escape(text)):  # escaping keeps lines and list marks: once is enough
        if tag == "p":
            parts.append("<p>" + "<br>\n".join(line.strip() for line in rows[0]) + "</p>")
        else:
            items = "".join(f"<li>{' '.join(i)}</li>" for i in rows)
            parts.append(f"<{tag}>{items}</{tag}>")
    return (f'<!DOCTYPE html>\n<html lang="{_html.escape(lang, quote=True)}"><head><meta charset="utf-8"></head>'
            f"<body>\n" + "\n".join(parts) + "\n</body></html>\n")


class _HeaderCache(HeaderRegistry):
    """The email package's header registry, remembering what it parsed.

    Letters share most header values (sender, mission, content types); parsing each once
    instead of at every access makes composing and flattening a letter several times faster.
    Header objects are immutable, so sharing them is safe.
    """

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name.lower(), value)
        found = self._seen.get(key)
        if found is None:
            if len(self._seen) >= 20_000:
                self._seen.clear()
            found = self._seen[key] = super().__call__(name, value)
        return found

    def __copy__(self) -> _HeaderCache:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> _HeaderCache:
        return self

    def __reduce__(self) -> str:
        return "HEADERS"


HEADERS = _HeaderCache()
POLICY = email.policy.default.clone(header_factory=HEADERS, max_line_length=998)
"""The policy of composed letters: `email.policy.default` with the caching header registry.

Headers are folded at 78 characters when composed; the 998 limit only stops the generator
from re-parsing a long unbreakable line (a Message-ID) at every send."""


def _check_header(name: str, value: str) -> str:
    """The value, if validation's rule for header-bound text (`text.bad_character`) lets it pass."""
    found = bad_character(value)
    if found:
        raise LetterError(f"the {name} header would contain the control character {found}")
    return value


@lru_cache(maxsize=4096)
def _envelope(sender: tuple[str, str], to: tuple[str, str], reply_to: str | None, subject: str) -> tuple[tuple[str, str], ...]:
    """From, To, Reply-To and Subject, checked, encoded and folded once per mission.

    Letters then carry these as raw header values: building each header through the email
    package's parser costs more than everything else in a letter.
    """
    proto = EmailMessage()
    try:
        proto["From"] = Address(_check_header("From", sender[0]), addr_spec=sender[1])
        proto["To"] = Address(_check_header("To", to[0]), addr_spec=to[1])
        if reply_to:
            proto["Reply-To"] = _check_header("Reply-To", reply_to)
        proto["Subject"] = _check_header("Subject", subject)
    except (ValueError, IndexError) as exc:  # the email package refuses CR/LF and bad addresses
        raise LetterError(f"cannot build the letter's headers: {exc}") from None
    folded = []
    for name, header in proto.items():
        text = header.fold(policy=proto.policy)  # type: ignore[attr-defined]
        folded.append((name, text[len(name) + 2:].rstrip("\r\n")))
    return tuple(folded)


def _ascii_domain(address: str) -> str:
    domain = address.rpartition("@")[2]
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _part(subtype: str, text: str) -> EmailMessage:
    """A text/<subtype> UTF-8 part: 7bit when plain ASCII with short lines, else quoted-printable."""
    part = EmailMessage(policy=POLICY)
    part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
    if text.isascii() and max(map(len, text.splitlines()), default=0) <= 998:
        part.set_raw("Content-Transfer-Encoding", "7bit")
        part.set_payload(text)
    else:
        part.set_raw("Content-Transfer-Encoding", "quoted-printable")
        part.set_payload(binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii"))
    return part


def compose(
    campaign: Campaign,
    template: str,
    mission: Mission,
    sigs: Sequence[Signature],
    key: str,
    letter_version: str,
    lang: str = "en",
    msgid: str | None = None,
    when: dt.datetime | None = None,
) -> EmailMessage:
    """The letter as an email to the mission: headers from data/campaign.yaml, text + HTML.

    multipart/alternative with a text/plain and a text/html part, both UTF-8. Raises
    LetterError when the mission has no email or a header value is unsafe.
    """
    if not mission.email:
        raise LetterError(f"mission {mission.id} has no email address")
    if not sigs:
        raise LetterError(f"no signature for the letter to {mission.id}")
    d = campaign.dispatch
    headers = _envelope((d.sender.name, d.sender.email), (mission.name, mission.email), d.reply_to, d.subject)
    msgid = msgid or message_id(campaign, key, letter_version)
    if not msgid.isascii() or not re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", msgid):
        raise LetterError(f"the Message-ID {msgid!r} is not of the form <id@domain>")
    text = body(template, campaign, mission, sigs)
    html = to_html(text, lang)
    # One boundary per mission and letter version (its header is then parsed once, not per
    # letter); a letter whose text contains it, however unlikely, gets its own.
    boundary = "=_" + hashlib.sha256(f"{campaign.id}\0{mission.id}\0{letter_version}".encode()).hexdigest()[:32]
    if boundary in text or boundary in html:
        boundary = "=_" + hashlib.sha256(f"{msgid}\0{text}".encode()).hexdigest()
    msg = EmailMessage(policy=POLICY)
    for name, value in headers:
        msg.set_raw(name, value)
    msg.set_raw("Date", format_datetime(when or dt.datetime.now(dt.timezone.utc)))
    msg.set_raw("Message-ID", msgid)
    msg.set_raw("Content-Language", lang)
    msg.set_raw("MIME-Version", "1.0")
    msg.set_raw("Content-Type", f'multipart/alternative;\n boundary="{boundary}"')
    msg.set_payload([_part("plain", text), _part("html", html)])
    return msg



"""A letter as an email: plain text with an HTML alternative, a deterministic Message-ID and
checked, cached headers (dispatch only; the text itself is `campaign.data.letter`).

The HTML is made of paragraphs (a text paragraph's lines joined), with every signer name in
`<bdi>` so a right-to-left name cannot reorder the text around it. Address domains are written
as punycode (IDNA) in headers, never as an encoded word inside an address. The envelope sender
(VERP, `dispatch.envelope`) travels as a Return-Path header that the SMTP backend takes off.
A letter to the `fallback` address says which mission it was meant for; a rehearsal
(`redirect`) goes to one test inbox, the real recipient kept in X-Campaign-Original-To.


A letter is one or more parts (`letter.parts`): the English text, then the signers' languages
under an English heading that says whether the translation is a draft. In the HTML each part is
a `<div lang dir>`, so a right-to-left version reads the right way round; `Content-Language`
lists every language of the letter."""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import html as _html
import re
from collections.abc import Callable, Sequence
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache

from campaign.core.errors import LetterError
from campaign.data import letter, locales
from campaign.data.letter import NAME_END, NAME_START, Part, Words, as_html
from campaign.data.models import Campaign, Mission, Signature
from campaign.data.text import bad_character
from campaign.data.translations import LetterFile
from campaign.dispatch import frames


def message_id(campaign: Campaign, key: str, letter_version: str) -> str:
    """`<campaign-id.date.key.version@sender-domain>`: the same letter always gets the same id."""
    domain = _ascii_domain(campaign.dispatch.sender.email)
    return _id_prefix(campaign.id, campaign.dispatch.date) + f"{key}.{letter_version}@{domain}>"


@lru_cache(maxsize=64)
def _id_prefix(campaign_id: str, date: dt.date) -> str:
    return f"<{campaign_id}.{date:%Y%m%d}."


@lru_cache(maxsize=4)
def _date(moment: dt.datetime) -> str:
    """The Date header of a moment (to the second: letters in the same second share it)."""
    return format_datetime(moment)


def to_html(text: str | Sequence[Part], lang: str = "en") -> str:
    """A plain-text letter, or its parts (each other language in a `<div lang dir>`), as a small,
    fully escaped HTML document: paragraphs and lists as the site prints them (`letter.as_html`),
    each marked name isolated in `<bdi>`."""
    body = []
    for part in [Part(lang, text)] if isinstance(text, str) else text:
        if part.heading:
            body.append(f"<p><strong>[{_html.escape(part.heading)}]</strong></p>")
        inner = as_html(part.text)
        body.append(inner if part.lang == lang else
                    f'<div lang="{_html.escape(part.lang, quote=True)}" dir="{part.direction}">\n{inner}\n</div>')
    page = (f'<!DOCTYPE html>\n<html lang="{_html.escape(lang, quote=True)}"><head><meta charset="utf-8"></head>'
            f"<body>\n" + "\n".join(body) + "\n</body></html>\n")
    return page.replace(NAME_START, "<bdi>").replace(NAME_END, "</bdi>")


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
        proto["From"] = Address(_check_header("From", sender[0]), addr_spec=ascii_address(sender[1]))
        proto["To"] = Address(_check_header("To", to[0]), addr_spec=ascii_address(to[1]))
        if reply_to:
            proto["Reply-To"] = _check_header("Reply-To", reply_to)
        proto["Subject"] = _check_header("Subject", subject)
    except (ValueError, IndexError) as exc:  # the email package refuses CR/LF and bad addresses
        raise LetterError(f"cannot build the letter's headers: {exc}") from None
    folded = []
    for name, header in proto.items():
        text = header.fold(policy=proto.policy)  # type: ignore[attr-defined]
        folded.append((name, text[len(name) + 1:].strip(" \t\r\n")))  # "To:\n name": no doubled space
    return tuple(folded)


_FRAMES: dict[tuple[object, ...], frames.Frame | None] = {}


def _frame(campaign: Campaign, files: dict[str, LetterFile], mission: Mission, sig: Signature, lang: str,
           fallback: bool) -> frames.Frame | None:
    """The frame of a one-signer letter (`frames`): made once per mission and set of versions,
    found again by what the letter is made of."""
    versions = letter.versions(files, campaign, [sig.language])
    key = (lang, fallback, mission.id, mission.name, mission.city, mission.country, campaign.dispatch.date,
           *((lf.lang, lf.text, lf.status, letter.target(campaign, lf.lang)) for lf in versions))
    found = _FRAMES.get(key, _FRAMES)
    if found is _FRAMES:
        if len(_FRAMES) > 4096:
            _FRAMES.clear()
        if not all(letter.prints_signer(lf.text) for lf in versions):
            _FRAMES[key] = None
            return None

        def parts(signer: str) -> list[Part]:
            made = [letter.part(lf, campaign, mission, signer) for lf in versions]
            return [_fallback_line(mission, lang), *made] if fallback else made

        found = _FRAMES[key] = frames.make(parts, letter.text, lambda found: to_html(found, lang))
    return found  # type: ignore[return-value]


def _fallback_line(mission: Mission, lang: str) -> Part:
    return Part(lang, f"[This letter is for the {mission.name} ({mission.city}, {locales.country_name(mission.country)}), "
                      "which has no working email address: please pass it on.]")


@lru_cache(maxsize=4096)
def _ascii_domain(address: str) -> str:
    domain = address.rpartition("@")[2]
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def ascii_address(address: str) -> str:
    """`local@domain` with the domain in punycode ('info@xn--bcher-kva.example'); a non-ASCII
    local part stays (it needs SMTPUTF8, which the SMTP backend asks for)."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{_ascii_domain(address)}" if domain and not domain.isascii() else address


def envelope_for(campaign: Campaign, key: str) -> str | None:
    """The letter's own envelope sender (VERP), from `dispatch.envelope`, or None."""
    pattern = campaign.dispatch.envelope
    return pattern.replace("{key}", key) if pattern else None


def key_from_envelope(campaign: Campaign, address: str) -> str | None:
    """The letter key in a VERP address (`bounces+s-1f0c@x` -> 's-1f0c'), or None."""
    pattern = campaign.dispatch.envelope
    if not pattern:
        return None
    head, _, tail = pattern.partition("{key}")
    low = address.strip().strip("<>").casefold()
    if low.startswith(head.casefold()) and low.endswith(tail.casefold()) and len(low) > len(head) + len(tail):
        return address.strip().strip("<>")[len(head):len(address.strip().strip("<>")) - len(tail)]
    return None


def _part(subtype: str, encoding: str, payload: str) -> EmailMessage:
    """A text/<subtype> UTF-8 part with its payload already encoded (`frames.encode`)."""
    part = EmailMessage(policy=POLICY)
    part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
    part.set_raw("Content-Transfer-Encoding", encoding)
    part.set_payload(payload)
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
    to: str | None = None,
    fallback: bool = False,
    redirect: str | None = None,
    files: dict[str, LetterFile] | None = None,
    words: Callable[[str], Words] | None = None,
) -> EmailMessage:
    """The letter as an email to `to` (the route's address; default: the mission's first):
    headers from data/campaign.yaml, text + HTML.

    multipart/alternative with a text/plain and a text/html part, both UTF-8. With `files`
    (every language's letter) and `words` (a language's catalogue), the English text is
    followed by the signers' languages (`letter.parts`); without, English only. Raises
    LetterError when there is no address or a header value is unsafe.
    """
    to = to or (mission.emails[0].address if mission.emails else None)
    if not to:
        raise LetterError(f"mission {mission.id} has no email address")
    if not sigs:
        raise LetterError(f"no signature for the letter to {mission.id}")
    d = campaign.dispatch
    name = d.fallback.name if fallback and d.fallback else mission.name
    headers = _envelope((d.sender.name, d.sender.email), (name, redirect or to), d.reply_to, d.subject)
    msgid = msgid or message_id(campaign, key, letter_version)
    if not msgid.isascii() or not re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", msgid):
        raise LetterError(f"the Message-ID {msgid!r} is not of the form <id@domain>")
    files = files if files is not None else {lang: LetterFile(lang, "", template)}
    words = words or (lambda _: letter.ENGLISH)
    frame = _frame(campaign, files, mission, sigs[0], lang, fallback) if len(sigs) == 1 else None
    lines = frame.signers(sigs[0], words) if frame is not None else None
    if frame is not None and lines is not None:  # the mission's letter made once, the signer put in
        text, plain, plain_body = frame.text.encoded(lines[0])
        html, markup, html_body = frame.html.encoded(lines[1])
        languages = frame.languages
    else:
        parts = letter.parts(files, campaign, mission, sigs, words, mark=True)
        if fallback:
            parts.insert(0, _fallback_line(mission, lang))
        text = letter.text(parts).replace(NAME_START, "").replace(NAME_END, "")
        html, languages = to_html(parts, lang), ", ".join(dict.fromkeys(p.lang for p in parts))
        (plain, plain_body), (markup, html_body) = frames.encode(text), frames.encode(html)
    # One boundary per mission and letter version (its header is then parsed once, not per
    # letter); a letter whose text contains it, however unlikely, gets its own.
    boundary = "=_" + hashlib.sha256(f"{campaign.id}\0{mission.id}\0{letter_version}".encode()).hexdigest()[:32]
    if boundary in text or boundary in html:
        boundary = "=_" + hashlib.sha256(f"{msgid}\0{text}".encode()).hexdigest()
    msg = EmailMessage(policy=POLICY)
    envelope = envelope_for(campaign, key)
    if envelope:
        msg.set_raw("Return-Path", f"<{ascii_address(envelope)}>")
    for header, value in headers:
        msg.set_raw(header, value)
    if redirect:
        original = _envelope((d.sender.name, d.sender.email), (name, to), None, d.subject)
        msg.set_raw("X-Campaign-Original-To", dict(original)["To"])
    msg.set_raw("Date", _date((when or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)))
    msg.set_raw("Message-ID", msgid)
    msg.set_raw("Content-Language", languages)
    msg.set_raw("MIME-Version", "1.0")
    msg.set_raw("Content-Type", f'multipart/alternative;\n boundary="{boundary}"')
    msg.set_payload([_part("plain", plain, plain_body), _part("html", markup, html_body)])
    return msg

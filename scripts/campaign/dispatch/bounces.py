"""`campaign dispatch bounces`: read delivery reports and replies into the ledger.

    found = read(root, maildir=Path("Maildir"))     # or mbox=..., or imap="imaps://user@host/"

Each letter leaves with its own envelope sender (`dispatch.envelope`, VERP: `bounces+KEY@...`),
so a report or an automatic reply names the letter in its recipient; failing that, the
letter is found by our Message-ID (in the returned message or headers, In-Reply-To or
References). What a mail is, in this order:

- a delivery status notification (RFC 3464, `multipart/report; report-type=delivery-status`):
  flufl.bounce says which recipients failed; each recipient's `Action` decides permanent
  (`failed`, also with a 4.x.x status: the message expired) or not (`delayed`: a warning,
  recorded but changing nothing); `relayed`/`delivered` reports are not bounces. Each bounce
  gets a scope (`mail.replies.bounce_scope`): only one about the recipient makes the address
  failing, not one about the message or our relay (a Diagnostic-Code refusing our relay);
- an automatic reply: `Auto-Submitted` other than `no`, `X-Autoreply`, `Precedence`
  bulk/junk/auto_reply, or any other mail to a VERP address (people reply to From or
  Reply-To, never to the envelope sender): `auto-replied`;
- a reply to one of our Message-IDs: `replied`.

Each line carries the mail it came from (`source`: its Message-ID, or a hash of it), so reading
the same mailbox twice adds nothing. A permanent bounce makes the letter `bounced`, and one
about the recipient makes its address failing (`records.routes`): the next dispatch requeues
the letter on the mission's next route. IMAP: the URL (imap:// or imaps://user@host[:port]) and IMAP_PASSWORD come from the
environment (IMAP_URL); the folder is read, never changed.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import mailbox
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flufl.bounce import all_failures

from campaign.core.errors import CampaignError, Problem
from campaign.data.models import Campaign
from campaign.dispatch import compose, session
from campaign.mail.replies import bounce_scope
from campaign.records.ledger import Ledger, LetterState, run_id

AUTOMATIC = re.compile(r"^(?:bulk|junk|auto_reply|auto-reply)$", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


@dataclass
class Found:
    """What a reading added, by kind of mail."""

    counts: Counter[str] = field(default_factory=Counter)

    def text(self) -> str:
        c = self.counts
        return (f"read {c['mails']} mails: {c['bounced']} bounces ({c['permanent']} permanent, {c['temporary']} delay "
                f"warnings), {c['replied']} replies, {c['auto-replied']} automatic replies; {c['known']} already in the "
                f"ledger, {c['unmatched']} not about our letters\n")


def _messages(maildir: Path | None, mbox: Path | None, imap: str | None, folder: str) -> Iterator[bytes]:
    if maildir is not None:
        if not (maildir / "new").is_dir() and not (maildir / "cur").is_dir():
            raise CampaignError([Problem(str(maildir), 1, "not a Maildir (no new/ or cur/ folder)")])
        box = mailbox.Maildir(maildir, factory=None, create=False)
        yield from (box.get_bytes(key) for key in sorted(box.iterkeys()))
    elif mbox is not None:
        if not mbox.is_file():
            raise CampaignError([Problem(str(mbox), 1, "no such mbox file")])
        box = mailbox.mbox(mbox, factory=None, create=False)
        yield from (box.get_bytes(key) for key in box.iterkeys())
    elif imap:
        yield from _imap(imap, folder)


def _imap(url: str, folder: str) -> Iterator[bytes]:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise CampaignError([Problem("IMAP_URL", 1, "give imap://USER@HOST[:PORT] or imaps://USER@HOST[:PORT]")])
    port = parts.port or (993 if parts.scheme == "imaps" else 143)
    kind = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    try:
        with kind(parts.hostname, port, timeout=30) as conn:
            conn.login(unquote(parts.username), os.environ.get("IMAP_PASSWORD", ""))
            status, _ = conn.select(f'"{folder}"', readonly=True)
            if status != "OK":
                raise CampaignError([Problem("--folder", 1, f"the IMAP server has no folder {folder!r}")])
            _, ids = conn.uid("SEARCH", "ALL")
            for uid in ids[0].split():
                _, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                yield next(bytes(item[1]) for item in data if isinstance(item, tuple))
    except imaplib.IMAP4.error as exc:
        raise CampaignError([Problem("IMAP_URL", 1, f"the IMAP server refused: {exc}; check IMAP_URL and IMAP_PASSWORD")]) from None
    except OSError as exc:
        raise CampaignError([Problem("IMAP_URL", 1, f"cannot reach {parts.hostname}:{port}: {exc}")]) from None


class Reader:
    """Matches mails to the letters of one ledger and appends what they say."""

    def __init__(self, campaign: Campaign, book: Ledger) -> None:
        self.campaign, self.book, self.run = campaign, book, run_id()
        self.by_msgid = {info.message_id: key for key, info in book.letters.items() if info.message_id}
        self.found = Found()

    def _verp(self, msg: Message) -> str | None:
        for name in ("Delivered-To", "X-Original-To", "To"):
            for _, address in getaddresses([str(v) for v in msg.get_all(name, [])]):
                key = compose.key_from_envelope(self.campaign, address)
                if key:
                    return key
        return None

    def _referenced(self, msg: Message) -> str | None:
        texts = [str(msg.get(h, "")) for h in ("In-Reply-To", "References")]
        for part in msg.walk():
            if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
                payload = part.get_payload()
                inner = payload[0] if isinstance(payload, list) and payload else payload
                texts.append(str(inner.get("Message-ID", "")) if isinstance(inner, Message) else str(inner))
        for text in texts:
            for mid in _MSGID.findall(text):
                if mid in self.by_msgid:
                    return self.by_msgid[mid]
        return None

    def _append(self, key: str, info: LetterState, state: str, source: str, **extra: str | bool) -> None:
        if source in self.book.sources:
            self.found.counts["known"] += 1
            return
        self.book.append(key, state, info.mission, info.message_id, signatures=info.signatures, run=self.run,
                         source=source, **extra)  # type: ignore[arg-type]
        self.found.counts[state] += 1

    def read(self, raw: bytes) -> None:
        self.found.counts["mails"] += 1
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        source = str(msg.get("Message-ID", "")).strip() or "sha256:" + hashlib.sha256(raw).hexdigest()[:32]
        verp = self._verp(msg)
        key = verp if verp in self.book.letters else self._referenced(msg)
        if key is None:
            self.found.counts["unmatched"] += 1
            return
        info = self.book.letters[key]
        if msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "delivery-status":
            self._report(key, info, msg, source)
        elif verp or _automatic(msg):
            self._append(key, info, "auto-replied", source, detail=str(msg.get("Subject", ""))[:120])
        else:
            self._append(key, info, "replied", source, detail=str(msg.get("Subject", ""))[:120])

    def _report(self, key: str, info: LetterState, msg: EmailMessage, source: str) -> None:
        temporary, permanent = all_failures(msg)
        failed = {a.decode("utf-8", "replace").casefold(): True for a in permanent}
        failed |= {a.decode("utf-8", "replace").casefold(): False for a in temporary}
        for block in _recipients(msg):
            recipient = block.get("recipient", "")
            if recipient.casefold() not in failed:
                continue  # relayed, delivered, or not a failure flufl.bounce recognises
            action = block.get("action", "").lower()
            hard = action == "failed" and failed[recipient.casefold()]
            diagnostic = block.get("diagnostic-code", "")
            about = bounce_scope(diagnostic, block.get("status", ""), recipient)
            line = f"{source} {recipient}"
            self.found.counts["permanent" if hard else "temporary"] += line not in self.book.sources
            self._append(key, info, "bounced", line, to=recipient, permanent=hard, status=block.get("status", ""),
                         action=action, scope=about, detail=diagnostic[:300])


def _recipients(msg: EmailMessage) -> list[dict[str, str]]:
    """The per-recipient blocks of a DSN's message/delivery-status part, lower-case keys."""
    out: list[dict[str, str]] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload()[1:] if isinstance(part.get_payload(), list) else []:
            fields = {k.lower(): " ".join(str(v).split()) for k, v in block.items()}
            where = fields.get("original-recipient") or fields.get("final-recipient", "")
            fields["recipient"] = where.partition(";")[2].strip() if ";" in where else where
            out.append(fields)
    return out


def _automatic(msg: Message) -> bool:
    submitted = str(msg.get("Auto-Submitted", "no")).strip().lower()
    return (not submitted.startswith("no")) or "X-Autoreply" in msg or "X-Autorespond" in msg or \
        bool(AUTOMATIC.match(str(msg.get("Precedence", "")).strip()))


def read(root: Path, *, maildir: Path | None = None, mbox: Path | None = None, imap: str | None = None,
         folder: str = "INBOX", ledger_path: Path | None = None, warn: session.Echo = print) -> Found:
    """Read one mailbox into the campaign's ledger (see the module docstring)."""
    if sum(x is not None and x != "" for x in (maildir, mbox, imap)) != 1:
        raise CampaignError([Problem("campaign dispatch bounces", 1, "give one of --maildir DIR, --mbox FILE or "
                                     "--imap URL (or IMAP_URL)")])
    ds = session.load(root, lambda _: None)
    assert ds.campaign is not None
    with session.campaign_ledger(root, ds.campaign, ledger_path, warn) as book:
        reader = Reader(ds.campaign, book)
        for raw in _messages(maildir, mbox, imap, folder):
            reader.read(raw)
    return reader.found

"""The intake's two mails: the confirmation link (double opt-in, with the withdrawal link) and the
"already signed" notice.

In the signer's language (`Content-Language`), as plain text, 7bit when ASCII so the link stays
on one line in the raw .eml file, with an HTML alternative whose `<html lang dir>` lets a
right-to-left language read the right way round. The recipient's domain is written as punycode
(`models.ascii_email`), never as an encoded word inside the address.
"""

from __future__ import annotations

import datetime as dt
import secrets
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from html import escape

from campaign.data import locales
from campaign.data.models import Campaign, ascii_email
from campaign.i18n import wording
from campaign.i18n.catalogues import Translator
from campaign.intake import pages, withdrawal
from campaign.intake.store import Mail, token_hash
from campaign.records import published


def compose(campaign: Campaign, to: str, subject: str, msgid: str, words: Translator, paragraphs: list[str],
             links: tuple[str, ...] = ()) -> EmailMessage:
    """Plain text and its HTML alternative (`<html lang dir>`: right-to-left languages read the
    right way round); `Content-Language` says which language both are in."""
    sender = campaign.dispatch.sender
    message = EmailMessage()
    message["From"] = Address(sender.name, addr_spec=ascii_email(sender.email))
    message["To"] = Address(addr_spec=ascii_email(to))
    if campaign.dispatch.reply_to:
        message["Reply-To"] = ascii_email(campaign.dispatch.reply_to)
    message["Date"] = formatdate(localtime=False)
    message["Auto-Submitted"] = "auto-generated"
    message["Subject"] = subject
    domain = ascii_email(sender.email).rpartition("@")[2]
    message["Message-ID"] = f"<{msgid}@{domain}>"
    site = published.site_root(campaign.site_url, words.lang)
    text = "\n\n".join(f"    {p}" if p in links else p for p in paragraphs) + f"\n\n-- {sender.name}\n{site}\n"
    message.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    html = "\n".join(f'<p><a href="{escape(p)}">{escape(p)}</a></p>' if p in links else f"<p>{escape(p)}</p>" for p in paragraphs)
    message.add_alternative(
        f'<!DOCTYPE html>\n<html lang="{escape(words.lang)}" dir="{locales.direction(words.lang)}"><head><meta charset="utf-8">'
        f'</head><body>\n{html}\n<p>-- {escape(sender.name)}<br><a href="{escape(site)}">{escape(site)}</a></p>\n</body></html>\n',
        subtype="html", cte="quoted-printable")
    message["Content-Language"] = words.lang  # after the parts: the email package moves Content-* headers into the first
    return message


def confirmation(campaign: Campaign, mail: Mail, public_url: str, words: Translator | None = None,
                 withdraw: str | None = None) -> EmailMessage:
    """The mail with the confirmation link of one pending entry, in the signer's language, and
    its withdrawal link (`withdraw`, the token: it works once the signature is confirmed)."""
    sig = mail.signature
    words = words or Translator(locales.DEFAULT)
    _ = words.format
    link = f"{public_url.rstrip('/')}/confirm/{mail.token}"
    until = locales.long_time(dt.datetime.fromtimestamp(mail.expires, dt.timezone.utc), words.lang)
    title = campaign.text(words.lang).title
    later = f"{public_url.rstrip('/')}/withdraw/{withdraw}" if withdraw else None
    closes = locales.long_time(withdrawal.closes(campaign), words.lang)
    return compose(campaign, mail.email, _("Please confirm your signature: %(campaign)s", campaign=title),
                    f"intake-{mail.entry_id}-{token_hash(mail.token)[:16]}", words, [
        _("Hello %(name)s,", name=sig["name"]),
        _("someone (we hope you) signed \"%(campaign)s\" with this email address. To confirm your signature, "
          "open this link and press the button on the page:", campaign=title),
        link,
        _("The link works until %(until)s.", until=until) + " " + pages.consents(words, sig),
        _("If you did not sign, ignore this message: nothing is published, and the entry is deleted when the link expires."),
        _(wording.KEPT),
        *([_("Changed your mind later? Once confirmed, your signature can be withdrawn until %(date)s with this "
             "link; keep this message:", date=closes), later] if later else []),
    ], (link, later) if later else (link,))


def notice(campaign: Campaign, email: str, words: Translator | None = None) -> EmailMessage:
    """Tell an address that already signed (instead of telling whoever submitted the form)."""
    words = words or Translator(locales.DEFAULT)
    _ = words.format
    title = campaign.text(words.lang).title
    return compose(campaign, email, _("You have already signed: %(campaign)s", campaign=title),
                    f"intake-notice-{secrets.token_hex(12)}", words, [
        _("Hello,"),
        _("the form was submitted again with this email address, which has already signed. Nothing changes: one "
          "signature per address counts. If this was not you, ignore this message."),
    ])

"""The intake's two mails: the confirmation link (double opt-in) and the "already signed" notice.

Plain text, 7bit when ASCII so the link stays on one line in the raw .eml file. The recipient's
domain is written as punycode (`models.ascii_email`), never as an encoded word inside the address.
"""

from __future__ import annotations

import datetime as dt
import secrets
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from campaign.data.models import Campaign, ascii_email
from campaign.intake.store import Mail, token_hash


def _message(campaign: Campaign, to: str, subject: str, msgid: str, text: str) -> EmailMessage:
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
    message.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    return message


def confirmation(campaign: Campaign, mail: Mail, public_url: str) -> EmailMessage:
    """The mail with the confirmation link of one pending entry."""
    link = f"{public_url.rstrip('/')}/confirm/{mail.token}"
    until = dt.datetime.fromtimestamp(mail.expires, dt.UTC).strftime("%d %B %Y, %H:%M UTC")
    sig = mail.signature
    published = "will be listed on the campaign site" if sig.get("publish") else "will not be listed on the site"
    in_letter = "will appear in the letter" if sig.get("letter") else "will not appear in the letter (it is counted)"
    return _message(campaign, mail.email, f"Please confirm your signature: {campaign.title}",
                    f"intake-{mail.entry_id}-{token_hash(mail.token)[:16]}", (
        f"Hello {sig['name']},\n\n"
        f"someone (we hope you) signed \"{campaign.title}\" with this email address.\n"
        f"To confirm your signature, open this link and press the button on the page:\n\n"
        f"    {link}\n\n"
        f"The link works until {until}. Your name {published} and {in_letter}.\n\n"
        "If you did not sign, ignore this message: nothing is published, and your address is\n"
        "deleted when the link expires. We keep no copy of your email address after this\n"
        "message has been sent; only a keyed fingerprint stops a second signature.\n\n"
        f"-- {campaign.dispatch.sender.name}\n{campaign.site_url}\n"))


def notice(campaign: Campaign, email: str) -> EmailMessage:
    """Tell an address that already signed (instead of telling whoever submitted the form)."""
    return _message(campaign, email, f"You have already signed: {campaign.title}", f"intake-notice-{secrets.token_hex(12)}", (
        "Hello,\n\nthe form was submitted again with this email address, which has already signed.\n"
        "Nothing changes: one signature per address counts. If this was not you, ignore this message.\n\n"
        f"-- {campaign.dispatch.sender.name}\n{campaign.site_url}\n"))

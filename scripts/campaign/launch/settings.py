"""The doctor's checks of settings that need no network: the sender's domain, the keys.

Reserved names (RFC 2606, RFC 6761) are for documentation and tests: example.org, example.com
and example.net with their subdomains, and the top-level names .example, .invalid and .test.
Mail from such an address is refused or lost, and replies to it reach nobody.
"""

from __future__ import annotations

from campaign.core.errors import Problem
from campaign.data.dataset import CAMPAIGN
from campaign.intake.fingerprint import KEY_ENV, key_problem
from campaign.launch.context import BLOCK, Context, Found
from campaign.records.routes import domain_of

RESERVED_DOMAINS = ("example.org", "example.com", "example.net")
RESERVED_TOP = ("example", "invalid", "test")


def reserved(domain: str) -> str | None:
    """The reserved name `domain` is under ('example.org', '.test'), or None."""
    name = domain.lower().rstrip(".")
    found = next((d for d in RESERVED_DOMAINS if name == d or name.endswith("." + d)), None)
    top = name.rpartition(".")[2]
    return found or (f".{top}" if top in RESERVED_TOP else None)


MAIL_FROM = "mail from it is refused or lost; use an address on your own domain, with SPF and DKIM set up for it"
MAIL_TO = "mail to it reaches nobody; use an address of yours that someone reads"


def sender(ctx: Context) -> Found:
    """The addresses mail goes out from, comes back to or is written to (the organiser's contact and
    the data controller's, on every page) are on a domain of yours."""
    d, o = ctx.campaign.dispatch, ctx.campaign.organiser
    fields = ((("dispatch", "sender", "email"), d.sender.email, "the sender of the letters and the confirmation mails", MAIL_FROM),
              (("dispatch", "reply_to"), d.reply_to, "where replies go", MAIL_FROM),
              (("dispatch", "envelope"), d.envelope, "the envelope sender, where bounces come back", MAIL_FROM),
              (("organiser", "email"), o.email, "the campaign's contact, in every page's footer", MAIL_TO),
              (("organiser", "controller", "email"), o.controller.email, "where signers write about their data", MAIL_TO))
    found: Found = []
    for loc, value, what, why in fields:
        name = reserved(domain_of(value)) if value else None
        if name:
            found.append((BLOCK, Problem(CAMPAIGN, ctx.line(*loc), (
                f"`{'.'.join(loc)}` {value} ({what}) is on {name}, a reserved example domain: {why}"))))
    return found


SAMPLE_FOLLOWUP_KEYS = frozenset({"tFAh2Q2DcIZFtYiQfJuNQlJUHqWMVVe+S2Nt67hR0hY="})
"""The follow-up public key data/campaign.yaml ships with: nobody kept its private key."""


def key(ctx: Context) -> Found:
    """The intake's fingerprint key is set (a secret of the host, never in the repository), and
    the follow-up reports' public key is the organisers' own, not the repository's sample."""
    found: Found = []
    if why := key_problem(ctx.env.get(KEY_ENV, "")):
        found.append((BLOCK, Problem(KEY_ENV, 0, why)))
    followup = ctx.campaign.followup
    if followup is not None and followup.public_key in SAMPLE_FOLLOWUP_KEYS:
        found.append((BLOCK, Problem(CAMPAIGN, ctx.line("followup", "public_key"), (
            "`followup.public_key` is the repository's sample key, whose private key nobody kept: the "
            "addresses of signers who ask for a report would be sealed for good; make your own pair with "
            "`campaign followup keygen FILE` and put its public key here, or remove `followup`"))))
    return found

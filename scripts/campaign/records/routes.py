"""How a letter reaches a mission (ARCHITECTURE.md, "Delivery routes"), derived once, here.

Read by dispatch (where a letter goes, or why it is not mailed), `campaign missions check`
and the site. The routes, in order:

- `email`: the mission's first usable address, `general` mailboxes before `consular` ones
  (those only while `dispatch.consular` allows them); usable means the mission is open, the
  domain is not retired and the address is not failing in the ledger;
- `fallback`: the campaign's `dispatch.fallback` address (with its source), for a mission
  without a usable address; the letter names the mission it was meant for;
- `form`: the mission's contact form, which people use (never automated);
- `paper`: post or delivery in person.

An address is failing when its latest verdict in the ledgers under data/dispatch/ is a refusal
of that recipient (5xx at RCPT) or a permanent bounce about it (not about the message or our
relay); a `requeued` letter to it (the cause was fixed: `--retry-failed`) clears that.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from campaign.data.models import Dispatch, Mission
from campaign.records import phones
from campaign.records.ledger import Ledger, every

RETIRED_DOMAINS = {
    "fco.gov.uk": "the FCO became the FCDO in September 2020 and its mail moved to fcdo.gov.uk",
    "dfid.gov.uk": "DFID merged into the FCDO in September 2020",
    "gsi.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "gcsx.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "gsx.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "ukti.gov.uk": "UK Trade & Investment was replaced by the Department for International Trade in 2016",
}
"""Retired government mail domains (a subdomain such as fconet.fco.gov.uk counts too)."""

RouteKind = Literal["email", "fallback", "form", "paper"]
KINDS: tuple[RouteKind, ...] = ("email", "fallback", "form", "paper")
MAILED = ("email", "fallback")
ROUTED_EMAILS = ("general", "consular")


@dataclass(frozen=True)
class Failure:
    """An address whose letters the mail system refused for good (5xx at RCPT, a hard bounce)."""

    address: str
    mission: str
    letters: int
    detail: str
    at: str
    ledger: str


@dataclass(frozen=True)
class Route:
    """How a mission's letters go: `kind`, the address (email, fallback) or form, and why the
    better routes were passed over."""

    kind: RouteKind
    address: str | None = None
    consular: bool = False
    form: str | None = None
    skipped: tuple[str, ...] = field(default=())

    @property
    def mailed(self) -> bool:
        return self.kind in MAILED

    def text(self) -> str:
        """One line for a person: 'email (consular mailbox) x@y', 'paper: ...'."""
        if self.kind == "email":
            return f"email{' (consular mailbox)' if self.consular else ''} {self.address}"
        if self.kind == "fallback":
            return f"fallback address {self.address}"
        return f"{self.kind}{' ' + self.form if self.form else ''}"


def domain_of(email: str | None) -> str:
    return email.rsplit("@", 1)[1].lower().rstrip(".") if email and "@" in email else ""


def retired_domain(email: str | None) -> str | None:
    """The retired domain `email` is on ('fco.gov.uk' for x@fconet.fco.gov.uk), or None."""
    domain = domain_of(email)
    return next((d for d in RETIRED_DOMAINS if domain == d or domain.endswith("." + d)), None) if domain else None


def route(mission: Mission, dispatch: Dispatch | None = None, failing: Collection[str] = ()) -> Route:
    """The route of `mission`'s letters; `failing` holds casefolded failing addresses."""
    skipped: list[str] = []
    allowed = ROUTED_EMAILS if dispatch is None or dispatch.consular else ("general",)
    if mission.status != "open":
        skipped.append(f"the mission is {mission.status}")
    else:
        for kind in ROUTED_EMAILS:
            for e in (e for e in mission.emails if e.kind == kind):
                domain = retired_domain(e.address)
                if domain:
                    skipped.append(f"{e.address} is on the retired {domain} domain")
                elif e.address.casefold() in failing:
                    skipped.append(f"{e.address} is failing (refused or bounced)")
                elif kind not in allowed:
                    skipped.append(f"{e.address} is a consular mailbox (dispatch.consular is off)")
                else:
                    return Route("email", e.address, consular=kind == "consular", skipped=tuple(skipped))
        if not mission.emails:
            skipped.append("no email address")
    if dispatch is not None and dispatch.fallback is not None:
        return Route("fallback", dispatch.fallback.email, skipped=tuple(skipped))
    if mission.contact_form:
        return Route("form", form=mission.contact_form, skipped=tuple(skipped))
    return Route("paper", skipped=tuple(skipped))


def routes(missions: Collection[Mission], dispatch: Dispatch | None, failing: Collection[str] = ()) -> dict[str, Route]:
    """Mission id -> its route."""
    return {m.id: route(m, dispatch, failing) for m in missions}


def usable_email(mission: Mission) -> bool:
    """Has the mission an address on a live domain (whatever the ledger says)?"""
    return any(e.kind in ROUTED_EMAILS and retired_domain(e.address) is None for e in mission.emails)


def failures(root: Path, ledgers: Mapping[str, Ledger] | None = None) -> dict[str, Failure]:
    """Failing addresses (casefolded) over every ledger in data/dispatch/ (or `ledgers`)."""
    if ledgers is None:
        ledgers = every(root)
    latest: dict[str, tuple[str, bool, str, str, str]] = {}  # address -> (at, failing, detail, mission, ledger)
    refused: dict[str, int] = {}
    for rel, book in ledgers.items():
        for letter in book.letters.values():
            address = letter.address.casefold()
            if not address:
                continue
            bad = letter.state in ("failed", "bounced") and letter.scope in ("", "recipient")
            if not bad and letter.state != "requeued":
                continue
            refused[address] = refused.get(address, 0) + bad
            entry = (letter.at, bad, letter.detail, letter.mission, rel)
            if address not in latest or entry[0] >= latest[address][0]:
                latest[address] = entry
    return {address: Failure(address, mission, refused[address], detail, at, rel)
            for address, (at, bad, detail, mission, rel) in sorted(latest.items()) if bad}


def channels(mission: Mission) -> list[str]:
    """The ways to reach a mission besides email, for people: phones, form, in person."""
    out = [f"phone {p.label}: {phones.international(p.number, mission.country)}" for p in mission.phones]
    if mission.contact_form:
        out.append(f"contact form {mission.contact_form}")
    where = (mission.address or "").replace("\n", ", ") or f"the mission in {mission.city}"
    out.append(f"in person at {where}")
    return out

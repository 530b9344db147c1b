"""What needs a person in each mission's record: the findings of `campaign missions check`,
also shown (as a "needs checking" mark) on the site; and a prefilled correction link.

Kinds, most urgent first:

- `closed`: the post is closed (only this is reported for it; the rest would be noise).
- `failing`: an address whose letters were refused (5xx at RCPT) or bounced for good, per the
  dispatch ledger; the finding names the route the letters take now and the other channels.
- `no-channel`: no usable written channel: no contact form and no usable email (none, only
  retired domains, or only press and other units' mailboxes).
- `retired-email`: an address on a retired government domain (`routes.RETIRED_DOMAINS`).
- `suspended`: the post is suspended (operations moved or paused).
- `phone-invalid`: a number that is not one valid number of the mission's country (several
  numbers in one entry, another country's number, an outdated numbering plan; `phones`).
- `phone-duplicate`: the same number twice in a mission.
- `no-phone`: nothing to call on the day.
- `stale`: `verified` is older than `max_age_days` (default three years).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from campaign.data import countries
from campaign.data.dataset import MISSIONS, Dataset
from campaign.data.govuk import govuk_slug
from campaign.data.models import Mission
from campaign.records import phones
from campaign.records.routes import RETIRED_DOMAINS, Failure, Route, channels, failures, retired_domain, route, usable_email

DEFAULT_MAX_AGE_DAYS = 3 * 365

NO_CHANNEL = "no usable written channel"

KINDS = {  # kind -> summary label, in order of urgency
    "closed": "closed posts",
    "failing": "failing addresses (letters refused or bounced)",
    "no-channel": "missions without a usable written channel",
    "retired-email": "emails on a retired domain",
    "suspended": "suspended posts",
    "phone-invalid": "phone numbers not valid for their country",
    "phone-duplicate": "repeated phone numbers",
    "no-phone": "missions without a phone",
    "stale": "records not verified within the age limit",
}


@dataclass(frozen=True)
class Finding:
    """One thing a person has to look at in one mission."""

    mission: str
    line: int
    kind: str
    message: str
    action: str

    def text(self) -> str:
        return f"{MISSIONS}:{self.line}: {self.mission}: {self.message}; {self.action}"


def _check(m: Mission, line: int, today: dt.date, max_age_days: int, failed: list[Failure], way: Route) -> list[Finding]:
    found: list[Finding] = []

    def add(kind: str, message: str, action: str) -> None:
        found.append(Finding(m.id, line, kind, message, action))

    where = m.url or "https://www.gov.uk/world/embassies"
    if m.status == "closed":
        add("closed", "the post is closed", "choose another mission for its letters (set `primary` there) or remove it")
        return found
    for failure in failed:
        letters = f"{failure.letters} letter{'s' if failure.letters != 1 else ''}"
        add("failing", f"{failure.address}: letters refused or bounced ({letters}; last {failure.detail[:120]!r} "
                       f"at {failure.at[:16]}); they now go by {way.text()}",
            f"reach it by {'; '.join(channels(m))}, and correct `emails`")
    if not m.contact_form and not usable_email(m):
        retired = sorted({d for e in m.emails if (d := retired_domain(e.address))})
        what = "no email" if not m.emails else "no general or consular email" if not retired else \
            f"the only email is on the retired {retired[0]} domain" if len(m.emails) == 1 else \
            f"every email is on a retired domain ({', '.join(retired)})"
        add("no-channel", f"{NO_CHANNEL}: {what} and no contact form; letters go by {way.text()}",
            f"find a current email or contact form on {where}, or plan delivery in person or by phone")
    for e in m.emails:
        domain = retired_domain(e.address)
        if domain:
            add("retired-email", f"email {e.address} is on the retired {domain} domain ({RETIRED_DOMAINS[domain]})",
                f"look up the current address on {where} and update `emails` (never guess: FCDO addresses end in "
                "@fcdo.gov.uk, but a mailbox may have moved)")
    if m.status == "suspended":
        add("suspended", f"the post is suspended{': ' + m.note if m.note else ''}",
            "check on GOV.UK where it operates from now before sending or delivering anything")
    seen: Counter[str] = Counter()
    for p in m.phones:
        why = phones.problem(p.number, m.country)
        if why:
            if "several numbers" in why:
                fix = "give each number its own entry, in E.164 (+ country code and number)"
            elif "not of" in why:
                fix = "confirm it is meant (e.g. the FCDO line in London) or replace it with the local number"
            else:
                fix = f"check the current number on {where} and write it in E.164"
            add("phone-invalid", f"phone '{p.label}' {p.number!r} {why}", fix)
        seen[phones.key(p.number, m.country)] += 1
    for number, count in seen.items():
        if count > 1 and number:
            add("phone-duplicate", f"phone number {number} appears {count} times", "remove the repeated entries")
    if not m.phones:
        add("no-phone", "no phone number", f"add the switchboard number from {where}: the calls on the day need one")
    age = (today - m.verified).days
    if age > max_age_days:
        how = " (`campaign missions refresh` does it for GOV.UK organisation pages)" if govuk_slug(m.url) else ""
        add("stale", f"details last verified {m.verified.isoformat()} ({age // 365} years ago; the limit is {max_age_days} days)",
            f"check them against {where}{how} and update `verified`")
    return found


def findings(ds: Dataset, *, max_age_days: int = DEFAULT_MAX_AGE_DAYS, today: dt.date | None = None,
             failed: dict[str, Failure] | None = None) -> dict[str, list[Finding]]:
    """Mission id -> its findings (missions without findings are left out). The dispatch
    ledgers under `ds.root` are read unless `failed` (failing addresses) is given."""
    today = today or dt.date.today()
    failed = failures(ds.root) if failed is None else failed
    dispatch = ds.campaign.dispatch if ds.campaign else None
    out: dict[str, list[Finding]] = {}
    for rec in ds.missions:
        m = rec.model
        mine = [failed[e.address.casefold()] for e in m.emails if e.address.casefold() in failed]
        found = _check(m, rec.line(""), today, max_age_days, mine, route(m, dispatch, failed))
        if found:
            out[m.id] = found
    return out


def correction_url(repository: str, mission: Mission, found: list[Finding] | tuple[Finding, ...] = ()) -> str:
    """A GitHub "new issue" link prefilled with the mission's current details and findings,
    for a "correct these details" link on its page (`repository` is `owner/name`)."""
    details = [f"- {name}: {value}" for name, value in (
        ("email", ", ".join(f"{e.address} ({e.kind})" for e in mission.emails)), ("contact form", mission.contact_form), ("address", (mission.address or "").replace("\n", ", ")),
        ("phones", "; ".join(f"{p.label} {phones.international(p.number, mission.country)}" for p in mission.phones)),
        ("opening hours", (mission.opening_hours or "").replace("\n", "; ")), ("GOV.UK page", mission.url),
        ("last verified", mission.verified.isoformat())) if value]
    body = "\n".join([
        f"Mission `{mission.id}`: {mission.name}, {countries.name(mission.country)}.", "",
        "What we have now:", *details, "",
        *(["Found by `campaign missions check`:", *[f"- {f.message}" for f in found], ""] if found else []),
        "The correct details (and where they are published, e.g. a GOV.UK page):", "- ",
    ])
    query = urlencode({"title": f"Mission details: {mission.name} ({mission.id})", "labels": "mission-correction",
                       "body": body[:6000]})
    return f"https://github.com/{repository}/issues/new?{query}"

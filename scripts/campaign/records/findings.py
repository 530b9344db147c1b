"""What needs a person in each mission's record: the findings of `campaign missions check`,
also shown (as a "needs checking" mark) on the site; and a prefilled correction link.

Kinds, most urgent first:

- `closed`: the post is closed (only this is reported for it; the rest would be noise).
- `failing`: its letters failed permanently (5xx) in the dispatch ledger; the finding lists
  the other channels: phone, contact form, delivery in person.
- `no-channel`: no usable written channel: no contact form and no email, or only an email on
  a retired domain.
- `retired-email`: the email is on a retired government domain (`routes.RETIRED_DOMAINS`).
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
from campaign.data.models import Mission, govuk_slug
from campaign.records import phones
from campaign.records.routes import RETIRED_DOMAINS, Failure, channels, failures, retired_domain, usable_email

DEFAULT_MAX_AGE_DAYS = 3 * 365

NO_CHANNEL = "no usable written channel"

KINDS = {  # kind -> summary label, in order of urgency
    "closed": "closed posts",
    "failing": "failing contacts (letters bounced with 5xx)",
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


def _check(m: Mission, line: int, today: dt.date, max_age_days: int, failure: Failure | None) -> list[Finding]:
    found: list[Finding] = []

    def add(kind: str, message: str, action: str) -> None:
        found.append(Finding(m.id, line, kind, message, action))

    where = m.url or "https://www.gov.uk/world/embassies"
    if m.status == "closed":
        add("closed", "the post is closed", "choose another mission for its letters (set `primary` there) or remove it")
        return found
    if failure is not None:
        letters = f"{failure.letters} letter{'s' if failure.letters != 1 else ''}"
        add("failing", f"letters failed permanently ({letters}; last reply {failure.detail[:120]!r} at {failure.at[:16]})",
            f"reach it by {'; '.join(channels(m))}, and correct `email`")
    domain = retired_domain(m.email)
    if not m.contact_form and not usable_email(m):
        what = f"the only email is on the retired {domain} domain" if domain else "no email"
        add("no-channel", f"{NO_CHANNEL}: {what} and no contact form",
            f"find a current email or contact form on {where}, or plan delivery in person or by phone")
    if domain:
        add("retired-email", f"email {m.email} is on the retired {domain} domain ({RETIRED_DOMAINS[domain]})",
            f"look up the current address on {where} (FCDO addresses end in @fcdo.gov.uk) and update `email`")
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
    ledgers under `ds.root` are read unless `failed` is given."""
    today = today or dt.date.today()
    failed = failures(ds.root) if failed is None else failed
    out: dict[str, list[Finding]] = {}
    for rec in ds.missions:
        found = _check(rec.model, rec.line(""), today, max_age_days, failed.get(rec.model.id))
        if found:
            out[rec.model.id] = found
    return out


def correction_url(repository: str, mission: Mission, found: list[Finding] | tuple[Finding, ...] = ()) -> str:
    """A GitHub "new issue" link prefilled with the mission's current details and findings,
    for a "correct these details" link on its page (`repository` is `owner/name`)."""
    details = [f"- {name}: {value}" for name, value in (
        ("email", mission.email), ("contact form", mission.contact_form), ("address", (mission.address or "").replace("\n", ", ")),
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

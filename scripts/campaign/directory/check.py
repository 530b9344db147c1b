"""`campaign missions check`: the records of data/missions.yaml that need a person.

A report, not a gate: it prints one line per finding,

    data/missions.yaml:<line of the mission>: <mission id>: <finding>; <what to do>

then summary counts, and exits 0 (with `--strict`, 1 when there is any finding), because most
findings can only be fixed by someone phoning or writing to a post, and CI must not go red
for a consulate's outdated switchboard. Findings, most urgent first:

- `closed`: the post is closed (only this is reported for it; the rest would be noise).
- `failing`: its letters failed permanently (5xx) in the dispatch ledger; the finding lists
  the other channels: phone, contact form, delivery in person.
- `no-channel`: no usable written channel: no contact form and no email, or only an email on
  a retired domain.
- `retired-email`: the email is on a retired government domain (RETIRED_DOMAINS says why).
- `suspended`: the post is suspended (operations moved or paused).
- `phone-invalid`: a number that is not one valid number of the mission's country (several
  numbers in one entry, another country's number, an outdated numbering plan; phones.py).
- `phone-duplicate`: the same number twice in a mission.
- `no-phone`: nothing to call on the day.
- `stale`: `verified` is older than `max_age_days` (default three years).

For the site: `findings(ds)` (mission id -> findings), `failing(root)` (ids of failing
missions), `failures(root)` (with the server's reply), `channels(mission)` (the alternatives
to email) and `correction_url(repository, mission, findings)` (a prefilled GitHub issue).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

from campaign.core.errors import CampaignError
from campaign.data import countries
from campaign.data.dataset import MISSIONS, Dataset, data_files, load
from campaign.data.models import Mission
from campaign.directory.govuk import slug_of
from campaign.records import phones
from campaign.records.ledger import FOLDER, Ledger

DEFAULT_MAX_AGE_DAYS = 3 * 365

RETIRED_DOMAINS = {
    "fco.gov.uk": "the FCO became the FCDO in September 2020 and its mail moved to fcdo.gov.uk",
    "dfid.gov.uk": "DFID merged into the FCDO in September 2020",
    "gsi.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "gcsx.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "gsx.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "ukti.gov.uk": "UK Trade & Investment was replaced by the Department for International Trade in 2016",
}
"""Retired government mail domains (a subdomain such as fconet.fco.gov.uk counts too)."""

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


@dataclass(frozen=True)
class Failure:
    """A mission whose last letter outcome in the ledger was a permanent failure (5xx)."""

    mission: str
    letters: int
    detail: str
    at: str
    ledger: str


def retired_domain(email: str | None) -> str | None:
    """The retired domain `email` is on ('fco.gov.uk' for x@fconet.fco.gov.uk), or None."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].lower().rstrip(".")
    return next((d for d in RETIRED_DOMAINS if domain == d or domain.endswith("." + d)), None)


def usable_email(mission: Mission) -> bool:
    return bool(mission.email) and retired_domain(mission.email) is None


# --- the dispatch ledger ------------------------------------------------------------------


def failures(root: Path) -> dict[str, Failure]:
    """Missions whose latest final outcome (sent or failed), over every ledger in
    data/dispatch/, is `failed`: the mail server refused the letter permanently (5xx)."""
    latest: dict[str, tuple[str, str, str, str]] = {}  # mission -> (at, state, detail, ledger)
    failed: Counter[str] = Counter()
    for rel in data_files(root, FOLDER):
        if not rel.endswith(".jsonl"):
            continue
        for letter in Ledger(root / rel, rel).letters.values():
            if letter.state not in ("sent", "failed") or not letter.mission:
                continue
            if letter.state == "failed":
                failed[letter.mission] += 1
            entry = (letter.at, letter.state, letter.detail, rel)
            if letter.mission not in latest or entry[0] >= latest[letter.mission][0]:
                latest[letter.mission] = entry
    return {mission: Failure(mission, failed[mission], detail, at, rel)
            for mission, (at, state, detail, rel) in sorted(latest.items()) if state == "failed"}


def failing(root: Path) -> set[str]:
    """Ids of the missions whose letters fail permanently (for a "failing" marker)."""
    return set(failures(root))


def channels(mission: Mission) -> list[str]:
    """The ways to reach a mission besides email, for people: phones, form, in person."""
    out = [f"phone {p.label}: {phones.international(p.number, mission.country)}" for p in mission.phones]
    if mission.contact_form:
        out.append(f"contact form {mission.contact_form}")
    where = (mission.address or "").replace("\n", ", ") or f"the mission in {mission.city}"
    out.append(f"in person at {where}")
    return out


# --- findings -----------------------------------------------------------------------------


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
        how = " (`campaign missions refresh` does it for GOV.UK organisation pages)" if slug_of(m.url) else ""
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


def needs_checking(ds: Dataset, **options: object) -> set[str]:
    """Ids of the missions with any finding (for the directory's "needs checking" filter)."""
    return set(findings(ds, **options))  # type: ignore[arg-type]


@dataclass
class Report:
    """The findings of a whole directory, in file order, with counts."""

    missions: int
    findings: list[Finding]
    max_age_days: int
    today: dt.date

    def counts(self) -> dict[str, int]:
        """Findings per kind, plus `no-email-no-form`: the part of `no-channel` with no email at all."""
        found = Counter(f.kind for f in self.findings)
        bare = sum(1 for f in self.findings if f.kind == "no-channel" and "retired" not in f.message)
        return {kind: found[kind] for kind in KINDS} | {"no-email-no-form": bare}

    @property
    def needing_a_person(self) -> int:
        return len({f.mission for f in self.findings})

    def text(self) -> str:
        counts = self.counts()
        rows = []
        for kind, label in KINDS.items():
            rows.append((label, counts[kind]))
            if kind == "no-channel":
                rows.append(("  of which no email and no contact form at all", counts["no-email-no-form"]))
        width = max(len(label) for label, _ in rows)
        cutoff = (self.today - dt.timedelta(days=self.max_age_days)).isoformat()
        return "\n".join([f.text() for f in self.findings]
                         + [f"{self.missions} missions, {self.needing_a_person} need a person "
                            f"(verified before {cutoff} counts as stale):"]
                         + [f"  {label:<{width}}  {count}" for label, count in rows])

    def json(self) -> str:
        return json.dumps({"missions": self.missions, "needing_a_person": self.needing_a_person,
                           "max_age_days": self.max_age_days, "today": self.today.isoformat(),
                           "counts": self.counts(), "findings": [asdict(f) for f in self.findings]},
                          ensure_ascii=False, indent=2)


def report(ds: Dataset, *, max_age_days: int = DEFAULT_MAX_AGE_DAYS, today: dt.date | None = None) -> Report:
    today = today or dt.date.today()
    order = list(KINDS)
    by_mission = findings(ds, max_age_days=max_age_days, today=today)
    flat = sorted((f for found in by_mission.values() for f in found), key=lambda f: (f.line, order.index(f.kind)))
    return Report(len(ds.missions), flat, max_age_days, today)


# --- corrections --------------------------------------------------------------------------


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


def run(root: Path, *, max_age_days: int = DEFAULT_MAX_AGE_DAYS, today: dt.date | None = None) -> Report:
    """`campaign missions check`: the report of the repository's directory (which must load)."""
    ds = load(root)
    bad = [p for p in ds.problems if p.path == MISSIONS]
    if bad:
        raise CampaignError(bad)
    return report(ds, max_age_days=max_age_days, today=today)

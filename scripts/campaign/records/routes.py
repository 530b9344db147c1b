"""How letters reach a mission: which email domains are retired, which missions' letters fail.

Read by the directory check, the site and dispatch; see ARCHITECTURE.md, "Records".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from campaign.data.dataset import data_files
from campaign.data.models import Mission
from campaign.records import phones
from campaign.records.ledger import FOLDER, Ledger

RETIRED_DOMAINS = {
    "fco.gov.uk": "the FCO became the FCDO in September 2020 and its mail moved to fcdo.gov.uk",
    "dfid.gov.uk": "DFID merged into the FCDO in September 2020",
    "gsi.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "gcsx.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "gsx.gov.uk": "the Government Secure Intranet domains were switched off in 2019",
    "ukti.gov.uk": "UK Trade & Investment was replaced by the Department for International Trade in 2016",
}
"""Retired government mail domains (a subdomain such as fconet.fco.gov.uk counts too)."""


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


def channels(mission: Mission) -> list[str]:
    """The ways to reach a mission besides email, for people: phones, form, in person."""
    out = [f"phone {p.label}: {phones.international(p.number, mission.country)}" for p in mission.phones]
    if mission.contact_form:
        out.append(f"contact form {mission.contact_form}")
    where = (mission.address or "").replace("\n", ", ") or f"the mission in {mission.city}"
    out.append(f"in person at {where}")
    return out

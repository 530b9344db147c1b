"""`campaign missions check`: the records of data/missions.yaml that need a person.

A report, not a gate: it prints one line per finding,

    data/missions.yaml:<line of the mission>: <mission id>: <finding>; <what to do>

then summary counts and how many missions each delivery route serves (`records.routes`),
and exits 0 (with `--strict`, 1 when there is any finding), because most
findings can only be fixed by someone phoning or writing to a post, and CI must not go red
for a consulate's outdated switchboard. The kinds of finding are described in
`campaign.records.findings`, which the site reads too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from campaign.core.errors import CampaignError
from campaign.data.dataset import MISSIONS, Dataset, load
from campaign.records.findings import DEFAULT_MAX_AGE_DAYS, KINDS, Finding, findings
from campaign.records.routes import KINDS as ROUTES
from campaign.records.routes import Route, failures, routes


@dataclass
class Report:
    """The findings of a whole directory, in file order, with counts."""

    missions: int
    findings: list[Finding]
    max_age_days: int
    today: dt.date
    routes: dict[str, Route]

    def route_counts(self) -> dict[str, int]:
        """Missions per route, plus `consular`: those mailed at a consular mailbox."""
        found = Counter(r.kind for r in self.routes.values())
        return {kind: found[kind] for kind in ROUTES} | {"consular": sum(r.consular for r in self.routes.values())}

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
                         + [f"  {label:<{width}}  {count}" for label, count in rows]
                         + ["delivery routes: " + ", ".join(f"{kind} {n}" for kind, n in self.route_counts().items())])

    def json(self) -> str:
        return json.dumps({"missions": self.missions, "needing_a_person": self.needing_a_person,
                           "max_age_days": self.max_age_days, "today": self.today.isoformat(),
                           "counts": self.counts(), "routes": self.route_counts(),
                           "route": {m: {"kind": r.kind, "address": r.address, "consular": r.consular, "skipped": r.skipped}
                                     for m, r in self.routes.items()},
                           "findings": [asdict(f) for f in self.findings]},
                          ensure_ascii=False, indent=2)


def report(ds: Dataset, *, max_age_days: int = DEFAULT_MAX_AGE_DAYS, today: dt.date | None = None) -> Report:
    today = today or dt.date.today()
    order = list(KINDS)
    failed = failures(ds.root)
    by_mission = findings(ds, max_age_days=max_age_days, today=today, failed=failed)
    flat = sorted((f for found in by_mission.values() for f in found), key=lambda f: (f.line, order.index(f.kind)))
    ways = routes([r.model for r in ds.missions], ds.campaign.dispatch if ds.campaign else None, failed)
    return Report(len(ds.missions), flat, max_age_days, today, ways)


def run(root: Path, *, max_age_days: int = DEFAULT_MAX_AGE_DAYS, today: dt.date | None = None) -> Report:
    """`campaign missions check`: the report of the repository's directory (which must load)."""
    ds = load(root)
    bad = [p for p in ds.problems if p.path == MISSIONS]
    if bad:
        raise CampaignError(bad)
    return report(ds, max_age_days=max_age_days, today=today)

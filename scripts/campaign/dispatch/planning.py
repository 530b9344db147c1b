"""Which letters exist and which are due now (ARCHITECTURE.md, "Dispatch").

Every mission receives its letters on the dispatch date from the configured send time *in the
mission's own time zone*, so "sent on 10 December" holds in every country. For a mission, a
moment falls in one of five phases:

- `before`:  the mission's local date is before the dispatch date: nothing is sent;
- `waiting`: the dispatch date, before the send time: nothing yet;
- `due`:     the dispatch date, from the send time: new and deferred letters are sent;
- `grace`:   after the dispatch date up to the deadline: only letters already `deferred` are
             retried (a letter never tried is not sent late without `--force`);
- `after`:   past the deadline: nothing is sent.

`--force` makes every letter due whatever the clock says (rehearsals, a manual catch-up).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset, duplicates
from campaign.data.checks import unknown_mission
from campaign.data.dataset import Dataset
from campaign.data.models import Campaign, Dispatch, Mission, Signature
from campaign.records.routes import Route, failures, route

Phase = Literal["before", "waiting", "due", "grace", "after"]


def parse_now(text: str) -> dt.datetime:
    """An ISO-8601 moment with a UTC offset (`2026-12-10T08:00:00Z`); CampaignError otherwise."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise CampaignError([Problem("--now", 1, f"{text!r} is not an ISO-8601 date and time with a UTC offset; "
                                     "write e.g. 2026-12-10T08:00:00Z or 2026-12-10T09:00:00+13:00")])
    return moment


def phase(dispatch: Dispatch, timezone: str, now: dt.datetime) -> Phase:
    """Where `now` falls for a mission in `timezone` (see the module docstring)."""
    local = now.astimezone(ZoneInfo(timezone))
    if local.date() < dispatch.date:
        return "before"
    if local.date() == dispatch.date:
        return "due" if local.time() >= dispatch.send_time else "waiting"
    return "grace" if local.date() <= dispatch.deadline else "after"


def due_at(dispatch: Dispatch, timezone: str) -> dt.datetime:
    """The moment (UTC) a mission's letters become due."""
    start = dt.datetime.combine(dispatch.date, dispatch.send_time, tzinfo=ZoneInfo(timezone))
    return start.astimezone(dt.timezone.utc)


def signature_key(campaign_id: str, path: str) -> str:
    """The ledger key of an individual letter: a hash of the signature file's path (no name)."""
    return "s-" + hashlib.sha256(f"{campaign_id}\0{path}".encode()).hexdigest()[:16]


def mission_key(mission_id: str) -> str:
    """The ledger key of a mission's letter in per-mission mode."""
    return f"m-{mission_id}"


@dataclass(frozen=True)
class Letter:
    """One letter to write: its ledger key, mission and signature(s) with their file paths."""

    key: str
    mission: Mission
    signatures: tuple[Signature, ...]
    paths: tuple[str, ...]


@dataclass
class MissionPlan:
    """A mission's letters and where the run's moment falls for it."""

    mission: Mission
    phase: Phase
    local: dt.datetime
    route: Route
    letters: list[Letter] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        """True when letters can be mailed: the route is `email` or `fallback`."""
        return self.route.mailed

    @property
    def unreachable_reason(self) -> str:
        if self.mission.status != "open":
            return f"mission {self.mission.status}: {self.route.kind}, deliver elsewhere or in person"
        return "contact form: send by hand" if self.route.kind == "form" else "paper: post or deliver in person"


@dataclass
class Plan:
    """Every letter of the campaign, grouped by mission, at one moment."""

    now: dt.datetime
    forced: bool
    missions: dict[str, MissionPlan]
    unassigned: list[str] = field(default_factory=list)  # signature paths with no mission to go to
    duplicates: list[str] = field(default_factory=list)  # signature paths left out as repeats

    def letters(self) -> Iterable[tuple[MissionPlan, Letter]]:
        for mp in self.missions.values():
            for letter in mp.letters:
                yield mp, letter

    def sendable(self, mp: MissionPlan, deferred: bool) -> bool:
        """May a letter of `mp` be sent now (a `deferred` one may also be retried in grace)?"""
        if self.forced:
            return True
        return mp.phase == "due" or (deferred and mp.phase == "grace")


def plan(ds: Dataset, now: dt.datetime, force: bool = False, missions: Iterable[str] = (),
         failing: Iterable[str] | None = None) -> Plan:
    """Group the dataset's signatures into letters per the campaign's mode, each mission with
    its delivery route (`failing` addresses: default, those of the ledgers in data/dispatch/).

    Repeated signatures (same name and country) are sent once. `missions` narrows the plan.
    """
    campaign = ds.campaign
    if campaign is None:
        raise CampaignError([Problem("data/campaign.yaml", 1, "the campaign settings did not load; run `campaign validate`")])
    by_id = ds.mission_by_id
    wanted = set(missions)
    unknown = sorted(wanted - set(by_id))
    if unknown:
        raise CampaignError([Problem("--mission", 1, unknown_mission(m, by_id)) for m in unknown])
    bad = set(failures(ds.root) if failing is None else failing)
    with dataset.no_cyclic_gc():  # 100,000 letters only add to the heap (see dataset.load)
        return _plan(ds, campaign, by_id, wanted, Plan(now=now, forced=force, missions={}), bad)


def _plan(ds: Dataset, campaign: Campaign, by_id: dict[str, Mission], wanted: set[str], result: Plan,
          bad: set[str]) -> Plan:
    d, now = campaign.dispatch, result.now
    seen: set[str] = set()
    grouped: dict[str, list[tuple[str, Signature]]] = {}
    for rec in sorted(ds.signatures, key=lambda r: r.path):
        sig = rec.model
        dup = duplicates.key(sig)
        if dup in seen:
            result.duplicates.append(rec.path)
            continue
        seen.add(dup)
        mission_id = ds.destination(sig)
        if mission_id is None or mission_id not in by_id:
            result.unassigned.append(rec.path)
            continue
        if wanted and mission_id not in wanted:
            continue
        grouped.setdefault(mission_id, []).append((rec.path, sig))
    for mission_id in sorted(grouped):
        mission = by_id[mission_id]
        mp = MissionPlan(mission, phase(d, mission.timezone, now), now.astimezone(ZoneInfo(mission.timezone)),
                         route(mission, d, bad))
        entries = grouped[mission_id]
        if d.mode == "per-mission":
            mp.letters.append(Letter(mission_key(mission_id), mission, tuple(s for _, s in entries),
                                     tuple(p for p, _ in entries)))
        else:
            mp.letters.extend(Letter(signature_key(campaign.id, p), mission, (s,), (p,)) for p, s in entries)
        result.missions[mission_id] = mp
    return result

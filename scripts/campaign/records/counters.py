"""Counters of a campaign: signatures, organisations, countries, missions that get letters.

Pure functions over a loaded Dataset; the site shows them on the home page and the directory.
A signature goes to its `mission`, or (an organisation without one) to the mission of its
country, exactly as the dispatch plans it (`planning.plan`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from campaign.data.dataset import Dataset
from campaign.records import ledger
from campaign.records.routes import usable_email


@dataclass(frozen=True)
class Counters:
    """What the home page and the directory count."""

    signatures: int = 0
    individuals: int = 0
    organisations: int = 0
    published: int = 0
    """Signatures whose name may be shown on the site."""
    unpublished: int = 0
    in_letters: int = 0
    """Signatures whose name may be put in the letter."""
    countries: int = 0
    """Countries the signatories live in (or, organisations, are based in)."""
    missions: int = 0
    """Missions in the directory."""
    missions_receiving: int = 0
    """Missions that will receive at least one letter."""
    missions_with_email: int = 0
    actions: int = 0
    deliveries: int = 0
    calls: int = 0
    letters_sent: int = 0
    """Letters the dispatch ledger records as sent (0 before the dispatch day)."""
    by_mission: dict[str, int] = field(default_factory=dict)
    """Signatures per mission id (missions without any are absent)."""
    by_country: dict[str, int] = field(default_factory=dict)
    """Signatures per country of residence."""
    unassigned: int = 0
    """Signatures with no mission to go to (an organisation from a country without one)."""


def count(ds: Dataset, letters_sent: int = 0) -> Counters:
    """Every counter of the dataset (which should have validated)."""
    sigs = [r.model for r in ds.signatures]
    known = ds.mission_by_id
    by_mission: Counter[str] = Counter()
    unassigned = 0
    for sig in sigs:
        target = ds.destination(sig)
        if target is None or target not in known:
            unassigned += 1
        else:
            by_mission[target] += 1
    by_country = Counter(s.country for s in sigs)
    actions = [r.model for r in ds.actions]
    published = sum(s.publish for s in sigs)
    return Counters(
        signatures=len(sigs),
        individuals=sum(s.type == "individual" for s in sigs),
        organisations=sum(s.type == "organisation" for s in sigs),
        published=published,
        unpublished=len(sigs) - published,
        in_letters=sum(s.letter for s in sigs),
        countries=len(by_country),
        missions=len(ds.missions),
        missions_receiving=len(by_mission),
        missions_with_email=sum(usable_email(r.model) for r in ds.missions),
        actions=len(actions),
        deliveries=sum(a.type == "delivery" for a in actions),
        calls=sum(a.type == "call" for a in actions),
        letters_sent=letters_sent,
        by_mission=dict(by_mission),
        by_country=dict(by_country),
        unassigned=unassigned,
    )


def stats(ds: Dataset) -> dict[str, int]:
    """`campaign stats`: the counters and the dispatch ledger's, by name."""
    assert ds.campaign is not None
    c, sent = count(ds), ledger.summary(ds.root, ds.campaign)
    return {
        "signatures": c.signatures, "individuals": c.individuals, "organisations": c.organisations,
        "names_published": c.published, "names_in_letters": c.in_letters, "countries": c.countries,
        "missions": c.missions, "missions_with_email": c.missions_with_email,
        "letters_sent": sent.sent, "signatures_delivered": sent.signatures_sent,
        "letters_deferred": sent.states["deferred"], "letters_failed": sent.states["failed"],
        "letters_unknown": sent.states["unknown"] + sent.states["sending"],
    }


def stats_text(found: dict[str, int], as_json: bool = False) -> str:
    """`stats`' counters as `campaign stats` prints them: aligned name and number lines, or JSON."""
    width = max(map(len, found))
    return json.dumps(found, indent=2) if as_json else "\n".join(
        f"{key.replace('_', ' '):{width}}  {value:>8,}" for key, value in found.items())

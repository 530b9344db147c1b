"""The public delivery record: what the site publishes of the dispatch ledgers and the
registered actions, per mission and per country (ARCHITECTURE.md, "Delivery record").

Published on purpose, and nothing more, per letter: its key (a hash of its signature file's
path, or `m-<mission>` in per-mission mode: never a name), its state, when the mail server
accepted it, the server's queue id (read from its reply by `mail.replies.queue_id`), its
route kind (email or fallback), the status codes of its permanent bounces and how many replies
it had. Left out: the address it went to, the server's whole reply, a bounce's diagnostic, a
reply's subject, the run and the mails' Message-IDs. The ledger is in the repository anyway;
the site does not repeat what a person wrote or what names a person.

Only the campaign's own ledgers are read (`data/dispatch/<campaign id>-*.jsonl`): a fork that
keeps another campaign's files does not show its letters as its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from campaign.data.models import Action, Campaign, Mission
from campaign.mail.replies import queue_id
from campaign.records.ledger import FOLDER, Ledger, LetterState

LETTERS_SHOWN = 500
"""Letters listed on a mission page (problems and replies first); the counts cover them all."""
PENDING = ("sending", "deferred", "unknown", "requeued")
STATES = ("replied", "bounced", "sent", "in-person", "waiting", "none")
"""A mission's (and a country's) delivery state, in the map's order: a country shows the first
state any of its missions has."""


def moment(text: str) -> dt.datetime | None:
    """A ledger time ('2026-12-10T09:00:02.120Z') as an aware datetime, or None."""
    try:
        found = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Letter:
    """One letter's public record."""

    key: str
    state: str
    sent_at: dt.datetime | None
    """When a mail server last accepted it (a bounced letter keeps the time it was accepted)."""
    queue_id: str
    route: str
    bounces: tuple[str, ...] = ()
    """The status code of each permanent bounce ('5.1.1'); a resent letter keeps them."""
    replies: int = 0
    auto_replies: int = 0
    signatures: int = 1

    @property
    def notable(self) -> bool:
        """Not (only) a letter the server accepted: a bounce, a refusal, a reply, not sent yet."""
        return self.state != "sent" or bool(self.bounces or self.replies or self.auto_replies)


@dataclass
class Record:
    """A mission's record: its letters in the ledgers and its registered actions."""

    letters: list[Letter] = field(default_factory=list)
    deliveries: int = 0
    calls: int = 0
    planned: int = 0
    """Signatures for the mission (its letters to come, before they are in a ledger)."""

    def count(self, *states: str) -> int:
        return sum(letter.state in states for letter in self.letters)

    sent = property(lambda self: self.count("sent"))
    bounced = property(lambda self: self.count("bounced"))
    failed = property(lambda self: self.count("failed"))
    pending = property(lambda self: self.count(*PENDING))
    replied = property(lambda self: sum(bool(letter.replies) for letter in self.letters))
    auto_replied = property(lambda self: sum(bool(letter.auto_replies) for letter in self.letters))

    @cached_property  # read by each page in every language; the letters are all in by then (`read`, `total`)
    def times(self) -> list[dt.datetime]:
        return sorted(letter.sent_at for letter in self.letters if letter.state == "sent" and letter.sent_at)

    @property
    def first_sent(self) -> dt.datetime | None:
        return self.times[0] if self.times else None

    @property
    def last_sent(self) -> dt.datetime | None:
        return self.times[-1] if self.times else None

    @property
    def state(self) -> str:
        """replied, bounced (bounced or refused letters), sent, in-person (only actions),
        waiting (signatures, nothing sent yet) or none."""
        if self.replied:
            return "replied"
        if self.bounced or self.failed:
            return "bounced"
        if self.sent:
            return "sent"
        if self.deliveries or self.calls:
            return "in-person"
        return "waiting" if self.planned or self.letters else "none"

    def shown(self, limit: int = LETTERS_SHOWN) -> list[Letter]:
        """The letters a mission page lists: problems and replies first, then by time sent."""
        never = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(self.letters, key=lambda x: (not x.notable, x.sent_at is None, x.sent_at or never, x.key))[:limit]


@dataclass
class Deliveries:
    """Every mission's record."""

    missions: dict[str, Record]

    def of(self, mission_id: str) -> Record:
        return self.missions.get(mission_id) or Record()

    @cached_property
    def total(self) -> Record:
        """Every mission's letters and actions in one record."""
        out = Record()
        for rec in self.missions.values():
            out.letters += rec.letters
            out.deliveries += rec.deliveries
            out.calls += rec.calls
            out.planned += rec.planned
        return out

    def reached(self) -> int:
        """Missions with a letter the server accepted, or a delivery or call registered."""
        return sum(bool(r.sent or r.deliveries or r.calls) for r in self.missions.values())

    def countries(self, missions: Iterable[Mission]) -> dict[str, str]:
        """Each country's delivery state: the first of `STATES` any of its missions has."""
        found: dict[str, str] = {}
        for m in missions:
            state = self.of(m.id).state
            if STATES.index(state) < STATES.index(found.get(m.country, "none")):
                found[m.country] = state
        return {code: state for code, state in found.items() if state != "none"}


def public(info: LetterState, key: str) -> Letter:
    """A ledger letter's public fields."""
    return Letter(key, info.state, moment(info.sent_at) if info.sent_at else None, queue_id(info.reply), info.route,
                  tuple(info.hard_bounces), info.replies, info.auto_replies, info.signatures)


def read(ledgers: Mapping[str, Ledger], campaign: Campaign, actions: Iterable[Action],
         planned: Mapping[str, int], missions: Collection[str]) -> Deliveries:
    """The public record of the campaign's ledgers (`ledgers`: path -> Ledger, as
    `records.ledger.every` reads them), its actions and the signatures per mission."""
    prefix = f"{FOLDER}/{campaign.id}-"
    records: dict[str, Record] = {m: Record(planned=planned.get(m, 0)) for m in missions}
    for rel, book in sorted(ledgers.items()):
        if not rel.startswith(prefix):
            continue
        for key, info in book.letters.items():
            records.setdefault(info.mission, Record()).letters.append(public(info, key))
    for action in actions:
        rec = records.setdefault(action.mission, Record())
        rec.deliveries += action.type == "delivery"
        rec.calls += action.type == "call"
    return Deliveries(records)

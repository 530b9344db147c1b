"""What a dispatch run works on: its settings, the letters in hand, what it did, and the
refusal streak that tells a refused session from refused recipients (see runner)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from dataclasses import dataclass, field
from email.message import EmailMessage

from campaign.dispatch.planning import Letter, MissionPlan, Plan
from campaign.mail import Outcome
from campaign.mail.replies import RECIPIENT_TEXT, normalised


@dataclass(frozen=True)
class Settings:
    """What one run does (the `campaign dispatch` options)."""

    now: dt.datetime
    force: bool = False
    missions: tuple[str, ...] = ()
    limit: int | None = None
    dry_run: bool = False
    resend_unknown: tuple[str, ...] = ()  # letter keys, or "all"
    retry_failed: bool = False
    redirect: str | None = None
    attempts: int = 5
    backoff: float = 5.0
    max_backoff: float = 300.0
    time_budget: float | None = None
    checkpoint_every: float | None = None


@dataclass
class Pending:
    letter: Letter
    mission: MissionPlan
    address: str
    domain: str
    message: EmailMessage | None = None
    problem: str | None = None  # why it cannot be composed
    tries: int = 0  # in this run
    declared: Future[None] | None = None  # the fsync of its `sending` line (dispatch.durable)
    attempt: int = 0


@dataclass
class Result:
    """What a run did; the report is built from it and the ledger."""

    plan: Plan
    dry_run: bool
    selected: list[str] = field(default_factory=list)  # letter keys this run meant to send
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # last outcome per letter this run
    attempts: int = 0
    recovered: list[str] = field(default_factory=list)  # stale `sending` turned `unknown`
    released: list[str] = field(default_factory=list)  # declared ahead by a crashed run, never handed over
    requeued: list[str] = field(default_factory=list)  # failed (--retry-failed) or bounced, due again
    left_over: list[str] = field(default_factory=list)  # selected but not tried (stop / budget)
    problems: list[str] = field(default_factory=list)  # letters that could not be composed
    fatal: str | None = None
    stopped: str | None = None
    elapsed: float = 0.0


class Streak:
    """The same 5xx for every recipient in a row: `add` says True once `SIZE` letters to at
    least two addresses in a row were refused alike by a reply that does not name the
    recipient as the problem (mail.replies, rule 5)."""

    SIZE = 3

    def __init__(self) -> None:
        self.letters: list[Pending] = []
        self.reply = ""

    def add(self, pending: Pending, outcome: Outcome | None) -> bool:
        if outcome is None or outcome.state != "failed" or outcome.scope != "recipient" or \
                RECIPIENT_TEXT.search(outcome.detail):
            self.letters, self.reply = [], ""
            return False
        reply = normalised(outcome.detail, pending.address)
        if reply != self.reply:
            self.letters, self.reply = [], reply
        self.letters.append(pending)
        return len(self.letters) >= self.SIZE and len({p.address.casefold() for p in self.letters}) > 1

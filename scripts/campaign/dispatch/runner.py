"""Sending the letters: plan -> render -> mail backend -> ledger (ARCHITECTURE.md, "Dispatch").

    result = Dispatcher(ds, backend, ledger, Settings(now=...)).run()

Each letter goes through the ledger: `sending` is fsynced before the message is handed over,
then `sent`, `deferred`, `failed` or `unknown`. A run:

1. turns letters a dead run left in `sending` into `unknown` (it cannot know what the server got);
2. picks the letters it may send: due per the mission's local time (see planning), never
   `sent` or `failed`, `unknown` only with `resend_unknown`, `deferred` also in the grace days;
3. sends them one at a time, round-robin across recipient domains, within the throttle;
   a `deferred` letter is retried in the same run with exponential backoff (`backoff`,
   doubling, at most `max_backoff`) up to `attempts` tries, then left for a later run;
4. stops early (cleanly, after the current letter) on request or when its time budget is
   spent; letters it had no time for are recorded `deferred` so later runs retry them.

A mail-server problem never stops the run; a configuration problem (BackendError: login
refused, bad settings) does, before anything else is recorded.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from campaign.core.errors import CampaignError, LetterError, Problem
from campaign.core.retry import backoff
from campaign.data import letter as letters
from campaign.data.dataset import Dataset
from campaign.dispatch import compose
from campaign.dispatch.planning import Letter, MissionPlan, Plan, plan
from campaign.dispatch.throttle import Throttle
from campaign.mail import BackendError, BaseBackend, Outcome
from campaign.mail.base import domain as domain_of
from campaign.records.ledger import Ledger, run_id

STALE_SENDING = ("the run sending this letter stopped before it learnt the outcome (crash or cancel); "
                 "the mission may or may not have it: check, then resend with --resend-unknown if needed")


@dataclass(frozen=True)
class Settings:
    """What one run does (the `campaign dispatch` options)."""

    now: dt.datetime
    force: bool = False
    missions: tuple[str, ...] = ()
    limit: int | None = None
    dry_run: bool = False
    resend_unknown: bool = False
    attempts: int = 5
    backoff: float = 5.0
    max_backoff: float = 300.0
    time_budget: float | None = None
    checkpoint_every: float | None = None


@dataclass
class Pending:
    letter: Letter
    mission: MissionPlan
    domain: str
    message: EmailMessage | None = None
    tries: int = 0  # in this run


@dataclass
class Result:
    """What a run did; the report is built from it and the ledger."""

    plan: Plan
    dry_run: bool
    selected: list[str] = field(default_factory=list)  # letter keys this run meant to send
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # last outcome per letter this run
    attempts: int = 0
    recovered: list[str] = field(default_factory=list)  # stale `sending` turned `unknown`
    left_over: list[str] = field(default_factory=list)  # selected but not tried (stop / budget)
    problems: list[str] = field(default_factory=list)  # letters that could not be composed
    fatal: str | None = None
    stopped: str | None = None
    elapsed: float = 0.0


class Dispatcher:
    def __init__(
        self,
        ds: Dataset,
        backend: BaseBackend | None,
        ledger: Ledger,
        settings: Settings,
        throttle: Throttle | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        checkpoint: Callable[[], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if ds.campaign is None:
            raise CampaignError([Problem("data/campaign.yaml", 1, "the campaign settings did not load; run `campaign validate`")])
        self.ds, self.campaign = ds, ds.campaign
        self.backend, self.ledger, self.settings = backend, ledger, settings
        self.throttle = throttle or Throttle.unlimited(clock)
        self.clock, self.sleep = clock, sleep
        self.checkpoint, self.progress = checkpoint, progress or (lambda _: None)
        self.run_id = run_id()
        self.stop_requested: str | None = None
        self.lang, self.template = letters.template_for(ds.letters, self.campaign)
        self.version = letters.version(self.template, self.campaign.dispatch.subject)

    # --- selection ----------------------------------------------------------------------

    def select(self, the_plan: Plan) -> list[Pending]:
        """The letters this run may send, in plan order, at most `limit`."""
        chosen: list[Pending] = []
        for mp, item in the_plan.letters():
            if not mp.reachable:
                continue
            state = self.ledger.state(item.key)
            if state in ("sent", "failed", "sending") or (state == "unknown" and not self.settings.resend_unknown):
                continue
            retry = state in ("deferred", "unknown")
            if not the_plan.sendable(mp, deferred=retry):
                continue
            chosen.append(Pending(item, mp, domain_of(mp.mission.email or "")))
            if self.settings.limit is not None and len(chosen) >= self.settings.limit:
                break
        return chosen

    def compose(self, pending: Pending) -> EmailMessage:
        item = pending.letter
        known = self.ledger.letters.get(item.key)
        return compose.compose(
            self.campaign, self.template, pending.mission.mission, item.signatures, item.key, self.version,
            lang=self.lang, msgid=known.message_id if known and known.message_id else None,
        )

    # --- the run ------------------------------------------------------------------------

    def run(self) -> Result:
        started = self.clock()
        s = self.settings
        the_plan = plan(self.ds, s.now, s.force, s.missions)
        result = Result(the_plan, s.dry_run)
        self._recover(result)
        chosen = self.select(the_plan)
        result.selected = [p.letter.key for p in chosen]
        if s.dry_run:
            for pending in chosen:
                try:
                    self.compose(pending)
                except LetterError as exc:
                    result.problems.append(f"{pending.mission.mission.id}: {exc}")
            result.elapsed = self.clock() - started
            return result
        if chosen and self.backend is None:
            raise ValueError("a backend is needed unless dry_run")
        try:
            self._send_all(chosen, result, started)
        finally:
            if self.backend is not None:
                self.backend.close()
        result.elapsed = self.clock() - started
        return result

    def _recover(self, result: Result) -> None:
        for key, info in list(self.ledger.letters.items()):
            if info.state == "sending":
                result.recovered.append(key)
                if not self.settings.dry_run:
                    self.ledger.append(key, "unknown", info.mission, info.message_id, detail=STALE_SENDING,
                                       signatures=info.signatures, run=self.run_id)

    def _send_all(self, chosen: list[Pending], result: Result, started: float) -> None:
        s = self.settings
        queues: dict[str, deque[Pending]] = {}
        for pending in chosen:
            queues.setdefault(pending.domain, deque()).append(pending)
        order = deque(queues)  # round-robin over domains
        retries: list[tuple[float, int, Pending]] = []
        seq = itertools.count()
        last_checkpoint = self.clock()
        while True:
            now = self.clock()
            if self.stop_requested:
                result.stopped = self.stop_requested
                break
            if s.time_budget is not None and now - started >= s.time_budget:
                result.stopped = f"time budget of {s.time_budget:g} s spent"
                break
            while retries and retries[0][0] <= now:
                _, _, pending = heapq.heappop(retries)
                queues[pending.domain].append(pending)
            pick = None
            for _ in range(len(order)):
                domain = order[0]
                order.rotate(-1)
                if queues[domain] and self.throttle.ready_at(domain) <= now:
                    pick = queues[domain].popleft()
                    break
            if pick is None:
                waits = [self.throttle.ready_at(d) for d, q in queues.items() if q]
                if retries:
                    waits.append(retries[0][0])
                if not waits:
                    break  # everything done
                pause = max(0.0, min(waits) - now)
                if s.time_budget is not None:
                    pause = min(pause, max(0.0, started + s.time_budget - now))
                self.sleep(max(pause, 0.001))
                continue
            try:
                outcome = self._attempt(pick, result)
            except BackendError as exc:
                result.fatal = str(exc)
                queues[pick.domain].appendleft(pick)
                break
            if outcome is not None and outcome.state == "deferred" and pick.tries < s.attempts:
                delay = backoff(pick.tries, s.backoff, s.max_backoff)
                heapq.heappush(retries, (self.clock() + delay, next(seq), pick))
            if self.checkpoint and s.checkpoint_every is not None and self.clock() - last_checkpoint >= s.checkpoint_every:
                self.checkpoint()
                last_checkpoint = self.clock()
        leftovers = [p for q in queues.values() for p in q] + [p for _, _, p in retries]
        for pending in leftovers:
            if pending.tries:
                continue  # already recorded deferred by its last try
            result.left_over.append(pending.letter.key)
            if result.fatal is None:
                self.ledger.append(pending.letter.key, "deferred", pending.mission.mission.id, self._msgid(pending),
                                   detail=f"not tried: {result.stopped or 'run ended'}",
                                   signatures=len(pending.letter.signatures), run=self.run_id)

    def _msgid(self, pending: Pending) -> str:
        known = self.ledger.letters.get(pending.letter.key)
        if known and known.message_id:
            return known.message_id
        return compose.message_id(self.campaign, pending.letter.key, self.version)

    def _attempt(self, pending: Pending, result: Result) -> Outcome | None:
        item, mission = pending.letter, pending.mission.mission
        if pending.message is None:
            try:
                pending.message = self.compose(pending)
            except LetterError as exc:
                result.problems.append(f"{mission.id}: {exc}")
                return None
        message = pending.message
        msgid = str(message["Message-ID"])
        known = self.ledger.letters.get(item.key)
        attempt = (known.attempts if known else 0) + 1
        count = len(item.signatures)

        def before_data() -> None:
            self.ledger.append(item.key, "sending", mission.id, msgid, attempt=attempt, signatures=count, run=self.run_id)

        pending.tries += 1
        result.attempts += 1
        outcome = self.backend.send(message, before_data=before_data)  # type: ignore[union-attr]
        self.throttle.record(pending.domain)
        self.ledger.append(item.key, outcome.state, mission.id, msgid, detail=outcome.detail,
                           attempt=attempt, signatures=count, run=self.run_id)
        result.outcomes[item.key] = outcome
        self.progress(f"{outcome.state:8} {mission.id} {item.key} {outcome.detail}")
        return outcome

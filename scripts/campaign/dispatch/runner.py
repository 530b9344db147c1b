"""Sending the letters: plan -> render -> mail backend -> ledger (ARCHITECTURE.md, "Dispatch").

    result = Dispatcher(ds, backend, ledger, Settings(now=...)).run()

Each letter goes through the ledger: `sending` is fsynced before the message is handed over,
then `sent`, `deferred`, `failed` or `unknown` (written without its own fsync: the next
letter's `sending`, or the end of the run, makes it durable). A run:

1. turns letters a dead run left in `sending` into `unknown` (it cannot know what the server got);
   requeues, with a line saying why, `failed` letters with `retry_failed` and bounced letters
   (due again on the mission's next route: the bounced address is failing now);
2. picks the letters it may send on a mailed route (`email`, `fallback`; the others are
   counted under their route): due per the mission's local time (see planning), never `sent`
   or `failed`, `unknown` only with `resend_unknown` ("all" or its key), `deferred` and
   `requeued` also in the grace days;
3. sends them one at a time, round-robin across recipient domains, within the throttle;
   a `deferred` letter is retried in the same run with exponential backoff (`backoff`,
   doubling, at most `max_backoff`) up to `attempts` tries, then left for a later run;
4. stops early (cleanly, after the current letter) on request or when its time budget is
   spent; letters it had no time for are recorded `deferred` so later runs retry them.

A letter problem never stops the run; a problem of the whole session does (BackendError:
login refused, bad settings, the server refusing our HELO name, client or sender), and so does
the same refusal for every recipient in a row (`Streak`): those letters are requeued, not
failed. With `redirect` every letter goes to one test inbox (a rehearsal; see session).
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from email.message import EmailMessage

from campaign.core.errors import CampaignError, LetterError, Problem
from campaign.core.retry import backoff
from campaign.data import dataset
from campaign.data import letter as letters
from campaign.data.dataset import Dataset
from campaign.dispatch import compose, workers
from campaign.dispatch.durable import AHEAD, Chores, Declarations
from campaign.dispatch.planning import Plan, plan
from campaign.dispatch.throttle import Throttle
from campaign.dispatch.work import Pending, Result, Settings, Streak
from campaign.i18n import catalogues
from campaign.mail import BackendError, BaseBackend, Outcome
from campaign.mail.base import domain as domain_of
from campaign.records.ledger import Ledger, boot_id, run_id

NEVER_HANDED = ("declared `sending` ahead by a run that stopped before handing it over (same machine, same boot: "
                "every line it wrote is here); due again")
STALE_SENDING = ("the run sending this letter stopped before it learnt the outcome (crash or cancel); "
                 "the mission may or may not have it: check, then resend with --resend-unknown if needed")


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
        self.requeue_keys: set[str] = set()
        self.boot = boot_id()
        self.lang, self.template = letters.template_for(ds.letters, self.campaign)
        self.version = letters.version(self.template, self.campaign.dispatch.subject)
        self.words = catalogues.Catalogues(ds.root)  # the signers' languages' words in their versions of the letter

    # --- selection ----------------------------------------------------------------------

    def _resend(self, key: str) -> bool:
        wanted = self.settings.resend_unknown
        return "all" in wanted or key in wanted

    def select(self, the_plan: Plan) -> list[Pending]:
        """The letters this run may send, in plan order, at most `limit`."""
        chosen: list[Pending] = []
        retry_states = ("deferred", "unknown", "requeued", "failed", "bounced")
        for mp, item in the_plan.letters():
            if not mp.reachable:
                continue
            state = self.ledger.state(item.key)
            if state in ("sent", "sending") or (state == "unknown" and not self._resend(item.key)):
                continue
            if state in ("failed", "bounced") and not (state == "failed" and self.settings.retry_failed
                                                       or item.key in self.requeue_keys):
                continue
            if not the_plan.sendable(mp, deferred=state in retry_states):
                continue
            address = self.settings.redirect or mp.route.address or ""
            chosen.append(Pending(item, mp, address, domain_of(address)))
            if self.settings.limit is not None and len(chosen) >= self.settings.limit:
                break
        return chosen

    def compose(self, pending: Pending) -> EmailMessage:
        item, way = pending.letter, pending.mission.route
        return compose.compose(
            self.campaign, self.template, pending.mission.mission, item.signatures, item.key, self.version,
            lang=self.lang, msgid=self._msgid(pending),
            to=way.address, fallback=way.kind == "fallback", redirect=self.settings.redirect,
            files=self.ds.letter_files, words=self.words,
        )

    def _problem(self, pending: Pending, keep: bool = False) -> str | None:
        """Why the letter cannot be composed, or None (with `keep`, the message is kept to send)."""
        try:
            message = self.compose(pending)
        except LetterError as exc:
            return f"{pending.mission.mission.id}: {exc}"
        if keep:
            pending.message = message
        return None

    # --- the run ------------------------------------------------------------------------

    def run(self) -> Result:
        started = self.clock()
        s = self.settings
        with dataset.no_cyclic_gc():  # bounded work over every letter (see dataset.load)
            the_plan = plan(self.ds, s.now, s.force, s.missions)
            result = Result(the_plan, s.dry_run)
            self._recover(result)
            self._requeue(the_plan, result)
            if s.retry_failed and result.requeued and not s.dry_run:  # their addresses are no longer failing
                the_plan = result.plan = plan(self.ds, s.now, s.force, s.missions)
            chosen = self.select(the_plan)
            result.selected = [p.letter.key for p in chosen]
            if s.dry_run:  # every letter composed, in worker processes when there are many (dispatch.workers)
                result.problems += [p for p in workers.forked_map(self._problem, chosen) if p is not None]
        if s.dry_run:
            result.elapsed = self.clock() - started
            return result
        if chosen and self.backend is None:
            raise ValueError("a backend is needed unless dry_run")
        assert self.backend is not None or not chosen
        self.sending = Declarations(self.ledger, self.run_id, self.boot, self._msgid)
        frozen = gc.get_freeze_count() == 0
        if frozen:  # the data and the plan live through the run: no collection need rescan them at every letter
            gc.freeze()
        try:
            self._send_all(chosen, result, started)
        finally:
            if frozen:
                gc.unfreeze()
            self.sending.syncer.stop()
            if self.backend is not None:
                self.backend.close()
        result.elapsed = self.clock() - started
        return result

    def _recover(self, result: Result) -> None:
        for key, info in list(self.ledger.letters.items()):
            if info.state != "sending":
                continue
            never = bool(info.ahead) and info.ahead == self.boot  # declared ahead, never in hand (dispatch.durable)
            (result.released if never else result.recovered).append(key)
            if not self.settings.dry_run:
                self.ledger.append(key, "deferred" if never else "unknown", info.mission, info.message_id,
                                   detail=NEVER_HANDED if never else STALE_SENDING, signatures=info.signatures,
                                   run=self.run_id)

    def _requeue(self, the_plan: Plan, result: Result) -> None:
        """Failed letters (with retry_failed) and bounced ones are due again, on the route the
        mission has now; each gets a `requeued` line saying why (none in a dry run)."""
        for mp, item in the_plan.letters():
            info = self.ledger.letters.get(item.key)
            if info is None or not (info.state == "bounced" or info.state == "failed" and self.settings.retry_failed):
                continue
            if info.state == "bounced" and (mp.route.address or "").casefold() == info.address.casefold():
                continue  # bounced for the message or our relay: the same address again would not help
            why = (f"bounced at {info.address} ({info.detail[:200]}); now due by {mp.route.text()}"
                   if info.state == "bounced" else f"--retry-failed after {info.detail[:200]!r}")
            self.requeue_keys.add(item.key)
            result.requeued.append(item.key)
            if not self.settings.dry_run:
                self.ledger.append(item.key, "requeued", mp.mission.id, info.message_id, detail=why,
                                   signatures=info.signatures, run=self.run_id, route=mp.route.kind)

    def _send_all(self, chosen: list[Pending], result: Result, started: float) -> None:
        s = self.settings
        queues: dict[str, deque[Pending]] = {}
        for pending in chosen:
            queues.setdefault(pending.domain, deque()).append(pending)
        order = deque(queues)  # round-robin over domains
        retries: list[tuple[float, int, Pending]] = []
        seq = itertools.count()
        last_checkpoint = self.clock()
        streak = Streak()
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
                outcome = self._attempt(pick, result, self._upcoming(queues, order))
            except BackendError as exc:
                result.fatal = str(exc)
                queues[pick.domain].appendleft(pick)
                break
            except Exception:  # the ledger cannot be written (or a bug): release what was declared ahead, held
                self.sending.release([p for q in queues.values() for p in q], "the run stopped on an error", held=True)
                raise
            if streak.add(pick, outcome):
                result.fatal = (f"the same refusal for {len(streak.letters)} letters to different recipients in a row "
                                f"({outcome.detail[:200]}): taken for a refusal of the session; those letters are "
                                "requeued, not failed: fix the cause and run again")  # type: ignore[union-attr]
                for failed in streak.letters:
                    result.outcomes.pop(failed.letter.key, None)
                    self.ledger.append(failed.letter.key, "requeued", failed.mission.mission.id, self._msgid(failed),
                                       detail=result.fatal[:300], signatures=len(failed.letter.signatures), run=self.run_id)
                break
            if outcome is not None and outcome.state == "deferred" and pick.tries < s.attempts:
                delay = backoff(pick.tries, s.backoff, s.max_backoff)
                heapq.heappush(retries, (self.clock() + delay, next(seq), pick))
            if self.checkpoint and s.checkpoint_every is not None and self.clock() - last_checkpoint >= s.checkpoint_every:
                self.sending.syncer.wait()
                self.checkpoint()
                last_checkpoint = self.clock()
        leftovers = [p for q in queues.values() for p in q] + [p for _, _, p in retries]
        self.sending.syncer.wait()
        self.sending.release(leftovers, result.stopped or result.fatal or "run ended")
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

    @staticmethod
    def _upcoming(queues: dict[str, deque[Pending]], order: deque[str]) -> list[Pending]:
        """The next AHEAD letters the round-robin will pick, if nothing has to wait."""
        heads = [itertools.islice(queues[d], AHEAD) for d in order if queues[d]]
        return [p for row in itertools.zip_longest(*heads) for p in row if p is not None][:AHEAD]

    def _compose_ahead(self, upcoming: Sequence[Pending]) -> None:
        """Compose the next letters (usually one is new) while the server works."""
        for pending in upcoming:
            self._composed(pending)

    def _flatten_ahead(self, upcoming: Sequence[Pending]) -> None:
        """Turn the composed next letters into their wire form while the server works."""
        if self.backend is not None:
            for pending in upcoming:
                if pending.message is not None:
                    self.backend.prepare(pending.message)

    def _composed(self, pending: Pending, result: Result | None = None) -> bool:
        """Compose the letter once; a problem is reported (with `result`) and it is not sent."""
        if pending.message is None and pending.problem is None:
            pending.problem = self._problem(pending, keep=True)
        if pending.problem is not None and result is not None:
            result.problems.append(pending.problem)
        return pending.problem is None

    def _not_handed(self, pending: Pending, why: str, held: bool = False) -> None:
        """The letter in hand was not handed over: `deferred`, due again."""
        self.ledger.append(pending.letter.key, "deferred", pending.mission.mission.id, self._msgid(pending),
                           detail=f"not handed over: {why}", signatures=len(pending.letter.signatures), run=self.run_id,
                           to=pending.address, route=pending.mission.route.kind, held=held)

    def _attempt(self, pending: Pending, result: Result, upcoming: Sequence[Pending] = ()) -> Outcome | None:
        item, mission = pending.letter, pending.mission.mission
        if not self._composed(pending, result):
            return None
        message = pending.message
        assert message is not None
        msgid = self._msgid(pending)  # what compose put in (parsing the header costs more than composing)
        count = len(item.signatures)
        way = pending.mission.route.kind
        backend = self.backend
        assert backend is not None
        if not backend.opened:  # a refused login or greeting stops the run before anything is recorded
            with contextlib.suppress(OSError):  # a connection problem (SMTPException too): `send` reports it
                backend.open()
        # while the server answers: take the letter in hand (its `sending` line written; DATA waits
        # for its fsync), compose the next letters, flatten them and declare them ahead
        synced: list[Future[None]] = []
        chores = Chores(lambda: synced.append(self.sending.hand(pending, upcoming)), lambda: self._compose_ahead(upcoming),
                        lambda: (self._flatten_ahead(upcoming), self.sending.ahead(upcoming)))

        handed = False

        def before_data() -> None:
            nonlocal handed
            chores.upto(1)
            synced[0].result()
            handed = True  # DATA goes out now

        pending.tries += 1
        result.attempts += 1
        try:
            outcome = backend.send(message, before_data=before_data, meanwhile=chores)
            chores.upto(1)  # its `sending` line comes before the outcome, whatever the backend called
        except BackendError:  # refused before DATA: the letter was not handed over
            chores.upto(1)
            self.sending.syncer.wait()
            self._not_handed(pending, "the session was refused")
            raise
        except CampaignError:  # the ledger cannot be written: before DATA, the letter is due again (held)
            if not handed:
                self._not_handed(pending, "the ledger could not be written", held=True)
            raise
        self.throttle.record(pending.domain)
        self.ledger.append(item.key, outcome.state, mission.id, msgid, detail=outcome.detail, attempt=pending.attempt,
                           signatures=count, run=self.run_id, to=pending.address, route=way, scope=outcome.scope,
                           held=True)  # written with the next letter, fsynced with the next batch (dispatch.durable)
        result.outcomes[item.key] = outcome
        self.progress(f"{outcome.state:8} {mission.id} {item.key} {outcome.detail}")
        chores.finish()  # what the backend left undone; a ledger that cannot be written stops the run here
        return outcome

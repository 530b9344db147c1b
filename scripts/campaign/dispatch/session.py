"""One `campaign dispatch` run, from the repository to the printed report.

    report = session.run(root, backend="smtp", now="2026-12-10T09:00:00Z", push=True)

Loads the data (a broken signature file is skipped with a warning, so one bad pull request
cannot stop the day; the campaign, the directory and the letter must load), opens the mail
backend, the throttle and the ledger, runs the `Dispatcher` with SIGINT/SIGTERM handled
(finish the letter in hand, record the rest as deferred, report and push; a second signal
stops at once), pushes ledger checkpoints with `push`, and publishes the report to the
GitHub Actions step summary. First the ledger is restored from its branch (`checkpoint.prepare`:
a run that would send refuses when the remote cannot be read, unless `local_ledger`); with
`push`, the branch is made (a first run) and lines it lacks are pushed before the first
letter, and a checkpoint the server refuses stops the run (no more letters that the next run
could not see). A fatal problem (the mail server refuses every message) is raised after the
report was built and pushed, so the record is kept.

A rehearsal never writes the campaign ledger (data/dispatch/): a run with `redirect` or with a
backend that mails nobody (file, console, memory) keeps a ledger of its own,
`rehearsal/<campaign>-<date>.jsonl` (git-ignored), unless `ledger_path` names another file
outside data/dispatch/. `plan=True` prints the throttle's forecast instead (`forecast`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
from collections.abc import Callable
from pathlib import Path

from campaign import mail
from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset
from campaign.data.models import Campaign, Mailbox
from campaign.dispatch import checkpoint, forecast, planning, report
from campaign.dispatch.runner import Dispatcher, Settings
from campaign.dispatch.throttle import Throttle
from campaign.records import ledger
from campaign.records.ledger import Ledger, run_id

Echo = Callable[[str], None]


def load(root: Path, warn: Echo) -> dataset.Dataset:
    """The dataset for sending: the campaign, the missions and the letters must load; a bad
    signature file is skipped with a warning (`campaign validate` gives details)."""
    ds = dataset.load(root)
    fatal = [p for p in ds.problems if p.path in (dataset.CAMPAIGN, dataset.MISSIONS) or p.path.startswith(dataset.LETTERS)]
    if fatal or ds.campaign is None:
        raise CampaignError(fatal or [Problem(dataset.CAMPAIGN, 1, "the campaign settings did not load")])
    skipped = {p.path for p in ds.problems}
    if skipped:
        warn(f"warning: {len(skipped)} data files have problems and were skipped; run `campaign validate`")
    return ds


REHEARSAL = "rehearsal"
REHEARSING = ("file", "console", "memory")


def ledger_for(root: Path, campaign: Campaign, backend: str, redirect: str | None, ledger_path: Path | None) -> Ledger:
    """The run's ledger: the campaign's, or a rehearsal's own (see the module docstring)."""
    if backend not in REHEARSING and not redirect:
        return Ledger.for_campaign(root, campaign, ledger_path)
    if ledger_path is None:
        rel = f"{REHEARSAL}/{campaign.id}-{campaign.dispatch.date.isoformat()}.jsonl"
        return Ledger(root / rel, rel)
    official = (root / ledger.FOLDER).resolve()
    if ledger_path.resolve().is_relative_to(official) or (root / ledger_path).resolve().is_relative_to(official):
        why = f"--redirect-to {redirect}" if redirect else f"the {backend} backend"
        raise CampaignError([Problem(str(ledger_path), 1, f"a rehearsal ({why}) never writes the campaign ledger in "
                                     f"{ledger.FOLDER}/: leave out --ledger (it keeps {REHEARSAL}/) or name a file elsewhere")])
    return Ledger(ledger_path, str(ledger_path))


def run(root: Path, *, backend: str = "file", outbox: Path | None = None, now: str | None = None, force: bool = False,
        missions: tuple[str, ...] = (), limit: int | None = None, dry_run: bool = False,
        resend_unknown: tuple[str, ...] = (), retry_failed: bool = False, redirect_to: str | None = None,
        plan: bool = False, attempts: int = 5, backoff: float = 5.0, max_backoff: float = 300.0,
        throttle: bool | None = None, time_budget: float | None = None, ledger_path: Path | None = None,
        push: bool = False, checkpoint_every: float = 300.0, verbose: bool = False, local_ledger: bool = False,
        warn: Echo = print) -> report.Report | forecast.Forecast:
    """Send what is due (see `Dispatcher`); the options are `campaign dispatch`'s."""
    moment = planning.parse_now(now) if now else dt.datetime.now(dt.timezone.utc)
    bounded = dataset.no_cyclic_gc(keep=True) if dry_run or plan else contextlib.nullcontext()
    with bounded:  # a dry run's data only grows, then the command ends: no collection need rescan it
        ds = load(root, warn)
        assert ds.campaign is not None
        official = backend not in REHEARSING and not redirect_to and ledger_path is None
        branch = ds.campaign.dispatch.ledger_branch
        checkpoint.prepare(root, branch, send=official and not (plan or dry_run), local=local_ledger, warn=warn)
        if plan:
            return forecast.forecast(planning.plan(ds, moment, True, missions), ds.campaign.dispatch)
        redirect = _address(redirect_to) if redirect_to else None
        wanted = tuple(k for k in resend_unknown if k.lower() not in ("", "false", "no", "0"))
        wanted = tuple("all" if k.lower() in ("true", "yes", "1") else k for k in wanted)
        settings = Settings(now=moment, force=force, missions=missions, limit=limit, dry_run=dry_run,
                            resend_unknown=wanted, retry_failed=retry_failed, redirect=redirect, attempts=attempts,
                            backoff=backoff, max_backoff=max_backoff, time_budget=time_budget,
                            checkpoint_every=checkpoint_every if push else None)
        options: dict[str, object] = {"outbox": outbox or root / "outbox"} if backend == "file" else {}
        mailer = None if dry_run else mail.get_backend(backend, **options)
        use_throttle = backend == "smtp" if throttle is None else throttle
        limits = Throttle.from_settings(ds.campaign.dispatch.throttle) if use_throttle else None
        book = ledger_for(root, ds.campaign, backend, redirect, ledger_path)
        pushing = push and not dry_run and book.rel == ledger.path_for(ds.campaign)
        if pushing:  # the branch made, and what only this side has, before the first letter; a refusal stops here
            warn(checkpoint.push_ledger(root, branch=branch, start=True))
        refused: list[str] = []
        with book:

            def save() -> None:
                book.close()  # reopened by the next append, also if the push merged lines into the file
                try:
                    warn(checkpoint.push_ledger(root, branch=branch))
                except checkpoint.Refused as exc:
                    refused.append(exc.message)
                    runner.stop_requested = "the ledger push was refused"
                except CampaignError as exc:
                    warn(f"warning: checkpoint failed, continuing: {exc}")

            runner = Dispatcher(ds, mailer, book, settings, limits, checkpoint=save if pushing else None,
                                progress=warn if verbose else None)
            result = _with_signals(runner)
            summary = report.build(result, book)
        if pushing:
            save()
        if refused and not result.fatal:
            result.fatal = refused[-1]
        summary.write_step_summary()
        return summary


def campaign_ledger(root: Path, campaign: Campaign, ledger_path: Path | None, warn: Echo) -> Ledger:
    """The campaign's ledger for a command that sends nothing (resolve, bounces), restored first."""
    if ledger_path is None:
        checkpoint.prepare(root, campaign.dispatch.ledger_branch, send=False, warn=warn)
    return Ledger.for_campaign(root, campaign, ledger_path)


def _address(text: str) -> str:
    """A rehearsal's test inbox, checked like any address in the data."""
    try:
        return Mailbox(name="rehearsal", email=text).email
    except ValueError as exc:
        raise CampaignError([Problem("--redirect-to", 1, f"{text!r} is not an email address ({exc.errors()[0]['msg']})")]) from None


def resolve(root: Path, key: str, sent: bool | None, ledger_path: Path | None = None, warn: Echo = print) -> str:
    """`campaign dispatch resolve KEY --sent|--unsent`: settle one `unknown` letter after the
    server's log was checked; --unsent makes it due again. Only `unknown` letters are settled."""
    if sent is None:
        raise CampaignError([Problem("campaign dispatch resolve", 1, "say --sent or --unsent: what the server's log shows")])
    ds = load(root, lambda _: None)
    assert ds.campaign is not None
    with campaign_ledger(root, ds.campaign, ledger_path, warn) as book:
        info = book.letters.get(key)
        if info is None or info.state != "unknown":
            state = info.state if info else "not in the ledger"
            raise CampaignError([Problem(book.rel, 1, f"letter {key!r} is {state}; only an `unknown` letter can be "
                                         "resolved (see `campaign dispatch` report for their keys)")])
        book.append(key, "resolved", info.mission, info.message_id, outcome="sent" if sent else "unsent",
                    detail="settled by hand after checking the mail server's log", signatures=info.signatures,
                    run=run_id())
    return f"{key}: recorded as {'sent' if sent else 'not sent: due again on the next run'}"


def _with_signals(runner: Dispatcher):  # -> Result
    """Run, turning the first SIGINT/SIGTERM into a clean stop and a second into KeyboardInterrupt."""

    def stop(signum: int, _frame: object) -> None:
        if runner.stop_requested:
            raise KeyboardInterrupt
        runner.stop_requested = f"received {signal.Signals(signum).name}"

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""One `campaign dispatch` run, from the repository to the printed report.

    report = session.run(root, backend="smtp", now="2026-12-10T09:00:00Z", push=True)

Loads the data (a broken signature file is skipped with a warning, so one bad pull request
cannot stop the day; the campaign, the directory and the letter must load), opens the mail
backend, the throttle and the ledger, runs the `Dispatcher` with SIGINT/SIGTERM handled
(finish the letter in hand, record the rest as deferred, report and push; a second signal
stops at once), pushes ledger checkpoints with `push`, and publishes the report to the
GitHub Actions step summary. A fatal problem (the mail server refuses every message) is raised
after the report was built and pushed, so the record is kept.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Callable
from pathlib import Path

from campaign import mail
from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset
from campaign.dispatch import checkpoint, planning, report
from campaign.dispatch.runner import Dispatcher, Settings
from campaign.dispatch.throttle import Throttle
from campaign.records.ledger import Ledger

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


def run(root: Path, *, backend: str = "file", outbox: Path | None = None, now: str | None = None, force: bool = False,
        missions: tuple[str, ...] = (), limit: int | None = None, dry_run: bool = False, resend_unknown: bool = False,
        attempts: int = 5, backoff: float = 5.0, max_backoff: float = 300.0, throttle: bool | None = None,
        time_budget: float | None = None, ledger_path: Path | None = None, push: bool = False,
        checkpoint_every: float = 300.0, verbose: bool = False, warn: Echo = print) -> report.Report:
    """Send what is due (see `Dispatcher`); the options are `campaign dispatch`'s."""
    moment = planning.parse_now(now) if now else dt.datetime.now(dt.timezone.utc)
    ds = load(root, warn)
    assert ds.campaign is not None
    settings = Settings(now=moment, force=force, missions=missions, limit=limit, dry_run=dry_run,
                        resend_unknown=resend_unknown, attempts=attempts, backoff=backoff, max_backoff=max_backoff,
                        time_budget=time_budget, checkpoint_every=checkpoint_every if push else None)
    options: dict[str, object] = {"outbox": outbox or root / "outbox"} if backend == "file" else {}
    mailer = None if dry_run else mail.get_backend(backend, **options)
    use_throttle = backend == "smtp" if throttle is None else throttle
    limits = Throttle.from_settings(ds.campaign.dispatch.throttle) if use_throttle else None
    pushing = push and not dry_run
    with Ledger.for_campaign(root, ds.campaign, ledger_path) as book:

        def save() -> None:
            book.close()  # reopened by the next append, also if a rebase replaced the file
            try:
                warn(checkpoint.push_ledger(root))
            except CampaignError as exc:
                warn(f"warning: checkpoint failed, continuing: {exc}")

        runner = Dispatcher(ds, mailer, book, settings, limits, checkpoint=save if pushing else None,
                            progress=warn if verbose else None)
        result = _with_signals(runner)
        summary = report.build(result, book)
    summary.write_step_summary()
    if pushing:
        save()
    return summary


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

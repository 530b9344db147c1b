"""Commands that send the letters and keep their record: dispatch, letter, push-ledger."""

from __future__ import annotations

from pathlib import Path

import click

from campaign.cli import Repo, main, warn
from campaign.dispatch import checkpoint, preview, session


@main.command("dispatch")
@click.option("--backend", type=click.Choice(["file", "smtp", "console", "memory"]), default="file", show_default=True,
              envvar="CAMPAIGN_BACKEND", help="Where letters go: `file` writes .eml files to the outbox and sends nothing.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the file backend (default: outbox/ in the repository, git-ignored).")
@click.option("--now", metavar="ISO-8601", envvar="CAMPAIGN_NOW",
              help="Pretend it is this moment (with a UTC offset), for rehearsals and tests.")
@click.option("--force", is_flag=True, envvar="CAMPAIGN_FORCE", help="Send every letter now, whatever the date, time zone or deadline.")
@click.option("--mission", "missions", multiple=True, metavar="ID", envvar="CAMPAIGN_MISSION",
              help="Only this mission's letters (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), envvar="CAMPAIGN_LIMIT", help="Send at most N letters.")
@click.option("--dry-run", is_flag=True, envvar="CAMPAIGN_DRY_RUN", help="Plan and render, but send nothing and write no ledger line.")
@click.option("--resend-unknown", is_flag=True, envvar="CAMPAIGN_RESEND_UNKNOWN",
              help="Also resend letters whose outcome is unknown (the link dropped after the message was handed over).")
@click.option("--attempts", type=click.IntRange(1, 50), default=5, show_default=True, envvar="CAMPAIGN_ATTEMPTS",
              help="Tries per deferred letter within this run.")
@click.option("--backoff", type=click.FloatRange(0, 3600), default=5.0, show_default=True, envvar="CAMPAIGN_BACKOFF",
              help="Seconds before the first retry of a deferred letter; doubles each try.")
@click.option("--max-backoff", type=click.FloatRange(0, 3600), default=300.0, show_default=True,
              envvar="CAMPAIGN_MAX_BACKOFF", help="Longest pause between two tries.")
@click.option("--throttle/--no-throttle", default=None, help="Apply dispatch.throttle from data/campaign.yaml (default: with smtp only).")
@click.option("--time-budget", type=click.FloatRange(min=0), metavar="SECONDS", envvar="CAMPAIGN_TIME_BUDGET",
              help="Stop cleanly after this long; untried letters are left deferred for the next run.")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Ledger file (default: data/dispatch/<campaign>-<date>.jsonl).")
@click.option("--push", is_flag=True, envvar="CAMPAIGN_PUSH",
              help="Commit and push the ledger every --checkpoint-every seconds and at the end.")
@click.option("--checkpoint-every", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="Seconds between ledger checkpoints with --push.")
@click.option("-v", "--verbose", is_flag=True, help="Print one line per attempt (letter key, mission, reply).")
@click.pass_obj
def dispatch_(repo: Repo, **options: object) -> None:
    """Send the letters that are due, record each in the ledger, print a report.

    A mission's letters are due on the dispatch date from the send time in the mission's own
    time zone; outside that window nothing is sent unless --force (deferred letters are retried
    until the deadline). Reruns never resend a letter the ledger records as sent. SMTP settings
    come from SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_SECURITY, SMTP_TIMEOUT.
    Under GitHub Actions the report also goes to the step summary.
    """
    report = session.run(repo.root, warn=warn, **options)  # type: ignore[arg-type]
    click.echo(report.output(), nl=False)
    report.check()


@main.command("letter")
@click.option("--mission", "mission_id", required=True, metavar="ID", help="The mission the letter goes to.")
@click.option("--signature", "signature_path", metavar="PATH",
              help="A signature file (data/signatories/...); default: the mission's first, or a sample.")
@click.option("--format", "fmt", type=click.Choice(preview.FORMATS), default="text", show_default=True,
              help="`text`: headers and plain text; `html`: the HTML alternative; `eml`: the whole message.")
@click.pass_obj
def letter_(repo: Repo, mission_id: str, signature_path: str | None, fmt: str) -> None:
    """Preview the letter a mission will receive, exactly as dispatch would send it."""
    click.echo(preview.preview(repo.root, mission_id, signature_path, fmt, warn=warn), nl=False)


@main.command("push-ledger")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", help="Branch to push to (default: the current one, or $GITHUB_REF_NAME).")
@click.option("--attempts", type=click.IntRange(1, 20), default=5, show_default=True,
              help="Tries when another push got there first (fetch, rebase, push again).")
@click.option("--pause", type=click.FloatRange(0, 60), default=2.0, show_default=True,
              help="Seconds before the second try; doubles each time (with jitter).")
@click.pass_obj
def push_ledger_(repo: Repo, remote: str, branch: str | None, attempts: int, pause: float) -> None:
    """Commit data/dispatch/ (and nothing else) and push it, retrying on a push race.

    With GITHUB_TOKEN set and an https remote, the token is given to git through the
    environment, so the checkout need not persist credentials.
    """
    click.echo(checkpoint.push_ledger(repo.root, remote, branch, attempts, message="dispatch: ledger", pause=pause))

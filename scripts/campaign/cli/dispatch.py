"""Commands that send the letters and keep their record: dispatch, letter(s), push-ledger."""

from __future__ import annotations

from pathlib import Path

import click

from campaign.cli import Repo, command, main, option, warn
from campaign.dispatch import checkpoint, paper, preview, session


@command(main, "dispatch")
@option("--backend", type=click.Choice(["file", "smtp", "console", "memory"]), default="file", env="CAMPAIGN_BACKEND",
        help="Where letters go: `file` writes .eml files to the outbox and sends nothing.")
@option("--outbox", type=click.Path(file_okay=False, path_type=Path), help="Folder of the file backend (default: outbox/).")
@option("--now", metavar="ISO-8601", env="CAMPAIGN_NOW", help="Pretend it is this moment (with a UTC offset).")
@option("--force", is_flag=True, env="CAMPAIGN_FORCE", help="Send every letter now, whatever the date, time zone or deadline.")
@option("--mission", "missions", multiple=True, metavar="ID", env="CAMPAIGN_MISSION", help="Only this mission's letters.")
@option("--limit", type=click.IntRange(min=1), env="CAMPAIGN_LIMIT", help="Send at most N letters.")
@option("--dry-run", is_flag=True, env="CAMPAIGN_DRY_RUN", help="Plan and render, but send nothing and write no ledger line.")
@option("--resend-unknown", is_flag=True, env="CAMPAIGN_RESEND_UNKNOWN",
        help="Also resend letters whose outcome is unknown (the link dropped after the message was handed over).")
@option("--attempts", type=click.IntRange(1, 50), default=5, env="CAMPAIGN_ATTEMPTS", help="Tries per deferred letter.")
@option("--backoff", type=click.FloatRange(0, 3600), default=5.0, env="CAMPAIGN_BACKOFF",
        help="Seconds before the first retry of a deferred letter; doubles each try.")
@option("--max-backoff", type=click.FloatRange(0, 3600), default=300.0, env="CAMPAIGN_MAX_BACKOFF", help="Longest pause.")
@option("--throttle/--no-throttle", default=None, help="Apply dispatch.throttle (default: with smtp only).")
@option("--time-budget", type=click.FloatRange(min=0), metavar="SECONDS", env="CAMPAIGN_TIME_BUDGET",
        help="Stop cleanly after this long; untried letters are left deferred.")
@option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path),
        help="Ledger file (default: data/dispatch/<campaign>-<date>.jsonl).")
@option("--push", is_flag=True, env="CAMPAIGN_PUSH", help="Commit and push the ledger in checkpoints and at the end.")
@option("--checkpoint-every", type=click.FloatRange(min=1), default=300.0, help="Seconds between ledger checkpoints with --push.")
@option("-v", "--verbose", is_flag=True, help="Print one line per attempt (letter key, mission, reply).")
def dispatch_(repo: Repo, **options: object) -> None:
    """Send the letters that are due, record each in the ledger, print a report.

    Letters are due on the dispatch date from the send time in each mission's time zone;
    reruns never resend a letter recorded as sent. SMTP settings come from SMTP_* variables.
    """
    report = session.run(repo.root, warn=warn, **options)  # type: ignore[arg-type]
    click.echo(report.output(), nl=False)
    report.check()


@command(main, "letter")
@option("--mission", "mission_id", required=True, metavar="ID", help="The mission the letter goes to.")
@option("--signature", "signature_path", metavar="PATH", help="A signature file; default: the mission's first, or a sample.")
@option("--format", "fmt", type=click.Choice(preview.FORMATS), default="text",
        help="`text`: headers and plain text; `html`: the HTML part; `eml`: the whole message.")
@option("--pdf", type=click.Path(dir_okay=False, path_type=Path), help="Write the mission's print-ready PDF letter here instead.")
def letter_(repo: Repo, mission_id: str, signature_path: str | None, fmt: str, pdf: Path | None) -> None:
    """Preview the letter a mission will receive, exactly as dispatch would send it (or its PDF)."""
    if pdf:
        click.echo(paper.letter_pdf(repo.root, mission_id, pdf, warn=warn).line())
    else:
        click.echo(preview.preview(repo.root, mission_id, signature_path, fmt, warn=warn), nl=False)


@command(main, "letters")
@option("--pdf", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the PDFs, one <mission id>.pdf each.")
def letters_(repo: Repo, pdf: Path) -> None:
    """Write every mission's print-ready PDF letter (A4, with its named signatories)."""
    click.echo(paper.letters_pdf(repo.root, pdf, warn=warn).summary())


@command(main, "push-ledger")
@option("--remote", default="origin", help="The remote to push to.")
@option("--branch", help="Branch to push to (default: the current one, or $GITHUB_REF_NAME).")
@option("--attempts", type=click.IntRange(1, 20), default=5, help="Tries when another push got there first.")
@option("--pause", type=click.FloatRange(0, 60), default=2.0, help="Seconds before the second try; doubles each time.")
def push_ledger_(repo: Repo, remote: str, branch: str | None, attempts: int, pause: float) -> None:
    """Commit data/dispatch/ (and nothing else) and push it, rebasing and retrying on a push race."""
    click.echo(checkpoint.push_ledger(repo.root, remote, branch, attempts, message="dispatch: ledger", pause=pause))

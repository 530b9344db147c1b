"""Commands that send the letters and keep their record: dispatch (resolve, bounces), letter(s), push- and pull-ledger."""

from __future__ import annotations

from pathlib import Path

import click

from campaign.cli import FILE, FOLDER, Repo, command, lazy, main, option, warn
from campaign.dispatch import preview
from campaign.mail import NAMES

bounces, checkpoint, paper, session = (lazy(f"campaign.dispatch.{m}") for m in "bounces checkpoint paper session".split())


@main.group("dispatch", invoke_without_command=True)
@option("--backend", type=click.Choice(NAMES), default="file", env="CAMPAIGN_BACKEND", help="`file`: .eml files in the outbox.")
@option("--outbox", type=FOLDER, help="Folder of the file backend (default: outbox/).")
@option("--now", metavar="ISO-8601", env="CAMPAIGN_NOW", help="Pretend it is this moment (with a UTC offset).")
@option("--force", is_flag=True, env="CAMPAIGN_FORCE", help="Send every letter now, whatever the date, time zone or deadline.")
@option("--mission", "missions", multiple=True, metavar="ID", env="CAMPAIGN_MISSION", help="Only this mission's letters.")
@option("--limit", type=click.IntRange(min=1), env="CAMPAIGN_LIMIT", help="Send at most N letters.")
@option("--dry-run", is_flag=True, env="CAMPAIGN_DRY_RUN", help="Plan and render, but send nothing and write no ledger line.")
@option("--plan", is_flag=True, help="Letters per route and domain, the throttle's time, late domains; send nothing.")
@option("--redirect-to", metavar="ADDRESS", help="Rehearse: every letter to this inbox, in a rehearsal ledger of its own.")
@option("--retry-failed", is_flag=True, help="Requeue failed letters (after the cause was fixed), recorded in the ledger.")
@option("--resend-unknown", multiple=True, is_flag=False, flag_value="all", metavar="[KEY]", env="CAMPAIGN_RESEND_UNKNOWN",
        help="Resend `unknown` letters: all, or KEY (repeatable); check with the server first.")
@option("--attempts", type=click.IntRange(1, 50), default=5, env="CAMPAIGN_ATTEMPTS", help="Tries per deferred letter.")
@option("--backoff", type=click.FloatRange(0, 3600), default=5.0, env="CAMPAIGN_BACKOFF", help="Seconds to a 1st retry; doubles.")
@option("--max-backoff", type=click.FloatRange(0, 3600), default=300.0, env="CAMPAIGN_MAX_BACKOFF", help="Longest pause.")
@option("--throttle/--no-throttle", default=None, help="Apply dispatch.throttle (default: with smtp only).")
@option("--time-budget", type=click.FloatRange(min=0), metavar="S", env="CAMPAIGN_TIME_BUDGET", help="Stop cleanly after S s.")
@option("--ledger", "ledger_path", type=FILE, help="Ledger file (default: data/dispatch/<campaign>-<date>.jsonl).")
@option("--push", is_flag=True, env="CAMPAIGN_PUSH", help="Push the ledger branch in checkpoints and at the end.")
@option("--local-ledger", is_flag=True, help="Send though the ledger branch cannot be read: data/dispatch/ here is complete.")
@option("--checkpoint-every", type=click.FloatRange(min=1), default=300.0, help="Seconds between ledger checkpoints with --push.")
@option("-v", "--verbose", is_flag=True, help="Print one line per attempt (letter key, mission, reply).")
@click.pass_context
def dispatch_(ctx: click.Context, **options: object) -> None:
    """Send the letters due, record each in the ledger, print a report (SMTP settings: SMTP_*)."""
    if ctx.invoked_subcommand is None:  # a subcommand (resolve, bounces) runs on its own
        session.run(ctx.obj.root, warn=warn, **options).show(click.echo)  # type: ignore[arg-type]


@command(dispatch_, "resolve")
@click.argument("key")
@option("--sent/--unsent", default=None, help="What the server's log shows: accepted, or not (then it is sent again).")
def resolve_(repo: Repo, key: str, sent: bool | None) -> None:
    """Settle one `unknown` letter KEY after checking the mail server's log."""
    click.echo(session.resolve(repo.root, key, sent, warn=warn))


@command(dispatch_, "bounces")
@option("--maildir", type=FOLDER, help="Read this Maildir.")
@option("--mbox", type=FILE, help="Read this mbox file.")
@option("--imap", metavar="URL", env="IMAP_URL", help="Read imap(s)://USER@HOST[:PORT]; password in IMAP_PASSWORD.")
@option("--folder", default="INBOX", help="The IMAP folder.")
def bounces_(repo: Repo, **options: object) -> None:
    """Record bounces (delivery reports), replies and automatic replies in the ledger."""
    click.echo(bounces.read(repo.root, warn=warn, **options).text(), nl=False)  # type: ignore[arg-type]


@command(main, "letter")
@option("--mission", "mission_id", required=True, metavar="ID", help="The mission the letter goes to.")
@option("--signature", "signature_path", metavar="PATH", help="A signature file; default: the mission's first, or a sample.")
@option("--format", "fmt", type=click.Choice(preview.FORMATS), default="text", help="text (headers, text), html or eml.")
@option("--pdf", type=FILE, help="Write the mission's print-ready PDF letter here instead.")
def letter_(repo: Repo, mission_id: str, signature_path: str | None, fmt: str, pdf: Path | None) -> None:
    """Preview the letter a mission will receive, exactly as dispatch would send it (or its PDF)."""
    click.echo(paper.letter_pdf(repo.root, mission_id, pdf, warn=warn).line() if pdf else
               preview.preview(repo.root, mission_id, signature_path, fmt, warn=warn), nl=bool(pdf))


@command(main, "letters")
@option("--pdf", required=True, type=FOLDER, help="Folder for the PDFs, one <mission id>.pdf each.")
def letters_(repo: Repo, pdf: Path) -> None:
    """Write every mission's print-ready PDF letter (A4, with its named signatories)."""
    click.echo(paper.letters_pdf(repo.root, pdf, warn=warn).summary())


@command(main, "push-ledger")
def push_ledger_(repo: Repo) -> None:
    """Commit data/dispatch/ on origin's dispatch.ledger_branch and push it (a push race: merge, retry)."""
    click.echo(checkpoint.push_ledger(repo.root, message="dispatch: ledger"))


@command(main, "pull-ledger")
def pull_ledger_(repo: Repo) -> None:
    """Bring origin's ledger branch's lines into data/dispatch/ (lines only here are kept), e.g. for the site."""
    click.echo(checkpoint.restore(repo.root))

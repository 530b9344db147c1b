"""Commands of the signature intake: serve (the site and the form's service), intake ..., followup keygen|export|send."""

from __future__ import annotations

from pathlib import Path

import click

from campaign import intake, mail
from campaign.cli import FILE, FOLDER, Repo, command, lazy, main, option, warn

backup, issue_form, production, server = (lazy(f"campaign.intake.{m}") for m in "backup issue_form production server".split())
automerge, followup = lazy("campaign.review.automerge"), lazy("campaign.intake.followup")

FORGE = option("--forge", "forge_name", type=click.Choice(["local", "github"]), default="local", env="CAMPAIGN_FORGE",
               help="`local`: commit to a branch here; `github`: REST API with CAMPAIGN_GITHUB_TOKEN.")
BASE = option("--base", metavar="BRANCH", env="CAMPAIGN_BASE", help="Branch pull requests target (default: the current one).")
DB = option("--db", type=FILE, env="CAMPAIGN_INTAKE_DB", help=f"The SQLite store (default: {intake.DEFAULT_DB}, git-ignored).")


@command(main, "serve")
@option("--host", default="127.0.0.1", help="Address to listen on.")
@option("--port", type=click.IntRange(0, 65535), default=8000, help="Port to listen on.")
@option("--public-url", metavar="URL", env="CAMPAIGN_PUBLIC_URL", help="Base of confirmation links (default: http://HOST:PORT).")
@DB
@FORGE
@BASE
@option("--mail", "mail_backend", type=click.Choice(mail.NAMES), default="file", env="CAMPAIGN_MAIL_BACKEND", help="For mails.")
@option("--outbox", type=FOLDER, help="Folder of the file backend (default: outbox/, git-ignored).")
@option("--flush-every", type=click.FloatRange(min=0), metavar="SECONDS", help="Commit confirmed signatures this often.")
@option("--site/--no-site", default=True, help="Build the site (every language) and serve it too.")
@option("--allow-origin", "origins", multiple=True, metavar="URL", help="Another origin allowed to post the form.")
@option("--burst", type=click.IntRange(min=1), help="Override intake.limits.burst (submissions per minute per client).")
@option("--hourly", type=click.IntRange(min=1), help="Override intake.limits.hourly (submissions per hour per client).")
@option("--mail-retry-every", type=click.FloatRange(min=0.1), default=30.0, metavar="S", help="Retry deferred mails this often.")
@option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="IP", env="CAMPAIGN_TRUSTED_PROXIES", help="Trust XFF.")
def serve_(repo: Repo, **options: object) -> None:
    """Serve the site and the signature intake on one origin (the README's run command)."""
    server.serve(repo.root, echo=warn, **options)  # type: ignore[arg-type]


@main.group("intake")
def intake_() -> None:
    """The signature intake: flush, status, backup, the production service, issue forms, automerge."""


@command(intake_, "flush")
@DB
@FORGE
@BASE
@option("--batch-size", type=click.IntRange(min=1), default=5000, help="At most this many signatures in the commit.")
def intake_flush(repo: Repo, **options: object) -> None:
    """Commit confirmed signatures as ONE commit on the intake branch; open or update its pull request."""
    click.echo(server.flush(repo.root, **options))  # type: ignore[arg-type]


@command(intake_, "status")
@DB
def intake_status(repo: Repo, db: Path | None) -> None:
    """Count the store's entries: pending, confirmed, flushed, rejected, mails queued."""
    click.echo(server.status(repo.root, db=db))


@command(intake_, "review")
@DB
@option("--release", multiple=True, type=int, metavar="ID", help="Let a held entry be flushed (repeatable).")
@option("--reject", multiple=True, type=int, metavar="ID", help="Set a held entry aside (repeatable).")
def intake_review(repo: Repo, **options: object) -> None:
    """List the entries held for review (names that look like existing ones); release or reject them."""
    click.echo(server.review(repo.root, **options))  # type: ignore[arg-type]


@command(intake_, "backup")
@click.argument("dest", type=FILE)
@DB
def intake_backup(repo: Repo, dest: Path, db: Path | None) -> None:
    """Copy the store to DEST while the service runs (SQLite's online backup; restoring: GUIDE.md)."""
    click.echo(backup.backup(db or repo.root / intake.DEFAULT_DB, dest))


@intake_.command("run")
def intake_run() -> None:
    """The production intake (the container's entrypoint); settings: the environment (GUIDE.md)."""
    production.run(echo=warn)


@command(intake_, "issue")
@option("--event", "event_path", required=True, type=FILE, help="The event JSON ($GITHUB_EVENT_PATH of an `issues` event).")
@option("--forge", "forge_name", type=click.Choice(["local", "github"]), default="github", env="CAMPAIGN_FORGE", help="Where to.")
@BASE
def intake_issue(repo: Repo, event_path: Path, forge_name: str, base: str | None) -> None:
    """Turn an issue-form submission into a pull request, comment and close it (if invalid: comment only)."""
    click.echo("\n".join(issue_form.process(repo.root, event_path, forge_name, base)))


@command(main, "followup")
@click.argument("action", type=click.Choice(["keygen", "export", "send"]))
@click.argument("file", type=FILE)
@DB
@option("--key-file", type=FILE, help="send: the private key's file (default: the key itself in $CAMPAIGN_FOLLOWUP_KEY).")
@option("--mail", "mail_backend", type=click.Choice(mail.NAMES), default="file", help="send: `smtp` (SMTP_*) or `file`.")
def followup_(repo: Repo, action: str, file: Path, **options: object) -> None:
    """Reports to signers who asked: `keygen KEYFILE`, `export FILE` (on the server), `send FILE` (organisers; GUIDE.md)."""
    click.echo(followup.run(repo.root, action, file, **options))  # type: ignore[arg-type]


@command(intake_, "automerge")
@option("--base", required=True, metavar="REF", help="The target branch as fetched, e.g. origin/main.")
@option("--pr", "number", required=True, type=click.IntRange(min=1), env="PR_NUMBER", help="Pull request number.")
@option("--sha", required=True, metavar="SHA", env="PR_HEAD_SHA", help="The validated head commit.")
def intake_automerge(repo: Repo, base: str, number: int, sha: str) -> None:
    """Merge a pull request that only adds valid signatures, if the target branch's intake.automerge is on."""
    click.echo(automerge.automerge(repo.root, base, number, sha))

"""Commands of the signature intake: serve (the site and the form's service), intake flush|status|issue|automerge."""

from __future__ import annotations

from pathlib import Path

import click

from campaign.cli import Repo, main, warn
from campaign.intake import issue_form, server
from campaign.review.automerge import automerge

MAIL_BACKENDS = ("file", "smtp", "console", "memory")
FORGE = click.option("--forge", "forge_name", type=click.Choice(["local", "github"]), default="local", show_default=True,
                     envvar="CAMPAIGN_FORGE", help="`local`: commit to a branch of this repository; `github`: "
                     "REST API with CAMPAIGN_GITHUB_TOKEN (a token whose pull requests trigger CI).")
BASE = click.option("--base", metavar="BRANCH", envvar="CAMPAIGN_BASE",
                    help="Branch pull requests target (local: the checked-out branch; github: the default branch).")
DB = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), envvar="CAMPAIGN_INTAKE_DB",
                  help=f"The SQLite store (default: {server.DEFAULT_DB} in the repository, git-ignored).")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--public-url", metavar="URL", envvar="CAMPAIGN_PUBLIC_URL",
              help="Base address used in confirmation links (default: intake.endpoint with the github forge, "
                   "else http://HOST:PORT).")
@DB
@FORGE
@BASE
@click.option("--mail", "mail_backend", type=click.Choice(MAIL_BACKENDS), default="file", show_default=True,
              envvar="CAMPAIGN_MAIL_BACKEND",
              help="Confirmation mail backend; `file` writes .eml files to the outbox (SMTP_* variables for smtp).")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the file backend (default: outbox/ in the repository, git-ignored).")
@click.option("--flush-every", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Commit confirmed signatures this often (default: 10 with the local forge, 300 with github; 0: never, "
                   "use `campaign intake flush`).")
@click.option("--site/--no-site", default=True, show_default=True, help="Build the site with mkdocs and serve it too.")
@click.option("--allow-origin", "origins", multiple=True, metavar="URL",
              help="Another origin allowed to post the form (besides intake.allowed_origins).")
@click.option("--burst", type=click.IntRange(min=1), help="Override intake.limits.burst (submissions per minute per client).")
@click.option("--hourly", type=click.IntRange(min=1), help="Override intake.limits.hourly (submissions per hour per client).")
@click.option("--mail-retry-every", type=click.FloatRange(min=0.1), default=30.0, show_default=True, metavar="SECONDS",
              help="How often deferred confirmation mails are retried.")
@click.pass_obj
def serve_(repo: Repo, **options: object) -> None:
    """Serve the site and the signature intake on one origin (the README's run command).

    With no options: builds the site into .cache/intake/site, serves it with the form's API on
    http://127.0.0.1:8000, writes confirmation mails to outbox/ and commits confirmed
    signatures to the intake branch (intake.branch) of this repository every 10 seconds,
    without touching the working tree. The fingerprint key comes from CAMPAIGN_FINGERPRINT_KEY,
    or is generated once in .cache/intake/ (git-ignored) for a local run.
    """
    server.serve(repo.root, echo=warn, **options)  # type: ignore[arg-type]


@main.group("intake")
def intake_() -> None:
    """The signature intake: flush confirmed form signatures, handle issue forms, automerge."""


@intake_.command("flush")
@DB
@FORGE
@BASE
@click.option("--batch-size", type=click.IntRange(min=1), default=5000, show_default=True,
              help="At most this many signatures in the commit (the rest wait for the next flush).")
@click.pass_obj
def intake_flush(repo: Repo, **options: object) -> None:
    """Commit confirmed signatures as ONE commit on the intake branch; open or update its pull request."""
    click.echo(server.flush(repo.root, **options))  # type: ignore[arg-type]


@intake_.command("status")
@DB
@click.pass_obj
def intake_status(repo: Repo, db: Path | None) -> None:
    """Count the store's entries: pending, confirmed, flushed, rejected, mails queued."""
    click.echo(server.status(repo.root, db=db))


@intake_.command("issue")
@click.option("--event", "event_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The event JSON ($GITHUB_EVENT_PATH of an `issues` event).")
@click.option("--forge", "forge_name", type=click.Choice(["local", "github"]), default="github", show_default=True,
              envvar="CAMPAIGN_FORGE", help="Where the pull request and the comment go (`local`: a branch here; "
              "comments are printed).")
@BASE
@click.pass_obj
def intake_issue(repo: Repo, event_path: Path, forge_name: str, base: str | None) -> None:
    """Turn an issue-form submission into a pull request, comment on the issue and close it.

    Issues without an intake label, or closed ones, are left alone. An invalid or duplicate
    submission gets a comment with the validator's message and stays open for editing.
    """
    click.echo("\n".join(issue_form.process(repo.root, event_path, forge_name, base)))


@intake_.command("automerge")
@click.option("--base", required=True, metavar="REF", help="The target branch as fetched, e.g. origin/main.")
@click.option("--pr", "number", required=True, type=click.IntRange(min=1), envvar="PR_NUMBER", help="Pull request number.")
@click.option("--sha", required=True, metavar="SHA", envvar="PR_HEAD_SHA", help="The validated head commit.")
@click.pass_obj
def intake_automerge(repo: Repo, base: str, number: int, sha: str) -> None:
    """Merge a pull request that only adds valid signatures, if intake.automerge is on.

    The setting is read from the target branch (not from the pull request), every change
    must be an added file under data/signatories/, the data must validate, and only the
    validated head commit is merged (GitHub refuses if the branch moved).
    """
    click.echo(automerge(repo.root, base, number, sha))

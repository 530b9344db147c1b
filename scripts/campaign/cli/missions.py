"""Commands over the mission directory: build, refresh, check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from campaign.cli import Repo, main
from campaign.data import dataset
from campaign.directory import build, check, refresh


@main.group()
def missions() -> None:
    """The mission directory (data/missions.yaml)."""


@missions.command("build")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write (default: data/missions.yaml of the campaign).")
@click.pass_obj
def missions_build(repo: Repo, source: Path, output: Path | None) -> None:
    """Generate the directory from the compiled UK-missions SOURCE file (see its SOURCES.md)."""
    click.echo(build.write(source, output or repo.root / dataset.MISSIONS))


@missions.command("refresh")
@click.option("--base-url", default="https://www.gov.uk", show_default=True, envvar="CAMPAIGN_GOVUK_URL", metavar="URL",
              help="Where GOV.UK's Search and Content APIs are served.")
@click.option("--write", "write_", is_flag=True, help="Apply the changes to data/missions.yaml (default: only show them).")
@click.option("--jobs", type=click.IntRange(1, 8), default=4, show_default=True, help="Requests in flight at most.")
@click.option("--timeout", type=click.FloatRange(1, 300), default=20.0, show_default=True, help="Seconds per request.")
@click.option("--attempts", type=click.IntRange(1, 10), default=4, show_default=True,
              help="Tries per request on 429, 5xx and network errors.")
@click.option("--backoff", type=click.FloatRange(0, 60), default=1.0, show_default=True,
              help="Seconds before the first retry, doubled each time (with jitter; Retry-After is honoured).")
@click.pass_obj
def missions_refresh(repo: Repo, **options: object) -> None:
    """Compare the directory with GOV.UK and show the differences; --write applies them.

    Lists GOV.UK's worldwide organisations, fetches each of ours (and each new diplomatic
    mission), and prints missions added, changed (each field, old -> new) and closed. Fields
    set by hand (primary, also_covers, status, note, those in `keep`) and missions without a
    GOV.UK organisation url are left alone. One bad response changes nothing.
    """
    refresh.run(repo.root, echo=click.echo, **options)  # type: ignore[arg-type]


@missions.command("check")
@click.option("--max-age-days", type=click.IntRange(min=1), default=check.DEFAULT_MAX_AGE_DAYS, show_default=True,
              help="Report records whose `verified` date is older than this.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 when there is any finding (default: a report, exit 0).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), hidden=True, help="Pretend today is this date (tests).")
@click.pass_context
def missions_check(ctx: click.Context, max_age_days: int, fmt: str, strict: bool, today: dt.datetime | None) -> None:
    """List the missions that need a person: no usable channel, retired email domains, closed
    or suspended posts, missing or invalid phones, old data, failing contacts.

    One `data/missions.yaml:LINE: ID: finding; what to do` per finding, then counts. A report:
    exits 0 even with findings unless --strict.
    """
    found = check.run(ctx.obj.root, max_age_days=max_age_days, today=today.date() if today else None)
    click.echo(found.json() if fmt == "json" else found.text())
    if strict and found.findings:
        ctx.exit(1)

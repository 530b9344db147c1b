"""Commands over the mission directory: build, refresh, check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from campaign.cli import Repo, command, lazy, main, option
from campaign.data import dataset
from campaign.directory import check

build, refresh = lazy("campaign.directory.build"), lazy("campaign.directory.refresh")


@main.group()
def missions() -> None:
    """The mission directory (data/missions.yaml)."""


@command(missions, "build")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write (default: data/missions.yaml).")
def missions_build(repo: Repo, source: Path, output: Path | None) -> None:
    """Generate the directory from the compiled UK-missions SOURCE file (see its SOURCES.md)."""
    click.echo(build.write(source, output or repo.root / dataset.MISSIONS))


@command(missions, "refresh")
@option("--base-url", default="https://www.gov.uk", env="CAMPAIGN_GOVUK_URL", metavar="URL", help="Where GOV.UK's APIs are.")
@option("--write", "write_", is_flag=True, help="Apply the changes to data/missions.yaml (default: only show them).")
@option("--jobs", type=click.IntRange(1, 8), default=4, help="Requests in flight at most.")
@option("--timeout", type=click.FloatRange(1, 300), default=20.0, help="Seconds per request.")
@option("--attempts", type=click.IntRange(1, 10), default=4, help="Tries per request on 429, 5xx and network errors.")
@option("--backoff", type=click.FloatRange(0, 60), default=1.0, help="Seconds before the first retry, doubled each time.")
@option("--pull-request", "forge_name", type=click.Choice(["local", "github"]), help="Propose the changes on a branch instead.")
def missions_refresh(repo: Repo, **options: object) -> None:
    """Compare the directory with GOV.UK and show the differences; --write applies them (hand-set fields stay)."""
    refresh.run(repo.root, echo=click.echo, **options)  # type: ignore[arg-type]


@command(missions, "check")
@option("--max-age-days", type=click.IntRange(min=1), default=check.DEFAULT_MAX_AGE_DAYS, help="Report older `verified` dates.")
@option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="The report's format.")
@option("--strict", is_flag=True, help="Exit 1 when there is any finding (default: a report, exit 0).")
@option("--today", type=click.DateTime(["%Y-%m-%d"]), hidden=True, help="Pretend today is this date (tests).")
def missions_check(repo: Repo, max_age_days: int, fmt: str, strict: bool, today: dt.datetime | None) -> None:
    """List the missions that need a person (no usable channel, retired or failing emails, ...) and the routes."""
    found = check.run(repo.root, max_age_days=max_age_days, today=today.date() if today else None)
    click.echo(found.json() if fmt == "json" else found.text())
    raise click.exceptions.Exit(1 if strict and found.findings else 0)

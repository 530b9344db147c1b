"""Commands over the campaign's data: validate, sign, import, schema, stats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from campaign.cli import Repo, command, lazy, main, option
from campaign.core.errors import CampaignError, render
from campaign.data import dataset, schema, signatures
from campaign.records import counters

incremental = lazy("campaign.review.incremental")  # forge and httpx: only for validate


@main.command()
@option("--base", metavar="REF", help="Also apply the pull-request rules to changes since REF (e.g. origin/main).")
@option("--restore", metavar="github|FILE", help="With --base: first restore the base's summary (`github`: its workflow artifact).")
@option("--summary", type=click.Path(dir_okay=False, path_type=Path), help="Also write the summary of HEAD's tree to this file.")
@option("--format", "fmt", type=click.Choice(["text", "github"]), default="text", help="`github` prints workflow annotations.")
@option("--strict", is_flag=True, help="Fail on warnings too (stale translations, look-alike names).")
@click.pass_context
def validate(ctx: click.Context, base: str | None, restore: str | None, summary: Path | None, fmt: str, strict: bool) -> None:
    """Check every file under data/ and the rules between them; `path:line: message` per problem."""
    ctx.meta["format"] = fmt
    result = incremental.validate(ctx.obj.root, base, restore, summary)
    if result.note:  # how it was checked: the base summary used, or why in full
        click.echo(result.note, err=True)
    if result.warnings and not strict:  # look-alike names, stale translations: for a maintainer
        click.echo(render(result.warnings, fmt, "warning"), err=fmt == "text")
    if result.problems or (strict and result.warnings):
        raise CampaignError(result.problems + (result.warnings if strict else []))
    click.echo(result.summary, err=fmt == "github")


@command(main)
@option("--name", required=True, help="Full name of the person or organisation.")
@option("--country", required=True, help="ISO country code of residence (or seat), e.g. PT.")
@option("--organisation", "kind", flag_value="organisation", help="Sign as an organisation.")
@option("--individual", "kind", flag_value="individual", default=True, help="Sign as a person (default).")
@option("--mission", help="Mission id to receive the letter (default: the country's primary mission).")
@option("--url", help="An organisation's https web site.")
@option("--publish/--no-publish", default=None, help="Consent to list the name on the site (--no-publish declines).")
@option("--letter/--no-letter", default=None, help="Consent to include the name in the letter (--no-letter declines).")
@option("--source", type=click.Choice(["pull-request", "issue", "form", "import"]), default="pull-request", help="How it came.")
def sign(repo: Repo, kind: str, country: str, **fields: object) -> None:
    """Write one signature file (for organisations and maintainers)."""
    click.echo(signatures.sign(dataset.load(repo.root), {"type": kind, "country": country.upper(), **fields}))


@command(main, "import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@option("--signed", type=click.DateTime(["%Y-%m-%d"]), help="Date for rows without a `signed` column (default today).")
@option("--skip-invalid", is_flag=True, help="Write the valid rows even if some are rejected.")
def import_(repo: Repo, csv_file: Path, signed: dt.datetime | None, skip_invalid: bool) -> None:
    """Import a CSV list: name, country, publish, letter (yes/no), optionally type, mission, url, signed."""
    written, rejected = signatures.import_csv(dataset.load(repo.root), csv_file, (signed or dt.datetime.now()).date(), skip_invalid)
    click.echo(f"imported {len(written)} signatures, rejected {len(rejected)} rows", err=True)
    if rejected:
        raise CampaignError(rejected)


@command(main, "schema")
@option("--check", is_flag=True, help="Only report stale schema files (exit 1 if any).")
def schema_(repo: Repo, check: bool) -> None:
    """Write JSON Schemas for every data file to schemas/."""
    if check:
        schema.check(repo.root)
    else:
        click.echo("".join(f"wrote {rel}\n" for rel in schema.write(repo.root)), nl=False)


@command(main, "stats")
@option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def stats_(repo: Repo, as_json: bool) -> None:
    """Count signatures, missions and letters sent (from the dispatch ledger)."""
    click.echo(counters.stats_text(counters.stats(dataset.load_with_campaign(repo.root)), as_json))

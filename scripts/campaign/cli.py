"""The `campaign` command: a thin click layer over the library."""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from pathlib import Path

import click

from . import checks, dataset, pullrequest, schema, signatures
from .problems import CampaignError, Problem, render


class Group(click.Group):
    """Turns CampaignError into `path:line: message` lines and exit 1; no tracebacks."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CampaignError as exc:
            fmt = ctx.meta.get("format", "text")
            click.echo(render(exc.problems, fmt), err=fmt == "text")
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - last resort: never show users a traceback
            if os.environ.get("CAMPAIGN_DEBUG"):
                traceback.print_exc()
            click.echo(f"campaign: internal error: {type(exc).__name__}: {exc} "
                       "(set CAMPAIGN_DEBUG=1 for details and please report it)", err=True)
            ctx.exit(2)


def _root(ctx: click.Context) -> Path:
    return dataset.find_root(ctx.obj.get("root"))


@click.group(cls=Group)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="The campaign repository (default: the nearest folder holding data/campaign.yaml).")
@click.version_option(package_name="campaign")
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Run an open-letter campaign from a Git repository."""
    ctx.ensure_object(dict)
    ctx.obj["root"] = root


@main.command()
@click.option("--base", metavar="REF", help="Also apply the pull-request rules to changes since REF (e.g. origin/main).")
@click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text", show_default=True,
              help="`github` prints workflow annotations.")
@click.pass_context
def validate(ctx: click.Context, base: str | None, fmt: str) -> None:
    """Check every file under data/ and the rules between them.

    Prints one `path:line: message` per problem and exits 1 if there is any.
    """
    ctx.meta["format"] = fmt
    root = _root(ctx)
    ds = dataset.load(root)
    problems = checks.validate(ds)
    if base:
        problems += pullrequest.check(root, base)
    if problems:
        raise CampaignError(problems)
    click.echo(f"ok: {len(ds.signatures)} signatures, {len(ds.missions)} missions, {len(ds.actions)} actions",
               err=fmt == "github")


@main.command()
@click.option("--name", required=True, help="Full name of the person or organisation.")
@click.option("--country", required=True, help="ISO country code of residence (or seat), e.g. PT.")
@click.option("--organisation", "kind", flag_value="organisation", help="Sign as an organisation.")
@click.option("--individual", "kind", flag_value="individual", default=True, help="Sign as a person (default).")
@click.option("--mission", help="Mission id to receive the letter (default: the country's primary mission).")
@click.option("--url", help="An organisation's https web site.")
@click.option("--publish/--no-publish", required=True, help="Consent to list the name on the site.")
@click.option("--letter/--no-letter", required=True, help="Consent to include the name in the letter.")
@click.option("--source", type=click.Choice(["pull-request", "issue", "form", "import"]), default="pull-request", show_default=True)
@click.pass_context
def sign(ctx: click.Context, name: str, country: str, kind: str, mission: str | None, url: str | None,
         publish: bool, letter: bool, source: str) -> None:
    """Write one signature file (for organisations and maintainers)."""
    ds = dataset.load(_root(ctx))
    path = signatures.sign(ds, {
        "type": kind, "name": name, "country": country.upper(), "mission": mission, "url": url,
        "publish": publish, "letter": letter, "source": source,
    })
    click.echo(path)


@main.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--signed", type=click.DateTime(["%Y-%m-%d"]), help="Date for rows without a `signed` column (default today).")
@click.option("--skip-invalid", is_flag=True, help="Write the valid rows even if some are rejected.")
@click.pass_context
def import_(ctx: click.Context, csv_file: Path, signed: dt.datetime | None, skip_invalid: bool) -> None:
    """Import a CSV list of additional signatories.

    Columns: name, country, publish, letter (yes/no), and optionally type, mission, url, signed.
    Without --skip-invalid nothing is written unless every row is valid.
    """
    ds = dataset.load(_root(ctx))
    written, rejected = signatures.import_csv(ds, csv_file, (signed or dt.datetime.now()).date(), skip_invalid)
    click.echo(f"imported {len(written)} signatures, rejected {len(rejected)} rows", err=True)
    if rejected:
        raise CampaignError(rejected)


@main.command("schema")
@click.option("--check", is_flag=True, help="Only report stale schema files (exit 1 if any).")
@click.pass_context
def schema_(ctx: click.Context, check: bool) -> None:
    """Write JSON Schemas for every data file to schemas/."""
    root = _root(ctx)
    if check:
        stale = schema.stale(root)
        if stale:
            raise CampaignError([Problem(rel, 1, "out of date; run `campaign schema`") for rel in stale])
        return
    for rel in schema.write(root):
        click.echo(f"wrote {rel}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

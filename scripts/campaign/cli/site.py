"""Commands of the site and its languages: build, i18n status|new."""

from __future__ import annotations

import click

from campaign.cli import Repo, command, lazy, main, option

workflow, site_build = lazy("campaign.i18n.workflow"), lazy("campaign.site.build")


@command(main, "build")
@option("-d", "--site-dir", type=click.Path(file_okay=False), help="Where to build (default: site/).")
@option("--languages", metavar="LIST", help="Comma-separated languages, English first (default: all of `languages`).")
def build_(repo: Repo, **options: object) -> None:
    """Build the site in every language, strictly: English at the root, the others in <lang>/ (CAMPAIGN_JOBS at once)."""
    click.echo(site_build.build_all(repo.root, **options).summary())  # type: ignore[arg-type]


@command(main, "i18n")
@click.argument("action", type=click.Choice(["status", "new"]))
@click.argument("lang", required=False)
def i18n_(repo: Repo, action: str, lang: str | None) -> None:
    """The translators' workflow: `status` (exit 1 on a broken placeholder), `new LANG` (a language's stubs)."""
    click.echo(workflow.run(repo.root, action, lang))

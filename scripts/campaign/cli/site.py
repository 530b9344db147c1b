"""Commands of the site, its languages and its launch: build, i18n status|new, doctor."""

from __future__ import annotations

import click

from campaign.cli import Repo, command, lazy, main, option

workflow, site_build, doctor = (lazy(f"campaign.{m}") for m in ("i18n.workflow", "site.build", "launch.doctor"))


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


@command(main, "doctor")
@option("--skip", multiple=True, metavar="CHECK", help="Leave a check out (the report names them), e.g. `site`: the build.")
@option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="The report's format.")
def doctor_(repo: Repo, skip: tuple[str, ...], fmt: str) -> None:
    """Is the campaign ready to launch? One line per problem; exit 1 if one blocks the launch (GUIDE.md)."""
    found = doctor.run(repo.root, skip=skip)
    click.echo(found.json() if fmt == "json" else found.text())
    raise click.exceptions.Exit(0 if found.ready else 1)

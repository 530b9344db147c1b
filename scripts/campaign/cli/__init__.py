"""The `campaign` command, a thin click layer: each command parses options, calls one library function, prints."""

from __future__ import annotations

import importlib
import os
import traceback
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import click

from campaign.core.errors import CampaignError, render
from campaign.data import dataset


class Group(click.Group):
    """Prints a CampaignError as `path:line: message` lines and exits 1; never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CampaignError as exc:
            fmt = ctx.meta.get("format", "text")
            click.echo(render(exc.problems, fmt), err=fmt == "text")
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:  # noqa: BLE001 - last resort: never show users a traceback
            if os.environ.get("CAMPAIGN_DEBUG"):
                traceback.print_exc()
            click.echo(f"campaign: internal error: {type(exc).__name__}: {exc} "
                       "(set CAMPAIGN_DEBUG=1 for details and please report it)", err=True)
            ctx.exit(2)


@dataclass
class Repo:
    """The campaign repository the command works on (found on first use)."""

    given: Path | None

    @cached_property
    def root(self) -> Path:
        return dataset.find_root(self.given)


warn = partial(click.echo, err=True)  # a note for the person at the terminal (standard error)
FILE, FOLDER = click.Path(dir_okay=False, path_type=Path), click.Path(file_okay=False, path_type=Path)


def lazy(name: str) -> Any:
    """The module `name`, imported when first used: a command loads only what it runs."""
    return type("Lazy", (), {"__getattr__": lambda _self, attr: getattr(importlib.import_module(name), attr)})()


def command(group: click.Group, name: str | None = None):  # -> a click decorator
    """`group.command(name)` whose function receives the `Repo` first (click.pass_obj)."""
    return lambda f: group.command(name)(click.pass_obj(f))


def option(*decls: str, env: str | None = None, **kw: object):  # -> a click decorator
    """`click.option`, showing its default whenever it has one; `env` names its environment variable."""
    return click.option(*decls, envvar=env, show_default="default" in kw and kw["default"] is not None, **kw)


@click.group(cls=Group)
@option("--root", type=FOLDER, help="The campaign repository (default: the nearest folder holding data/campaign.yaml).")
@click.version_option(package_name="campaign")
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Run an open-letter campaign from a Git repository."""
    ctx.obj = Repo(root)


from campaign.cli import data, dispatch, intake, missions, site  # noqa: E402,F401 - register the commands

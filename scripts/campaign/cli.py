"""The `campaign` command: a thin click layer over the library."""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from pathlib import Path

import click

from . import checks, dataset, directory, pullrequest, schema, signatures
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


@main.group()
def missions() -> None:
    """The mission directory (data/missions.yaml)."""


@missions.command("build")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write (default: data/missions.yaml of the campaign).")
@click.pass_context
def missions_build(ctx: click.Context, source: Path, output: Path | None) -> None:
    """Generate the directory from the compiled UK-missions SOURCE file (see its SOURCES.md)."""
    text = directory.build(source)
    target = output or _root(ctx) / dataset.MISSIONS
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


# --- dispatch: letters, sending, ledger, stats (issue 4) ------------------------------------


def _dispatch_dataset(root: Path) -> dataset.Dataset:
    """The dataset for sending: the campaign and missions must load; a bad signature file is
    skipped with a warning (run `campaign validate` for details) rather than stopping the day."""
    ds = dataset.load(root)
    fatal = [p for p in ds.problems if p.path in (dataset.CAMPAIGN, dataset.MISSIONS) or p.path.startswith(dataset.LETTERS)]
    if fatal or ds.campaign is None:
        raise CampaignError(fatal or [Problem(dataset.CAMPAIGN, 1, "the campaign settings did not load")])
    skipped = {p.path for p in ds.problems}
    if skipped:
        click.echo(f"warning: {len(skipped)} data files have problems and were skipped; run `campaign validate`", err=True)
    return ds


@main.command("dispatch")
@click.option("--backend", type=click.Choice(["file", "smtp", "console", "memory"]), default="file", show_default=True,
              envvar="CAMPAIGN_BACKEND", help="Where letters go: `file` writes .eml files to the outbox and sends nothing.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the file backend (default: outbox/ in the repository, git-ignored).")
@click.option("--now", metavar="ISO-8601", envvar="CAMPAIGN_NOW",
              help="Pretend it is this moment (with a UTC offset), for rehearsals and tests.")
@click.option("--force", is_flag=True, envvar="CAMPAIGN_FORCE",
              help="Send every letter now, whatever the date, time zone or deadline.")
@click.option("--mission", "missions", multiple=True, metavar="ID", envvar="CAMPAIGN_MISSION",
              help="Only this mission's letters (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), envvar="CAMPAIGN_LIMIT", help="Send at most N letters.")
@click.option("--dry-run", is_flag=True, envvar="CAMPAIGN_DRY_RUN",
              help="Plan and render, but send nothing and write no ledger line.")
@click.option("--resend-unknown", is_flag=True, envvar="CAMPAIGN_RESEND_UNKNOWN",
              help="Also resend letters whose outcome is unknown (the link dropped after the message was handed over).")
@click.option("--attempts", type=click.IntRange(1, 50), default=5, show_default=True, envvar="CAMPAIGN_ATTEMPTS",
              help="Tries per deferred letter within this run.")
@click.option("--backoff", type=click.FloatRange(0, 3600), default=5.0, show_default=True, envvar="CAMPAIGN_BACKOFF",
              help="Seconds before the first retry of a deferred letter; doubles each try.")
@click.option("--max-backoff", type=click.FloatRange(0, 3600), default=300.0, show_default=True,
              envvar="CAMPAIGN_MAX_BACKOFF", help="Longest pause between two tries.")
@click.option("--throttle/--no-throttle", default=None,
              help="Apply dispatch.throttle from data/campaign.yaml (default: with smtp only).")
@click.option("--time-budget", type=click.FloatRange(min=0), metavar="SECONDS", envvar="CAMPAIGN_TIME_BUDGET",
              help="Stop cleanly after this long; untried letters are left deferred for the next run.")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Ledger file (default: data/dispatch/<campaign>-<date>.jsonl).")
@click.option("--push", is_flag=True, envvar="CAMPAIGN_PUSH",
              help="Commit and push the ledger every --checkpoint-every seconds and at the end.")
@click.option("--checkpoint-every", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="Seconds between ledger checkpoints with --push.")
@click.option("-v", "--verbose", is_flag=True, help="Print one line per attempt (letter key, mission, reply).")
@click.pass_context
def dispatch_(ctx: click.Context, backend: str, outbox: Path | None, now: str | None, force: bool, missions: tuple[str, ...],
              limit: int | None, dry_run: bool, resend_unknown: bool, attempts: int, backoff: float, max_backoff: float,
              throttle: bool | None, time_budget: float | None, ledger_path: Path | None, push: bool,
              checkpoint_every: float, verbose: bool) -> None:
    """Send the letters that are due, record each in the ledger, print a report.

    A mission's letters are due on the dispatch date from the send time in the mission's own
    time zone; outside that window nothing is sent unless --force (deferred letters are retried
    until the deadline). Reruns never resend a letter the ledger records as sent. SMTP settings
    come from SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_SECURITY, SMTP_TIMEOUT.
    Under GitHub Actions the report also goes to the step summary.
    """
    import signal

    from . import checkpoint as checkpoint_
    from . import ledger as ledger_
    from . import mail, planning, report
    from .dispatch import Dispatcher, Settings
    from .throttle import Throttle

    root = _root(ctx)
    moment = planning.parse_now(now) if now else dt.datetime.now(dt.timezone.utc)
    ds = _dispatch_dataset(root)
    assert ds.campaign is not None
    settings = Settings(now=moment, force=force, missions=missions, limit=limit, dry_run=dry_run,
                        resend_unknown=resend_unknown, attempts=attempts, backoff=backoff, max_backoff=max_backoff,
                        time_budget=time_budget, checkpoint_every=checkpoint_every if push else None)
    options: dict[str, object] = {"outbox": outbox or root / "outbox"} if backend == "file" else {}
    try:
        mailer = None if dry_run else mail.get_backend(backend, **options)
    except mail.BackendError as exc:
        raise click.ClickException(str(exc)) from None
    use_throttle = backend == "smtp" if throttle is None else throttle
    limits = Throttle.from_settings(ds.campaign.dispatch.throttle) if use_throttle else None
    with ledger_.Ledger.for_campaign(root, ds.campaign, ledger_path) as book:

        def save() -> None:
            book.close()  # reopened by the next append, also if a rebase replaced the file
            try:
                click.echo(checkpoint_.push_ledger(root), err=True)
            except CampaignError as exc:
                click.echo(f"warning: checkpoint failed, continuing: {exc}", err=True)

        runner = Dispatcher(ds, mailer, book, settings, limits, checkpoint=save if push and not dry_run else None,
                            progress=(lambda line: click.echo(line, err=True)) if verbose else None)

        def stop(signum: int, _frame: object) -> None:
            if runner.stop_requested:  # a second signal: stop now
                raise KeyboardInterrupt
            runner.stop_requested = f"received {signal.Signals(signum).name}"

        # A cancelled workflow gets SIGINT, then SIGTERM: finish the letter in hand, record the
        # rest as deferred, report and push; a second signal stops at once.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            result = runner.run()
        except KeyboardInterrupt:
            raise click.Abort() from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        summary = report.build(result, book)
    click.echo(summary.text(), nl=False)
    summary.write_step_summary()
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in summary.annotations():
            click.echo(line)
    if push and not dry_run:
        save()
    if result.fatal:
        raise click.ClickException(f"dispatch stopped: {result.fatal}")


@main.command("letter")
@click.option("--mission", "mission_id", required=True, metavar="ID", help="The mission the letter goes to.")
@click.option("--signature", "signature_path", metavar="PATH",
              help="A signature file (data/signatories/...); default: the mission's first, or a sample.")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "eml"]), default="text", show_default=True,
              help="`text`: headers and plain text; `html`: the HTML alternative; `eml`: the whole message.")
@click.pass_context
def letter_(ctx: click.Context, mission_id: str, signature_path: str | None, fmt: str) -> None:
    """Preview the letter a mission will receive, exactly as dispatch would send it."""
    from . import letter, planning
    from .models import Signature

    root = _root(ctx)
    ds = _dispatch_dataset(root)
    assert ds.campaign is not None
    the_plan = planning.plan(ds, dt.datetime.now(dt.timezone.utc), force=True, missions=[mission_id])
    mission = ds.mission_by_id[mission_id]
    letters_ = the_plan.missions[mission_id].letters if mission_id in the_plan.missions else []
    if signature_path:
        wanted = Path(signature_path).as_posix().removeprefix("./")
        chosen = [item for item in letters_ if wanted in item.paths]
        if not chosen:
            raise CampaignError([Problem(wanted, 1, f"no letter from this signature goes to {mission_id}; "
                                         "check the path and the signature's mission")])
        item = chosen[0]
        sigs, key = (item.signatures, item.key)
        if ds.campaign.dispatch.mode == "individual":
            index = item.paths.index(wanted)
            sigs, key = (item.signatures[index],), item.key
    elif letters_:
        sigs, key = letters_[0].signatures, letters_[0].key
    else:
        sample = Signature.model_validate({"type": "individual", "name": "A. Sample Signer", "country": mission.country,
                                           "mission": mission.id, "signed": ds.campaign.dispatch.date,
                                           "publish": False, "letter": True, "source": "form"})
        sigs, key = (sample,), "sample"
        click.echo("(no signature for this mission yet: a sample signer is shown)", err=True)
    lang, template = letter.template_for(ds.letters, ds.campaign)
    try:
        msg = letter.compose(ds.campaign, template, mission, sigs, key, letter.version(template, ds.campaign.dispatch.subject),
                             lang=lang)
    except letter.LetterError as exc:
        raise CampaignError([Problem(dataset.MISSIONS, 1, str(exc))]) from None
    if fmt == "eml":
        click.echo(msg.as_string(policy=msg.policy.clone(utf8=True)), nl=False)
    elif fmt == "html":
        click.echo(msg.get_body(("html",)).get_content(), nl=False)  # type: ignore[union-attr]
    else:
        for name in ("From", "To", "Reply-To", "Subject", "Message-ID"):
            if msg[name]:
                click.echo(f"{name}: {msg[name]}")
        click.echo("")
        click.echo(msg.get_body(("plain",)).get_content(), nl=False)  # type: ignore[union-attr]


@main.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def stats_(ctx: click.Context, as_json: bool) -> None:
    """Count signatures, missions and letters sent (from the dispatch ledger)."""
    import json

    from . import ledger

    root = _root(ctx)
    ds = dataset.load(root)
    if ds.campaign is None:
        raise CampaignError([p for p in ds.problems if p.path == dataset.CAMPAIGN])
    sigs = [r.model for r in ds.signatures]
    sent = ledger.summary(root, ds.campaign)
    counts = {
        "signatures": len(sigs),
        "individuals": sum(s.type == "individual" for s in sigs),
        "organisations": sum(s.type == "organisation" for s in sigs),
        "names_published": sum(s.publish for s in sigs),
        "names_in_letters": sum(s.letter for s in sigs),
        "countries": len({s.country for s in sigs}),
        "missions": len(ds.missions),
        "missions_with_email": sum(bool(r.model.email) for r in ds.missions),
        "letters_sent": sent.sent,
        "signatures_delivered": sent.signatures_sent,
        "letters_deferred": sent.states["deferred"],
        "letters_failed": sent.states["failed"],
        "letters_unknown": sent.states["unknown"] + sent.states["sending"],
    }
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    width = max(len(k) for k in counts)
    for key, value in counts.items():
        click.echo(f"{key.replace('_', ' '):{width}}  {value:>8,}")


@main.command("push-ledger")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", help="Branch to push to (default: the current one, or $GITHUB_REF_NAME).")
@click.option("--attempts", type=click.IntRange(1, 20), default=5, show_default=True,
              help="Tries when another push got there first (fetch, rebase, push again).")
@click.option("--pause", type=click.FloatRange(0, 60), default=2.0, show_default=True,
              help="Seconds before the second try; doubles each time (with jitter).")
@click.pass_context
def push_ledger_(ctx: click.Context, remote: str, branch: str | None, attempts: int, pause: float) -> None:
    """Commit data/dispatch/ (and nothing else) and push it, retrying on a push race.

    With GITHUB_TOKEN set and an https remote, the token is given to git through the
    environment, so the checkout need not persist credentials.
    """
    from . import checkpoint

    click.echo(checkpoint.push_ledger(_root(ctx), remote, branch, attempts, message="dispatch: ledger", pause=pause))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

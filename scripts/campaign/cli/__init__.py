"""The `campaign` command: a thin click layer over the library."""

from __future__ import annotations

import datetime as dt
import os
import traceback
from pathlib import Path

import click

from campaign.core.errors import CampaignError, Problem, render
from campaign.data import checks, dataset, schema, signatures
from campaign.directory import build as directory
from campaign.review import incremental as prcheck
from campaign.review import rules as pullrequest


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

    Prints one `path:line: message` per problem and exits 1 if there is any. With --base, a pull
    request that only adds signature or action files is checked incrementally: its files
    against a cached summary of the base tree, once that base has been validated here.
    """
    ctx.meta["format"] = fmt
    root = _root(ctx)
    if base:
        result = prcheck.check(root, base)
        problems, summary = result.problems, result.summary
    else:
        ds = dataset.load(root)
        problems = checks.validate(ds)
        summary = ds.summary()
    if problems:
        raise CampaignError(problems)
    click.echo(summary, err=fmt == "github")


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
@click.pass_context
def missions_refresh(ctx: click.Context, base_url: str, write_: bool, jobs: int, timeout: float, attempts: int,
                     backoff: float) -> None:
    """Compare the directory with GOV.UK and show the differences; --write applies them.

    Lists GOV.UK's worldwide organisations, fetches each of ours (and each new diplomatic
    mission), and prints missions added, changed (each field, old -> new) and closed. Fields
    set by hand (primary, also_covers, status, note, those in `keep`) and missions without a
    GOV.UK organisation url are left alone. One bad response changes nothing.
    """
    from campaign.data.models import Campaign
    from campaign.directory import govuk, refresh

    root = _root(ctx)
    record, _ = dataset.load_record(root, dataset.CAMPAIGN, Campaign)
    contact = f"https://github.com/{record.model.intake.repository}" if record else None
    with govuk.Client(base_url, timeout=timeout, attempts=attempts, backoff=backoff, jobs=jobs,
                      agent=govuk.user_agent(contact)) as client:
        diff = refresh.plan(root, client)
    click.echo(diff.render())
    if diff.blocking and write_:
        raise CampaignError([Problem(dataset.MISSIONS, 1, text) for text in diff.blocking])
    if not write_:
        click.echo("\ndry run: nothing written; run `campaign missions refresh --write` to apply" if diff.has_changes
                   else "\nnothing to change")
        return
    if not diff.has_changes:
        click.echo("\nnothing to change; data/missions.yaml left as it is")
        return
    refresh.write(root, diff)
    counts = diff.counts()
    click.echo(f"\nwrote {dataset.MISSIONS}: {counts['added']} added, {counts['changed']} changed, {counts['closed']} closed, "
               f"{counts['reverified']} re-dated; review with `git diff` and run `campaign validate`")


@missions.command("check")
@click.option("--max-age-days", type=click.IntRange(min=1), default=3 * 365, show_default=True,
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
    from campaign.directory import check as missioncheck

    root = _root(ctx)
    ds = dataset.load(root)
    bad = [p for p in ds.problems if p.path == dataset.MISSIONS]
    if bad:
        raise CampaignError(bad)
    found = missioncheck.report(ds, max_age_days=max_age_days, today=today.date() if today else None)
    click.echo(found.json() if fmt == "json" else found.text())
    if strict and found.findings:
        ctx.exit(1)


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

    from campaign import mail
    from campaign.dispatch import checkpoint as checkpoint_
    from campaign.dispatch import planning, report
    from campaign.dispatch.runner import Dispatcher, Settings
    from campaign.dispatch.throttle import Throttle
    from campaign.records import ledger as ledger_

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
    from campaign.data.models import Signature
    from campaign.dispatch import planning
    from campaign.records import letter

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

    from campaign.records import ledger

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
    from campaign.dispatch import checkpoint

    click.echo(checkpoint.push_ledger(_root(ctx), remote, branch, attempts, message="dispatch: ledger", pause=pause))


# --- intake: the form service, issue forms, batched pull requests (issue 5) ----------------


def _intake(root: Path, db: Path | None, forge_name: str | None = None, base: str | None = None,
            mail_backend: str = "file", outbox: Path | None = None, public_url: str = "http://127.0.0.1:8000",
            flush_every: float | None = None, burst: int | None = None, hourly: int | None = None):
    """An intake service (library object) with its store, key, forge and mail settings."""
    from campaign.forge.base import get_forge
    from campaign.intake import fingerprint
    from campaign.intake.service import Intake, Settings

    try:
        key, _where = fingerprint.load_key(root)
    except fingerprint.FingerprintKeyError as exc:
        raise click.ClickException(str(exc)) from None
    from campaign.data.models import Campaign

    ds_campaign = dataset.load_record(root, dataset.CAMPAIGN, Campaign)[0]
    repository = ds_campaign.model.intake.repository if ds_campaign else None
    forge = get_forge(forge_name, root, base=base, repository=repository) if forge_name else None
    limits = None
    if ds_campaign and (burst or hourly):
        current = ds_campaign.model.intake.limits
        limits = current.model_copy(update={"burst": burst or current.burst, "hourly": hourly or current.hourly})
    options: dict[str, object] = {"outbox": outbox or root / "outbox"} if mail_backend == "file" else {}
    settings = Settings(root=root, db=db or root / ".cache" / "intake" / "intake.sqlite3", public_url=public_url, key=key,
                        forge=forge, mail_backend=mail_backend, mail_options=options, limits=limits,
                        flush_every=flush_every)
    return Intake(settings)


_FORGE = click.option("--forge", "forge_name", type=click.Choice(["local", "github"]), default="local", show_default=True,
                      envvar="CAMPAIGN_FORGE", help="`local`: commit to a branch of this repository; `github`: "
                      "REST API with CAMPAIGN_GITHUB_TOKEN (a token whose pull requests trigger CI).")
_BASE = click.option("--base", metavar="BRANCH", envvar="CAMPAIGN_BASE",
                     help="Branch pull requests target (local: the checked-out branch; github: the default branch).")
_DB = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), envvar="CAMPAIGN_INTAKE_DB",
                   help="The SQLite store (default: .cache/intake/intake.sqlite3 in the repository, git-ignored).")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--public-url", metavar="URL", envvar="CAMPAIGN_PUBLIC_URL",
              help="Base address used in confirmation links (default: intake.endpoint with the github forge, "
                   "else http://HOST:PORT).")
@_DB
@_FORGE
@_BASE
@click.option("--mail", "mail_backend", type=click.Choice(["file", "smtp", "console", "memory"]), default="file",
              show_default=True, envvar="CAMPAIGN_MAIL_BACKEND",
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
@click.pass_context
def serve_(ctx: click.Context, host: str, port: int, public_url: str | None, db: Path | None, forge_name: str,
           base: str | None, mail_backend: str, outbox: Path | None, flush_every: float | None, site: bool,
           origins: tuple[str, ...], burst: int | None, hourly: int | None, mail_retry_every: float) -> None:
    """Serve the site and the signature intake on one origin (the README's run command).

    With no options: builds the site into .cache/intake/site, serves it with the form's API on
    http://127.0.0.1:8000, writes confirmation mails to outbox/ and commits confirmed
    signatures to the intake branch (intake.branch) of this repository every 10 seconds,
    without touching the working tree. The fingerprint key comes from CAMPAIGN_FINGERPRINT_KEY,
    or is generated once in .cache/intake/ (git-ignored) for a local run.
    """
    from campaign.intake import app as intake_app
    from campaign.intake import fingerprint
    from campaign.intake import sitebuild as site_

    root = _root(ctx)
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    link_base = public_url or f"http://{shown}:{port}"
    if not public_url and forge_name == "github":
        from campaign.data.models import Campaign

        record = dataset.load_record(root, dataset.CAMPAIGN, Campaign)[0]
        if record and record.model.intake.endpoint:
            link_base = record.model.intake.endpoint.rstrip("/")
    every = flush_every if flush_every is not None else (10.0 if forge_name == "local" else 300.0)
    service = _intake(root, db, forge_name, base, mail_backend, outbox, link_base, every or None, burst, hourly)
    site_dir, problem = (None, "the site was not built (--no-site)")
    if site:
        click.echo("building the site with mkdocs ...", err=True)
        site_dir, problem = site_.build(root, site_url=link_base + "/")
        if problem:
            click.echo(f"warning: {problem.splitlines()[0]}; serving the intake alone", err=True)
    _, key_from = fingerprint.load_key(root)
    asgi = intake_app.create_app(service, allowed_origins=list(origins), site_dir=site_dir, site_problem=problem,
                                 mail_retry_every=mail_retry_every)
    lines = [f"campaign serve: {link_base}/ (site{'' if site_dir else ' unavailable'}), API {link_base}/api/openapi.json",
             f"  confirmation mails: {mail_backend}" + (f" -> {service.settings.mail_options.get('outbox')}" if mail_backend == "file" else ""),
             f"  store: {service.store.path}",
             f"  fingerprint key: {key_from}" + ("" if key_from.startswith("$") else
                                                 " (generated for local use; set CAMPAIGN_FINGERPRINT_KEY in production)"),
             f"  forge: {forge_name}, branch {service.branch}" + (f", flushed every {every:g} s" if every else
                                                                  ", flush with `campaign intake flush`")]
    click.echo("\n".join(lines), err=True)
    intake_app.serve(asgi, host, port)


@main.group("intake")
def intake_() -> None:
    """The signature intake: flush confirmed form signatures, handle issue forms, automerge."""


@intake_.command("flush")
@_DB
@_FORGE
@_BASE
@click.option("--batch-size", type=click.IntRange(min=1), default=5000, show_default=True,
              help="At most this many signatures in the commit (the rest wait for the next flush).")
@click.pass_context
def intake_flush(ctx: click.Context, db: Path | None, forge_name: str, base: str | None, batch_size: int) -> None:
    """Commit confirmed signatures as ONE commit on the intake branch; open or update its pull request."""
    service = _intake(_root(ctx), db, forge_name, base)
    service.settings.batch_size = batch_size
    try:
        from campaign.forge.base import ForgeError

        try:
            result = service.flush()
        except ForgeError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(result.describe())
    finally:
        service.close()


@intake_.command("status")
@_DB
@click.pass_context
def intake_status(ctx: click.Context, db: Path | None) -> None:
    """Count the store's entries: pending, confirmed, flushed, rejected, mails queued."""
    import json

    service = _intake(_root(ctx), db)
    try:
        click.echo(json.dumps(service.status(), indent=2))
    finally:
        service.close()


@intake_.command("issue")
@click.option("--event", "event_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The event JSON ($GITHUB_EVENT_PATH of an `issues` event).")
@click.option("--forge", "forge_name", type=click.Choice(["local", "github"]), default="github", show_default=True,
              envvar="CAMPAIGN_FORGE", help="Where the pull request and the comment go (`local`: a branch here; "
              "comments are printed).")
@_BASE
@click.pass_context
def intake_issue(ctx: click.Context, event_path: Path, forge_name: str, base: str | None) -> None:
    """Turn an issue-form submission into a pull request, comment on the issue and close it.

    Issues without an intake label, or closed ones, are left alone. An invalid or duplicate
    submission gets a comment with the validator's message and stays open for editing.
    """
    from campaign.forge.base import ForgeError, get_forge
    from campaign.intake import issue_form

    root = _root(ctx)
    ds = dataset.load(root)
    if ds.campaign is None:
        raise CampaignError([p for p in ds.problems if p.path == dataset.CAMPAIGN])
    outcome = issue_form.handle(root, ds, issue_form.load_event(event_path))
    if outcome is None:
        click.echo("not an open intake issue: nothing to do")
        return
    try:
        forge = get_forge(forge_name, root, base=base, repository=ds.campaign.intake.repository)
        number = outcome.issue.number
        if not outcome.ok:
            forge.comment(number, outcome.comment(None))
            click.echo(f"issue #{number}: not added ({len(outcome.problems)} problems); commented")
        else:
            published = forge.publish(outcome.files, branch=f"intake/issue-{number}", message=f"{outcome.title}\n\nFrom issue #{number}.\n",
                                      title=outcome.title, body=outcome.pull_body(), fresh=True)
            forge.comment(number, outcome.comment(published.url))
            forge.close_issue(number)
            click.echo(f"issue #{number}: {published.describe()}")
    except ForgeError as exc:
        raise click.ClickException(str(exc)) from None
    for note in getattr(forge, "notes", []):
        click.echo(note)


@intake_.command("automerge")
@click.option("--base", required=True, metavar="REF", help="The target branch as fetched, e.g. origin/main.")
@click.option("--pr", "number", required=True, type=click.IntRange(min=1), envvar="PR_NUMBER", help="Pull request number.")
@click.option("--sha", required=True, metavar="SHA", envvar="PR_HEAD_SHA", help="The validated head commit.")
@click.pass_context
def intake_automerge(ctx: click.Context, base: str, number: int, sha: str) -> None:
    """Merge a pull request that only adds valid signatures, if intake.automerge is on.

    The setting is read from the target branch (not from the pull request), every change
    must be an added file under data/signatories/, the data must validate, and only the
    validated head commit is merged (GitHub refuses if the branch moved).
    """
    import subprocess

    from campaign.data.models import Campaign
    from campaign.forge.base import ForgeError
    from campaign.forge.github import GitHubForge

    root = _root(ctx)
    try:
        raw = subprocess.run(["git", "show", f"{base}:{dataset.CAMPAIGN}"], cwd=root, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError:
        raise CampaignError([Problem(dataset.CAMPAIGN, 1, f"cannot read it from {base}; fetch the target branch first")]) from None
    settings, _doc, problems = dataset.parse(dataset.CAMPAIGN, raw, Campaign)
    if settings is None:
        raise CampaignError(problems)
    if not settings.intake.automerge:
        click.echo("automerge is off (intake.automerge in data/campaign.yaml): a maintainer merges")
        return
    changes = pullrequest.changes(root, base)
    others = [c.path for c in changes if c.status != "A" or not c.path.startswith(f"{dataset.SIGNATORIES}/")]
    if not changes or others:
        click.echo(f"not automerged: the pull request changes more than signatures ({', '.join(others[:5]) or 'nothing'})")
        return
    problems = checks.validate(dataset.load(root)) + pullrequest.check(root, base)
    if problems:
        raise CampaignError(problems)
    try:
        forge = GitHubForge.from_env(settings.intake.repository)
        merged = forge.merge(number, sha)
    except ForgeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"merged pull request #{number} ({len(changes)} signatures) as {merged[:12]}")


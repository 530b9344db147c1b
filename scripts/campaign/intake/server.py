"""The intake as a running service, and its maintenance commands (`campaign serve`, `campaign intake ...`).

`open_intake` wires one `Intake`: the store, the fingerprint key, the forge and the mail
settings, loading `data/` once. `serve` builds the site (unless told not to), prints what it
serves and runs the ASGI app until stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from campaign.forge.base import Forge, get_forge
from campaign.intake import DEFAULT_DB, fingerprint, sitebuild
from campaign.intake.service import Intake, Settings


def open_intake(root: Path, *, db: Path | None = None, forge_name: str | None = None, base: str | None = None,
                mail_backend: str = "file", outbox: Path | None = None, public_url: str | None = None,
                local_url: str = "http://127.0.0.1:8000", flush_every: float | None = None, burst: int | None = None,
                hourly: int | None = None, forge: Forge | None = None, sync: Callable[[], object] | None = None) -> Intake:
    """An intake service with its store, key, forge and mail settings.

    Confirmation links point at `public_url`, else (github forge) at `intake.endpoint`, else at
    `local_url`. `burst` and `hourly` override `intake.limits`. A `forge` given is used instead
    of one by `forge_name`; `sync` runs before each flush.
    """
    key, key_from = fingerprint.load_key(root)
    options: dict[str, object] = {"outbox": outbox or root / "outbox"} if mail_backend == "file" else {}
    service = Intake(Settings(root=root, db=db or root / DEFAULT_DB, public_url=public_url or local_url, key=key,
                              key_from=key_from, mail_backend=mail_backend, mail_options=options, flush_every=flush_every,
                              forge=forge, sync=sync))
    settings = service.campaign.intake
    if not public_url and forge_name == "github" and settings.endpoint:
        service.settings.public_url = settings.endpoint.rstrip("/")
    if burst or hourly:
        service.limits = service.limits.model_copy(update={"burst": burst or service.limits.burst,
                                                           "hourly": hourly or service.limits.hourly})
    if forge_name and forge is None:
        service.settings.forge = get_forge(forge_name, root, base=base, repository=settings.repository)
    return service


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 8000, public_url: str | None = None, db: Path | None = None,
          forge_name: str = "local", base: str | None = None, mail_backend: str = "file", outbox: Path | None = None,
          flush_every: float | None = None, site: bool = True, origins: tuple[str, ...] = (), burst: int | None = None,
          hourly: int | None = None, mail_retry_every: float = 30.0, trusted_proxies: tuple[str, ...] = (),
          echo: Callable[[str], None] = print, forge: Forge | None = None, sync: Callable[[], object] | None = None) -> None:
    """Build the site, then serve it with the intake on one origin until stopped (`campaign serve`).

    X-Forwarded-For is honoured only from `trusted_proxies` (addresses or networks; none by default).
    `forge` and `sync` as in `open_intake` (the production intake passes both: `production.run`)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    every = flush_every if flush_every is not None else (10.0 if forge_name == "local" else 300.0)
    service = open_intake(root, db=db, forge_name=forge_name, base=base, mail_backend=mail_backend, outbox=outbox,
                          public_url=public_url, local_url=f"http://{shown}:{port}", flush_every=every or None, burst=burst,
                          hourly=hourly, forge=forge, sync=sync)
    link_base = service.settings.public_url
    site_dir = None
    if site:
        echo("building the site in every language ...")
        site_dir, problem = sitebuild.build(root, site_url=link_base + "/")
        if problem:  # for the operator, here; a visitor at / is pointed to the campaign's site
            echo(f"warning: {problem}\nserving the intake alone")
    from campaign.intake import app as intake_app  # FastAPI and uvicorn: only when serving (the CLI starts fast)

    asgi = intake_app.create_app(service, allowed_origins=list(origins), site_dir=site_dir, mail_retry_every=mail_retry_every)
    outbox_note = f" -> {service.settings.mail_options.get('outbox')}" if mail_backend == "file" else ""
    key_note = "" if service.settings.key_from.startswith("$") else " (generated for local use; set CAMPAIGN_FINGERPRINT_KEY in production)"
    flush_note = f", flushed every {every:g} s" if every else ", flush with `campaign intake flush`"
    echo("\n".join([
        f"campaign serve: {link_base}/ (site{'' if site_dir else ' unavailable'}), API {link_base}/api/openapi.json",
        f"  confirmation mails: {mail_backend}{outbox_note}",
        f"  store: {service.store.path}",
        f"  fingerprint key: {service.settings.key_from}{key_note}",
        f"  forge: {forge_name}, branch {service.branch}{flush_note}",
        f"  client addresses: {'X-Forwarded-For from ' + ', '.join(trusted_proxies) if trusted_proxies else 'the peer (no trusted proxy)'}"]))
    intake_app.serve(asgi, host, port, trusted_proxies=trusted_proxies)


def flush(root: Path, *, db: Path | None = None, forge_name: str = "local", base: str | None = None,
          batch_size: int = 5000) -> str:
    """Commit confirmed signatures as one commit on the intake branch, and open the removal pull
    request of the withdrawn ones (`withdrawal.publish`); what happened."""
    service = open_intake(root, db=db, forge_name=forge_name, base=base)
    service.settings.batch_size = batch_size
    try:
        done = service.flush().describe()
        removal = service.publish_withdrawals()
        return done + (f"\nwithdrawals: {removal.describe()}" if removal else "")
    finally:
        service.close()


def status(root: Path, *, db: Path | None = None) -> str:
    """The store's counts as JSON (`held`: entries waiting for `campaign intake review`; `sealed`: addresses
    kept for a report; `removals`: withdrawals whose removal pull request is not opened yet)."""
    service = open_intake(root, db=db)
    try:
        return json.dumps({**service.status(), "held": len(service.store.held()), "sealed": len(service.store.followups()),
                           "removals": len(service.store.removals())}, indent=2)
    finally:
        service.close()


def review(root: Path, *, db: Path | None = None, release: tuple[int, ...] = (), reject: tuple[int, ...] = ()) -> str:
    """List the entries held for review (look-alike names), or release or reject some by id."""
    service = open_intake(root, db=db)
    try:
        done = []
        if release:
            done.append(f"released {service.store.release(list(release))} (flushed with the next batch)")
        for entry_id in reject:
            service.store.reject(entry_id, "rejected by a maintainer: a look-alike of an existing signature")
        if reject:
            done.append(f"rejected {len(reject)}")
        held = [f"{e.entry_id}\t{e.state}\t{e.signature.get('name')} ({e.signature.get('country')})\t{e.held}"
                for e in service.store.held()]
        return "\n".join([*done, *(held or ["no entry is held for review"])])
    finally:
        service.close()

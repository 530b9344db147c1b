"""The production intake (`campaign intake run`, the container's entrypoint), configured only by
environment variables (GUIDE.md, "Configuration"; ARCHITECTURE.md, "Deployment").

At start it clones the campaign repository onto the state volume (or updates the clone kept
there) with the forge's token, checks that the clone is the repository it was told to serve,
then serves the API and its own confirmation pages, without the site (the site is on GitHub
Pages), with the github forge and SMTP. Before each flush it pulls, so the duplicate checks
see what was merged meanwhile. Everything it keeps is on one volume:

    $CAMPAIGN_STATE_DIR/             (default /var/lib/campaign-intake)
        repo/                        the clone: data/ for the duplicate checks, .cache/ for parsed files
        intake.sqlite3               the store (with -wal and -shm beside it)
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset
from campaign.data.models import Campaign
from campaign.intake import server
from campaign.intake.checkout import Checkout
from campaign.intake.fingerprint import KEY_ENV, key_problem

if TYPE_CHECKING:
    from campaign.forge.github import GitHubForge

STATE_DEFAULT = "/var/lib/campaign-intake"
REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
MAIL_BACKENDS = ("smtp", "file", "console", "memory")


@dataclass(frozen=True)
class Config:
    """Everything the production intake reads from its environment."""

    state: Path
    repository: str
    clone_url: str
    branch: str | None
    db: Path
    host: str
    port: int
    public_url: str | None
    mail_backend: str
    flush_every: float
    trusted_proxies: tuple[str, ...]

    @property
    def checkout(self) -> Path:
        return self.state / "repo"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """The settings, or every problem with them at once (`VARIABLE: what is wrong`)."""
        problems: list[Problem] = []

        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        def number(name: str, default: str, low: float, high: float) -> float:
            text = get(name, default)
            try:
                value = float(text)
            except ValueError:
                value = low - 1
            if not low <= value <= high:
                problems.append(Problem(name, 0, f"is {text!r}; use a number from {low:g} to {high:g}"))
            return value

        state = Path(get("CAMPAIGN_STATE_DIR", STATE_DEFAULT))
        if not state.is_absolute():
            problems.append(Problem("CAMPAIGN_STATE_DIR", 0, f"is {str(state)!r}; use an absolute path (the volume)"))
        repository = get("CAMPAIGN_REPOSITORY")
        if not REPOSITORY.match(repository):
            problems.append(Problem("CAMPAIGN_REPOSITORY", 0, f"is {repository!r}; set it to the campaign repository "
                                    "as owner/name, e.g. free-assange/letter"))
        public_url = get("CAMPAIGN_PUBLIC_URL") or None
        if public_url and not re.match(r"^https?://[^/\s]+", public_url):
            problems.append(Problem("CAMPAIGN_PUBLIC_URL", 0, f"is {public_url!r}; use the intake's public https URL"))
        mail = get("CAMPAIGN_MAIL_BACKEND", "smtp")
        if mail not in MAIL_BACKENDS:
            problems.append(Problem("CAMPAIGN_MAIL_BACKEND", 0, f"is {mail!r}; use one of {', '.join(MAIL_BACKENDS)}"))
        why = key_problem(env.get(KEY_ENV, ""))
        if why:
            problems.append(Problem(KEY_ENV, 0, why))
        proxies = tuple(p for p in re.split(r"[\s,]+", get("CAMPAIGN_TRUSTED_PROXIES")) if p)
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                problems.append(Problem("CAMPAIGN_TRUSTED_PROXIES", 0, f"{proxy!r} is not an address or network; "
                                        "name the reverse proxy as the service sees it, e.g. 127.0.0.1"))
        port = number("CAMPAIGN_PORT", "8000", 0, 65535)
        flush_every = number("CAMPAIGN_FLUSH_EVERY", "300", 1, 86400)
        if problems:
            raise CampaignError(problems)
        return cls(state=state, repository=repository,
                   clone_url=get("CAMPAIGN_CLONE_URL", f"https://github.com/{repository}.git"),
                   branch=get("CAMPAIGN_BASE") or None, db=Path(get("CAMPAIGN_INTAKE_DB", str(state / "intake.sqlite3"))),
                   host=get("CAMPAIGN_HOST", "127.0.0.1"), port=int(port), public_url=public_url, mail_backend=mail,
                   flush_every=flush_every, trusted_proxies=proxies)


def prepare(config: Config, env: Mapping[str, str]) -> tuple[GitHubForge, Checkout]:
    """The forge (its token clones too) and the checked-out clone, matching `config.repository`."""
    from campaign.forge.github import GitHubForge  # httpx: only when the service starts

    forge = GitHubForge.from_env(config.repository, base=config.branch, env=dict(env))
    checkout = Checkout(config.checkout, config.clone_url, branch=config.branch, token=forge.bearer)
    checkout.ensure()
    record, problems = dataset.load_record(config.checkout, dataset.CAMPAIGN, Campaign)
    if record is None:
        raise CampaignError(problems)
    campaign = record.model
    named = campaign.intake.repository
    if named.lower() != config.repository.lower():
        raise CampaignError([Problem(dataset.CAMPAIGN, 0, f"intake.repository is {named!r} but CAMPAIGN_REPOSITORY is "
                                     f"{config.repository!r}; make them the same repository")])
    if not config.public_url and not campaign.intake.endpoint:
        raise CampaignError([Problem("CAMPAIGN_PUBLIC_URL", 0, "is unset and so is intake.endpoint in "
                                     f"{dataset.CAMPAIGN}; set one to the intake's public https URL (confirmation links)")])
    return forge, checkout


def run(env: Mapping[str, str] | None = None, echo: Callable[[str], None] = print) -> None:
    """Read the environment, clone or update the repository, then serve until stopped."""
    env = os.environ if env is None else env
    config = Config.from_env(env)
    config.state.mkdir(parents=True, exist_ok=True)
    forge, checkout = prepare(config, env)
    echo(f"campaign intake run: {config.repository} at {checkout.head()[:12]} in {config.checkout}")
    server.serve(config.checkout, host=config.host, port=config.port, public_url=config.public_url, db=config.db,
                 forge_name="github", base=config.branch, mail_backend=config.mail_backend, flush_every=config.flush_every,
                 site=False, trusted_proxies=config.trusted_proxies, echo=echo, forge=forge, sync=checkout.pull)

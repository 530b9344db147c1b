"""The doctor's checks of what the campaign talks to: the site and the intake over HTTPS, the
mail server over SMTP, GitHub's API. Each step has a short timeout (`Context.timeout`); nothing
is sent, written or changed anywhere.

- `urls`: `site_url` answers (redirects followed) and `intake.endpoint` is set and its
  `/api/health` says `ok`; an address on a reserved domain is not even asked.
- `smtp`: the smtp mail backend's own session (`SmtpBackend.check`: connect, EHLO, STARTTLS,
  AUTH with the configured secrets, QUIT). No SMTP_USERNAME, or a password sent without TLS,
  is a warning: some relays need no login.
- `github`: the github forge's token (or the App's) reads the repository, and its default
  branch requires code-owner review (`forge/protection.py`); when the token may not read branch
  protection, a warning says to check it by hand.
"""

from __future__ import annotations

import re

import httpx

from campaign.core.errors import BackendError, ForgeError, Problem
from campaign.data.dataset import CAMPAIGN
from campaign.forge import protection
from campaign.forge.app_token import APP_ID_ENV
from campaign.forge.github import TOKEN_ENVS, GitHubForge
from campaign.launch.context import BLOCK, WARN, Context, Found
from campaign.launch.settings import reserved
from campaign.mail.smtp import SmtpBackend

HOSTING = {"site_url": 'publish the site (GUIDE.md, "Turn on GitHub Pages") or correct `site_url`',
           "intake.endpoint": 'start the intake and its proxy (GUIDE.md, "Host the intake") or correct `intake.endpoint`'}


def _answers(client: httpx.Client, setting: str, url: str, line: int, path: str = "") -> Found:
    """Nothing when `url` + `path` answers 2xx (and, for the intake's health, says ok)."""
    host = httpx.URL(url).host
    if reserved(host):
        return [(BLOCK, Problem(CAMPAIGN, line, f"`{setting}` {url} is on {reserved(host)}, a reserved example "
                                                f"domain; {HOSTING[setting]}"))]
    asked = url.rstrip("/") + path if path else url
    try:
        response = client.get(asked)
    except httpx.HTTPError as exc:
        said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return [(BLOCK, Problem(CAMPAIGN, line, f"`{setting}`: {asked} does not answer ({said}); {HOSTING[setting]}"))]
    if response.status_code >= 400:
        return [(BLOCK, Problem(CAMPAIGN, line, f"`{setting}`: {asked} answers {response.status_code}; {HOSTING[setting]}"))]
    if path:
        try:
            healthy = response.json().get("status") == "ok"
        except (ValueError, AttributeError):
            healthy = False
        if not healthy:
            return [(BLOCK, Problem(CAMPAIGN, line, f"`{setting}`: {asked} does not answer as the intake does "
                                                    f"(`{{\"status\": \"ok\"}}`); {HOSTING[setting]}"))]
    return []


def urls(ctx: Context) -> Found:
    """The site and the intake's endpoint are set and answer."""
    c = ctx.campaign
    with httpx.Client(verify=ctx.tls, timeout=ctx.timeout, follow_redirects=True,
                      headers={"User-Agent": "campaign-doctor"}) as client:
        found = _answers(client, "site_url", c.site_url, ctx.line("site_url"))
        where = ctx.line("intake", "endpoint")
        if c.intake.endpoint is None:
            return found + [(BLOCK, Problem(CAMPAIGN, where, "`intake.endpoint` is not set: the sign form has nowhere to "
                                                             "post; host the intake (GUIDE.md, \"Host the intake\") and "
                                                             "set it to the intake's public https URL"))]
        return found + _answers(client, "intake.endpoint", c.intake.endpoint, where, "/api/health")


def smtp(ctx: Context) -> Found:
    """A session with the mail server opens with the configured secrets; nothing is sent."""
    if not ctx.env.get("SMTP_HOST"):
        return [(BLOCK, Problem("SMTP_HOST", 0, "is unset: no letter and no confirmation mail can be sent; set "
                                               "SMTP_HOST, SMTP_PORT, SMTP_USERNAME and SMTP_PASSWORD to your mail "
                                               "provider's (GUIDE.md, \"Environments and secrets\")"))]
    try:
        backend = SmtpBackend(env=ctx.env, timeout=ctx.timeout, ssl_context=ctx.tls)
        backend.check()
    except BackendError as exc:
        named = re.search(r"\bSMTP_[A-Z]+", exc.message)  # the setting the backend says to check
        return [(BLOCK, Problem(named.group() if named else "SMTP_HOST", 0, exc.message))]
    if not backend.username:
        return [(WARN, Problem("SMTP_USERNAME", 0, f"is unset, so {backend.address} was not logged in to; most "
                                                   "providers refuse mail without a login: set SMTP_USERNAME and "
                                                   "SMTP_PASSWORD (unless this server relays for you unauthenticated)"))]
    if backend.security == "none":
        return [(WARN, Problem("SMTP_SECURITY", 0, f"is none: SMTP_PASSWORD and every letter cross the network to "
                                                   f"{backend.address} unencrypted; use starttls (port 587) or ssl (465)"))]
    return []


def _token_setting(env: dict[str, str]) -> str:
    """The setting the github forge takes its credential from."""
    return next((name for name in (APP_ID_ENV, *TOKEN_ENVS) if env.get(name)), TOKEN_ENVS[0])


def github(ctx: Context) -> Found:
    """The forge's token reads the repository; its default branch requires code-owner review."""
    env, repository = dict(ctx.env), ctx.campaign.intake.repository
    setting = _token_setting(env)
    hint = f'; check {setting} and `intake.repository` (GUIDE.md, "The GitHub App")'
    try:
        forge = GitHubForge.from_env(repository, env=env, timeout=ctx.timeout)
    except ForgeError as exc:
        return [(BLOCK, Problem(p.path or setting, 0, p.message)) for p in exc.problems]
    try:
        branch = forge.default_branch()
        review = protection.code_owner_review(forge, branch)
    except ForgeError as exc:
        return [(BLOCK, Problem(p.path or setting, 0, p.message + hint)) for p in exc.problems]
    finally:
        forge.close()
    rules = f"https://github.com/{repository}/settings/rules"
    how = (f'protect {branch} with "Require a pull request before merging" and "Require review from Code Owners" '
           'in Settings → Rules (GUIDE.md, "Protect the default branch")')
    if review.required is None:
        return [(WARN, Problem(rules, 0, f"cannot tell whether {branch} requires code-owner review: {review.source}; "
                                         f"check it by hand: {how}"))]
    if not review.required:
        return [(BLOCK, Problem(rules, 0, f"{branch} does not require code-owner review ({review.source}), so a pull "
                                          f"request can change the checks that judge it; {how}"))]
    return []

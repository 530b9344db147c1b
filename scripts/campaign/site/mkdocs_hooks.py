"""MkDocs hooks: the thin layer between MkDocs and `campaign.site` (ARCHITECTURE.md, "Packages").

    # mkdocs.yml
    hooks:
      - scripts/campaign/mkdocs_hooks.py

The only module of the package that imports MkDocs; nothing in the library imports it.

- `on_config`: load and validate `data/` once per build; any problem fails the build with the
  validator's `path:line: message` lines. The site's name, description, URL and repository
  come from `data/campaign.yaml`, so another campaign changes only `data/` and `docs/`.
- `on_files`: every generated page becomes an in-memory file (`File.generated`) holding only
  front matter (title, `search: exclude`, `hide`).
- `on_page_content`: a generated page's content is replaced by its HTML from
  `campaign.site` (signer text never goes through Markdown); in every page,
  `<!-- campaign:NAME -->` markers are replaced by generated pieces.
- `on_env` / `on_page_context`: the theme's templates get the campaign (announcement bar,
  Open Graph tags) and the sign form, a theme partial, replaces `<!-- campaign:sign-form -->`
  after the search index has read the page.

Two environment variables change one build without touching `data/campaign.yaml`:

- `CAMPAIGN_INTAKE_ENDPOINT` overrides `intake.endpoint`: an http(s) URL, or `/` for an
  intake served on the site's own origin (`campaign serve`, tests).
- `CAMPAIGN_SITE_URL` overrides `site_url`, for a preview served elsewhere: Material's instant
  navigation only takes over links to the URLs of `sitemap.xml`, made from `site_url`.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page as MkPage

try:
    import campaign  # noqa: F401
except ImportError:  # not installed: run from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from campaign.core import errors as problems
from campaign.data import checks, dataset
from campaign.records import ledger
from campaign.site import pages as campaign_site
from campaign.site.html import long_date

log = logging.getLogger("mkdocs.campaign")
ENDPOINT_ENV = "CAMPAIGN_INTAKE_ENDPOINT"
SITE_URL_ENV = "CAMPAIGN_SITE_URL"
SOCIAL_IMAGE = "assets/images/social-card.png"

_state: dict[str, Any] = {}


def _site() -> campaign_site.Site:
    return _state["site"]


def _endpoint(configured: str | None) -> str | None:
    value = os.environ.get(ENDPOINT_ENV)
    if value is None:
        return configured
    value = value.strip()
    if value == "/":
        return ""
    if not re.fullmatch(r"https?://[A-Za-z0-9.\[\]:-]+(/[A-Za-z0-9._~/-]*)?", value):
        raise PluginError(f"{ENDPOINT_ENV}={value!r} is not an http(s) URL (or '/'); fix or unset it")
    return value


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _state.clear()
    root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
    ds = dataset.load(root)
    found = checks.validate(ds)
    if found:
        raise PluginError(
            f"the campaign data has {len(found)} problem{'s' if len(found) != 1 else ''}; "
            "fix them and build again:\n" + problems.render(found))
    campaign = ds.campaign
    assert campaign is not None
    try:
        sent = ledger.sent_count(root, campaign)
    except problems.CampaignError as exc:
        raise PluginError("the dispatch ledger cannot be read:\n" + str(exc)) from None
    overrides = Path(config.theme.custom_dir or root / "docs" / "overrides") / "campaign"
    _state["site"] = campaign_site.Site(
        ds, use_directory_urls=config.use_directory_urls,
        endpoint=_endpoint(campaign.intake.endpoint), letters_sent=sent,
        overrides=overrides if overrides.is_dir() else None)
    config.site_name = campaign.title
    config.site_description = campaign.description
    site_url = os.environ.get(SITE_URL_ENV, "").strip() or campaign.site_url
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", site_url):
        raise PluginError(f"{SITE_URL_ENV}={site_url!r} is not an http(s) URL; fix or unset it")
    config.site_url = site_url if site_url.endswith("/") else site_url + "/"
    # The repository is linked from the footer, not as the header's `repo_url`: Material would
    # fetch its star count from api.github.com in every visitor's browser.
    config.extra["social"] = [{
        "icon": "fontawesome/brands/github",
        "link": f"https://github.com/{campaign.intake.repository}",
        "name": f"The campaign's repository: {campaign.intake.repository}",
    }]
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    pages = _site().pages()
    _state["pages"] = {p.uri: p for p in pages}
    for page in pages:
        if files.get_file_from_path(page.uri) is not None:
            raise PluginError(f"docs/{page.uri} is generated from data/; remove the hand-written file")
        inclusion = InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, page.uri, content=page.source(), inclusion=inclusion))
    return files


def on_page_content(html: str, page: MkPage, config: MkDocsConfig, files: Files) -> str:
    uri = page.file.src_uri
    generated = _state["pages"].get(uri)
    if generated is not None:
        html = generated.render()
    try:
        return campaign_site.replace_markers(html, uri, _site(), keep={"sign-form"})
    except KeyError as exc:
        known = ", ".join(("sign-form", *campaign_site.Site.SNIPPETS))
        raise PluginError(f"docs/{uri}: unknown marker <!-- campaign:{exc.args[0]} -->; known: {known}") from None


def on_env(env: Environment, config: MkDocsConfig, files: Files) -> Environment:
    site = _site()
    campaign = site.campaign
    _state["env"] = env
    env.globals["campaign_site"] = {
        "title": campaign.title,
        "description": campaign.description,
        "date": long_date(campaign.dispatch.date),
        "site_url": campaign.site_url,
        "image": campaign.site_url.rstrip("/") + "/" + SOCIAL_IMAGE,
        "has_image": files.get_file_from_path(SOCIAL_IMAGE) is not None,
        "sign_url": site.url("sign.md"),
    }
    return env


def on_page_context(context: dict[str, Any], page: MkPage, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
    """Render the sign form in place of its marker (the search plugin has indexed the page)."""
    content = page.content or ""
    if "campaign:sign-form" not in content:
        return context
    site, uri = _site(), page.file.src_uri
    template = _state["env"].get_template("partials/sign-form.html")

    def form(match: re.Match[str]) -> str:
        if match.group(1) != "sign-form":
            return match.group(0)
        return template.render(
            form=site.form(match.group(2)),
            privacy=site.href(uri, "privacy.md"),
            take_part=site.href(uri, "take-part.md"),
            config=config, page=page)

    page.content = campaign_site.MARKER.sub(form, content)
    return context

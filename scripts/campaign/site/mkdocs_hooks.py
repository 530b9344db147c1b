"""MkDocs hooks: the thin layer between MkDocs and `campaign.site` (ARCHITECTURE.md, "Packages",
"Languages").

    # mkdocs.yml
    hooks:
      - scripts/campaign/site/mkdocs_hooks.py

With `site/build.py` (the driver), the only modules of the package that import MkDocs.

One MkDocs build makes one language: `CAMPAIGN_LANG=es mkdocs build` (default: English);
`campaign build` builds them all, forked in parallel, sharing the loaded data and the rendered
lists of names, into `site/` (English) and `site/<lang>/`.

- `on_config` (before the search plugin): load and validate `data/` and the catalogues once
  (or take what the driver loaded); any problem fails the build with `path:line: message`
  lines. Per language: `theme.language` (<html lang>, Material's strings, <body dir>), the
  site's URL (`<root>/<lang>/`), the nav titles, the search language; the site's name,
  description, URL and repository come from `data/campaign.yaml`.
- `on_files`: `docs/page.<lang>.md` stands in for `docs/page.md`, other languages' files go; a
  page without a translation is shown in English with a note. Every generated page becomes an
  in-memory file (`File.generated`) holding only front matter; the other generated files (the
  map) are in-memory files too.
- `on_page_content`: a generated page's content is replaced by its HTML from `campaign.site`
  (signer text never goes through Markdown); `<!-- campaign:NAME -->` markers are replaced.
- `on_env` / `on_page_context`: the theme gets the catalogue (`_`), the campaign (announcement
  bar, Open Graph tags, the browser script's words) and the page in every language (the
  switcher, hreflang); the sign form replaces `<!-- campaign:sign-form -->` after the search
  index has read the page. `on_post_page` puts the page's translation note in place.

Three environment variables change one build without touching `data/campaign.yaml`:

- `CAMPAIGN_LANG`: the language of this build (one of `languages`).
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
from urllib.parse import urlsplit

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page as MkPage

try:
    import campaign  # noqa: F401
except ImportError:  # not installed: run from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from campaign.core.errors import CampaignError
from campaign.data import locales
from campaign.records import published
from campaign.site import languages, preload
from campaign.site import pages as campaign_site
from campaign.site.html import NAV_TITLES, name_widgets

log = logging.getLogger("mkdocs.campaign")
LANG_ENV = "CAMPAIGN_LANG"
ENDPOINT_ENV = "CAMPAIGN_INTAKE_ENDPOINT"
SITE_URL_ENV = "CAMPAIGN_SITE_URL"
SOCIAL_IMAGE = "assets/images/social-card.png"
NOTE = "<!-- campaign:page-note -->"

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


def _load(root: Path) -> preload.Preloaded:
    """The validated data: the driver's (`preload.PRELOADED`), or loaded now."""
    found = preload.PRELOADED.get(root)
    if found is None:
        try:
            found = preload.load_checked(root)
        except CampaignError as exc:
            raise PluginError(str(exc)) from None
    return found


@event_priority(100)  # before the search plugin, which reads theme.language in its own on_config
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _state.clear()
    root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
    data = _load(root)
    campaign = data.ds.campaign
    assert campaign is not None
    lang = os.environ.get(LANG_ENV, "").strip() or locales.DEFAULT
    if lang not in campaign.languages:
        raise PluginError(f"{LANG_ENV}={lang!r} is not one of the campaign's languages: {', '.join(campaign.languages)}")
    overrides = Path(config.theme.custom_dir or root / "docs" / "overrides") / "campaign"
    site = campaign_site.Site(data.ds, use_directory_urls=config.use_directory_urls, letters_sent=data.letters_sent,
                              endpoint=_endpoint(campaign.intake.endpoint), lang=lang, groups=data.groups,
                              overrides=overrides if overrides.is_dir() else None)
    site_url = os.environ.get(SITE_URL_ENV, "").strip() or campaign.site_url
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", site_url):
        raise PluginError(f"{SITE_URL_ENV}={site_url!r} is not an http(s) URL; fix or unset it")
    _state.update(site=site, lang=lang, languages=list(campaign.languages), root_url=published.site_root(site_url, locales.DEFAULT))
    text = campaign.text(lang)
    config.site_name, config.site_description = text.title, text.description
    config.site_url = published.site_root(site_url, lang)
    config.theme["language"] = lang  # <html lang>, Material's own strings, <body dir> (ar: rtl)
    # Material keeps a visitor's choices (palette, dismissed announcement) under `extra.scope`,
    # by default this build's root: one scope for every language.
    config.extra["scope"] = urlsplit(_state["root_url"]).path
    search = config.plugins.get("search") or config.plugins.get("material/search")
    if search is not None:
        search.config.lang = [lang if lang in languages.LUNR else locales.DEFAULT]
    unknown = [k for item in config.nav or [] if isinstance(item, dict) for k in item if k not in NAV_TITLES]
    if unknown:
        log.warning(f"mkdocs.yml: nav title {unknown[0]!r} is not in site/html.py's NAV_TITLES, so it is never translated")
    config.nav = [{site.words.gettext(k): v for k, v in item.items()} if isinstance(item, dict) else item
                  for item in (config.nav or [])]
    # The repository is linked from the footer, not as the header's `repo_url`: Material would
    # fetch its star count from api.github.com in every visitor's browser.
    config.extra["social"] = [{
        "icon": "fontawesome/brands/github",
        "link": f"https://github.com/{campaign.intake.repository}",
        "name": site._("The campaign's repository: %(repository)s", repository=campaign.intake.repository),
    }]
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    lang, site = _state["lang"], _site()
    plan = languages.overlay(Path(config.docs_dir), [f.src_uri for f in files.documentation_pages()], lang, _state["languages"])
    for src in plan.orphans:
        log.warning(f"docs/{src}: a translation of a page that does not exist; rename or remove it")
    for f in list(files.documentation_pages()):
        if f.src_uri in plan.suffixed:
            files.remove(f)
    for page, source in plan.translated.items():
        original = files.get_file_from_path(page)
        files.remove(original)
        files.append(File.generated(config, page, abs_src_path=str(Path(config.docs_dir) / source), inclusion=original.inclusion))
    for page in sorted(plan.fallback):
        log.info(f"docs/{page}: no '{lang}' translation (docs/{page[:-3]}.{lang}.md): shown in English, with a note")
    _state["fallback"] = plan.fallback
    generated = site.pages()
    _state["pages"] = {p.uri: p for p in generated}
    for page in generated:
        if files.get_file_from_path(page.uri) is not None:
            raise PluginError(f"docs/{page.uri} is generated from data/; remove the hand-written file")
        inclusion = InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, page.uri, content=page.source(), inclusion=inclusion))
    for uri, render in site.files().items():  # the Deliveries page's map
        files.append(File.generated(config, uri, content=render()))
    return files


def on_pre_page(page: MkPage, config: MkDocsConfig, files: Files) -> MkPage:
    _site().words.missed.clear()  # what this page shows in English for want of a translation
    return page


def on_page_content(html: str, page: MkPage, config: MkDocsConfig, files: Files) -> str:
    uri = page.file.src_uri  # also for docs/index.es.md, served as index.md
    generated = _state["pages"].get(uri)
    if generated is not None:
        html = generated.render()
    elif uri in _state["fallback"]:
        html = f'<div lang="{locales.DEFAULT}" dir="ltr">{html}</div>'
    try:
        return campaign_site.replace_markers(html, uri, _site(), keep={"sign-form"}, marked=uri in _state["fallback"])
    except KeyError as exc:
        known = ", ".join(("sign-form", *campaign_site.Site.SNIPPETS))
        raise PluginError(f"docs/{uri}: unknown marker <!-- campaign:{exc.args[0]} -->; known: {known}") from None


def on_env(env: Environment, config: MkDocsConfig, files: Files) -> Environment:
    site = _site()
    campaign, words = site.campaign, site.words
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(words.gettext, words.ngettext, newstyle=True)  # type: ignore[attr-defined]
    _state["env"] = env
    env.globals["campaign_site"] = {
        "title": site.text.title,
        "description": site.text.description,
        "date": locales.long_date(campaign.dispatch.date, site.lang),
        "site_url": campaign.site_url,
        "image": campaign.site_url.rstrip("/") + "/" + SOCIAL_IMAGE,
        "has_image": files.get_file_from_path(SOCIAL_IMAGE) is not None,
        "sign_url": site.url("sign.md"),
        "privacy_url": site.url("privacy.md"),
        "organiser": campaign.organiser,
        "og_locale": str(locales.locale(site.lang)),
        "script_messages": words.script_json(),
    }
    env.globals["campaign_languages"] = languages.alternates(_state["root_url"], _state["languages"])
    return env


def on_page_context(context: dict[str, Any], page: MkPage, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
    """The page's language links; the sign form in place of its marker (after search indexing)."""
    # Material's base.html writes config.extra.alternate as <link rel="alternate" hreflang>, and the
    # overridden partials/alternate.html as the switcher (target="_self": a full page load).
    path = "" if page.is_homepage else page.url
    config.extra["alternate"] = languages.alternates(_state["root_url"], _state["languages"], path, _state["lang"])
    context["campaign_x_default"] = _state["root_url"] + path
    content = page.content or ""
    if "campaign:sign-form" not in content:
        return context
    site, uri = _site(), page.file.src_uri
    template = _state["env"].get_template("partials/sign-form.html")
    forms: dict[tuple[str, str], tuple[str, set[str]]] = _state.setdefault("forms", {})
    choices = {o["country"] for o in site.form()["missions"]}

    def form(match: re.Match[str]) -> str:
        if match.group(1) != "sign-form":
            return match.group(0)
        # One rendering per page depth (its links are relative); the 250 mission pages differ
        # only by the country chosen in advance.
        privacy, take_part = site.href(uri, "privacy.md"), site.href(uri, "take-part.md")
        if (privacy, take_part) not in forms:
            before = set(site.words.missed)
            html = template.render(form=site.form(None), privacy=privacy, take_part=take_part, config=config, page=page)
            forms[(privacy, take_part)] = html, site.words.missed - before
        html, missed = forms[(privacy, take_part)]
        site.words.missed |= missed  # the form's untranslated words, each time it is shown
        code = match.group(2)
        if code in choices:
            html = html.replace(f'data-country="{code}">', f'data-country="{code}" selected>', 1)
        return site.in_language(html) if uri in _state["fallback"] else html

    page.content = campaign_site.MARKER.sub(form, content)
    return context


def on_post_page(output: str, page: MkPage, config: MkDocsConfig) -> str:
    site = _site()
    output = name_widgets(output, site.words)
    fallback = page.file.src_uri in _state["fallback"]
    note = languages.note(site.campaign, site.words, fallback=fallback, missed=bool(site.words.missed))
    return output.replace(NOTE, str(note), 1)

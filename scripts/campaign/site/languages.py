"""The site's languages as MkDocs builds them, without MkDocs: where each language lives, the
links between a page's languages, which hand-written file stands for a page, and the note a
page carries when it is not (fully) in its language (ARCHITECTURE.md, "Languages").

English is built at the site root, every other language under `<lang>/`, and every language has
every page at the same path, so a page's other languages are known without building them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from campaign.data import locales
from campaign.data.locales import N_
from campaign.data.models import Campaign
from campaign.i18n import workflow
from campaign.i18n.catalogues import Translator
from campaign.records.published import site_root

SUFFIXED = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2,3})\.md$")
"""`docs/page.es.md`: the Spanish `docs/page.md` (mkdocs-static-i18n's suffix convention)."""
LUNR = {"ar", "da", "de", "du", "el", "en", "es", "fi", "fr", "he", "hi", "hu", "hy", "it", "ja", "kn",
        "ko", "nl", "no", "pt", "ro", "ru", "sa", "sv", "ta", "te", "th", "tr", "vi", "zh"}
"""Languages whose stemmer Material's search ships (others are searched with English's)."""


def alternates(site_url: str, languages: list[str], path: str = "", current: str | None = None) -> list[dict[str, object]]:
    """The page at `path` (its URL below a language root) in every language: the switcher's links
    and the `<link rel="alternate" hreflang>` of the page's head."""
    return [{"name": locales.native_name(lang), "lang": lang, "link": site_root(site_url, lang) + path,
             "current": lang == current} for lang in languages]


@dataclass(frozen=True)
class Overlay:
    """Which file stands for each hand-written page in one language."""

    translated: dict[str, str]
    """Page (`privacy.md`) -> its file in this language (`privacy.es.md`)."""
    fallback: set[str]
    """Pages with no file in this language: shown in English, with a note."""
    orphans: list[str]
    """Translations (`page.es.md`) whose English page does not exist."""
    suffixed: set[str]
    """Every translation file, of any language (no language builds them as pages of their own)."""


def overlay(docs: Path, sources: list[str], lang: str, languages: list[str]) -> Overlay:
    """Match the hand-written pages (`sources`: paths in `docs`) with their translations into
    `lang`; a translation that is still the English page (a stub) does not count."""
    suffixed = {s for s in sources if _suffixed(s, languages)}
    pages = [s for s in sources if s not in suffixed]
    found = {m.group("stem") + ".md": s for s in suffixed if (m := _suffixed(s, languages)) and m.group("lang") == lang
             and workflow.page_translated(docs, m.group("stem") + ".md", lang)}
    orphans = sorted(s for s in suffixed if (m := _suffixed(s, languages)) and m.group("stem") + ".md" not in pages)
    if lang == locales.DEFAULT:
        return Overlay({}, set(), orphans, suffixed)
    return Overlay({p: found[p] for p in pages if p in found}, {p for p in pages if p not in found}, orphans, suffixed)


def _suffixed(src: str, languages: list[str]) -> re.Match[str] | None:
    found = SUFFIXED.match(src)
    return found if found and found.group("lang") in languages else None


NOTES = {
    "fallback": N_("This page has not been translated into %(language)s yet: it is shown in English."),
    "partial": N_("Parts of this page have not been translated into %(language)s yet: they are shown in English."),
    "draft": N_("This translation is a draft: it awaits review by a native speaker."),
}


def note(campaign: Campaign, words: Translator, *, fallback: bool, missed: bool) -> Markup:
    """The note at the top of a page that is not (fully) in its language, or a draft; empty for English."""
    lang = words.lang
    if lang == locales.DEFAULT:
        return Markup("")
    name = locales.native_name(lang)
    said = []
    if fallback:
        said.append(words.format(NOTES["fallback"], language=name))
    elif missed:
        said.append(words.format(NOTES["partial"], language=name))
    if not fallback and campaign.text(lang).status == "draft":
        said.append(words.format(NOTES["draft"]))
    if not said:
        return Markup("")
    return Markup('<div class="admonition note campaign-language-note" data-campaign-note="{}"><p>{}</p></div>').format(
        "fallback" if fallback else "partial" if missed else "draft", escape(" ".join(said)))

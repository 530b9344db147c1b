"""The translators' workflow (README, "Translating"): scaffold a language, report how far each
language is translated.

    campaign i18n new LANG     catalogue, page files and letter stub; LANG added to `languages`
    pybabel extract -F babel.cfg -k N_ -o locale/messages.pot .    after changing the code's words
    pybabel update -i locale/messages.pot -d locale                 every catalogue follows
    campaign i18n status       per language: messages, pages, letter, and what is broken

A page stub is the English page under a first line `STUB`, a letter stub the English letter with
`status: 'untranslated'`: until the translator removes that line (sets `status: 'draft'`), the site
shows the English page with a note, and dispatch never sends the stub.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from campaign.core.errors import CampaignError, Problem
from campaign.core.files import write_atomic
from campaign.data import dataset, locales, translations
from campaign.i18n import catalogues

DOCS = "docs"
STUB = "<!-- untranslated: translate this page, then delete this line -->"
"""The first line of a page stub (`page_translated` is False while it is there)."""
_SUFFIXED = re.compile(r"\.[a-z]{2,3}\.md$")


def run(root: Path, action: str, lang: str | None = None) -> str:
    """`campaign i18n status` (CampaignError on broken placeholders) or `campaign i18n new LANG`."""
    if action == "new":
        if not lang:
            raise CampaignError([Problem("LANG", 0, "`campaign i18n new` needs the language's code, e.g. `campaign i18n new de`")])
        return new_language(root, lang)
    return status(root).checked()


def pages(root: Path) -> list[str]:
    """The hand-written pages (docs paths) that each language translates."""
    docs = root / DOCS
    return sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md")
                  if not _SUFFIXED.search(p.name) and "overrides" not in p.relative_to(docs).parts)


def page_translated(docs: Path, page: str, lang: str) -> bool | None:
    """True when `docs/page.<lang>.md` is a translation, False when it is a stub (`STUB`), None
    when there is none."""
    other = docs / f"{page[:-3]}.{lang}.md"
    if not other.is_file():
        return None
    return STUB.encode() not in other.read_bytes()


def new_language(root: Path, lang: str) -> str:
    """Scaffold `lang`: its catalogue from the template, a stub of every page and of the letter,
    and `lang` in `languages` of data/campaign.yaml. Existing files are left alone."""
    try:
        locales.check(lang)
    except ValueError as exc:
        raise CampaignError([Problem("LANG", 0, str(exc))]) from None
    if lang == locales.DEFAULT or not re.fullmatch(r"[a-z]{2,3}", lang):
        raise CampaignError([Problem("LANG", 0, f"{lang!r}: give another language's two- or three-letter code, e.g. 'de'")])
    done = [_catalogue(root, lang)]
    for page in pages(root):
        target = root / DOCS / f"{page[:-3]}.{lang}.md"
        if not target.exists():
            write_atomic(target, STUB.encode() + b"\n" + (root / DOCS / page).read_bytes(), durable=False)
            done.append(f"wrote {target.relative_to(root)} (the English page: translate it)")
    done.append(_letter(root, lang))
    done.append(_listed(root, lang))
    return "\n".join(line for line in done if line)


def _catalogue(root: Path, lang: str) -> str:
    target = root / catalogues.po_path(lang)
    if target.exists():
        return f"kept {catalogues.po_path(lang)}"
    try:
        with open(root / catalogues.TEMPLATE, "rb") as fh:
            catalog = read_po(fh, locale=locales.locale(lang))
    except OSError:
        raise CampaignError([Problem(catalogues.TEMPLATE, 0, "the message template is missing; run "
                                     "`pybabel extract -F babel.cfg -k N_ -o locale/messages.pot .` first")]) from None
    catalog.locale = locales.locale(lang)
    catalog.revision_date = dt.datetime.now(dt.timezone.utc)
    catalog.fuzzy = False
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:
        write_po(fh, catalog, width=100)
    return f"wrote {catalogues.po_path(lang)} ({len(catalog)} messages to translate)"


def _letter(root: Path, lang: str) -> str:
    target = root / translations.LETTERS / f"{lang}.md"
    if target.exists():
        return f"kept {translations.LETTERS}/{lang}.md"
    english = (root / translations.LETTERS / f"{locales.DEFAULT}.md").read_text(encoding="utf-8")
    front = (f"---\n# The letter in {locales.language_name(lang, locales.DEFAULT)}: translate the text below, "
             "keeping every {{ placeholder }}.\n"
             f"translates: '{translations.version(english)}'\nstatus: 'untranslated'\n---\n")
    write_atomic(target, (front + english).encode(), durable=False)
    return f"wrote {translations.LETTERS}/{lang}.md (the English letter: translate it)"


def _listed(root: Path, lang: str) -> str:
    path = root / dataset.CAMPAIGN
    text = path.read_text(encoding="utf-8")
    found = re.search(r"^languages:\n((?:[ \t]+- .*\n)+)", text, re.M)
    if found is None:
        return f"add '{lang}' to `languages` in {dataset.CAMPAIGN}"
    if re.search(rf"^[ \t]+- ['\"]?{lang}['\"]?\s*$", found.group(1), re.M):
        return f"kept '{lang}' in `languages`"
    indent = re.match(r"[ \t]+", found.group(1)).group(0)  # type: ignore[union-attr]
    write_atomic(path, (text[:found.end()] + f"{indent}- '{lang}'\n" + text[found.end():]).encode(), durable=False)
    return f"added '{lang}' to `languages` in {dataset.CAMPAIGN}"


@dataclass
class Row:
    lang: str
    messages: tuple[int, int, int] | None
    pages: tuple[int, int]
    letter: str
    status: str


@dataclass
class Report:
    """How far each language is translated, and the problems that fail a build."""

    rows: list[Row]
    version: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{'language':10} {'status':9} {'messages':>18} {'pages':>7}  letter",
                 *(f"{r.lang:10} {r.status:9} {_share(r.messages):>18} {r.pages[0]:>3}/{r.pages[1]:<3}  {r.letter}"
                   for r in self.rows),
                 f"\nThe English letter's version is '{self.version}' (a translation's `translates`)."]
        lines += [f"warning: {p.text()}" for p in self.warnings]
        return "\n".join(lines)

    def checked(self) -> str:
        """The report's text; CampaignError with it when there are problems (broken placeholders,
        unreadable files: they fail the build too)."""
        if self.problems:
            raise CampaignError([Problem("", 0, self.text()), *self.problems])
        return self.text()


def _share(found: tuple[int, int, int] | None) -> str:
    if found is None:
        return "no catalogue"
    done, fuzzy, total = found
    return f"{done}/{total} {100 * done // max(total, 1):3d}%" + (f" ({fuzzy} fuzzy)" if fuzzy else "")


def status(root: Path) -> Report:
    """`campaign i18n status`: per language its catalogue, its pages and its letter."""
    ds = dataset.load_with_campaign(root)
    assert ds.campaign is not None
    problems, warnings = translations.check(ds.letter_files)
    english = ds.letter_files.get(locales.DEFAULT)
    version = translations.version(english.text) if english else "-"
    problems += [p for p in ds.problems if p.path.startswith(translations.LETTERS)]
    all_pages = pages(root)
    rows = []
    for lang in ds.campaign.languages[1:]:
        try:
            catalog = catalogues.read(root, lang)
        except CampaignError as exc:
            problems += exc.problems
            catalog = None
        if catalog is not None:
            problems += catalogues.placeholder_problems(catalogues.po_path(lang), catalog)
        done = sum(bool(page_translated(root / DOCS, p, lang)) for p in all_pages)
        rows.append(Row(lang, catalogues.statistics(catalog) if catalog is not None else None, (done, len(all_pages)),
                        _letter_state(ds, lang, version), ds.campaign.text(lang).status))
    return Report(rows, version, sorted(set(problems)), sorted(set(warnings)))


def _letter_state(ds: dataset.Dataset, lang: str, version: str) -> str:
    found = ds.letter_files.get(lang)
    if found is None:
        return "missing"
    if not translations.translated(found):
        return "not translated (a stub)"
    stale = f", stale (translates {found.translates})" if found.translates and found.translates != version else ""
    return f"{found.status or '?'}{stale}"

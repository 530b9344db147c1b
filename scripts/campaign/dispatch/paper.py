"""Print-ready PDF letters, one per mission, for post or delivery in person (ARCHITECTURE.md,
"Paper").

    campaign letter --mission fr-paris --pdf fr-paris.pdf
    campaign letters --pdf _site/letters          # every mission: <id>.pdf (the deploy workflow)

A mission's PDF is the letter as its printable page on the site shows it (`letter.printed`
names who consented to both publication and the letter, and counts the rest), addressed to the
mission, then its signatories in two numbered columns; A4, "Page n of N" and a link to the
mission page on every page. HTML from `templates/letter.html` + `letter.css`, laid out by
WeasyPrint with the Noto fonts of Debian's fonts-noto-core and fonts-noto-cjk.

Which signatures reach a mission is the dispatch plan's (`planning.plan`: `Dataset.destination`,
repeats left out). What keeps 10,000 names fast: each name is one text run with its number
written as text (a list `::marker` is laid out as a box of its own), isolated by U+2068/U+2069
rather than a `<bdi>` element; Python's cyclic GC is off while WeasyPrint works; fonts are
subset, never embedded whole.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from campaign.core.errors import CampaignError, Problem
from campaign.core.files import write_atomic
from campaign.data import countries, letter
from campaign.data.dataset import Dataset
from campaign.data.models import Campaign, Mission, Signature
from campaign.data.translations import LetterFile
from campaign.dispatch import planning, session
from campaign.i18n import catalogues
from campaign.records import published

TEMPLATES = Path(__file__).parent / "templates"
FSI, PDI = "\u2068", "\u2069"
"""FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE: a right-to-left name cannot reorder its
neighbours (WeasyPrint ignores `unicode-bidi`; fribidi implements the isolates)."""
WJ_HYPHEN = "-\u2060"
"""A hyphen followed by WORD JOINER: a name never breaks at its hyphen (pdftotext would drop a
hyphen at a line's end); the joiner draws nothing and is not in the PDF's text."""
PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-noto-cjk"
"""The Debian packages WeasyPrint and the letters need (scripts/setup installs them)."""


# --- what a mission's letter holds: accessors of the mission's fields -------------------------


def address_lines(mission: Mission) -> list[str]:
    """The postal address under the mission's name, ending with its country."""
    lines = [line.strip() for line in (mission.address or "").splitlines() if line.strip()]
    if lines and lines[0].casefold() == mission.name.casefold():
        lines = lines[1:]  # many addresses start with the mission's name
    country = countries.name(mission.country)
    if not lines or country.casefold() not in lines[-1].casefold():
        lines.append(country)
    return lines


@dataclass(frozen=True)
class Paper:
    """One mission's letter on paper: who is named, how many others signed, its page online."""

    mission: Mission
    named: list[Signature]
    hidden: int
    url: str
    languages: frozenset[str | None] = frozenset()
    """The languages its signers signed in: the letter follows in each (`letter.versions`)."""

    @property
    def total(self) -> int:
        return len(self.named) + self.hidden


def papers(ds: Dataset, missions: Sequence[str] = ()) -> list[Paper]:
    """The letters of `missions` (default: every mission, by id), named as printed letters are."""
    campaign = _campaign(ds)
    plan = planning.plan(ds, dt.datetime.now(dt.timezone.utc), force=True, missions=missions)
    found = []
    for mission_id in missions or sorted(ds.mission_by_id):
        mp = plan.missions.get(mission_id)
        sigs = [s for item in mp.letters for s in item.signatures] if mp else []
        named, hidden = letter.printed(sigs)
        found.append(Paper(ds.mission_by_id[mission_id], named, hidden, published.mission_url(campaign.site_url, mission_id),
                           frozenset(s.language for s in sigs)))
    return found


# --- HTML -------------------------------------------------------------------------------------


@cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda n: f"{n:,}"
    return env


def html(campaign: Campaign, template: str, lang: str, paper: Paper, files: dict[str, LetterFile] | None = None,
         words: Callable[[str], letter.Words] | None = None) -> str:
    """The letter's HTML document (every value escaped by the template's autoescape): in English,
    then (with `files`, every language's letter, and `words`, their catalogues) in each language
    its signers used, under a heading that says whether the translation is a draft."""
    mission = paper.mission
    words = words or (lambda _: letter.ENGLISH)
    parts = [letter.part(lf, campaign, mission, letter.print_signer(paper.total, words(lf.lang)))
             for lf in letter.versions(files or {lang: LetterFile(lang, "", template)}, campaign, paper.languages)]
    entries = [(f"{i:,}", s.name.replace("-", WJ_HYPHEN), s.type == "organisation", countries.name(s.country))
               for i, s in enumerate(paper.named, start=1)]
    address = address_lines(mission)
    return _env().get_template("letter.html").render(
        lang=lang, campaign=campaign, mission=mission, address=address, url=paper.url,
        parts=[(p, letter.as_html(p.text)) for p in parts], entries=entries, fsi=FSI, pdi=PDI,
        total=paper.total, hidden=paper.hidden)


# --- PDF --------------------------------------------------------------------------------------


@dataclass
class Written:
    """One PDF written: where, its size, and the characters no installed font has."""

    mission: str
    path: Path
    pages: int
    named: int
    hidden: int
    size: int
    seconds: float
    missing: list[str] = field(default_factory=list)
    """Characters drawn as a box (no font has them), as `U+XXXX "c"`."""

    def line(self) -> str:
        return (f"{self.path}: {self.pages} pages, {self.named:,} named and {self.hidden:,} unnamed signatories, "
                f"{self.size / 1024:,.0f} KB, {self.seconds:.1f} s")


class _Missing(logging.Handler):
    """Collects WeasyPrint's warnings of glyphs no font has."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: dict[str, None] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(".notdef glyph"):
            char, code = record.args  # type: ignore[misc]
            self.found[f'U+{code:04X} "{char}"'] = None


@contextmanager
def _without_gc() -> Iterator[None]:
    """Python's cyclic GC off while WeasyPrint works: it makes millions of small objects, and
    full collections over them made 10,000 names 30 % slower (20,000: 70 %). Its garbage is
    collected as usual afterwards (an explicit `gc.collect()` would cost 0.06 s per letter)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"a letter fetches nothing: {url}")  # the template links, it loads no resource


@cache
def _weasyprint() -> tuple[Any, Any]:
    """WeasyPrint's HTML and the letter's parsed stylesheet, loaded on first use (its import
    takes a second and needs Pango)."""
    try:
        import weasyprint
    except OSError as exc:  # cffi cannot open a shared library
        raise CampaignError([Problem("scripts/setup", 1, f"WeasyPrint cannot load its libraries ({exc}); "
                                     f"install the Debian packages {PACKAGES} (run scripts/setup as root)")]) from None
    css = weasyprint.CSS(string=(TEMPLATES / "letter.css").read_text(encoding="utf-8"), url_fetcher=_no_fetch)
    return weasyprint.HTML, css


def write(document: str, target: Path) -> tuple[int, int, list[str]]:
    """Render `document` (HTML) to the PDF `target`, atomically: (pages, bytes, missing glyphs)."""
    html_class, css = _weasyprint()
    missing = _Missing()
    log = logging.getLogger("weasyprint")
    log.addHandler(missing)
    try:
        with _without_gc():
            rendered = html_class(string=document, base_url=str(TEMPLATES), url_fetcher=_no_fetch).render(stylesheets=[css])
            data = rendered.write_pdf()  # never full_fonts=True: the CJK face alone would be 15 MB
            pages = len(rendered.pages)
            del rendered
    finally:
        log.removeHandler(missing)
    try:
        write_atomic(target, data, durable=False)
    except OSError as exc:
        raise CampaignError([Problem(str(target), 1, f"cannot write the PDF: {exc.strerror or exc}; "
                                     "choose a writable path")]) from None
    return pages, len(data), list(missing.found)


def _campaign(ds: Dataset) -> Campaign:
    if ds.campaign is None:
        raise CampaignError([Problem("data/campaign.yaml", 1, "the campaign settings did not load; run `campaign validate`")])
    return ds.campaign


def _write_all(ds: Dataset, targets: dict[str, Path], warn: session.Echo) -> list[Written]:
    campaign = _campaign(ds)
    lang, template = letter.template_for(ds.letters, campaign)
    words = catalogues.Catalogues(ds.root)
    done = []
    for paper in papers(ds, list(targets)):
        target = targets[paper.mission.id]
        started = time.perf_counter()
        pages, size, missing = write(html(campaign, template, lang, paper, ds.letter_files, words), target)
        written = Written(paper.mission.id, target, pages, len(paper.named), paper.hidden, size,
                          time.perf_counter() - started, missing)
        if missing:
            warn(f"warning: {target}: no installed font has {', '.join(missing)}; these print as boxes "
                 f"(install {PACKAGES})")
        done.append(written)
    return done


def letter_pdf(root: Path, mission_id: str, target: Path, warn: session.Echo = print) -> Written:
    """`campaign letter --mission ID --pdf FILE`: one mission's letter as a PDF."""
    return _write_all(session.load(root, warn), {mission_id: target}, warn)[0]


@dataclass
class Shelf:
    """The PDF letters of every mission, written to one folder."""

    folder: Path
    files: list[Written]

    def summary(self) -> str:
        pages, named, hidden, size = (sum(getattr(w, a) for w in self.files) for a in ("pages", "named", "hidden", "size"))
        return (f"wrote {len(self.files)} PDF letters to {self.folder}: {pages:,} pages, {named:,} named "
                f"and {hidden:,} unnamed signatories, {size / 1024 / 1024:,.1f} MB")


def letters_pdf(root: Path, folder: Path, warn: session.Echo = print) -> Shelf:
    """`campaign letters --pdf DIR`: every mission's letter as `DIR/<mission id>.pdf`."""
    ds = session.load(root, warn)
    return Shelf(folder, _write_all(ds, {m: folder / published.pdf_name(m) for m in sorted(ds.mission_by_id)}, warn))

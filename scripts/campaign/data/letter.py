"""The letter: data/letter/<lang>.md (Markdown with Jinja placeholders), its placeholders and
how it is signed, rendered as plain text for a signature or a mission.

Read by validation (a template that does not render is a problem), by the site (the letter
page, printable letters) and by dispatch (`campaign.dispatch.compose` makes the email,
`campaign.dispatch.paper` the PDF). Who is named on a printed letter is `printed`.

A letter is `parts`: the English text, then (`dispatch.translations`) the text in each other
language its signers used, each under an English heading that names the language and says
whether it is a draft. The few words the code adds to a letter ("A resident of Portugal") come
in the part's language from the interface catalogue: a `Words` (gettext and ngettext), which
the callers above `data` pass in; `ENGLISH` is the letter's own English.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Protocol

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from campaign.core.errors import CampaignError, Problem
from campaign.data import locales
from campaign.data.locales import N_
from campaign.data.models import Campaign, Mission, Signature
from campaign.data.text import sort_key
from campaign.data.translations import LetterFile, translated

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class LetterContext:
    """The placeholders a letter may use; every value is plain text."""

    mission_name: str
    mission_city: str
    addressee: str
    mission_country: str
    target: str
    date: str
    signer: str

    @classmethod
    def build(cls, mission: Mission, target: str, date: dt.date, signer: str, lang: str = locales.DEFAULT) -> LetterContext:
        """The placeholders for `mission`, with its country and the date in `lang`."""
        return cls(
            mission_name=mission.name,
            mission_city=mission.city,
            addressee=addressee(mission),
            mission_country=locales.country_name(mission.country, lang),
            target=target,
            date=locales.long_date(date, lang),
            signer=signer,
        )


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def addressee(mission: Mission) -> str:
    """The mission's name, with its city only where the name does not hold it already:
    'British Embassy Oslo', but 'British Embassy Office, Banja Luka'."""
    name, city = _folded(mission.name), _folded(mission.city)
    if city in name or (city.split() and city.split()[0] in name.split()):
        return mission.name
    return f"{mission.name}, {mission.city}"


class Words(Protocol):
    """The interface catalogue of one language (`campaign.i18n.catalogues.Translator`)."""

    lang: str

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class _English:
    lang = locales.DEFAULT

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


ENGLISH: Words = _English()


@lru_cache(maxsize=16)
def _compiled(template: str) -> Template:
    return _ENV.from_string(template)


@lru_cache(maxsize=16)
def prints_signer(template: str) -> bool:
    """True when the template only prints `{{ signer }}` as it is: never filters, tests, assigns
    or passes it to anything. Its text for one signer is then its text for a stand-in with the
    signer put in the stand-in's place (how dispatch renders a mission's letter once)."""
    tree = _ENV.parse(template)
    printed = sum(isinstance(n, nodes.Name) and n.name == "signer" for out in tree.find_all(nodes.Output) for n in out.nodes)
    return printed == sum(n.name == "signer" for n in tree.find_all(nodes.Name))


def render(template: str, ctx: LetterContext) -> str:
    """Render the letter text; raise TemplateError on syntax errors or unknown placeholders."""
    return _compiled(template).render(vars(ctx))  # vars: asdict's deep copy is slow


def check(template: str, sample: LetterContext) -> tuple[int, str] | None:
    """(line, message) when the template does not render with the known placeholders."""
    try:
        render(template, sample)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None) or 1
        known = ", ".join(f"{{{{ {name} }}}}" for name in (f.name for f in fields(sample)))
        return line, f"letter template error: {exc}; the placeholders are {known}"
    return None


# --- the text of a letter ------------------------------------------------------------------
#
# A letter is the template rendered for one signature (mode `individual`) or for one mission
# and all its signatories (mode `per-mission`), as plain text. Its blocks (`blocks`) are what
# the HTML of the email and of the site is made of: it is never Markdown, so nothing a signer
# typed is ever interpreted.

WITHHELD = {
    "individual": N_("A resident of %(country)s"),
    "organisation": N_("An organisation based in %(country)s"),
}
"""How a signatory who did not consent to be named in the letter signs it."""


NAME_START, NAME_END = "\ue000", "\ue001"
"""Marks around each signer name in a text rendered with `mark=True`: private-use characters,
which a name can never hold (`data.text`), so the HTML can isolate names (`<bdi>`)."""


def signer_line(sig: Signature, words: Words = ENGLISH, mark: bool = False) -> str:
    """How a signature signs a letter: its name and country, or an anonymous description."""
    country = locales.country_name(sig.country, words.lang)
    if not sig.letter:
        return words.gettext(WITHHELD[sig.type]) % {"country": country}
    return f"{NAME_START}{sig.name}{NAME_END}, {country}" if mark else f"{sig.name}, {country}"


def listed_below(n: int, words: Words = ENGLISH) -> str:
    """How a letter with its signatories listed at the end is signed."""
    return words.ngettext("The signatory listed below", "The %(num)s signatories listed below", n) % {
        "num": locales.number(n, words.lang)}


def signatory_list(sigs: Sequence[Signature], mark: bool = False) -> list[str]:
    """The lines listing a mission's signatories: named ones, then a count of the others."""
    named = [s for s in sigs if s.letter]
    named.sort(key=lambda s: (s.type != "organisation", s.name.casefold(), s.country))
    start, end = (NAME_START, NAME_END) if mark else ("", "")
    lines = [
        f"{start}{s.name}{end} ({'organisation' if s.type == 'organisation' else 'individual'}), {locales.country_name(s.country)}"
        for s in named
    ]
    others = len(sigs) - len(named)
    if others:
        lines.append(f"and {others} more {'signatory' if others == 1 else 'signatories'} "
                     f"who asked not to be named in the letter")
    return lines


def name_order(sig: Signature) -> tuple[str, str]:
    """Sort key of a signatory's name: case- and accent-insensitive, then exact."""
    return sort_key(sig.name), sig.name


def printed(sigs: Iterable[Signature], order: Callable[[Signature], tuple[str, str]] = name_order,
            ) -> tuple[list[Signature], int]:
    """A mission's signatories named on its printed letter (organisations first, then by
    name), and how many more signed it.

    A printed letter is public: the site shows it, and the deploy publishes its PDF. So a
    name is on it only with both consents, to be published and to be named in the letter;
    everyone else is counted. (A name with only the letter consent reaches the mission in
    the emailed letter, which is not published.)
    """
    sigs = list(sigs)
    named = sorted((s for s in sigs if s.publish and s.letter), key=lambda s: (s.type != "organisation", *order(s)))
    return named, len(sigs) - len(named)


def print_signer(total: int, words: Words = ENGLISH) -> str:
    """How a printed letter is signed: by the signatories listed below it, or by a blank."""
    return listed_below(total, words) if total else words.gettext("[your name]")


def version(template: str, subject: str) -> str:
    """A short hash of what makes the letter's text: changes when the template or subject do."""
    return hashlib.sha256(f"{template}\0{subject}".encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Part:
    """One language's text of a letter; after the first (English) one, under a heading."""

    lang: str
    text: str
    heading: str | None = None

    @property
    def direction(self) -> str:
        return locales.direction(self.lang)


def heading(lf: LetterFile) -> str | None:
    """The English line above a translation: which language, and whether a native speaker reviewed it."""
    if lf.lang == locales.DEFAULT:
        return None
    name = f"{locales.language_name(lf.lang, locales.DEFAULT)} ({locales.native_name(lf.lang)})"
    return f"The letter in {name}" + (": a draft translation, not yet reviewed by a native speaker" if lf.draft else "")


def translation(files: dict[str, LetterFile], lang: str) -> LetterFile:
    """The letter in `lang` when it has a translation (not a stub), else the English letter."""
    found = files.get(lang)
    return found if found is not None and translated(found) else files[locales.DEFAULT]


def versions(files: dict[str, LetterFile], campaign: Campaign, used: Iterable[str | None] = ()) -> list[LetterFile]:
    """The English letter, then its translation into each language of `used` (in the order of
    `languages`) that has one, when `dispatch.translations` is on."""
    wanted = set(used) if campaign.dispatch.translations else set()
    found = [translation(files, lang) for lang in campaign.languages[1:] if lang in wanted]
    return [files[locales.DEFAULT], *(lf for lf in found if lf.lang != locales.DEFAULT)]


def target(campaign: Campaign, lang: str) -> str:
    """The government the letter in `lang` is addressed to (`campaign.text(lang).target`, without
    building the texts)."""
    found = campaign.translations.get(lang)
    return (found.target if found else None) or campaign.target


def part(lf: LetterFile, campaign: Campaign, mission: Mission, signer: str) -> Part:
    """One version of the letter, rendered for `mission` and signed by `signer`."""
    ctx = LetterContext.build(mission, target(campaign, lf.lang), campaign.dispatch.date, signer, lf.lang)
    return Part(lf.lang, render(lf.text, ctx).rstrip("\n"), heading(lf))


def parts(files: dict[str, LetterFile], campaign: Campaign, mission: Mission, sigs: Sequence[Signature],
          words: Callable[[str], Words] = lambda lang: ENGLISH, mark: bool = False) -> list[Part]:
    """The letter to `mission` from `sigs`: one signer, or the signatories listed at the end
    (in English, after every version); a version per language the signers used. With `mark`,
    each name is between NAME_START and NAME_END."""
    found = []
    for lf in versions(files, campaign, (s.language for s in sigs)):
        w = words(lf.lang) if lf.lang != locales.DEFAULT else ENGLISH
        found.append(part(lf, campaign, mission, signer_line(sigs[0], w, mark) if len(sigs) == 1 else listed_below(len(sigs), w)))
    if len(sigs) > 1:
        names = "\n".join(f"- {line}" for line in signatory_list(sigs, mark))
        found.append(Part(locales.DEFAULT, f"Signatories ({len(sigs)}):\n\n{names}"))
    return found


def text(found: Sequence[Part]) -> str:
    """The parts as one plain-text letter."""
    return "\n\n".join((f"[{p.heading}]\n\n" if p.heading else "") + p.text for p in found) + "\n"


LIST_ITEM = re.compile(r"^(\d+\.|[-*])\s+")
"""What starts a list item in the letter's text (`blocks`)."""


def blocks(text: str) -> list[tuple[str, list[list[str]]]]:
    """The letter's blocks, split at blank lines: ("ol" | "ul", items as lists of stripped
    lines) for blocks starting with `1.` or `-`, else ("p", [raw lines])."""
    found: list[tuple[str, list[list[str]]]] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.split("\n")
        if not LIST_ITEM.match(lines[0]):
            found.append(("p", [lines]))
            continue
        items: list[list[str]] = []
        for line in lines:
            if LIST_ITEM.match(line):
                items.append([LIST_ITEM.sub("", line).strip()])
            elif items:
                items[-1].append(line.strip())
        found.append(("ol" if lines[0][0].isdigit() else "ul", items))
    return found


def as_html(text: str) -> Markup:
    """The rendered letter as HTML paragraphs and lists, every character escaped (the site's
    pages and the PDF letters).

    The emailed letter's HTML too (`campaign.dispatch.compose.to_html`): blank lines separate paragraphs,
    `1.`/`-` start list items. Inside a block, line breaks follow Markdown (the letter's
    format): a wrapped line continues the paragraph, a line ending in two spaces or a
    backslash breaks it.
    """
    parts: list[str] = []
    for tag, block in blocks(text):
        if tag != "p":
            parts.append(f"<{tag}>" + "".join(f"<li>{escape(' '.join(i))}</li>" for i in block) + f"</{tag}>")
            continue
        lines = block[0]
        rows: list[list[str]] = [[]]
        for line in lines:
            rows[-1].append(line.strip().removesuffix("\\").strip())
            if line.endswith(("  ", "\\")):
                rows.append([])
        shown = [escape(" ".join(row)) for row in rows if row]
        parts.append("<p>" + "<br>\n".join(str(r) for r in shown) + "</p>")
    return Markup("\n".join(parts))  # noqa: S704 - every piece of text above is escaped


def template_for(templates: dict[str, str], campaign: Campaign) -> tuple[str, str]:
    """(language, template) of the campaign's first language; CampaignError when missing."""
    lang = campaign.languages[0]
    if lang not in templates:
        raise CampaignError([Problem(f"data/letter/{lang}.md", 1, "the letter is missing; add it")])
    return lang, templates[lang]

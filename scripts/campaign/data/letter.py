"""The letter: data/letter/<lang>.md (Markdown with Jinja placeholders), its placeholders and
how it is signed, rendered as plain text for a signature or a mission.

Read by validation (a template that does not render is a problem), by the site (the letter
page, printable letters) and by dispatch (`campaign.dispatch.compose` makes the email,
`campaign.dispatch.paper` the PDF). Who is named on a printed letter is `printed`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from campaign.core.errors import CampaignError, Problem
from campaign.data import countries
from campaign.data.models import Campaign, Mission, Signature
from campaign.data.text import sort_key

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
    def build(cls, mission: Mission, target: str, date: dt.date, signer: str) -> LetterContext:
        return cls(
            mission_name=mission.name,
            mission_city=mission.city,
            addressee=addressee(mission),
            mission_country=countries.name(mission.country),
            target=target,
            date=f"{date.day} {date:%B %Y}",
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


@lru_cache(maxsize=16)
def _compiled(template: str) -> Template:
    return _ENV.from_string(template)


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
    "individual": "A resident of {country}",
    "organisation": "An organisation based in {country}",
}
"""How a signatory who did not consent to be named in the letter signs it."""


NAME_START, NAME_END = "\ue000", "\ue001"
"""Marks around each signer name in a text rendered with `mark=True`: private-use characters,
which a name can never hold (`data.text`), so the HTML can isolate names (`<bdi>`)."""


def signer_line(sig: Signature, mark: bool = False) -> str:
    """How a signature signs a letter: its name and country, or an anonymous description."""
    country = countries.name(sig.country)
    if not sig.letter:
        return WITHHELD[sig.type].format(country=country)
    return f"{NAME_START}{sig.name}{NAME_END}, {country}" if mark else f"{sig.name}, {country}"


def signatory_list(sigs: Sequence[Signature], mark: bool = False) -> list[str]:
    """The lines listing a mission's signatories: named ones, then a count of the others."""
    named = [s for s in sigs if s.letter]
    named.sort(key=lambda s: (s.type != "organisation", s.name.casefold(), s.country))
    start, end = (NAME_START, NAME_END) if mark else ("", "")
    lines = [
        f"{start}{s.name}{end} ({'organisation' if s.type == 'organisation' else 'individual'}), {countries.name(s.country)}"
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


def print_signer(total: int) -> str:
    """How a printed letter is signed: by the signatories listed below it, or by a blank."""
    if not total:
        return "[your name]"
    return "The signatory listed below" if total == 1 else f"The {total:,} signatories listed below"


def version(template: str, subject: str) -> str:
    """A short hash of what makes the letter's text: changes when the template or subject do."""
    return hashlib.sha256(f"{template}\0{subject}".encode()).hexdigest()[:10]


def body(template: str, campaign: Campaign, mission: Mission, sigs: Sequence[Signature], mark: bool = False) -> str:
    """The plain-text letter: one signer, or a mission's signatories listed at the end (with
    `mark`, each name between NAME_START and NAME_END)."""
    if len(sigs) == 1:
        signer = signer_line(sigs[0], mark)
        extra: list[str] = []
    else:
        signer = f"The {len(sigs)} signatories listed below"
        extra = ["", "", f"Signatories ({len(sigs)}):", "", *(f"- {line}" for line in signatory_list(sigs, mark))]
    ctx = LetterContext.build(mission, campaign.target, campaign.dispatch.date, signer)
    text = render(template, ctx).rstrip("\n")
    return text + "\n".join(extra) + "\n" if extra else text + "\n"


_ITEM = re.compile(r"^(\d+\.|[-*])\s+")


def blocks(text: str) -> list[tuple[str, list[list[str]]]]:
    """The letter's blocks, split at blank lines: ("ol" | "ul", items as lists of stripped
    lines) for blocks starting with `1.` or `-`, else ("p", [raw lines])."""
    found: list[tuple[str, list[list[str]]]] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.split("\n")
        if not _ITEM.match(lines[0]):
            found.append(("p", [lines]))
            continue
        items: list[list[str]] = []
        for line in lines:
            if _ITEM.match(line):
                items.append([_ITEM.sub("", line).strip()])
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

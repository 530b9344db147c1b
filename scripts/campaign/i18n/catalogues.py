"""The gettext catalogues: `locale/<lang>/LC_MESSAGES/messages.po`, read and compiled with
Babel when a build or the intake starts (no `.mo` file is committed or needed), and a
`Translator` that falls back to English and remembers what it had to.

Messages are English source strings (`_("Sign the letter")`), marked in the Python code, the
Jinja templates and the browser script and extracted by `pybabel extract -F babel.cfg`.
Placeholders are `%(name)s`; plurals are gettext's, with the language's CLDR plural rules.

A catalogue may be incomplete: an untranslated message shows in English, and the page says so.
A translated message whose placeholders differ from the English one is an error (`check`),
because it would fail or drop a name when rendered.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

from campaign.core.errors import CampaignError, Problem
from campaign.data import locales
from campaign.data.locales import N_  # noqa: F401 - re-exported for the layers above

LOCALE_DIR = "locale"
DOMAIN = "messages"
TEMPLATE = f"{LOCALE_DIR}/{DOMAIN}.pot"
SCRIPT_SUFFIX = ".js"
"""Messages found in these files go to the browser script's JSON."""
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
PLURAL_ORDER = ("zero", "one", "two", "few", "many", "other")
"""CLDR's plural categories in the order of gettext's forms, as Babel writes a catalogue's Plural-Forms."""


def po_path(lang: str) -> str:
    """The repository path of a language's catalogue."""
    return f"{LOCALE_DIR}/{lang}/LC_MESSAGES/{DOMAIN}.po"


def read(root: Path, lang: str) -> Catalog | None:
    """A language's catalogue, or None when it has none; CampaignError `path:line` when unreadable."""
    path = root / po_path(lang)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CampaignError([Problem(po_path(lang), 1, f"cannot read the catalogue ({exc.strerror})")]) from None
    return _parse(po_path(lang), raw, lang)


@lru_cache(maxsize=32)
def _parse(rel: str, raw: bytes, lang: str) -> Catalog:
    try:
        return read_po(io.BytesIO(raw), locale=locales.locale(lang), abort_invalid=True)
    except PoFileError as exc:
        line = (getattr(exc, "lineno", 0) or 0) + 1  # Babel counts lines from 0
        raise CampaignError([Problem(rel, line, f"the catalogue cannot be read: {exc}; fix it or run `pybabel update`")]) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CampaignError([Problem(rel, 1, f"the catalogue cannot be read: {exc}")]) from None


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def _strings(message: Message) -> list[str]:
    return [s for s in (message.string if isinstance(message.string, (list, tuple)) else [message.string]) if s]


def translated(message: Message) -> bool:
    """True when a message has a translation that is used (every form filled, not fuzzy)."""
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return bool(message.id) and not message.fuzzy and all(strings)


def placeholder_problems(rel: str, catalog: Catalog) -> list[Problem]:
    """Translations whose `%(name)s` placeholders differ from their English message's."""
    problems = []
    for message in catalog:
        if not message.id or not translated(message):
            continue
        wanted = {name for text in _ids(message) for name in _PLACEHOLDER.findall(text)}
        plural = isinstance(message.id, (list, tuple))
        for text in _strings(message):
            have = set(_PLACEHOLDER.findall(text))
            extra, missing = have - wanted, wanted - have - ({"num"} if plural else set())
            if extra or missing or text.count("%") - 2 * text.count("%%") != len(_PLACEHOLDER.findall(text)):
                what = "; ".join([*(f"%({n})s is not in the English message" for n in sorted(extra)),
                                  *(f"%({n})s is missing" for n in sorted(missing))]) or "a lone % (write %% for a percent sign)"
                problems.append(Problem(rel, message.lineno or 1, f"translation of {_ids(message)[0]!r}: {what}; "
                                                                  "keep the English message's placeholders"))
                break
    return problems


def check(root: Path, languages: Iterable[str]) -> list[Problem]:
    """Every catalogue that cannot be read or has a broken placeholder (CI fails on these, not
    on missing translations)."""
    problems: list[Problem] = []
    for lang in languages:
        try:
            catalog = read(root, lang)
        except CampaignError as exc:
            problems += exc.problems
            continue
        if catalog is not None:
            problems += placeholder_problems(po_path(lang), catalog)
    return problems


def plural_tags(lang: str) -> list[str]:
    """The CLDR plural categories of a language in gettext's order of forms (Babel's)."""
    tags = locales.locale(lang).plural_form.tags | {"other"}
    return [tag for tag in PLURAL_ORDER if tag in tags]


@dataclass
class Translator:
    """gettext for one language: English wherever the catalogue has no translation, and a
    record of each message that fell back (`missed`), so a page can say it is partly English."""

    lang: str
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)
    script: dict[str, str | list[str]] = field(default_factory=dict)
    """The browser script's messages and their translations."""
    missed: set[str] = field(default_factory=set)

    def _known(self, key: str | tuple[str, int]) -> bool:
        return self.lang == locales.DEFAULT or key in getattr(self.translations, "_catalog", {})

    def gettext(self, message: str) -> str:
        if not self._known(message):
            self.missed.add(message)
            return message
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if not self._known((singular, 0)):
            self.missed.add(singular)
            return singular if n == 1 else plural
        return self.translations.ngettext(singular, plural, n)

    def format(self, message: str, **values: object) -> str:
        """`gettext(message) % values`: the Python code's `_("... %(name)s ...", name=...)`."""
        return self.gettext(message) % values if values else self.gettext(message)

    def nformat(self, singular: str, plural: str, n: int, **values: object) -> str:
        """`ngettext` with `%(num)s` set to `n`, written the language's way (1,234 or 1.234)."""
        return self.ngettext(singular, plural, n) % {"num": locales.number(n, self.lang), **values}

    def script_json(self) -> dict[str, object]:
        """What the browser script needs: its messages, the language and its plural categories."""
        return {"lang": self.lang, "plural": plural_tags(self.lang), "messages": self.script}


def translator(root: Path, lang: str) -> Translator:
    """A fresh Translator for `lang` from its catalogue (compiled in memory; English if none)."""
    catalog = read(root, lang) if lang != locales.DEFAULT else None
    if catalog is None:
        return Translator(lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # leaves out untranslated and fuzzy messages
    buffer.seek(0)
    script: dict[str, str | list[str]] = {}
    for message in catalog:
        if translated(message) and any(loc.endswith(SCRIPT_SUFFIX) for loc, _ in message.locations):
            key = _ids(message)[0]
            script[key] = list(message.string) if isinstance(message.string, (list, tuple)) else message.string
    return Translator(lang, gettext.GNUTranslations(buffer), script)


def statistics(catalog: Catalog) -> tuple[int, int, int]:
    """(translated, fuzzy, total) messages of a catalogue."""
    messages = [m for m in catalog if m.id]
    return sum(translated(m) for m in messages), sum(bool(m.fuzzy) for m in messages), len(messages)


def negotiate(accept_language: str | None, languages: Iterable[str]) -> str:
    """The first of `languages` an Accept-Language header asks for (by its q-values), else English."""
    wanted: list[tuple[float, int, str]] = []
    for i, item in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if tag:
            wanted.append((-q, i, tag.strip().lower().split("-")[0]))
    known = list(languages)
    for q, _, lang in sorted(wanted):
        if q < 0 and lang in known:
            return lang
    return locales.DEFAULT


class Catalogues:
    """The catalogues of one repository, each compiled on first use: `catalogues(lang)`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._found: dict[str, Translator] = {}

    def __call__(self, lang: str) -> Translator:
        if lang not in self._found:
            self._found[lang] = translator(self.root, lang)
        return self._found[lang]

"""The letter's translations: `data/letter/<lang>.md` with front matter that says which version
of the English text it translates and whether a native speaker reviewed it (ARCHITECTURE.md,
"Languages").

    ---
    translates: '3f2a9c01d4e5'   # the English text's version (`campaign i18n status` shows it)
    status: 'draft'              # draft (machine or non-native) | reviewed (by a native speaker)
    ---                          # | untranslated (a stub: still the English text)
    Al {{ mission_name }}, ...

English is authoritative and needs no front matter. `campaign validate` checks every
translation against it: a placeholder the English letter has and the translation lacks (or
the other way round) is an error, since the letter would lose a mission's name or a signer;
a translation of an older English text is a warning (`--strict` fails on it), so editing the
English letter never turns every signature pull request red. A stub (`status: 'untranslated'`,
as `campaign i18n new` writes it) is never sent nor shown as a translation.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from campaign.core.errors import DataError, Problem
from campaign.data import locales, yamlio

LETTERS = "data/letter"
STATUSES = ("draft", "reviewed", "untranslated")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*\n", re.S)
_FIELD = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)")
_ENV = SandboxedEnvironment()


@dataclass(frozen=True)
class LetterFile:
    """One letter file: its template (the text after any front matter) and what the front matter says."""

    lang: str
    path: str
    text: str
    offset: int = 0
    """Lines before the text (the front matter): template line n is file line offset + n."""
    translates: str | None = None
    status: str | None = None
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def draft(self) -> bool:
        return self.lang != locales.DEFAULT and self.status != "reviewed"


def version(text: str) -> str:
    """The version of a letter's text a translation names: a hash of its words, so that
    re-wrapping the English lines does not make every translation stale."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]


def parse(lang: str, text: str) -> tuple[LetterFile, list[Problem]]:
    """Split a letter file into front matter and template; problems for a bad front matter."""
    path = f"{LETTERS}/{lang}.md"
    found = _FRONT.match(text)
    if not found:
        problems = [] if lang == locales.DEFAULT else [Problem(path, 1, (
            "a translation starts with front matter: `---`, `translates: '<version>'`, `status: 'draft'`, `---` "
            "(`campaign i18n status` shows the English version)"))]
        return LetterFile(lang, path, text), problems
    offset = found.group(0).count("\n")
    body = text[found.end():]
    try:
        doc = yamlio.loads((found.group(1) or "").encode()) if (found.group(1) or "").strip() else None
    except DataError as exc:
        return LetterFile(lang, path, body, offset), [Problem(path, exc.line + 1, exc.message)]
    data = doc.data if doc else {}
    lines = {k: v + 1 for k, v in doc.top_lines().items()} if doc else {}
    if not isinstance(data, dict):
        return LetterFile(lang, path, body, offset), [Problem(path, 2, "the front matter must be `key: value` lines")]
    problems = [Problem(path, lines.get(k, 2), f"unknown front matter `{k}`; only `translates` and `status`")
                for k in data if k not in ("translates", "status")]
    translates, status = data.get("translates"), data.get("status")
    if lang != locales.DEFAULT:
        if not isinstance(translates, str) or not re.fullmatch(r"[0-9a-f]{12}", translates):
            problems.append(Problem(path, lines.get("translates", 2), (
                "`translates` must be the 12-character version of the English text it translates, in quotes "
                "(`campaign i18n status` shows the current one)")))
            translates = None
        if status not in STATUSES:
            problems.append(Problem(path, lines.get("status", 2), "`status` must be 'draft' (machine or non-native), "
                                                                  "'reviewed' (by a native speaker) or 'untranslated' (a stub)"))
            status = None
    return LetterFile(lang, path, body, offset, translates, status, lines), problems


def placeholders(text: str) -> dict[str, int]:
    """The placeholders a letter template uses, each with the template line it first appears on."""
    try:
        names = meta.find_undeclared_variables(_ENV.parse(text))
    except TemplateSyntaxError:
        return {}  # reported by `letter.check`
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        for name in _FIELD.findall(line):
            if name in names:
                found.setdefault(name, number)
    return found


def translated(other: LetterFile) -> bool:
    """True for the English letter and for a translation; False for a stub (or a bad front matter)."""
    return other.lang == locales.DEFAULT or other.status in ("draft", "reviewed")


def check(letters: dict[str, LetterFile]) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) of every translation against the English letter."""
    english = letters.get(locales.DEFAULT)
    if english is None:
        return [], []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    wanted = placeholders(english.text)
    current = version(english.text)
    for lang, other in sorted(letters.items()):
        if lang == locales.DEFAULT:
            continue
        if other.status == "untranslated":
            warnings.append(Problem(other.path, other.lines.get("status", 2), "is not translated yet: translate it, "
                                    "then set `status: 'draft'` (until then the letter goes out in English only)"))
            continue
        have = placeholders(other.text)
        for name in sorted(set(wanted) - set(have)):
            problems.append(Problem(other.path, other.offset + 1, (
                f"the placeholder {{{{ {name} }}}} of the English letter ({english.path}:{english.offset + wanted[name]}) "
                "is missing; keep every placeholder, in the words of this language")))
        for name in sorted(set(have) - set(wanted)):
            problems.append(Problem(other.path, other.offset + have[name], (
                f"the placeholder {{{{ {name} }}}} is not in the English letter; remove it or use one of "
                + ", ".join(f"{{{{ {n} }}}}" for n in sorted(wanted)))))
        if other.translates and other.translates != current:
            warnings.append(Problem(other.path, other.lines.get("translates", 2), (
                f"translates version {other.translates} of {english.path}, which is now {current}: "
                f"update the translation, then set `translates: '{current}'`")))
    return problems, warnings

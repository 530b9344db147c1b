"""Hygiene for free text supplied by signers: names, descriptions, header-bound labels.

One rule for every route (the form, the issue forms, `campaign validate`); the browser script
`docs/javascripts/campaign.js` mirrors `clean_name` (ARCHITECTURE.md, "Data rules").
"""

from __future__ import annotations

import re
import unicodedata

NAME_MAX = 200
"""Longest accepted name, in characters after normalisation."""
MARKS_MAX = 4
"""Most combining marks on one base character in a name (counted decomposed, NFD).

Unicode's stream-safe limit (UAX #15) is 30. Living orthographies need far fewer: Vietnamese
stacks two (ệ = e + circumflex + dot below), pointed Hebrew and Arabic three, Tibetan and Indic
stacks up to four. More than four is a "Zalgo" flood that overdraws the lines around it."""

# Cc control, Cf format (bidi, zero-width), Co private use, Cn unassigned, Cs surrogates,
# Zl/Zp line and paragraph separators.
_FORBIDDEN = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
# Default_Ignorable_Code_Point (Unicode 15.0, DerivedCoreProperties.txt): drawn as nothing.
# Cf and Cn members are already refused by category; these are the rest (Mn, Lo), plus the
# braille blank U+2800, a symbol that also shows as an empty cell.
_INVISIBLE = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2800, 0x2800),
              (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0000, 0xE0FFF))
_SPACES = re.compile(r"\s+")


_CONTROLS = {"\t": "tab", "\n": "line feed", "\v": "line tabulation", "\f": "form feed", "\r": "carriage return",
             "\x00": "null", "\x1b": "escape", "\x7f": "delete", "\x85": "next line"}


def describe(ch: str) -> str:
    """`U+034F (combining grapheme joiner)`: a character as a message names it."""
    label = _CONTROLS.get(ch) or unicodedata.name(ch, "control character" if unicodedata.category(ch) == "Cc" else "unnamed character")
    return f"U+{ord(ch):04X} ({label.lower()})"


def _invisible(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _INVISIBLE)


_ASCII_BAD = (re.compile(r"[\x00-\x1f\x7f]"), re.compile(r"[\x00-\x09\x0b-\x1f\x7f]"))
"""The forbidden ASCII code points (category Cc), and the same without the line feed."""


def bad_character(text: str, allow_newlines: bool = False) -> str | None:
    """Describe the first forbidden code point in `text` (control, format, private-use,
    unassigned, line separators), or None when it is clean."""
    if text.isascii():  # only controls are forbidden in ASCII: one regular expression (paths, most names)
        found = _ASCII_BAD[allow_newlines].search(text)
        return describe(found.group()) if found else None
    for ch in text:
        if allow_newlines and ch == "\n":
            continue
        if unicodedata.category(ch) in _FORBIDDEN:
            return describe(ch)
    return None


def _mark_flood(name: str) -> str | None:
    run, base = 0, ""
    for ch in unicodedata.normalize("NFD", name):
        if unicodedata.category(ch).startswith("M"):
            run += 1
            if run > MARKS_MAX:
                return (f"stacks more than {MARKS_MAX} combining marks on {base!r}; "
                        f"write each letter with at most {MARKS_MAX} accents")
        else:
            run, base = 0, ch
    return None


def clean_name(value: str, max_len: int = NAME_MAX) -> str:
    """NFKC-normalise and collapse whitespace; raise ValueError with a fix on bad input."""
    found = bad_character(value)
    if found:
        raise ValueError(f"contains the invisible or control character {found}; retype the name without it")
    hidden = next((ch for ch in value if _invisible(ch)), None)
    if hidden:
        raise ValueError(f"contains the invisible character {describe(hidden)}; retype the name without it")
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if not name:
        raise ValueError("is empty; give the full name")
    if len(name) > max_len:
        raise ValueError(f"is {len(name):,} characters long; shorten it to at most {max_len}")
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        raise ValueError("has no letters; give the name in words")
    flood = _mark_flood(name)
    if flood:
        raise ValueError(flood)
    return name


def clean_text(value: str, max_len: int, single_line: bool = False) -> str:
    """Free text: NFKC, forbidden characters rejected, trimmed, length-limited; newlines are
    kept unless `single_line` (every value that ends up in a mail header)."""
    value = value.replace("\r\n", "\n")
    found = bad_character(value, allow_newlines=not single_line)
    if found:
        where = " (it ends up in a mail header)" if single_line else ""
        raise ValueError(f"contains the invisible or control character {found}{where}; remove it")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise ValueError("is empty")
    if len(text) > max_len:
        raise ValueError(f"is {len(text):,} characters long; shorten it to at most {max_len}")
    return text


def name_key(name: str) -> str:
    """The duplicate-detection form of a name: NFKC, casefolded, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return _SPACES.sub(" ", folded).strip()


def sort_key(text: str) -> str:
    """Case- and accent-insensitive sort key (names and places of every script)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))

"""Hygiene for free text supplied by signers: names, descriptions."""

from __future__ import annotations

import re
import unicodedata

NAME_MAX = 200
"""Longest accepted name, in characters after normalisation."""

# Cc control, Cf format (bidi, zero-width), Co private use, Cn unassigned, Cs surrogates,
# Zl/Zp line and paragraph separators.
_FORBIDDEN = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
_SPACES = re.compile(r"\s+")


def bad_character(text: str, allow_newlines: bool = False) -> str | None:
    """Describe the first forbidden code point in `text`, or None when it is clean."""
    for ch in text:
        if allow_newlines and ch == "\n":
            continue
        if unicodedata.category(ch) in _FORBIDDEN:
            label = unicodedata.name(ch, "unnamed character")
            return f"U+{ord(ch):04X} ({label.lower()})"
    return None


def clean_name(value: str, max_len: int = NAME_MAX) -> str:
    """NFKC-normalise and collapse whitespace; raise ValueError with a fix on bad input."""
    found = bad_character(value)
    if found:
        raise ValueError(
            f"contains the invisible or control character {found}; retype the name without it"
        )
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if not name:
        raise ValueError("is empty; give the full name")
    if len(name) > max_len:
        raise ValueError(f"is {len(name):,} characters long; shorten it to at most {max_len}")
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        raise ValueError("has no letters; give the name in words")
    return name


def clean_text(value: str, max_len: int) -> str:
    """Multi-line free text: NFKC, forbidden characters rejected, trimmed, length-limited."""
    value = value.replace("\r\n", "\n")
    found = bad_character(value, allow_newlines=True)
    if found:
        raise ValueError(f"contains the invisible or control character {found}; remove it")
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

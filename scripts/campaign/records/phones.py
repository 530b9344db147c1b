"""Phone numbers of missions: parsed with `phonenumbers` against the mission's country.

The directory stores a number in E.164 (`+97126101100`) when the published text is one number
that is valid for the mission's country; anything else (several numbers in one entry,
`+91 40 6666 9147/48`; a number of another country; an outdated numbering plan) keeps the text
as published, and `campaign missions check` reports it. Pages show `national(number, country)`
(`02 610 1100`) or `international(...)` (`+971 2 610 1100`) and link `tel_uri(...)`.

Every function takes what is in the data (E.164 or published text) and never raises on bad
input: text that cannot be read as a number comes back unchanged (or None from `e164`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from campaign.data import countries

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SEVERAL = re.compile(r"[/,;]|\bor\b|\band\b", re.IGNORECASE)
"""Separators of alternatives inside one published entry: '+355 4 223 4973/4/5'."""
MAX_LEN = 60


@lru_cache(maxsize=4096)
def _parse(text: str, country: str) -> PhoneNumber | None:
    if len(text) > MAX_LEN or _SEVERAL.search(text):
        return None
    try:
        return phonenumbers.parse(text, country)
    except NumberParseException:
        return None


def _valid_here(number: PhoneNumber | None, country: str) -> bool:
    return number is not None and phonenumbers.is_valid_number_for_region(number, country)


def e164(text: str, country: str) -> str | None:
    """The E.164 form when `text` is one number valid for `country` (ISO alpha-2), else None."""
    number = _parse(text.strip(), country)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if number and _valid_here(number, country) else None


def normalise(text: str, country: str) -> str:
    """What the directory stores: E.164 when valid for `country`, else the text as published."""
    return e164(text, country) or text.strip()


def problem(text: str, country: str) -> str | None:
    """Why `text` is not one valid number of `country` (a phrase), or None when it is."""
    text = text.strip()
    if _SEVERAL.search(text):
        return "holds several numbers in one entry"
    number = _parse(text, country)
    if number is None:
        return "cannot be read as a phone number"
    if _valid_here(number, country):
        return None
    if phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number)
        return f"is a number of {countries.name(region)} ({region}), not of {countries.name(country)}"
    return f"is not a valid number in {countries.name(country)}'s numbering plan (outdated or mistyped)"


def _any_valid(text: str, country: str) -> PhoneNumber | None:
    number = _parse(text.strip(), country)
    return number if number is not None and phonenumbers.is_valid_number(number) else None


def national(number: str, country: str) -> str:
    """For the site: national format for a number of `country` ('02 610 1100'), international
    format for a valid number of another country, else the stored text unchanged."""
    parsed = _any_valid(number, country)
    if parsed is None:
        return number
    fmt = PhoneNumberFormat.NATIONAL if _valid_here(parsed, country) else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, fmt)


def international(number: str, country: str) -> str:
    """'+971 2 610 1100' for a valid number; the stored text unchanged otherwise."""
    parsed = _any_valid(number, country)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL) if parsed else number


def tel_uri(number: str, country: str) -> str | None:
    """An RFC 3966 link target ('tel:+971-2-610-1100') for a valid number, else None."""
    parsed = _any_valid(number, country)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.RFC3966) if parsed else None


def key(number: str, country: str) -> str:
    """What makes two entries the same number: E.164 when readable, else the digits."""
    parsed = _any_valid(number, country)
    if parsed is not None:
        return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return "".join(ch for ch in number if ch.isdigit())


def split(text: str, country: str) -> list[str]:
    """The numbers found in free text ('+34 91 714 6300 / +44 20 7008 5000 (24h)'), each in
    E.164 when valid for `country`, else as found; used for published entries that do not
    fit the directory's number format."""
    found = [m.raw_string for m in phonenumbers.PhoneNumberMatcher(text[:500], country)]
    return [normalise(raw, country) for raw in found]

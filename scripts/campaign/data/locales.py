"""Everything that has a locale, from CLDR through Babel: language and country names, the
direction of a script, dates and numbers (ARCHITECTURE.md, "Languages").

English keeps the ISO 3166 country names of `countries` (what validation prints and the letter
has always said); every other language takes CLDR's. English dates and numbers are British
(`en_GB`: "10 December 2026", "1,234"), as the letter's English is.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, get_datetime_format
from babel.numbers import format_decimal

from campaign.data import countries

DEFAULT = "en"
"""The authoritative language: the English letter, the English interface; everything falls back to it."""
FORMATS = {"en": "en_GB"}
"""The CLDR locale whose dates and numbers a language uses, where it is not the language itself."""


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "extract this; translate it where it is shown"
    """Mark a string for `pybabel extract` where it is defined (the catalogue translates it later)."""
    return message


@cache
def locale(lang: str) -> Locale:
    """The Babel locale of a language code; ValueError when CLDR does not know it."""
    try:
        return Locale.parse(FORMATS.get(lang, lang))
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"{lang!r} is not a language CLDR knows; use a code like 'es', 'pt', 'fr' or 'ar'") from None


def check(lang: str) -> str:
    """`lang` if CLDR knows it (a pydantic validator); ValueError otherwise."""
    locale(lang)
    return lang


def native_name(lang: str) -> str:
    """The language's name in itself, as a language menu shows it: 'Español', 'Français', 'العربية'."""
    name = locale(lang).get_language_name(lang) or lang
    return name[:1].upper() + name[1:]


def language_name(lang: str, in_lang: str) -> str:
    """The name of language `lang` in language `in_lang`: ('es', 'fr') -> 'espagnol'."""
    return locale(in_lang).languages.get(lang) or native_name(lang)


def direction(lang: str) -> str:
    """'rtl' for a right-to-left script (Arabic, Hebrew, ...), else 'ltr'."""
    return "rtl" if locale(lang).character_order == "right-to-left" else "ltr"


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(locale(lang).territories)


def country_name(code: str, lang: str = DEFAULT) -> str:
    """A country's name in `lang`: ISO 3166's English one for English, CLDR's for the others."""
    if lang == DEFAULT:
        return countries.name(code)
    return _territories(lang).get(code) or countries.name(code)


def long_date(day: dt.date, lang: str = DEFAULT) -> str:
    """'10 December 2026', '10 de diciembre de 2026', '10 décembre 2026'."""
    return format_date(day, "long", locale=locale(lang))


def long_time(moment: dt.datetime, lang: str = DEFAULT) -> str:
    """A moment in UTC, the language's way: '10 December 2026 at 09:00 UTC'."""
    where, utc = locale(lang), moment.astimezone(dt.timezone.utc)
    pattern = get_datetime_format("long", locale=where).replace("'", "")  # as babel.dates.format_datetime joins them
    return pattern.replace("{0}", format_time(utc, "short", locale=where)).replace("{1}", format_date(utc, "long", locale=where)) + " UTC"


def local_moment(moment: dt.datetime, zone: str, lang: str = DEFAULT) -> str:
    """A moment in the IANA time zone `zone`, the language's medium way: '10 Dec 2026, 09:00:02'."""
    return format_datetime(moment, "medium", tzinfo=ZoneInfo(zone), locale=locale(lang))


def number(value: int, lang: str = DEFAULT) -> str:
    """'1,234', '1.234', '1 234' (CLDR's grouping of the language)."""
    return format_decimal(value, locale=locale(lang))

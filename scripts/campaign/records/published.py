"""Where the site publishes a mission's page and its PDF letter: the one path convention the
site (its links) and dispatch (`campaign letters --pdf`, the PDF's link back) share, since
neither may import the other. See ARCHITECTURE.md, "Paper".

The deploy workflow renders the PDFs into `<site>/PDF_FOLDER/` after the site is built.
"""

from __future__ import annotations

PDF_FOLDER = "letters"
"""The site's folder of the PDF letters, one `<mission id>.pdf` each."""


def mission_uri(mission_id: str) -> str:
    """The docs path of a mission's page."""
    return f"missions/{mission_id}/index.md"


def mission_url(site_url: str, mission_id: str) -> str:
    """The public URL of a mission's page (a folder URL: served with or without MkDocs'
    `use_directory_urls`)."""
    return f"{site_url.rstrip('/')}/missions/{mission_id}/"


def pdf_name(mission_id: str) -> str:
    """The file name of a mission's PDF letter."""
    return f"{mission_id}.pdf"


def pdf_uri(mission_id: str) -> str:
    """The site path of a mission's PDF letter."""
    return f"{PDF_FOLDER}/{pdf_name(mission_id)}"

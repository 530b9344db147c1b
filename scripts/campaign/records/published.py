"""Where the site publishes a mission's page and its PDF letter: the one path convention the
site (its links) and dispatch (`campaign letters --pdf`, the PDF's link back) share, since
neither may import the other. See ARCHITECTURE.md, "Paper". And the links that share a
published page (the site's letter page, the intake's thank-you page).

The deploy workflow renders the PDFs into `<site>/PDF_FOLDER/` after the site is built.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from campaign.data import locales

PDF_FOLDER = "letters"
"""The site's folder of the PDF letters, one `<mission id>.pdf` each."""


def site_root(site_url: str, lang: str) -> str:
    """The root URL of a language's site: `site_url` for English, `site_url<lang>/` for the others."""
    base = site_url.rstrip("/") + "/"
    return base if lang == locales.DEFAULT else f"{base}{lang}/"


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


def share(title: str, description: str, url: str, short: str) -> dict[str, str]:
    """Share links for the page at `url` (no third-party script, just links): `short` is the
    campaign's title and a call to sign, in the page's language."""
    text = f"{title} {description}"
    return {
        "Mastodon": "https://mastodonshare.com/?" + urlencode({"text": f"{short} {url}"}, quote_via=quote),
        "Bluesky": "https://bsky.app/intent/compose?" + urlencode({"text": f"{short} {url}"}, quote_via=quote),
        "X": "https://x.com/intent/tweet?" + urlencode({"text": short, "url": url}, quote_via=quote),
        "Facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote),
        "WhatsApp": "https://wa.me/?" + urlencode({"text": f"{short} {url}"}, quote_via=quote),
        "Telegram": "https://t.me/share/url?" + urlencode({"url": url, "text": short}, quote_via=quote),
        "Email": "mailto:?" + urlencode({"subject": title, "body": f"{text}\n\n{url}"}, quote_via=quote),
        "url": url,
    }

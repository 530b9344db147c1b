"""Links on the site's pages: page URLs as MkDocs makes them, phones, maps, GitHub and share links."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urlencode

from campaign.data import countries
from campaign.data.models import Mission
from campaign.records import phones

DEFAULT_BRANCH = "main"
"""The branch GitHub's new-file links open against."""


@dataclass(frozen=True)
class Links:
    """Relative links between docs paths, as MkDocs turns them into URLs."""

    use_directory_urls: bool = True

    def url(self, uri: str) -> str:
        """The site URL of a docs path, as MkDocs makes it (`use_directory_urls` or not)."""
        if not uri.endswith(".md"):
            return uri
        stem = uri[:-3]
        if not self.use_directory_urls:
            return stem + ".html"
        if stem == "index":
            return ""
        if stem.endswith("/index"):
            return stem[: -len("index")]
        return stem + "/"

    def href(self, src: str, dst: str, anchor: str = "") -> str:
        """A relative link from the page at docs path `src` to docs path `dst`."""
        here, there = self.url(src), self.url(dst)
        base = here.rsplit("/", 1)[0] if "/" in here else ""
        rel = posixpath.relpath(there or ".", base or ".")
        if there == "" or there.endswith("/"):
            rel = "./" if rel == "." else rel + "/"
        return rel + (f"#{anchor}" if anchor else "")


def _digits_tel(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    return "tel:" + ("+" if text.lstrip().startswith("+") else "") + digits if len(digits) >= 6 else None


@cache  # the same numbers on every language's pages
def phone(number: str, country: str) -> tuple[str, list[str]]:
    """(text to show, `tel:` links) for a number of the directory.

    A valid number is shown in international format with one RFC 3966 link; an entry holding
    several numbers ('+91 40 6666 9147/48') is shown as published, with a link per number found.
    """
    shown = phones.international(number, country)
    uri = phones.tel_uri(number, country)
    if uri:
        return shown, [uri]
    found = [phones.tel_uri(n, country) or _digits_tel(n) for n in phones.split(number, country)]
    links = [u for u in found if u]
    if not links:
        single = _digits_tel(number)
        links = [single] if single else []
    return shown, list(dict.fromkeys(links))


def map_link(mission: Mission) -> str:
    """An OpenStreetMap search for the mission's address (or its name and city)."""
    where = mission.address or f"{mission.name}, {mission.city}"
    query = ", ".join(line.strip() for line in where.splitlines() if line.strip())
    if countries.name(mission.country) not in query:
        query += f", {countries.name(mission.country)}"
    return "https://www.openstreetmap.org/search?" + urlencode({"query": query})


def github_new_file(repository: str, path: str, value: str, branch: str = DEFAULT_BRANCH) -> str:
    """GitHub's "create a new file" page with the path and the content filled in."""
    return f"https://github.com/{repository}/new/{quote(branch)}?" + urlencode(
        {"filename": path, "value": value}, quote_via=quote)


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

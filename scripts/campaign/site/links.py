"""Links on the site's pages: page URLs as MkDocs makes them, phones, maps, GitHub links, and where a
record's details come from (share links are `records.published.share`: the intake's pages share too)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urlencode, urlsplit

from campaign.data import countries
from campaign.data.models import Mission, Source
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


GOVUK = "GOV.UK"


@dataclass(frozen=True)
class Origin:
    """Where a record's details come from, as a visitor reads it: "GOV.UK (2018)"."""

    name: str
    year: str | None
    url: str | None
    """A page a visitor can open (https only), or None."""


def _publisher(source: Source) -> str:
    host = (urlsplit(source.url).hostname or "") if source.url else ""
    govuk_data = (source.dataset or "").startswith("govuk") or (source.repo or "").startswith("alphagov/")
    if host in ("gov.uk", "www.gov.uk") or govuk_data:
        return GOVUK  # GOV.UK's pages, and the data its developers publish (github.com/alphagov)
    return host.removeprefix("www.") or (source.repo or "").split("/")[0] or "?"


def _year(source: Source) -> str | None:
    dated = re.search(r"-((?:19|20)\d{2})$", source.dataset or "")  # a snapshot: 'govuk-worldwide-2018'
    return dated.group(1) if dated else (source.date or "")[:4] or None


def origins(sources: Iterable[Source]) -> list[Origin]:
    """One entry per publisher of `sources` (GOV.UK first), with its latest year and a link to
    open where there is one: never a repository path, which means nothing to a visitor."""
    found: dict[str, Origin] = {}
    for source in sources:
        name, year = _publisher(source), _year(source)
        url = source.url if source.url and source.url.startswith("https://") else None
        old = found.get(name)
        if old:
            year, url = max(filter(None, (old.year, year)), default=None), old.url or url
        found[name] = Origin(name, year, url)
    return sorted(found.values(), key=lambda o: (o.name != GOVUK, o.name))

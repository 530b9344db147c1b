"""GOV.UK's content items for worldwide organisations, read defensively.

`parse_search` reads a page of the Search API's listing; `parse_organisation` one organisation's
Content API item (contacts, offices, the body's opening hours and contact-form links). Every
field is checked for type and shape; a response that does not fit raises `ResponseError` with
the JSON path and what was expected, so a change of GOV.UK's format changes nothing on disk.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from campaign.core.errors import ResponseError
from campaign.data import countries
from campaign.data.govuk import GOVUK_ORGANISATIONS, govuk_slug
from campaign.directory.address import postal

BASE_URL = "https://www.gov.uk"
WEB_ROOT = "https://www.gov.uk"
SEARCH_PATH = "/api/search.json"
ORGANISATION_PREFIX = GOVUK_ORGANISATIONS
CONTENT_PATH = "/api/content" + ORGANISATION_PREFIX + "{slug}"
FCDO = "foreign-commonwealth-development-office"
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})



def web_url(slug: str) -> str:
    return f"{WEB_ROOT}{ORGANISATION_PREFIX}{slug}"


class _Reader:
    """Typed access into a decoded response; a wrong shape names the JSON path that broke."""

    def __init__(self, url: str, what: str) -> None:
        self.url, self.what = url, what

    def fail(self, where: str, message: str) -> ResponseError:
        return ResponseError(self.url, f"{self.what}: `{where}` {message}; the response is malformed or "
                                       "partial: nothing was changed, try again later or report it")

    def get(self, obj: Any, key: str, kind: type | tuple[type, ...], where: str, required: bool = False) -> Any:
        if not isinstance(obj, dict):
            raise self.fail(where, "is not an object")
        value = obj.get(key)
        path = f"{where}.{key}" if where else key
        if value is None:
            if required:
                raise self.fail(path, "is missing")
            return None
        if not isinstance(value, kind):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self.fail(path, f"should be {names.replace('dict', 'an object').replace('list', 'a list').replace('str', 'text')}, "
                                  f"got {type(value).__name__}")
        return value

    def items(self, obj: Any, key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
        """A list of objects (absent or null: empty), each with its JSON path."""
        values = self.get(obj, key, list, where) or []
        out = []
        for i, item in enumerate(values):
            path = f"{where}.{key}[{i}]" if where else f"{key}[{i}]"
            if not isinstance(item, dict):
                raise self.fail(path, "is not an object")
            out.append((path, item))
        return out

    def date(self, obj: Any, key: str, where: str, required: bool = False) -> dt.date | None:
        text = self.get(obj, key, str, where, required)
        if text is None:
            return None
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            raise self.fail(f"{where}.{key}" if where else key, f"is not an ISO date-time ({text[:40]!r})") from None


# --- text ----------------------------------------------------------------------------------


def clean(text: str) -> str:
    """GOV.UK text as plain data: CR/LF to LF, invisible format and control characters dropped,
    spaces collapsed within each line, empty lines removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))
    lines = (" ".join(line.split()) for line in kept.split("\n"))
    return "\n".join(line for line in lines if line)


_BLOCKS = {"p", "li", "tr", "dt", "dd", "div", "ul", "ol", "table", "section", "blockquote", "address"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SKIP = {"script", "style", "template"}


class _HTMLText(HTMLParser):
    """HTML -> blocks of plain text (headings keep their level) and the links' targets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[int, str]] = []
        self.links: list[str] = []
        self._parts: list[str] = []
        self._level = 0
        self._skip = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._parts).split())
        if text:
            self.blocks.append((self._level, text))
        self._parts, self._level = [], 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag in _HEADINGS:
            self._flush()
            self._level = _HEADINGS[tag]
        elif tag in _BLOCKS or tag == "br":
            self._flush()
        elif tag in ("td", "th"):
            self._parts.append(" ")
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS or tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_text(html: str) -> _HTMLText:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return parser


_HOURS_HEADING = re.compile(r"opening|office hours|hours of|when we are open|business hours", re.IGNORECASE)
_DAY_OR_TIME = re.compile(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?[ap]\.?m\b", re.IGNORECASE)
OPENING_HOURS_MAX = 600


def opening_hours(html: str | None, limit: int = OPENING_HOURS_MAX) -> str | None:
    """Short plain text from `access_and_opening_times`: the section under an "Opening hours"
    heading, else the paragraphs that name a weekday or a time; at most `limit` characters,
    cut between paragraphs. None when there is nothing of the kind (maps, parking, security
    rules and holiday tables are left out)."""
    if not html:
        return None
    blocks = html_text(html).blocks
    chosen: list[str] = []
    for i, (level, text) in enumerate(blocks):
        if level and _HOURS_HEADING.search(text):
            for sub_level, sub_text in blocks[i + 1:]:
                if sub_level and sub_level <= level:
                    break
                chosen.append(sub_text)
            if chosen:
                break
    if not chosen:
        chosen = [text for level, text in blocks if not level and _DAY_OR_TIME.search(text)][:4]
    out = ""
    for text in chosen:
        text = clean(text)
        if len(out) + len(text) + 1 > limit:
            if not out:
                out = text[: limit - 1].rsplit(" ", 1)[0] + "…"
            break
        out = f"{out}\n{text}" if out else text
    return out or None


def _contact_form_links(html: str | None) -> list[str]:
    """https links to GOV.UK's embassy contact form service found in HTML."""
    if not html:
        return []
    found = []
    for href in html_text(html).links:
        parts = urlsplit(href)
        if parts.scheme == "https" and (parts.hostname or "").endswith("contact-embassy.service.gov.uk"):
            found.append(href)
    return found


# --- the data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One organisation as the Search API lists it."""

    slug: str
    title: str
    locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contact:
    """An organisation's contact (`links.contacts[]`), in plain text."""

    title: str
    address: str | None = None
    country: str | None = None  # ISO alpha-2, from the post address
    locality: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[tuple[str, str], ...] = ()  # (label, number as published); faxes left out
    forms: tuple[str, ...] = ()
    updated: dt.date | None = None


@dataclass(frozen=True)
class Organisation:
    """A worldwide organisation's content item, reduced to what the directory uses."""

    slug: str
    title: str
    api_url: str
    updated: dt.date  # newest public_updated_at of the organisation, its main office and contact
    contact: Contact | None = None
    opening_hours: str | None = None
    forms: tuple[str, ...] = ()  # contact-form links in the organisation's own page
    sponsors: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    withdrawn: bool = False

    @property
    def url(self) -> str:
        return web_url(self.slug)

    @property
    def country(self) -> str | None:
        if self.contact and self.contact.country:
            return self.contact.country
        for title in self.locations:
            code = country_code(title)
            if code:
                return code
        return None

    @property
    def contact_form(self) -> str | None:
        forms = [*(self.contact.forms if self.contact else ()), *self.forms]
        return next((f for f in forms if f.startswith("https://")), None)


def country_code(name: str) -> str | None:
    """A world location's title -> ISO alpha-2 ('Spain' -> 'ES'), or None."""
    return _names().get(" ".join(name.split()).casefold())


_NAME_TABLE: dict[str, str] = {}


def _names() -> dict[str, str]:
    if not _NAME_TABLE:
        import pycountry

        for code, name in countries.names().items():
            _NAME_TABLE[name.casefold()] = code
        for c in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                if getattr(c, attr, None):
                    _NAME_TABLE.setdefault(getattr(c, attr).casefold(), c.alpha_2)
    return _NAME_TABLE


_FAX = re.compile(r"\bfax|textphone|minicom", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")  # addresses written into a contact's description


def contact(r: _Reader, path: str, item: dict[str, Any]) -> tuple[str | None, Contact]:
    details = r.get(item, "details", dict, path, required=True)
    title = clean(r.get(item, "title", str, path) or r.get(details, "title", str, f"{path}.details") or "")
    address = country = locality = None
    addresses = r.items(details, "post_addresses", f"{path}.details")
    if addresses:
        where, first = addresses[0]
        field = {key: clean(r.get(first, key, str, where) or "") for key in (
            "title", "street_address", "locality", "region", "postal_code", "world_location", "iso2_country_code")}
        locality = field["locality"] or None
        address = postal(field["iso2_country_code"].upper(), name=field["title"], street=field["street_address"],
                         city=field["locality"], region=field["region"], postcode=field["postal_code"],
                         country_name=field["world_location"])
        iso = r.get(first, "iso2_country_code", str, where)
        if iso:
            country = iso.strip().upper() if iso.strip().upper() in countries.names() else None
    emails = [clean(r.get(e, "email", str, where) or "") for where, e in r.items(details, "email_addresses", f"{path}.details")]
    emails += [e for e in _EMAIL.findall(r.get(details, "description", str, f"{path}.details") or "") if e not in emails]
    phones = []
    for where, p in r.items(details, "phone_numbers", f"{path}.details"):
        label = clean(r.get(p, "title", str, where) or "Telephone") or "Telephone"
        number = clean(r.get(p, "number", str, where) or "")
        if number and not _FAX.search(label):
            phones.append((label, number))
    forms = tuple(clean(r.get(f, "link", str, where) or "") for where, f in r.items(details, "contact_form_links", f"{path}.details"))
    contact = Contact(title=title, address=address, country=country, locality=locality,
                      emails=tuple(e for e in emails if e), phones=tuple(phones), forms=tuple(f for f in forms if f),
                      updated=r.date(item, "public_updated_at", path))
    return r.get(item, "content_id", str, path), contact


def parse_organisation(data: Any, slug: str, url: str) -> Organisation:
    """A Content API response -> Organisation; ResponseError (naming the JSON path) otherwise."""
    r = _Reader(url, f"organisation {slug!r}")
    if not isinstance(data, dict):
        raise r.fail("(top level)", "is not an object")
    kind = r.get(data, "schema_name", str, "") or r.get(data, "document_type", str, "")
    if kind and kind != "worldwide_organisation":
        raise r.fail("schema_name", f"is {kind!r}, not a worldwide organisation")
    title = clean(r.get(data, "title", str, "", required=True))
    base_path = r.get(data, "base_path", str, "", required=True)
    if not base_path.startswith(ORGANISATION_PREFIX):
        raise r.fail("base_path", f"is {base_path!r}, not under {ORGANISATION_PREFIX}")
    updated = r.date(data, "public_updated_at", "", required=True)
    assert updated is not None
    details = r.get(data, "details", dict, "", required=True)
    links = r.get(data, "links", dict, "", required=True)
    contacts = [contact(r, path, item) for path, item in r.items(links, "contacts", "links")]
    offices = r.items(links, "main_office", "links")
    hours, office_id, office_title, dates = None, None, None, [updated]
    if offices:
        where, office = offices[0]
        office_id = r.get(office, "content_id", str, where)
        office_title = r.get(office, "title", str, where)
        office_details = r.get(office, "details", dict, where) or {}
        hours = opening_hours(r.get(office_details, "access_and_opening_times", str, f"{where}.details"))
        dates.append(r.date(office, "public_updated_at", where))
    # the main office's contact: by association, else by title, else the first contact
    main: Contact | None = None
    associations = r.items(details, "office_contact_associations", "details")
    wanted = {r.get(a, "contact_content_id", str, where) for where, a in associations
              if office_id and r.get(a, "office_content_id", str, where) == office_id}
    main = next((c for cid, c in contacts if cid in wanted), None)
    if main is None and office_title:
        main = next((c for _, c in contacts if c.title == clean(office_title)), None)
    if main is None and contacts:
        main = contacts[0][1]
    if main is not None:
        dates.append(main.updated)
    sponsors = []
    for where, org in r.items(links, "sponsoring_organisations", "links"):
        path = r.get(org, "base_path", str, where) or ""
        sponsors.append(path.rstrip("/").rsplit("/", 1)[-1])
    locations = tuple(clean(r.get(loc, "title", str, where) or "") for where, loc in r.items(links, "world_locations", "links"))
    return Organisation(
        slug=base_path[len(ORGANISATION_PREFIX):].strip("/") or slug, title=title, api_url=url,
        updated=max(d for d in dates if d is not None), contact=main, opening_hours=hours,
        forms=tuple(_contact_form_links(r.get(details, "body", str, "details"))), sponsors=tuple(sponsors),
        locations=tuple(loc for loc in locations if loc), withdrawn=bool(data.get("withdrawn_notice")),
    )


def parse_search(data: Any, url: str) -> tuple[list[Listed], int, int]:
    """A Search API page -> (organisations, total, start)."""
    r = _Reader(url, "the organisation listing")
    if not isinstance(data, dict):
        raise r.fail("(top level)", "is not an object")
    total = r.get(data, "total", int, "", required=True)
    start = r.get(data, "start", int, "")
    start = r.get(data, "offset", int, "") if start is None else start
    if "results" not in data:
        raise r.fail("results", "is missing")
    listed = []
    for where, item in r.items(data, "results", ""):
        link = r.get(item, "link", str, where, required=True)
        slug = govuk_slug(WEB_ROOT + link) if link.startswith("/") else govuk_slug(link)
        if slug is None:
            raise r.fail(f"{where}.link", f"is {link!r}, not {ORGANISATION_PREFIX}<slug>")
        locations = []
        for loc_where, loc in r.items(item, "world_locations", where):
            title = r.get(loc, "title", str, loc_where)
            if title:
                locations.append(clean(title))
        listed.append(Listed(slug, clean(r.get(item, "title", str, where) or slug), tuple(locations)))
    return listed, total, start or 0



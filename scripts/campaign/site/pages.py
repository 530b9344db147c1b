"""The campaign site's generated pages: the letter, the mission directory, printable letters,
signatories and actions, rendered as HTML from a validated Dataset.

Pure library code: no MkDocs import. The MkDocs layer (`mkdocs_hooks.py`) turns every `Page`
into an in-memory file (front matter only) and swaps the page's content for `Page.render()`,
so nothing a signer typed ever goes through Markdown. Templates live in
`site/templates/` and are rendered by a Jinja environment with autoescape on: every value is
HTML-escaped, in text and in quoted attributes alike.

Hand-written pages in `docs/` ask for generated pieces with markers such as
`<!-- campaign:counters -->` (see `snippet()` and `MARKER`). A campaign that wants other
wording for a generated page puts a template of the same name in `overrides` (the MkDocs
layer passes `docs/overrides/campaign/`), which is searched before the package's own.

Scale (ARCHITECTURE.md, "Scale"): names are listed in chunks of `NAMES_PER_PAGE` per page (and
`NAMES_PER_PRINT` per printable page), every list page is kept out of the search index, and
pages are rendered lazily, one at a time, when MkDocs asks for them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from campaign.core.errors import CampaignError, Problem
from campaign.data import countries, letter
from campaign.data.dataset import Dataset
from campaign.data.models import Action, Mission, Signature
from campaign.data.signatures import SCHEMA_FROM_SHARD
from campaign.data.text import sort_key
from campaign.records import findings as missioncheck
from campaign.records import published, routes
from campaign.records.counters import Counters, count
from campaign.site import examples, links
from campaign.site.html import ACTION_TYPES, LETTER_PLACEHOLDERS, MISSION_TYPES, long_date
from campaign.site.links import DEFAULT_BRANCH, Links

TEMPLATES = Path(__file__).parent / "templates"
NAMES_PER_PAGE = 1000
"""Published names per signatories page."""
NAMES_PER_PRINT = 2000
"""Names per printable letter page (the first page also carries the letter)."""

MARKER = re.compile(r"<!--\s*campaign:([a-z][a-z0-9-]*)(?:\s+([A-Za-z0-9_-]{1,40}))?\s*-->")
"""`<!-- campaign:NAME [ARG] -->` in a hand-written page asks for a generated piece."""

@dataclass(frozen=True)
class Page:
    """One generated page: its path in the docs tree, title, front matter and HTML body."""

    uri: str
    title: str
    render: Callable[[], str] = field(repr=False, compare=False)
    meta: dict[str, Any] = field(default_factory=dict)
    in_nav: bool = False
    """True for the pages listed in mkdocs.yml's `nav`; the others are reached by links."""

    def source(self) -> str:
        """The Markdown file MkDocs reads: front matter only (the body is `render()`)."""
        meta = {"title": str(escape(self.title)), **self.meta}
        return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n"


@dataclass(frozen=True)
class Chunk:
    """One page of a long list: its number, the page's uri, and the slice it shows."""

    number: int
    uri: str
    start: int
    stop: int


@dataclass
class Listing:
    """A long list of names split over pages: `chunks` point into `items`."""

    items: list[Signature]
    chunks: list[Chunk]
    hidden: int = 0
    """How many more signed but are not named (no consent to publish)."""


def chunked(base: str, items: list[Signature], size: int) -> list[Chunk]:
    """`base.md`, `base-2.md`, ... with at most `size` items each (one page when empty)."""
    chunks = []
    for n, start in enumerate(range(0, max(len(items), 1), size), start=1):
        uri = f"{base}.md" if n == 1 else f"{base}-{n}.md"
        chunks.append(Chunk(n, uri, start, min(start + size, len(items))))
    return chunks


class Site:
    """The generated pages of one campaign, built lazily from a validated dataset."""

    def __init__(
        self,
        ds: Dataset,
        *,
        use_directory_urls: bool = True,
        endpoint: str | None = None,
        letters_sent: int = 0,
        branch: str = DEFAULT_BRANCH,
        overrides: Path | None = None,
    ) -> None:
        if ds.campaign is None or not ds.letters:
            raise CampaignError([Problem("data/campaign.yaml", 1, "the campaign settings or the letter did not load")])
        self.ds = ds
        self.campaign = ds.campaign
        self.links = Links(use_directory_urls)
        self.endpoint = endpoint if endpoint is not None else self.campaign.intake.endpoint
        self.branch = branch
        self.lang, self.template = letter.template_for(ds.letters, self.campaign)
        self.counters: Counters = count(ds, letters_sent)
        self.mission_by_id = ds.mission_by_id
        self._name_keys: dict[str, tuple[str, str]] = {}
        self._print_names: dict[str, tuple[list[Signature], int]] = {}
        self.env = Environment(
            loader=FileSystemLoader([*([overrides] if overrides else []), TEMPLATES]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["country"] = countries.name
        self.env.filters["long_date"] = long_date
        self.env.filters["number"] = lambda n: f"{n:,}"
        self.env.globals.update(
            campaign=self.campaign,
            counters=self.counters,
            mission_types=MISSION_TYPES,
            action_types=ACTION_TYPES,
            phone=links.phone,
            map_link=links.map_link,
            dispatch_date=long_date(self.campaign.dispatch.date),
        )

    # --- the data, grouped once -----------------------------------------------------------

    @cached_property
    def findings(self) -> dict[str, list[missioncheck.Finding]]:
        """What needs a person on each mission page, incl. contacts that failed in dispatch."""
        return missioncheck.findings(self.ds, failed=self.failing)

    @cached_property
    def failing(self) -> dict[str, routes.Failure]:
        return routes.failures(self.ds.root)

    @cached_property
    def missions(self) -> list[Mission]:
        """Every mission, by country name, then primary first, then city."""
        return sorted((r.model for r in self.ds.missions),
                      key=lambda m: (sort_key(countries.name(m.country)), not m.primary, sort_key(m.city), m.id))

    @cached_property
    def covered(self) -> dict[str, Mission]:
        """Countries without a mission of their own, mapped to the mission that serves them."""
        found = {code: m for code, m in self.ds.serving.items() if m.country != code}
        return dict(sorted(found.items(), key=lambda item: sort_key(countries.name(item[0]))))

    @cached_property
    def destinations(self) -> dict[str, list[Signature]]:
        """Signatures per mission id (what each mission will receive)."""
        found: dict[str, list[Signature]] = defaultdict(list)
        for rec in self.ds.signatures:
            target = self.ds.destination(rec.model)
            if target is not None:
                found[target].append(rec.model)
        return found

    @cached_property
    def individuals(self) -> dict[str, Listing]:
        """Published individuals per country code, sorted by name, split into pages."""
        named: dict[str, list[Signature]] = defaultdict(list)
        hidden: dict[str, int] = defaultdict(int)
        for rec in self.ds.signatures:
            sig = rec.model
            if sig.type != "individual":
                continue
            if sig.publish:
                named[sig.country].append(sig)
            else:
                hidden[sig.country] += 1
        listings = {}
        for code in sorted(set(named) | set(hidden), key=lambda c: sort_key(countries.name(c))):
            items = sorted(named.get(code, []), key=self.name_order)
            chunks = chunked(f"signatories/{code.lower()}", items, NAMES_PER_PAGE) if items else []
            listings[code] = Listing(items, chunks, hidden.get(code, 0))
        return listings

    @cached_property
    def organisations(self) -> Listing:
        orgs = [r.model for r in self.ds.signatures if r.model.type == "organisation"]
        named = sorted((s for s in orgs if s.publish), key=self.name_order)
        chunks = chunked("signatories/organisations", named, NAMES_PER_PAGE) if named else []
        return Listing(named, chunks, len(orgs) - len(named))

    @cached_property
    def actions(self) -> list[Action]:
        """Registered actions, newest first."""
        return sorted((r.model for r in self.ds.actions), key=lambda a: (a.date, a.mission, a.by), reverse=True)

    @cached_property
    def actions_by_mission(self) -> dict[str, list[Action]]:
        found: dict[str, list[Action]] = defaultdict(list)
        for action in self.actions:
            found[action.mission].append(action)
        return found

    @cached_property
    def prints(self) -> dict[str, list[Chunk]]:
        """The printable letter's pages per mission id."""
        return {m.id: chunked(f"missions/{m.id}/letter", self.print_names(m.id)[0], NAMES_PER_PRINT)
                for m in self.missions}

    def name_order(self, sig: Signature) -> tuple[str, str]:
        """Sort key of a signatory's name (computed once per name)."""
        found = self._name_keys.get(sig.name)
        if found is None:
            found = self._name_keys[sig.name] = (sort_key(sig.name), sig.name)
        return found

    def print_names(self, mission_id: str) -> tuple[list[Signature], int]:
        """A mission's signatories named on its printable letter, and how many are not
        (`letter.printed`: the consent rule of every printed letter)."""
        if mission_id not in self._print_names:
            self._print_names[mission_id] = letter.printed(self.destinations.get(mission_id, []), self.name_order)
        return self._print_names[mission_id]

    # --- pages ----------------------------------------------------------------------------

    def pages(self) -> list[Page]:
        """Every generated page, in a stable order."""
        pages = [
            Page("letter.md", "The letter", partial(self._render, "letter.html", "letter.md"), in_nav=True),
            Page("missions/index.md", "Mission directory",
                 partial(self._render, "missions.html", "missions/index.md"), {"hide": ["toc"]}, in_nav=True),
            Page("signatories/index.md", "Signatories",
                 partial(self._render, "signatories.html", "signatories/index.md"),
                 {"search": {"exclude": True}, "hide": ["toc"]}, in_nav=True),
            Page("actions/index.md", "Actions",
                 partial(self._render, "actions.html", "actions/index.md"), {"hide": ["toc"]}, in_nav=True),
        ]
        for mission in self.missions:
            uri = published.mission_uri(mission.id)
            pages.append(Page(uri, mission.name, partial(self._mission, mission, uri), {"hide": ["toc"]}))
            chunks = self.prints[mission.id]
            for chunk in chunks:
                title = f"Printable letter: {mission.name}" + (f" (page {chunk.number})" if chunk.number > 1 else "")
                pages.append(Page(chunk.uri, title, partial(self._print, mission, chunk, chunks),
                                  {"search": {"exclude": True}, "hide": ["navigation", "toc"]}))
        listing = self.organisations
        for chunk in listing.chunks:
            title = "Organisations" + (f" (page {chunk.number})" if chunk.number > 1 else "")
            pages.append(Page(chunk.uri, title, partial(self._names, "Organisations", None, listing, chunk),
                              {"search": {"exclude": True}, "hide": ["toc"]}))
        for code, listing in self.individuals.items():
            for chunk in listing.chunks:
                title = f"Signatories: {countries.name(code)}" + (f" (page {chunk.number})" if chunk.number > 1 else "")
                pages.append(Page(chunk.uri, title, partial(self._names, countries.name(code), code, listing, chunk),
                                  {"search": {"exclude": True}, "hide": ["toc"]}))
        return pages

    def _render(self, template: str, uri: str, **context: Any) -> str:
        return self.env.get_template(template).render(
            page_uri=uri, link=partial(self.href, uri), site=self, **context)

    def url(self, uri: str) -> str:
        """The site URL of a docs path."""
        return self.links.url(uri)

    def href(self, src: str, dst: str, anchor: str = "") -> str:
        """A relative link from the page at docs path `src` to docs path `dst`."""
        return self.links.href(src, dst, anchor)

    def share(self) -> dict[str, str]:
        """Share links for the letter page."""
        return links.share(self.campaign, self.campaign.site_url.rstrip("/") + "/" + self.url("letter.md"))

    @cached_property
    def first_primary(self) -> Mission | None:
        """The first primary mission (for examples)."""
        return next((m for m in self.missions if m.primary), None)

    def _mission(self, mission: Mission, uri: str) -> str:
        return self._render(
            "mission.html", uri, mission=mission,
            letters=self.counters.by_mission.get(mission.id, 0),
            covers=[(c, countries.name(c)) for c in sorted(mission.also_covers, key=lambda c: sort_key(countries.name(c)))],
            actions=self.actions_by_mission.get(mission.id, []),
            print_uri=self.prints[mission.id][0].uri,
            pdf_uri=published.pdf_uri(mission.id),
            local_time=self.campaign.dispatch.send_time.strftime("%H:%M"),
            findings=self.findings.get(mission.id, []),
            route=routes.route(mission, self.campaign.dispatch, self.failing),
            correction=missioncheck.correction_url(self.campaign.intake.repository, mission,
                                                   self.findings.get(mission.id, [])),
        )

    def _print(self, mission: Mission, chunk: Chunk, chunks: list[Chunk]) -> str:
        named, hidden = self.print_names(mission.id)
        total = len(named) + hidden
        body = None
        if chunk.number == 1:
            ctx = letter.LetterContext.build(mission, self.campaign.target, self.campaign.dispatch.date,
                                             letter.print_signer(total))
            body = letter.as_html(letter.render(self.template, ctx))
        return self._render(
            "print.html", chunk.uri, mission=mission, body=body, chunk=chunk, chunks=chunks,
            names=named[chunk.start:chunk.stop], total=total, named_count=len(named), hidden=hidden,
            last=chunk.number == len(chunks),
        )

    def _names(self, heading: str, code: str | None, listing: Listing, chunk: Chunk) -> str:
        return self._render(
            "names.html", chunk.uri, heading=heading, code=code, listing=listing, chunk=chunk,
            names=listing.items[chunk.start:chunk.stop],
        )

    def generic_letter(self) -> Markup:
        """The letter with bracketed placeholders where the mission and the signer go."""
        ctx = letter.LetterContext(
            target=self.campaign.target, date=long_date(self.campaign.dispatch.date), **LETTER_PLACEHOLDERS)
        return letter.as_html(letter.render(self.template, ctx))

    def form(self, preselect: str | None = None) -> dict[str, Any]:
        """What the sign form (theme partial `partials/sign-form.html`) shows."""
        options = [{"country": code, "name": countries.name(code), "mission": m.id, "label": m.name,
                    "via": countries.name(m.country) if m.country != code else None} for code, m in self.ds.serving.items()]
        options.sort(key=lambda o: sort_key(o["name"]))
        path, text, link = examples.individual(self.campaign, self.first_primary, self.branch)
        return {
            "endpoint": (self.endpoint or "").rstrip("/") or None,
            "has_endpoint": self.endpoint is not None,
            "repository": self.campaign.intake.repository,
            "branch": self.branch,
            "consent": self.campaign.consent,
            "countries": sorted(countries.names().items(), key=lambda item: sort_key(item[1])),
            "missions": options,
            "preselect": preselect if preselect in {o["country"] for o in options} else None,
            "schema": SCHEMA_FROM_SHARD,
            "github_link": link,
            "campaign": self.campaign,
        }

    # --- markers in hand-written pages ----------------------------------------------------

    SNIPPETS = ("counters", "countdown", "share", "organisation-example", "individual-example",
                "action-example", "csv-example", "mission-finder")

    def snippet(self, name: str, uri: str) -> str:
        """The HTML for `<!-- campaign:NAME -->` on the page at docs path `uri`."""
        if name not in self.SNIPPETS:
            raise KeyError(name)
        context: dict[str, Any] = {}
        if name == "organisation-example":
            context["example"] = examples.organisation(self.campaign, self.branch)
        elif name == "individual-example":
            context["example"] = examples.individual(self.campaign, self.first_primary, self.branch)
        elif name == "action-example":
            context["example"] = examples.action(self.campaign, self.first_primary, self.branch)
            context["mission_id"] = self.first_primary.id if self.first_primary else "pt-lisbon"
        elif name == "mission-finder":
            context["options"] = self.form()["missions"]
        return self._render(f"snippets/{name}.html", uri, **context)



def replace_markers(content: str, uri: str, site: Site, keep: set[str] | frozenset[str] = frozenset()) -> str:
    """Swap every `<!-- campaign:NAME [ARG] -->` in a page's HTML for its generated piece.

    Names in `keep` are left in place (the sign form is a theme partial, rendered later by the
    MkDocs layer). Unknown names raise KeyError. Markers come from hand-written pages and
    templates only: signer text is escaped, so it can never contain one.
    """

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in keep:
            return match.group(0)
        return site.snippet(name, uri)

    return MARKER.sub(swap, content)

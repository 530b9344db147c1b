"""The campaign site's generated pages in one language: the letter, the mission directory,
printable letters, signatories and actions, rendered as HTML from a validated Dataset.

Pure library code: no MkDocs import. The MkDocs layer (`mkdocs_hooks.py`) turns every `Page`
into an in-memory file (front matter only) and swaps the page's content for `Page.render()`,
so nothing a signer typed ever goes through Markdown. Templates live in
`site/templates/` and are rendered by a Jinja environment with autoescape on: every value is
HTML-escaped, in text and in quoted attributes alike. Their words go through gettext
(`jinja2.ext.i18n`, the language's catalogue; ARCHITECTURE.md, "Languages").

Hand-written pages in `docs/` ask for generated pieces with markers such as
`<!-- campaign:counters -->` (see `snippet()` and `MARKER`). A campaign that wants other
wording for a generated page puts a template of the same name in `overrides` (the MkDocs
layer passes `docs/overrides/campaign/`), which is searched before the package's own.

Scale (ARCHITECTURE.md, "Scale"): the data is grouped once for every language (`groups.Groups`);
names are listed in chunks of `NAMES_PER_PAGE` per page (and `NAMES_PER_PRINT` per printable
page), every list page is kept out of the search index, and pages are rendered lazily.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from babel.lists import format_list
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from campaign.data import countries, letter, locales
from campaign.data.dataset import Dataset
from campaign.data.models import Mission
from campaign.data.signatures import SCHEMA_FROM_SHARD
from campaign.data.text import sort_key
from campaign.i18n import catalogues, wording
from campaign.records import published, routes
from campaign.site import examples, links, worldmap
from campaign.site.deliveries import STATES
from campaign.site.groups import NAMES_PER_PAGE, NAMES_PER_PRINT, Chunk, Groups, Listing, Page, chunked
from campaign.site.html import ACTION_TYPES, FINDING_KINDS, LETTER_PLACEHOLDERS, MISSION_STATUSES, MISSION_TYPES
from campaign.site.html import DELIVERY_STATES, LETTER_STATES, ROUTE_KINDS
from campaign.site.links import DEFAULT_BRANCH, Links

__all__ = ["MARKER", "NAMES_PER_PAGE", "NAMES_PER_PRINT", "Page", "Site", "chunked", "replace_markers"]

TEMPLATES = Path(__file__).parent / "templates"

DELIVERIES = "deliveries/index.md"
MAP = "deliveries/map.svg"

MARKER = re.compile(r"<!--\s*campaign:([a-z][a-z0-9-]*)(?:\s+([A-Za-z0-9_-]{1,40}))?\s*-->")
"""`<!-- campaign:NAME [ARG] -->` in a hand-written page asks for a generated piece."""


class Site:
    """The generated pages of one campaign in one language, built lazily from a validated dataset.

    `groups` (the data grouped, and the pieces every language shows alike) is shared by the
    languages of one build; `words` is the language's catalogue (`catalogues.translator`).
    """

    def __init__(self, ds: Dataset, *, use_directory_urls: bool = True, endpoint: str | None = None,
                 letters_sent: int = 0, branch: str = DEFAULT_BRANCH, overrides: Path | None = None,
                 lang: str = locales.DEFAULT, groups: Groups | None = None,
                 words: catalogues.Translator | None = None) -> None:
        self.g = groups or Groups(ds, letters_sent)
        self.ds = ds
        self.campaign = self.g.campaign
        self.links = Links(use_directory_urls)
        self.endpoint = endpoint if endpoint is not None else self.campaign.intake.endpoint
        self.branch = branch
        self.lang = lang
        self.dir = locales.direction(lang)
        self.words = words or catalogues.translator(ds.root, lang)
        self.text = self.campaign.text(lang)
        self.letter = letter.translation(ds.letter_files, lang)
        """The letter in this language when it has a translation, else the English letter."""
        self.counters = self.g.counters
        self.mission_by_id = self.g.mission_by_id
        self.env = Environment(
            loader=FileSystemLoader([*([overrides] if overrides else []), TEMPLATES]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
            extensions=["jinja2.ext.i18n"],
        )
        self.env.policies["ext.i18n.trimmed"] = True
        self.env.install_gettext_callables(self.words.gettext, self.words.ngettext, newstyle=True)  # type: ignore[attr-defined]
        self.env.filters["country"] = self.country
        self.env.filters["long_date"] = partial(locales.long_date, lang=lang)
        self.env.filters["moment"] = partial(locales.local_moment, lang=lang)
        self.env.filters["number"] = partial(locales.number, lang=lang)
        self.env.filters["country_en"] = countries.name
        self.env.filters["english_number"] = locales.number
        self.env.filters["direction"] = locales.direction
        self.env.filters["language"] = partial(locales.language_name, in_lang=lang)
        words = self.words.gettext
        self.env.globals.update(
            campaign=self.campaign, text=self.text, counters=self.counters, lang=lang, dir=self.dir,
            mission_types={k: words(v) for k, v in MISSION_TYPES.items()},
            action_types={k: words(v) for k, v in ACTION_TYPES.items()},
            statuses={k: words(v) for k, v in MISSION_STATUSES.items()},
            finding_kinds={k: words(v) for k, v in FINDING_KINDS.items()},
            delivery_states={k: words(DELIVERY_STATES[k]) for k in STATES},
            letter_states={k: words(v) for k, v in LETTER_STATES.items()},
            route_kinds={k: words(v) for k, v in ROUTE_KINDS.items()},
            phone=links.phone, map_link=links.map_link,
            dispatch_date=locales.long_date(self.campaign.dispatch.date, lang), kept_message=wording.KEPT,
        )

    def _(self, message: str, **values: object) -> str:
        return self.words.format(message, **values)

    def in_language(self, html: str) -> str:
        """A piece of HTML marked as this site's language (inside a page shown in English)."""
        return f'<div lang="{self.lang}" dir="{self.dir}">{html}</div>'

    def country(self, code: str) -> str:
        """A country's name in this site's language."""
        return locales.country_name(code, self.lang)

    # --- the data in this language's order ------------------------------------------------

    @cached_property
    def missions(self) -> list[Mission]:
        """Every mission, by country name in this language, then primary first, then city."""
        return sorted(self.g.missions, key=lambda m: (sort_key(self.country(m.country)), not m.primary, sort_key(m.city), m.id))

    @cached_property
    def covered(self) -> dict[str, Mission]:
        """Countries without a mission of their own, mapped to the mission that serves them."""
        found = {code: m for code, m in self.ds.serving.items() if m.country != code}
        return dict(sorted(found.items(), key=lambda item: sort_key(self.country(item[0]))))

    @cached_property
    def individuals(self) -> dict[str, Listing]:
        """Published individuals per country, by country name in this language."""
        return dict(sorted(self.g.individuals.items(), key=lambda item: sort_key(self.country(item[0]))))

    organisations = property(lambda self: self.g.organisations)
    findings = property(lambda self: self.g.findings)
    actions = property(lambda self: self.g.actions)
    actions_by_mission = property(lambda self: self.g.actions_by_mission)
    first_primary = property(lambda self: self.g.first_primary)

    def print_names(self, mission_id: str) -> tuple[list, int]:
        return self.g.print_names(mission_id)

    # --- pages ----------------------------------------------------------------------------

    def pages(self) -> list[Page]:
        """Every generated page, in a stable order (the same paths in every language)."""
        _, page_n = self._, self._page_n
        no_search = {"search": {"exclude": True}, "hide": ["toc"]}
        pages = [
            Page("letter.md", _("The letter"), partial(self._render, "letter.html", "letter.md"), in_nav=True),
            Page("missions/index.md", _("Mission directory"),
                 partial(self._render, "missions.html", "missions/index.md"), {"hide": ["toc"]}, in_nav=True),
            Page("signatories/index.md", _("Signatories"),
                 partial(self._render, "signatories.html", "signatories/index.md"), no_search, in_nav=True),
            Page("actions/index.md", _("Actions"),
                 partial(self._render, "actions.html", "actions/index.md"), {"hide": ["toc"]}, in_nav=True),
            Page(DELIVERIES, _("Deliveries"), partial(self._render, "deliveries.html", DELIVERIES, map_uri=MAP),
                 {"hide": ["toc"]}, in_nav=True),
        ]
        for mission in self.g.missions:
            uri = published.mission_uri(mission.id)
            pages.append(Page(uri, mission.name, partial(self._mission, mission, uri), {"hide": ["toc"]}))
            chunks = self.g.prints[mission.id]
            for chunk in chunks:
                title = page_n(_("Printable letter: %(mission)s", mission=mission.name), chunk)
                pages.append(Page(chunk.uri, title, partial(self._print, mission, chunk, chunks),
                                  {"search": {"exclude": True}, "hide": ["navigation", "toc"]}))
        listing = self.organisations
        for chunk in listing.chunks:
            pages.append(Page(chunk.uri, page_n(_("Organisations"), chunk), partial(self._names, None, listing, chunk), no_search))
        for code, listing in self.g.individuals.items():
            for chunk in listing.chunks:
                title = page_n(_("Signatories: %(country)s", country=self.country(code)), chunk)
                pages.append(Page(chunk.uri, title, partial(self._names, code, listing, chunk), no_search))
        return pages

    def _page_n(self, title: str, chunk: Chunk) -> str:
        return title if chunk.number == 1 else self._("%(title)s (page %(number)s)", title=title, number=chunk.number)

    def _render(self, template: str, uri: str, **context: Any) -> str:
        return self.env.get_template(template).render(
            page_uri=uri, link=partial(self.href, uri), site=self, **context)

    def url(self, uri: str) -> str:
        """The site URL of a docs path."""
        return self.links.url(uri)

    def href(self, src: str, dst: str, anchor: str = "") -> str:
        """A relative link from the page at docs path `src` to docs path `dst`."""
        return self.links.href(src, dst, anchor)

    def root_href(self, src: str, dst: str) -> str:
        """A relative link to `dst` at the site's root (the deploy writes the PDF letters there once,
        for every language) from the page at docs path `src` of this language."""
        return ("" if self.lang == locales.DEFAULT else "../") + self.href(src, dst)

    @cached_property
    def root_url(self) -> str:
        """This language's site root: the campaign's site_url, plus `<lang>/` but for English."""
        return published.site_root(self.campaign.site_url, self.lang)

    def share(self) -> dict[str, str]:
        """Share links for the letter page."""
        title = self.text.title
        return published.share(title, self.text.description, self.root_url + self.url("letter.md"),
                           self._("%(title)s Sign the open letter:", title=title))

    def _mission(self, mission: Mission, uri: str) -> str:
        found = self.g.findings.get(mission.id, [])
        covers = sorted(mission.also_covers, key=lambda c: sort_key(self.country(c)))
        return self._render(
            "mission.html", uri, mission=mission, letters=self.counters.by_mission.get(mission.id, 0),
            covers=[(c, self.country(c)) for c in covers], actions=self.actions_by_mission.get(mission.id, []),
            print_uri=self.g.prints[mission.id][0].uri, pdf_href=self.root_href(uri, published.pdf_uri(mission.id)),
            local_time=self.campaign.dispatch.send_time.strftime("%H:%M"), findings=found,
            correction=self.g.corrections[mission.id], route=self.mission_routes[mission.id],
            record=self.g.deliveries.of(mission.id), origins=self.origins(mission),
        )

    def origins(self, mission: Mission) -> Markup:
        """Where a mission's details come from, in this language's list form: "GOV.UK (2018) and
        looptonga.com (2021)", each linked where it has a page (`links.origins`)."""
        items = []
        for o in links.origins(mission.source):
            text = escape(f"{o.name} ({o.year})" if o.year else o.name)
            items.append(Markup('<a href="{}" rel="noopener nofollow">{}</a>').format(o.url, text) if o.url else text)
        return Markup(format_list(items, locale=locales.locale(self.lang)))  # noqa: S704 - every item is escaped

    @cached_property
    def mission_routes(self) -> dict[str, routes.Route]:
        """Each mission's delivery route, by mission id."""
        return routes.routes(self.g.missions, self.campaign.dispatch, self.g.failing)

    def files(self) -> dict[str, Callable[[], str]]:
        """The generated files that are not pages (the Deliveries page's map), by site path."""
        return {MAP: self.world_map}

    def world_map(self) -> str:
        """The Deliveries page's map, in this language (`worldmap`)."""
        states = self.g.deliveries.countries(self.g.missions)
        names = {code: self.country(code) for code in states}
        legend = {k: v for k, v in self.env.globals["delivery_states"].items() if k != "none"}
        return worldmap.render(self._("Letters and delivery state per country"), legend, states, names,
                               self._("No letters yet"))

    def _print(self, mission: Mission, chunk: Chunk, chunks: list[Chunk]) -> str:
        """The printable letter: this language's words around the letter as the mission gets it."""
        body = self.g.share(("print", chunk.uri), lambda: self._print_body(mission, chunk, chunks))
        versions = self.print_versions(mission)
        return self._render("print.html", chunk.uri, mission=mission, chunk=chunk, chunks=chunks, versions=versions,
                            shared=Markup(body))  # noqa: S704 - rendered with autoescape on

    def print_versions(self, mission: Mission) -> list[letter.LetterFile]:
        """The letter's versions on a mission's printed letter: English, then its signers' languages."""
        return letter.versions(self.ds.letter_files, self.campaign, self.g.languages_of(mission.id))

    def _print_body(self, mission: Mission, chunk: Chunk, chunks: list[Chunk]) -> str:
        """The letter and its names as the mission receives them: the same in every language."""
        named, hidden = self.print_names(mission.id)
        total = len(named) + hidden
        parts = []
        if chunk.number == 1:
            for lf in self.print_versions(mission):
                found = letter.part(lf, self.campaign, mission, letter.print_signer(total, self.g.words(lf.lang)))
                parts.append((found, letter.as_html(found.text)))
        return self._render(
            "print-body.html", chunk.uri, mission=mission, parts=parts, chunk=chunk,
            names=named[chunk.start:chunk.stop], total=total, named_count=len(named), hidden=hidden,
            last=chunk.number == len(chunks),
        )

    def _names(self, code: str | None, listing: Listing, chunk: Chunk) -> str:
        # A list of people shows names only: the same in every language. Organisations show
        # their country's name, so that list is rendered per language.
        key = ("names", chunk.uri) if code else ("names", chunk.uri, self.lang)
        names = self.g.share(key, lambda: self._render(
            "names-list.html", chunk.uri, code=code, names=listing.items[chunk.start:chunk.stop]))
        return self._render(
            "names.html", chunk.uri, heading=self.country(code) if code else None, code=code, listing=listing,
            chunk=chunk, names_html=Markup(names),  # noqa: S704 - rendered with autoescape on
        )

    def prerender(self) -> int:
        """Render every piece all languages show alike into `groups.shared` (before a
        multi-language build forks), and warm the caches every language reads."""
        for mission in self.g.missions:
            chunks = self.g.prints[mission.id]
            for chunk in chunks:
                self.g.share(("print", chunk.uri), partial(self._print_body, mission, chunk, chunks))
            for p in mission.phones:
                links.phone(p.number, mission.country)
        for code, listing in self.g.individuals.items():
            for chunk in listing.chunks:
                self._names(code, listing, chunk)
        self.g.corrections  # noqa: B018 - cached_property (with the findings), computed once here
        self.g.deliveries  # noqa: B018 - the ledgers, read once
        worldmap.world()
        return len(self.g.shared)

    def generic_letter(self, lf: letter.LetterFile | None = None) -> Markup:
        """The letter with bracketed placeholders where the mission and the signer go (in this
        language's words when `lf` is this language's translation)."""
        lf = lf or self.letter
        words = self.words if lf.lang == self.lang else letter.ENGLISH
        ctx = letter.LetterContext(target=letter.target(self.campaign, lf.lang),
                                   date=locales.long_date(self.campaign.dispatch.date, lf.lang),
                                   **{k: words.gettext(v) for k, v in LETTER_PLACEHOLDERS.items()})
        return letter.as_html(letter.render(lf.text, ctx))

    def english_letter(self) -> letter.LetterFile:
        return self.ds.letter_files[locales.DEFAULT]

    def form(self, preselect: str | None = None) -> dict[str, Any]:
        """What the sign form (theme partial `partials/sign-form.html`) shows."""
        form = self._form
        return {**form, "preselect": preselect if preselect in {o["country"] for o in form["missions"]} else None}

    @cached_property
    def _form(self) -> dict[str, Any]:
        options = [{"country": code, "name": self.country(code), "mission": m.id, "label": m.name,
                    "via": self.country(m.country) if m.country != code else None} for code, m in self.ds.serving.items()]
        options.sort(key=lambda o: sort_key(o["name"]))
        path, text, link = examples.individual(self.campaign, self.first_primary, self.branch)
        return {
            "endpoint": (self.endpoint or "").rstrip("/") or None,
            "has_endpoint": self.endpoint is not None,
            "repository": self.campaign.intake.repository,
            "branch": self.branch,
            "consent": self.text.consent,
            "version": self.campaign.consent.version,
            "followup": locales.long_date(erase, self.lang) if (erase := self.campaign.erase_on()) else None,
            "lang": self.lang,
            "countries": sorted(((c, self.country(c)) for c in countries.names()), key=lambda item: sort_key(item[1])),
            "missions": options,
            "schema": SCHEMA_FROM_SHARD,
            "kept": wording.KEPT,
            "github_link": link,
            "campaign": self.campaign,
        }

    # --- markers in hand-written pages ----------------------------------------------------

    SNIPPETS = ("counters", "countdown", "share", "organisation-example", "individual-example",
                "action-example", "csv-example", "mission-finder", "organiser", "kept")

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


def replace_markers(content: str, uri: str, site: Site, keep: set[str] | frozenset[str] = frozenset(),
                    marked: bool = False) -> str:
    """Swap every `<!-- campaign:NAME [ARG] -->` in a page's HTML for its generated piece.

    Names in `keep` are left in place (the sign form is a theme partial, rendered later by the
    MkDocs layer). Unknown names raise KeyError. Markers come from hand-written pages and
    templates only: signer text is escaped, so it can never contain one. With `marked` (a page
    shown in English for want of a translation), each piece says it is in the site's language.
    """

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in keep:
            return match.group(0)
        return site.in_language(site.snippet(name, uri)) if marked else site.snippet(name, uri)

    return MARKER.sub(swap, content)

"""What every language's site shows alike: the dataset grouped and sorted once, split into
pages, and the pieces of HTML that hold no words of the interface (ARCHITECTURE.md, "Languages").

A multi-language build (`site/build.py`) makes one `Groups` before it forks the languages, so the
100,000 names are sorted, split and (for the lists of people and the printable letters) rendered
once, not once per language. `shared` holds those rendered pieces, keyed by what they show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml
from markupsafe import escape

from campaign.core.errors import CampaignError, Problem
from campaign.data import countries, letter
from campaign.data.dataset import Dataset
from campaign.data.models import Action, Mission, Signature
from campaign.data.text import sort_key
from campaign.i18n import catalogues
from campaign.records import findings as missioncheck
from campaign.records import ledger, routes
from campaign.records.counters import Counters, count
from campaign.site import deliveries as record

NAMES_PER_PAGE = 1000
"""Published names per signatories page."""
NAMES_PER_PRINT = 2000
"""Names per printable letter page (the first page also carries the letter)."""


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


class Groups:
    """The campaign's data grouped for its pages, computed on first use and kept."""

    def __init__(self, ds: Dataset, letters_sent: int = 0) -> None:
        if ds.campaign is None or not ds.letters:
            raise CampaignError([Problem("data/campaign.yaml", 1, "the campaign settings or the letter did not load")])
        self.ds = ds
        self.campaign = ds.campaign
        self.counters: Counters = count(ds, letters_sent)
        self.mission_by_id = ds.mission_by_id
        self.shared: dict[tuple[str, ...], str] = {}
        """Rendered pieces every language shows alike (`Site.shared`)."""
        self._name_keys: dict[str, tuple[str, str]] = {}
        self._print_names: dict[str, tuple[list[Signature], int]] = {}
        self.words = catalogues.Catalogues(ds.root)
        """Each language's catalogue, for the words of the letter's versions."""

    @cached_property
    def findings(self) -> dict[str, list[missioncheck.Finding]]:
        """What needs a person on each mission page, incl. contacts that failed in dispatch."""
        return missioncheck.findings(self.ds, failed=self.failing)

    @cached_property
    def ledgers(self) -> dict[str, ledger.Ledger]:
        """Every dispatch ledger in data/dispatch/, read once."""
        return ledger.every(self.ds.root)

    @cached_property
    def failing(self) -> dict[str, routes.Failure]:
        """Contacts that failed in dispatch (bounces, refusals), by mission."""
        return routes.failures(self.ds.root, self.ledgers)

    @cached_property
    def deliveries(self) -> record.Deliveries:
        """The public delivery record: each mission's letters in the ledgers and its actions."""
        return record.read(self.ledgers, self.campaign, self.actions, self.counters.by_mission, self.mission_by_id)

    @cached_property
    def missions(self) -> list[Mission]:
        """Every mission, by English country name, then primary first, then city."""
        return sorted((r.model for r in self.ds.missions),
                      key=lambda m: (sort_key(countries.name(m.country)), not m.primary, sort_key(m.city), m.id))

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
        """Published individuals per country code (by English name), sorted by name, split into pages."""
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

    @cached_property
    def first_primary(self) -> Mission | None:
        """The first primary mission (for examples)."""
        return next((m for m in self.missions if m.primary), None)

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

    @cached_property
    def corrections(self) -> dict[str, str]:
        """Each mission's "report a correction" link (its issue text is English, for the maintainers)."""
        repository = self.campaign.intake.repository
        return {m.id: missioncheck.correction_url(repository, m, self.findings.get(m.id, [])) for m in self.missions}

    @cached_property
    def languages(self) -> dict[str, frozenset[str | None]]:
        """The languages each mission's signers signed in (its printed letter has a version in each)."""
        return {m: frozenset(s.language for s in sigs) for m, sigs in self.destinations.items()}

    def languages_of(self, mission_id: str) -> frozenset[str | None]:
        return self.languages.get(mission_id, frozenset())

    def share(self, key: tuple[str, ...], render: Callable[[], str]) -> str:
        """A piece every language shows alike, rendered on first use."""
        found = self.shared.get(key)
        if found is None:
            found = self.shared[key] = render()
        return found

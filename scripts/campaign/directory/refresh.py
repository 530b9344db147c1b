"""`campaign missions refresh`: data/missions.yaml against GOV.UK, as a reviewable diff.

How GOV.UK's organisations meet our missions:

- A mission is *linked* when its `url` is a GOV.UK organisation page
  (`https://www.gov.uk/world/organisations/<slug>`); it is matched by that slug. Missions
  without such a url (web-sourced posts, offices inside another organisation's page) are never
  touched: when GOV.UK lists something that looks like one of them (same country and name, or
  same country, type and city), the diff says so and a person links it by adding the url.
- A linked mission gets, from the organisation's main-office contact: `name`, `address`,
  `phones` (E.164 where valid, phones.py), `email` (the first), `contact_form` (the contact's
  form link, else a link to GOV.UK's embassy contact service in the page), `url`,
  `opening_hours` (short plain text, content.opening_hours). A field listed in the mission's
  `keep` is left as it is; `id`, `country`, `type`, `city`, `timezone`, `primary`,
  `also_covers`, `status` and `note` are hand-made and never changed, except as said below.
- Every refreshed record gets a `source` entry with the Content API URL and GOV.UK's date (the
  newest `public_updated_at` of the organisation, its main office and its contact; older
  GOV.UK snapshot sources are replaced, other sources kept). `verified` becomes that date when
  a contact field changed, else the newer of the old `verified` and that date.
- *Closed*: a linked mission no longer listed (or gone, or withdrawn) becomes
  `status: closed` when it was `open`; a `suspended` one keeps its status and is named in the
  notes. A closed mission listed again stays closed and is named in the notes.
- *Added*: a listed organisation that is not ours, whose title names a diplomatic mission
  (embassy, high commission, consulate, office, mission/delegation) and which the FCDO
  sponsors (or nobody does). Its id follows `campaign missions build`; it is `primary` only
  when its country has no mission yet (the country then leaves another mission's
  `also_covers`); its time zone comes from the tz database. Trade, visa and other
  organisations are counted and skipped without being fetched.

All-or-nothing: every response is fetched and checked first; one bad response (malformed JSON,
a missing field, an HTTP error after retries) is reported as `url:line: message` naming the
organisation, and nothing is written. `write` validates the whole new directory (file and
cross-mission rules), refuses when the file changed meanwhile or when more than a fifth of the
linked missions (and over 10) would close at once, and replaces the file atomically.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaign.core.errors import CampaignError, Problem
from campaign.core.files import write_atomic
from campaign.data import yamlio
from campaign.data.checks import check as cross_check
from campaign.data.dataset import CAMPAIGN, MISSIONS, MISSIONS_MAX_BYTES, Dataset, Record, load_record, parse
from campaign.data.govuk import govuk_slug
from campaign.data.models import Campaign, Mission, MissionDirectory
from campaign.directory import build as directory
from campaign.directory import content, govuk, mapping
from campaign.forge.base import get_forge

LISTING_DATASET = "govuk-search-api"
MASS_CLOSURE = (10, 0.2)  # refuse to close more than this many and this share of linked missions

# --- the diff ------------------------------------------------------------------------------


@dataclass
class Change:
    """One mission's changed fields: (field, old, new)."""

    id: str
    line: int | None
    fields: list[tuple[str, Any, Any]]
    why: str = ""


@dataclass
class Diff:
    """What a refresh would do; `missions` is the complete new directory."""

    listed: int = 0
    skipped: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    closed: list[Change] = field(default_factory=list)
    reverified: list[str] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    missions: list[dict[str, Any]] = field(default_factory=list)
    original: bytes = b""

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.closed or self.reverified)

    def counts(self) -> dict[str, int]:
        return {"listed": self.listed, "skipped": self.skipped, "added": len(self.added), "changed": len(self.changed),
                "closed": len(self.closed), "reverified": len(self.reverified), "unchanged": self.unchanged}

    def render(self) -> str:
        out = [f"GOV.UK lists {self.listed} worldwide organisations; {self.skipped} are not diplomatic missions "
               "(trade, visa and other offices) and were skipped."]
        if self.added:
            out.append(f"\nadded ({len(self.added)}):")
            for m in self.added:
                out.append(f"  + {m['id']}: {m['name']} <{m['url']}>")
                for key in ("country", "type", "city", "timezone", "primary", *mapping.CONTACT_FIELDS):
                    if key in m:
                        out.append(f"      {key}: {show(m[key])}")
        for title, items in (("changed", self.changed), ("closed", self.closed)):
            if items:
                out.append(f"\n{title} ({len(items)}):")
                for change in items:
                    where = f"{MISSIONS}:{change.line}: " if change.line else ""
                    out.append(f"  {'~' if title == 'changed' else '-'} {where}{change.id}{': ' + change.why if change.why else ''}")
                    for name, old, new in change.fields:
                        out.append(f"      {name}: {show(old)} -> {show(new)}")
        if self.reverified:
            out.append(f"\nre-dated from GOV.UK, no contact change ({len(self.reverified)}): {', '.join(self.reverified)}")
        out.append(f"\nunchanged: {self.unchanged}")
        if self.notes:
            out.append(f"\nfor a person to look at ({len(self.notes)}):")
            out += [f"  * {note}" for note in self.notes]
        if self.blocking:
            out.append("\nREFUSED:")
            out += [f"  ! {text}" for text in self.blocking]
        return "\n".join(out)


def show(value: Any) -> str:
    """A field value in one line for the diff."""
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list) and value and isinstance(value[0], dict) and "number" in value[0]:
        return "; ".join(f"{p['label']}: {p['number']}" for p in value)
    if isinstance(value, list) and value and isinstance(value[0], dict) and "address" in value[0]:
        return "; ".join(f"{e['address']} ({e.get('kind', 'general')})" for e in value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


# --- the plan ------------------------------------------------------------------------------


def _load(root: Path) -> tuple[bytes, list[Record[Mission]], list[dict[str, Any]]]:
    path = root / MISSIONS
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CampaignError([Problem(MISSIONS, 1, f"cannot read the directory ({exc.strerror})")]) from None
    found, doc, problems = parse(MISSIONS, raw, MissionDirectory, MISSIONS_MAX_BYTES)
    if found is None or doc is None or problems:
        raise CampaignError(problems + [Problem(MISSIONS, 1, "fix the directory before refreshing it")])
    records = []
    for i, mission in enumerate(found.missions):
        lines = {"": doc.line_of(("missions", i))}
        records.append(Record(MISSIONS, mission, lines))
    return raw, records, doc.data["missions"]


def merged(raw: dict[str, Any], old: Mission, new: Mission) -> dict[str, Any]:
    """The file entry of `new`: the entry as written (`raw`) with only the fields that differ
    from `old` replaced, so untouched text (not NFKC-normalised, say) keeps its bytes."""
    if new == old:
        return raw
    fresh, out = mapping.as_file(new), {}
    for key in directory.ORDER:
        if getattr(old, key) == getattr(new, key):
            if key in raw:
                out[key] = raw[key]
        elif key in fresh:
            out[key] = fresh[key]
    return out


def plan(root: Path, client: govuk.Client, today: dt.date | None = None) -> Diff:
    """Fetch GOV.UK and work out the new directory; nothing is written."""
    today = today or dt.date.today()
    raw, records, entries = _load(root)
    diff = Diff(original=raw)
    missions = [r.model for r in records]
    entry = {m.id: e for m, e in zip(missions, entries, strict=True)}
    line = {r.model.id: r.line("") for r in records}
    linked = {govuk_slug(m.url): m for m in missions if govuk_slug(m.url)}
    listing = client.listing()
    diff.listed = len(listing)
    listed = {item.slug: item for item in listing}
    wanted = [s for s in listed if s in linked or mapping.mission_type(listed[s].title)]
    diff.skipped = len(listed) - len(wanted)
    orgs = client.organisations(wanted)

    def live(slug: str) -> content.Organisation | None:
        org = orgs.get(slug)
        return org if org is not None and not org.withdrawn else None

    gone = [slug for slug in linked if live(slug) is None]
    fresh = [org for slug, org in orgs.items() if slug not in linked and org is not None and not org.withdrawn]
    # an organisation renamed on GOV.UK (new slug) is the same mission, not a closure and an addition
    moved: dict[str, content.Organisation] = {}
    for org in list(fresh):
        kind = mapping.mission_type(org.title)
        match = next((linked[s] for s in gone if s not in moved and mapping.similar(org, kind, linked[s])), None)
        if match is not None:
            moved[govuk_slug(match.url) or ""] = org
            fresh.remove(org)
    new_by_id: dict[str, Mission] = {}
    for m in missions:
        slug = govuk_slug(m.url)
        org = live(slug) if slug else None
        org = org or (moved.get(slug) if slug else None)
        if org is None:
            new_by_id[m.id] = m
            continue
        if m.status == "closed":
            diff.notes.append(f"{m.id}: GOV.UK lists {org.url} again but it is `closed` here; reopen it by hand if the post has reopened")
        new_by_id[m.id] = mapping.refreshed(m, org, diff.notes)
    for slug in gone:
        m = linked[slug]
        if slug in moved:
            continue
        why = "no longer listed on GOV.UK" if slug not in listed else "gone or withdrawn on GOV.UK"
        if m.status == "open":
            data = mapping.as_file(new_by_id[m.id]) | {"status": "closed"}
            data["source"] = data["source"] + [{"dataset": LISTING_DATASET, "url": client.base_url + content.SEARCH_PATH
                                                + "?filter_format=worldwide_organisation", "date": today.isoformat()}]
            new_by_id[m.id] = Mission.model_validate(data)
            diff.closed.append(Change(m.id, line[m.id], [("status", "open", "closed")], why))
        elif m.status == "suspended":
            diff.notes.append(f"{m.id}: {why} ({m.url}); it stays `suspended` as set here: close it by hand if it has closed")
    # additions
    unlinked = [m for m in missions if govuk_slug(m.url) is None]
    taken = set(new_by_id)
    all_missions = list(new_by_id.values())
    for org in sorted(fresh, key=lambda o: o.slug):
        kind = mapping.mission_type(org.title)
        if kind is None:
            continue
        if org.sponsors and content.FCDO not in org.sponsors:
            diff.skipped += 1
            continue
        twin = next((m for m in unlinked if mapping.similar(org, kind, m)), None)
        if twin is not None:
            diff.notes.append(f"{twin.id}: GOV.UK now lists {org.url} ({org.title!r}); add it as `url` to link "
                              "the record, then refresh again")
            continue
        country = org.country
        if country is None:
            diff.notes.append(f"{org.slug}: {org.title!r} is new on GOV.UK but its country cannot be told; add it by hand")
            continue
        city = mapping.city(org)
        zone = mapping.timezone(country, city, all_missions, diff.notes, org.slug)
        if zone is None:
            diff.notes.append(f"{org.slug}: no time zone known for {country}; add {org.title!r} by hand")
            continue
        primary = not any(m.country == country for m in all_missions)
        data = {"id": mapping.new_id(country, city, org.title, kind, taken), "country": country, "type": kind, "city": city,
                **{k: v for k, v in mapping.contact_fields(org, country, diff.notes).items() if v not in (None, [])},
                "timezone": zone, "primary": primary, "status": "open", "source": [mapping.source(org)],
                "verified": org.updated.isoformat()}
        added = mapping.validated(data, org.api_url, org.slug)
        taken.add(added.id)
        new_by_id[added.id] = added
        all_missions.append(added)
        diff.added.append(mapping.as_file(added))
        if primary:
            for m in list(new_by_id.values()):
                if country in m.also_covers:
                    covers = [c for c in m.also_covers if c != country]
                    new_by_id[m.id] = m.model_copy(update={"also_covers": covers})
                    diff.notes.append(f"{m.id}: no longer covers {country}, which {added.id} now serves")
    # what changed, field by field
    for m in missions:
        new = new_by_id[m.id]
        if any(c.id == m.id for c in diff.closed):
            continue
        fields = [(name, mapping.as_file(m).get(name), mapping.as_file(new).get(name))
                  for name in (*mapping.REFRESHED, "also_covers", "status", "verified")]
        fields = [f for f in fields if f[1] != f[2]]
        if not fields and mapping.as_file(m) != mapping.as_file(new):
            fields = [("source", None, "GOV.UK content API")]
        if any(name not in ("verified", "source") for name, _, _ in fields):
            diff.changed.append(Change(m.id, line[m.id], fields))
        elif fields:
            diff.reverified.append(m.id)
        else:
            diff.unchanged += 1
    old_by_id = {m.id: m for m in missions}
    diff.missions = sorted((merged(entry[i], old_by_id[i], m) if i in old_by_id else mapping.as_file(m)
                            for i, m in new_by_id.items()), key=directory.sort_key)
    closing, limit = len(diff.closed), max(MASS_CLOSURE[0], MASS_CLOSURE[1] * len(linked))
    if closing > limit:
        diff.blocking.append(f"{closing} of {len(linked)} linked missions would close at once; GOV.UK's listing is "
                             "probably incomplete: nothing will be written (check --base-url, try again later)")
    diff.blocking += [p.text() for p in check_new(root, diff.missions)]
    return diff


def render_file(missions: list[dict[str, Any]]) -> str:
    return directory.HEADER + yamlio.dumps({"missions": missions}, schema="../schemas/missions.schema.json")


def check_new(root: Path, missions: list[dict[str, Any]]) -> list[Problem]:
    """The problems `campaign validate` would find in the new directory (file and cross rules)."""
    text = render_file(missions)
    found, doc, problems = parse(MISSIONS, text.encode(), MissionDirectory, MISSIONS_MAX_BYTES)
    if found is not None and doc is not None and not problems:
        records = [Record(MISSIONS, m, {"id": doc.line_of(("missions", i, "id")),
                                        "primary": doc.line_of(("missions", i, "primary")),
                                        "also_covers": doc.line_of(("missions", i, "also_covers"))})
                   for i, m in enumerate(found.missions)]
        problems = cross_check(Dataset(root=root, missions=records))
    return [Problem(p.path, p.line, f"after the refresh: {p.message}") for p in problems]


def write(root: Path, diff: Diff) -> Path:
    """Replace data/missions.yaml atomically with the new directory, or raise and touch nothing."""
    if diff.blocking:
        raise CampaignError([Problem(MISSIONS, 1, text) for text in diff.blocking])
    problems = check_new(root, diff.missions)
    if problems:
        raise CampaignError([Problem(p.path, p.line, f"{p.message}; nothing was written") for p in problems])
    text = render_file(diff.missions)
    path = root / MISSIONS
    if path.read_bytes() != diff.original:
        raise CampaignError([Problem(MISSIONS, 1, "the file changed while GOV.UK was read; nothing was written: "
                                                  "run the refresh again")])
    write_atomic(path, text.encode("utf-8"))
    return path


BRANCH = "missions/refresh"


def propose(root: Path, diff: Diff, forge_name: str, repository: str) -> str:
    """Commit the new directory on BRANCH and open (or update) its pull request, the diff as its
    text; the working tree is left alone. What was done."""
    if diff.blocking:
        raise CampaignError([Problem(MISSIONS, 1, text) for text in diff.blocking])
    problems = check_new(root, diff.missions)
    if problems:
        raise CampaignError([Problem(p.path, p.line, f"{p.message}; nothing was proposed") for p in problems])
    counts = diff.counts()
    title = (f"Mission directory from GOV.UK: {counts['added']} added, {counts['changed']} changed, "
             f"{counts['closed']} closed, {counts['reverified']} re-dated")
    body = ("`campaign missions refresh` found these differences with GOV.UK. Review each one (the "
            "notes need a person), then merge.\n\n```\n" + diff.render()[:60000] + "\n```\n")
    forge = get_forge(forge_name, root, repository=repository)
    done = forge.publish({MISSIONS: render_file(diff.missions).encode("utf-8")}, branch=BRANCH, message=title,
                         title=title, body=body, fresh=True)
    return done.describe()


def run(root: Path, *, base_url: str = content.BASE_URL, write_: bool = False, jobs: int = 4, timeout: float = 20.0,
        attempts: int = 4, backoff: float = 1.0, forge_name: str | None = None, echo: Callable[[str], None] = print) -> None:
    """`campaign missions refresh`: print the differences with GOV.UK; with `write_`, apply them;
    with `forge_name`, propose them as a pull request instead (see `propose`)."""
    record, _ = load_record(root, CAMPAIGN, Campaign)
    contact = f"https://github.com/{record.model.intake.repository}" if record else None
    with govuk.Client(base_url, timeout=timeout, attempts=attempts, backoff=backoff, jobs=jobs,
                      agent=govuk.user_agent(contact)) as client:
        diff = plan(root, client)
    echo(diff.render())
    if forge_name and (diff.has_changes or diff.blocking):
        echo("\n" + propose(root, diff, forge_name, record.model.intake.repository if record else ""))
    elif forge_name:
        echo("\nnothing to change; no pull request")
    elif not write_:
        echo("\ndry run: nothing written; run `campaign missions refresh --write` to apply" if diff.has_changes
             else "\nnothing to change")
    elif not diff.has_changes and not diff.blocking:
        echo("\nnothing to change; data/missions.yaml left as it is")
    else:
        write(root, diff)
        counts = diff.counts()
        echo(f"\nwrote {MISSIONS}: {counts['added']} added, {counts['changed']} changed, {counts['closed']} closed, "
             f"{counts['reverified']} re-dated; review with `git diff` and run `campaign validate`")

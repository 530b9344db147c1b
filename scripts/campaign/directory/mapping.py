"""From a GOV.UK organisation to a mission record: types, cities, ids, time zones, contact fields.

`refreshed(old, org)` is a linked mission with GOV.UK's contact fields (those in its `keep`
left alone), a GOV.UK source and the `verified` date; the other functions serve the refresh's
matching of new organisations (`mission_type`, `city`, `new_id`, `timezone`, `similar`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from campaign.core.errors import CampaignError, Problem
from campaign.data import countries
from campaign.data.dataset import describe_error
from campaign.data.govuk import govuk_slug
from campaign.data.models import Mission, MissionEmail, Phone
from campaign.data.text import name_key
from campaign.directory import build as directory
from campaign.directory import content
from campaign.records.phones import normalise, split

REFRESHED = ("name", "address", "phones", "emails", "contact_form", "url", "opening_hours")
CONTACT_FIELDS = tuple(f for f in REFRESHED if f != "url")
DATASET = "govuk-content-api"

_TYPES = [  # a title -> our mission type; the first match wins
    (re.compile(r"deputy high commission", re.I), "consulate-general"),
    (re.compile(r"high commission\b", re.I), "high-commission"),
    (re.compile(r"embassy office|liaison office|\bbritish office\b|commissioner'?s office", re.I), "office"),
    (re.compile(r"\bembassy\b", re.I), "embassy"),
    (re.compile(r"consulate[- ]general", re.I), "consulate-general"),
    (re.compile(r"\bconsulate\b", re.I), "consulate"),
    (re.compile(r"\b(?:mission|delegation|representation) to\b", re.I), "mission"),
]
_CITY = re.compile(
    r"^(?:british|uk|united kingdom)\s+(?:deputy high commission(?:er)?|high commission|embassy office|embassy|"
    r"consulate[- ]general|vice[- ]consulate|consulate|office)\s+(?:in\s+|to\s+)?(?P<city>[^,()]+)$", re.I)


def mission_type(title: str) -> str | None:
    """The mission type a GOV.UK title names, or None (trade, visa, science offices...)."""
    return next((kind for pattern, kind in _TYPES if pattern.search(title)), None)



def as_file(mission: Mission) -> dict[str, Any]:
    """A Mission as data/missions.yaml writes it: key order of `build`, no empty values."""
    data = mission.model_dump(mode="json", exclude_none=True)
    return {k: data[k] for k in directory.ORDER if k in data and data[k] != []}


def _phones(org: content.Organisation, country: str, notes: list[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for label, text in org.contact.phones if org.contact else ():
        numbers = [normalise(text, country)]
        try:
            Phone(label=label, number=numbers[0])
        except ValidationError:
            numbers = split(text, country)
            if not numbers:
                notes.append(f"{org.slug}: phone {text!r} ({label}) is not a number; left out")
        for number in numbers:
            entry = {"label": label, "number": number}
            if entry not in out:
                out.append(entry)
    return out


def emails(addresses: Sequence[str], old: Sequence[MissionEmail] = ()) -> list[dict[str, str]]:
    """Published addresses as `emails` entries: an address already in the record keeps its
    kind (it may have been set by hand), a new one gets the kind its local part suggests."""
    known = {e.address.casefold(): e.kind for e in old}
    return [{"address": a, "kind": known.get(a.casefold()) or directory.email_kind(a)} for a in addresses]


def contact_fields(org: content.Organisation, country: str, notes: list[str], old: Mission | None = None) -> dict[str, Any]:
    """The refreshed fields of a mission from its organisation (None: absent on GOV.UK)."""
    contact = org.contact
    return {
        "name": org.title,
        "address": contact.address if contact else None,
        "phones": _phones(org, country, notes),
        "emails": emails(contact.emails, old.emails if old else []) if contact else [],
        "contact_form": org.contact_form,
        "url": org.url,
        "opening_hours": org.opening_hours,
    }


def source(org: content.Organisation) -> dict[str, str]:
    return {"dataset": DATASET, "url": org.api_url, "date": org.updated.isoformat()}


def _is_govuk_source(src: dict[str, Any]) -> bool:
    url = src.get("url") or ""
    return (str(src.get("dataset", "")).startswith("govuk-") or govuk_slug(url) is not None
            or content.ORGANISATION_PREFIX in url and "/api/content/" in url)


def validated(data: dict[str, Any], where: str, slug: str) -> Mission:
    try:
        return Mission.model_validate(data)
    except ValidationError as exc:
        raise CampaignError([Problem(where, 1, f"organisation {slug!r}: the refreshed record {describe_error(e)}; "
                                                "GOV.UK's data is unusable here: nothing was changed")
                             for e in exc.errors()]) from None


def refreshed(old: Mission, org: content.Organisation, notes: list[str]) -> Mission:
    data = as_file(old)
    new = contact_fields(org, old.country, notes, old)
    if org.contact is None:  # nothing to compare with: keep ours, and its date, rather than erase it
        notes.append(f"{old.id}: GOV.UK publishes no contact for {org.url}; its contact details were kept as they are")
        for name in ("name", "url"):
            if name not in old.keep:
                data[name] = new[name]
        return validated(data, org.api_url, org.slug)
    for name in REFRESHED:
        if name in old.keep:
            continue
        if new[name] in (None, []):
            data.pop(name, None)
        else:
            data[name] = new[name]
    data["source"] = [source(org)] + [s for s in data["source"] if not _is_govuk_source(s)]
    probe = validated(data | {"verified": old.verified.isoformat()}, org.api_url, org.slug)
    moved = any(getattr(probe, f) != getattr(old, f) for f in CONTACT_FIELDS)
    data["verified"] = (org.updated if moved else max(old.verified, org.updated)).isoformat()
    return validated(data, org.api_url, org.slug)


@cache
def _zones() -> dict[str, list[str]]:
    """ISO country code -> its time zones, from the tz database's zone.tab (tzdata)."""
    table: dict[str, list[str]] = {}
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coords, zone, *_ = line.split("\t")
            table.setdefault(code, []).append(zone)
    return table


def timezone(country: str, city: str, missions: list[Mission], notes: list[str], slug: str) -> str | None:
    zones = _zones().get(country, [])
    if len(zones) == 1:
        return zones[0]
    for zone in zones:
        if directory.slug(zone.rsplit("/", 1)[-1].replace("_", " ")) == directory.slug(city):
            return zone
    same = [m for m in missions if m.country == country]
    local = [m for m in same if directory.slug(m.city) == directory.slug(city)] or [m for m in same if m.primary] or same
    if local:
        notes.append(f"{slug}: time zone taken from {local[0].id} ({local[0].timezone}); check it")
        return local[0].timezone
    if zones:
        notes.append(f"{slug}: time zone guessed as {zones[0]} (one of {len(zones)} in {country}); check it")
        return zones[0]
    return None


def city(org: content.Organisation) -> str:
    found = _CITY.match(org.title)
    if found:
        return found.group("city").strip()
    locality = org.contact.locality if org.contact else None
    if locality:
        cleaned = " ".join(w for w in locality.split() if not any(ch.isdigit() for ch in w))
        if cleaned:
            return cleaned
    return countries.name(org.country or "")


def new_id(country: str, city: str, title: str, kind: str, taken: set[str]) -> str:
    base = f"{country.lower()}-{directory.slug(city) or directory.slug(title)}"
    candidates = [base, f"{base}-{directory._suffix({'name': title}, kind)}"]
    candidates += [f"{base}-{n}" for n in range(2, 100)]
    return next(c for c in candidates if c not in taken)


def similar(org: content.Organisation, kind: str | None, m: Mission) -> bool:
    if m.country != org.country:
        return False
    return name_key(m.name) == name_key(org.title) or (
        kind == m.type and directory.slug(m.city) == directory.slug(city(org)))



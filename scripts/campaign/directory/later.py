"""GOV.UK's contact data of 2020-2024, folded into the directory built from the 2018 snapshot.

`campaign missions build SOURCE` reads it from `govuk-2020-2024/` beside SOURCE when that
folder exists (its README tells where each file comes from):

- `pr4778_fco_to_fcdo_pairs.tsv`: the addresses GOV.UK itself rewrote from @fco.gov.uk to
  @fcdo.gov.uk when the FCDO was created (smart-answers PR #4778, 2020-09-02);
- `post_channels_2024-09.tsv`: addresses and contact forms published in GOV.UK's smart answers
  (2020-2024), each with the file it came from. They sit in consular services (marriage abroad,
  registering a death), so a new address there is a consular mailbox unless it is the same
  mailbox as a 2018 one;
- content items (`worldwide_organisation…json`, `worldwide_office…json`): a mission's newer
  contact block (address, phones, form, addresses in its description), applied when it is
  newer than the record.

Nothing is invented: an @fco.gov.uk address becomes @fcdo.gov.uk only where one of these names
that very address, and every address taken from here carries its own `source`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from campaign.data.govuk import govuk_slug
from campaign.directory import build as directory
from campaign.directory import content, mapping

FOLDER = "govuk-2020-2024"
PR4778 = {"dataset": "govuk-smart-answers-pr4778", "url": "https://github.com/alphagov/smart-answers/pull/4778",
          "date": "2020-09-02"}
EXAMPLES = "content_schemas/examples/"
COMMITS = {"": "64d2c150d7272c08c7cc6d3520b45bd21c6011f2", "f00928381": "f00928381c5c28cb8413326e32d375ebcba00f68"}


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _set_email(mission: dict[str, Any], address: str, source: dict[str, str], replaces: str | None = None,
               kind: str | None = None) -> None:
    """Add `address` (or put it in the place of `replaces`), with its source."""
    emails = mission.setdefault("emails", [])
    for entry in emails:
        if entry["address"].casefold() in (address.casefold(), (replaces or "").casefold()):
            entry.update(address=address, source=source)
            return
    emails.append({"address": address, "kind": kind or directory.email_kind(address), "source": source})


def _channels(by_slug: dict[str, dict[str, Any]], folder: Path) -> None:
    pairs = {row["old_address"].casefold(): row["new_address"] for row in _rows(folder / "pr4778_fco_to_fcdo_pairs.tsv")}
    for mission in by_slug.values():
        for entry in list(mission.get("emails", [])):
            new = pairs.get(entry["address"].casefold())
            if new:
                _set_email(mission, new, PR4778, replaces=entry["address"])
    for row in _rows(folder / "post_channels_2024-09.tsv"):
        mission = by_slug.get(row["maps_to_2018_mission"])
        if mission is None:
            continue  # a central unit, a governor's office: not a mission of the directory
        source = {"dataset": "govuk-smart-answers-2024", "repo": "alphagov/smart-answers", "path": row["example_file"],
                  "date": row["file_last_changed"]}
        if row["channel"] == "contact_form":
            mission.setdefault("contact_form", row["value"])
            continue
        value = row["value"]
        old = f"{value.rpartition('@')[0]}@fco.gov.uk" if row["same_local_part_as_2018_fco_address"] == "True" else None
        kind = directory.email_kind(value)
        _set_email(mission, value, source, replaces=old, kind="consular" if kind == "general" and not old else kind)


def _items(path: Path) -> list[tuple[str, dict[str, str], content.Contact]]:
    """(organisation slug or contact title, source, contact) of each contact block of a content
    item: an office's contact belongs to its organisation; the organisation examples hold
    other posts' contacts, told by their titles."""
    data = json.loads(path.read_text(encoding="utf-8"))
    stem, _, commit = path.stem.partition("@")
    rel = EXAMPLES + stem.replace("__", "/") + ".json"
    reader = content._Reader(rel, f"content item {data.get('base_path')!r}")
    links = data.get("links")
    office = data.get("schema_name") == "worldwide_office"
    blocks = reader.items(links, "contact", "links") if office else \
        reader.items(links, "contacts", "links") + reader.items(links, "ordered_contacts", "links")
    out = []
    for where, item in blocks:
        found = content.contact(reader, where, item)[1]
        if found.updated is None:
            continue
        source = {"dataset": "govuk-publishing-api-example", "repo": "alphagov/publishing-api", "path": rel,
                  "date": found.updated.isoformat()}
        if commit:
            source["url"] = f"https://github.com/alphagov/publishing-api/blob/{COMMITS.get(commit, commit)}/{rel}"
        out.append((data["base_path"].split("/")[3] if office else found.title, source, found))
    return out


def _contacts(missions: list[dict[str, Any]], by_slug: dict[str, dict[str, Any]], folder: Path) -> None:
    by_name = {m["name"]: m for m in missions}
    for path in sorted(folder.glob("worldwide_*.json")):
        for key, source, contact in _items(path):
            mission = by_slug.get(key) or by_name.get(key)
            if mission is None or source["date"] <= mission["verified"]:
                continue  # another post, or the record is as new (Madrid's 2023 contact is in the compiled source)
            if contact.address:
                mission["address"] = contact.address
            org = content.Organisation(key, mission["name"], source["path"], contact.updated, contact)  # type: ignore[arg-type]
            phones = mapping.contact_fields(org, mission["country"], [])["phones"]
            if phones:
                mission["phones"] = phones
            form = next((f.replace("http://www.gov.uk/", "https://www.gov.uk/", 1) for f in contact.forms), None)
            if form and form.startswith("https://"):
                mission["contact_form"] = form
            for address in contact.emails:
                _set_email(mission, address, source, replaces=f"{address.rpartition('@')[0]}@fco.gov.uk")
            mission["source"].append(source)
            mission["verified"] = source["date"]


def apply(missions: list[dict[str, Any]], folder: Path) -> None:
    """Fold the later data in `folder` into the built missions (in place)."""
    if not folder.is_dir():
        return
    by_slug = {govuk_slug(m.get("url")): m for m in missions if govuk_slug(m.get("url"))}
    _channels(by_slug, folder)
    _contacts(missions, by_slug, folder)
    for mission in missions:  # the file's key order
        ordered = {key: mission[key] for key in directory.ORDER if key in mission}
        mission.clear()
        mission.update(ordered)

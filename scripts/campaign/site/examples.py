"""Example files for the take-part page and the form: an organisation's signature, an
individual's (the GitHub route) and a registered action, each with a prefilled GitHub link."""

from __future__ import annotations

import datetime as dt

from campaign.data import yamlio
from campaign.data.models import Campaign, Mission
from campaign.data.signatures import SCHEMA_FROM_SHARD
from campaign.site.links import github_new_file

Example = tuple[str, str, str]
"""(repository path, file text, GitHub new-file link)."""


def organisation(campaign: Campaign, branch: str) -> Example:
    """(path, file text, GitHub new-file link) of an example organisation signature."""
    today = dt.date.today().isoformat()
    text = yamlio.dumps({
        "type": "organisation", "name": "Example Press Freedom Association", "country": "PT",
        "signed": today, "publish": True, "letter": True, "url": "https://example.org",
        "source": "pull-request",
    }, schema=SCHEMA_FROM_SHARD)
    path = "data/signatories/organisations/example-press-freedom-association-pt.yaml"
    return path, text, github_new_file(campaign.intake.repository, path, text, branch)

def individual(campaign: Campaign, mission: Mission | None, branch: str) -> Example:
    """(path, file text, GitHub new-file link) of an individual's signature (GitHub route)."""
    text = yamlio.dumps({
        "type": "individual", "name": "Your Full Name", "country": mission.country if mission else "PT",
        **({"mission": mission.id} if mission else {}),
        "signed": dt.date.today().isoformat(), "publish": True, "letter": True,
        "consent": campaign.consent.version, "source": "pull-request",
    }, schema=SCHEMA_FROM_SHARD)
    path = "data/signatories/github/your-full-name.yaml"
    return path, text, github_new_file(campaign.intake.repository, path, text, branch)

def action(campaign: Campaign, mission: Mission | None, branch: str) -> Example:
    """(path, file text, GitHub new-file link) of an example registered action."""
    mission_id = mission.id if mission else "pt-lisbon"
    day = campaign.dispatch.date
    text = yamlio.dumps({
        "type": "delivery", "mission": mission_id, "date": day.isoformat(),
        "by": "Your name or your organisation",
        "description": "We handed in the letter and 250 signatures at the reception; "
                       "the duty officer stamped our copy.",
        "photos": [f"assets/actions/{day.year}/{mission_id}-1.jpg"],
    }, schema="../../schemas/action.schema.json")
    path = f"data/actions/{day.isoformat()}-{mission_id}-your-name.yaml"
    return path, text, github_new_file(campaign.intake.repository, path, text, branch)

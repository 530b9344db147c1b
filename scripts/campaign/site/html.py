"""Words of the site's pages that the code, not a template, holds: marked for the catalogue
(`N_`) here, translated where they are shown (the letter as HTML is `campaign.data.letter.as_html`)."""

from __future__ import annotations

from campaign.data.locales import N_

MISSION_TYPES = {
    "embassy": N_("Embassy"),
    "high-commission": N_("High Commission"),
    "consulate-general": N_("Consulate General"),
    "consulate": N_("Consulate"),
    "mission": N_("Permanent Mission"),
    "office": N_("Office"),
}
MISSION_STATUSES = {"open": N_("open"), "suspended": N_("suspended"), "closed": N_("closed")}
FINDING_KINDS = {  # what a mission page's "needs checking" box says, per kind of `records.findings`
    "closed": N_("The post is closed"),
    "failing": N_("Letters to this mission failed"),
    "no-channel": N_("No usable written channel"),
    "retired-email": N_("The email address is on a retired domain"),
    "suspended": N_("The post is suspended"),
    "phone-invalid": N_("A phone number looks wrong"),
    "phone-duplicate": N_("A phone number appears twice"),
    "no-phone": N_("No phone number"),
    "stale": N_("The details have not been checked for a long time"),
}
ACTION_TYPES = {"delivery": N_("Delivery in person"), "call": N_("Phone call"), "other": N_("Action")}
LETTER_PLACEHOLDERS = {
    "mission_name": N_("[British embassy, high commission or consulate]"),
    "mission_city": N_("[city]"),
    "addressee": N_("[British embassy, high commission or consulate]"),
    "mission_country": N_("[your country]"),
    "signer": N_("[your name]"),
}
NAV_TITLES = (N_("Home"), N_("The letter"), N_("Sign"), N_("Missions"), N_("Signatories"), N_("Actions"),
              N_("Take part"), N_("Privacy"))
"""The titles of mkdocs.yml's `nav` (the hooks translate them; a title missing here is a build warning)."""

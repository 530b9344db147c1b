"""Words of the site's pages that the code, not a template, holds: marked for the catalogue
(`N_`) here, translated where they are shown (the letter as HTML is `campaign.data.letter.as_html`);
and the names the theme's widgets lack (`name_widgets`, ARCHITECTURE.md, "Trust and accessibility")."""

from __future__ import annotations

from markupsafe import escape

from campaign.data.locales import N_
from campaign.i18n.catalogues import Translator

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
DELIVERY_STATES = {  # a mission's and a country's state on the Deliveries page and its map (site/deliveries.py)
    "replied": N_("A reply received"),
    "bounced": N_("Letters bounced or refused"),
    "sent": N_("Letters accepted by the mail server"),
    "in-person": N_("Delivered in person or called"),
    "waiting": N_("Letters waiting to be sent"),
    "none": N_("No letters yet"),
}
LETTER_STATES = {  # one letter's status in a mission's delivery record (records/ledger.py's states)
    "sent": N_("Accepted by the mail server"),
    "bounced": N_("Bounced"),
    "failed": N_("Refused by the mail server"),
    "deferred": N_("Waiting to be retried"),
    "unknown": N_("Being checked"),
    "sending": N_("Being sent"),
    "requeued": N_("Due again"),
}
ROUTE_KINDS = {"email": N_("email"), "fallback": N_("fallback address"), "form": N_("contact form"), "paper": N_("paper")}
NAV_TITLES = (N_("Home"), N_("The letter"), N_("Sign"), N_("Missions"), N_("Signatories"), N_("Actions"),
              N_("Deliveries"), N_("Take part"), N_("Privacy"))
"""The titles of mkdocs.yml's `nav` (the hooks translate them; a title missing here is a build warning)."""


UNNAMED_WIDGETS = {
    'data-md-component="search" role="dialog"': N_("Search the site"),
    'data-md-component="progress" role="progressbar"': N_("Loading the page"),
}
"""Material's search dialog and page-load progress bar, which it leaves without an accessible name."""


def name_widgets(page: str, words: Translator) -> str:
    """A built page with Material's unnamed widgets named (`aria-label`, in the page's language)."""
    for markup, name in UNNAMED_WIDGETS.items():
        page = page.replace(markup, f'{markup} aria-label="{escape(words.gettext(name))}"', 1)
    return page

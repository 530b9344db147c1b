"""One form submission checked: every field, with messages in the form's language (`service.Intake.submit`).

Validation is the library's: `signatures.build` (the Signature model), `signatures.Index`
(duplicates and missions, as `campaign validate`), `models.Email` for the address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from campaign.data import countries, locales, signatures
from campaign.data.dataset import Dataset, describe_error
from campaign.data.models import Signature
from campaign.i18n.catalogues import Translator
from campaign.intake import fingerprint as fp

FIELDS = ("name", "country", "email", "mission", "publish", "letter", "followup", "consent", "language", "website")
TEXT_FIELDS = ("name", "country", "email", "mission", "consent", "language", "website")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"", "off", "false", "no", "0"}


@dataclass
class Answer:
    """What the HTTP layer returns: a status and a JSON body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    lang: str = locales.DEFAULT
    """The language the answer is in (the form's page's)."""


def validate(ds: Dataset, index: signatures.Index, key: bytes, fields: dict[str, Any], today: dt.date | None,
             words: Translator) -> tuple[Signature, str, str, bool] | Answer:
    """(signature, address, fingerprint, wants a report), or the 422 answer listing every field to fix (in the form's language)."""
    _ = words.format
    campaign = ds.campaign
    assert campaign is not None
    errors: dict[str, list[str]] = {}
    for name in sorted(set(fields) - set(FIELDS)):
        errors.setdefault(name, []).append(_("unknown field; the form sends only %(fields)s", fields=", ".join(FIELDS)))
    text: dict[str, str] = {}
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = [_("must be text")]
        text[name] = value.strip() if isinstance(value, str) else ""
    flags: dict[str, bool] = {}
    for name in ("publish", "letter", "followup"):
        flag = _flag(fields.get(name))
        if flag is None:
            errors[name] = [_("must be true or false")]
        flags[name] = bool(flag)
    if flags["followup"] and campaign.followup is None:
        errors["followup"] = [_("this campaign sends no reports; leave it unticked")]
    email = text["email"]
    if "email" in errors:
        pass
    elif not email:
        errors["email"] = [_("is required: the confirmation link is sent there")]
    elif len(email) > 254:
        errors["email"] = [_("is longer than 254 characters; no email address is that long")]
    elif problem := fp.check_email(email):
        errors["email"] = [problem]
    version = campaign.consent.version
    if text["consent"] != version and "consent" not in errors:
        errors["consent"] = [_("must be %(version)s, the version of the consent texts shown with the form; "
                               "reload the page and submit again", version=repr(version))]
    country = text["country"].upper()
    if (not text["mission"] and "mission" not in errors and country in countries.names()
            and not ds.mission_for(country)):
        errors["mission"] = [_("no mission receives letters from %(country)s yet; choose one from the directory",
                               country=locales.country_name(country, words.lang))]
    fingerprint = fp.fingerprint(key, email) if "email" not in errors else None
    try:
        sig = signatures.build(ds, {
            "type": "individual", "name": text["name"], "country": country, "mission": text["mission"] or None,
            "publish": flags["publish"], "letter": flags["letter"], "consent": version, "fingerprint": fingerprint,
            "signed": today or dt.datetime.now(dt.timezone.utc).date(), "source": "form", "language": words.lang})
    except ValidationError as exc:
        for err in exc.errors():
            where = str(err["loc"][0]) if err["loc"] else "mission"
            if where not in errors:  # one message per field: the first is the one to fix (English: the model's)
                errors[where] = [describe_error(err)]
        return invalid(errors, words)
    if errors:
        return invalid(errors, words)
    assert fingerprint is not None
    if sig.mission not in index.missions:
        return invalid({"mission": [_("unknown mission %(mission)s; choose one from the directory",
                                       mission=repr(sig.mission))]}, words)
    return sig, email, fingerprint, flags["followup"]


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def invalid(errors: dict[str, list[str]], words: Translator) -> Answer:
    return Answer(422, {"error": "invalid", "message": words.gettext("some fields need fixing"), "errors": errors}, lang=words.lang)


def duplicate(sig: Signature, words: Translator) -> Answer:
    _ = words.format
    return Answer(409, {"error": "duplicate",
                        "message": _("%(name)s from %(country)s has already signed. Thank you!", name=sig.name,
                                     country=locales.country_name(sig.country, words.lang)),
                        "errors": {"name": [_("has already signed from this country")]}}, lang=words.lang)

"""The data model: pydantic v2, `extra="forbid"`, strict types (ARCHITECTURE.md, "Data rules")."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache
from typing import Annotated, Literal

from email_validator import validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from campaign.core.git import branch_name
from campaign.data import countries, locales
from campaign.data.addresses import email_address, https_url, web_url
from campaign.data.text import clean_name, clean_text


class Strict(BaseModel):
    """Base of every data model: unknown keys and type coercion are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _iso_date(value: object) -> object:
    """Accept a quoted ISO date ('2026-12-10') as well as YAML's unquoted date."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date; write it as 'YYYY-MM-DD'") from None
    if isinstance(value, dt.datetime):
        raise ValueError("give a date without a time, as 'YYYY-MM-DD'")
    return value


def _iso_time(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, int):  # YAML 1.1 reads unquoted 09:00 as a base-60 number
        raise ValueError("quote the time: '09:00'")
    raise ValueError(f"{value!r} is not a time; write it as 'HH:MM' in quotes, e.g. '09:00'")


def ascii_email(value: str) -> str:
    """A valid address as headers carry it: the domain in punycode (xn--...)."""
    return validate_email(value, check_deliverability=False, allow_smtputf8=False).ascii_email or value


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _public_key(value: str) -> str:
    """An X25519 public key as `campaign followup keygen` prints it: 32 bytes in base64 (not all zero)."""
    if not re.fullmatch(r"[A-Za-z0-9+/]{43}=", value) or value == "A" * 43 + "=":
        raise ValueError(f"{value[:60]!r} is not a public key: 44 characters of base64 (32 bytes), as "
                         "`campaign followup keygen` prints it")
    return value


def _timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"{value!r} is not an IANA time zone; use a name like 'Europe/Lisbon'")
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Time = Annotated[dt.time, BeforeValidator(_iso_time)]
Country = Annotated[str, AfterValidator(countries.check)]
HttpsUrl = Annotated[str, AfterValidator(https_url)]
WebUrl = Annotated[str, AfterValidator(web_url)]
Email = Annotated[str, AfterValidator(email_address)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Name = Annotated[str, AfterValidator(clean_name)]
Label = Annotated[str, AfterValidator(lambda v: clean_text(v, 200))]
HeaderLabel = Annotated[str, AfterValidator(lambda v: clean_text(v, 200, single_line=True))]
"""A label that ends up in a mail header (Subject, a From or To name): one line, no control character."""
Paragraph = Annotated[str, AfterValidator(lambda v: clean_text(v, 4000))]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
MissionId = Annotated[str, Field(pattern=r"^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Lang = Annotated[str, Field(pattern=r"^[a-z]{2,3}$"), AfterValidator(locales.check)]
"""A language: an ISO 639 code that CLDR knows ('en', 'es', 'ar')."""
BranchName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$"), AfterValidator(branch_name)]
PHOTO_PATTERN = r"^assets/actions/([A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.(jpg|jpeg|png|webp)$"
Version = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]


class Source(Strict):
    """Where a record's data comes from: a repository file or a web page, and its date."""

    dataset: Slug | None = None
    repo: str | None = None
    path: str | None = None
    url: WebUrl | None = None
    date: Annotated[str, Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] | None = Field(
        default=None, description="when the source was published or edited: YYYY, YYYY-MM or YYYY-MM-DD")

    @model_validator(mode="after")
    def _one_locator(self) -> Source:
        if not (self.url or (self.repo and self.path)):
            raise ValueError("a source needs a url, or a repo and a path")
        return self


# --- data/campaign.yaml -------------------------------------------------------------------


class Mailbox(Strict):
    """A display name and an address, as in a From: header."""

    name: HeaderLabel
    email: Email


class Throttle(Strict):
    """Sending limits: per recipient domain, and overall."""

    per_domain_delay: float = Field(ge=0, le=3600, description="seconds between two messages to one domain")
    per_domain_hourly: int = Field(ge=1, le=100_000, description="messages per domain per hour at most")
    global_per_minute: int = Field(ge=1, le=100_000, description="messages per minute overall at most")


class Fallback(Strict):
    """A campaign-wide address for letters whose mission has no usable email (ARCHITECTURE.md,
    "Delivery routes"); such a letter names the mission it was meant for."""

    name: Label = Field(description="who receives it, e.g. the government's central correspondence unit")
    email: Email
    source: Source = Field(description="where this address is published for such letters")


class Dispatch(Strict):
    """When and how the letters are sent."""

    date: Date = Field(description="the day every mission receives its letters")
    send_time: Time = Field(description="local time at each mission from which its letters are due")
    deadline: Date = Field(description="last day on which deferred letters are still retried")
    mode: Literal["individual", "per-mission"]
    subject: HeaderLabel
    sender: Mailbox
    reply_to: Email | None = None
    envelope: Annotated[str, Field(pattern=r"^[^@\s{}]*\{key\}[^@\s{}]*@[^@\s{}]+$")] | None = Field(
        default=None, description="each letter's own envelope sender (VERP) for bounces, e.g. 'bounces+{key}@example.org'")
    fallback: Fallback | None = None
    consular: bool = Field(default=True, description="also mail missions whose only usable address is a consular mailbox")
    throttle: Throttle
    translations: bool = Field(default=True, description=(
        "after the English text, the letter in the signer's language (individual mode) or in each language "
        "its signers used (per-mission mode), from data/letter/<lang>.md"))
    ledger_branch: BranchName = Field(default="ledger", description="the ledger's own branch (data/dispatch/ only), "
                                      "pushed by the dispatch workflow: keep it out of the default branch's rules")

    @model_validator(mode="after")
    def _deadline_after_date(self) -> Dispatch:
        if self.deadline < self.date:
            raise ValueError("deadline must be on or after the dispatch date")
        return self


class IntakeLimits(Strict):
    """Abuse limits of the intake service, per client address."""

    burst: int = Field(default=5, ge=1, le=1_000_000, description="signature submissions per minute at most")
    hourly: int = Field(default=30, ge=1, le=1_000_000, description="signature submissions per hour at most")
    max_body: int = Field(default=16_384, ge=1024, le=1_048_576, description="largest accepted request body, in bytes")


class Intake(Strict):
    """How signatures reach the repository."""

    repository: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")]
    endpoint: HttpsUrl | None = Field(default=None, description="the intake service URL, or none")
    allowed_origins: list[HttpsUrl] = []
    automerge: bool = False
    branch: BranchName = Field(
        default="intake/signatures", description="branch that confirmed form signatures are committed to")
    confirm_hours: int = Field(default=48, ge=1, le=720, description="hours a signer has to confirm by email")
    limits: IntakeLimits = IntakeLimits()


class Followup(Strict):
    """Reports to the signers who ask for one; their address is kept only sealed to this key (ARCHITECTURE.md, "Privacy")."""

    public_key: Annotated[str, AfterValidator(_public_key)] = Field(description="the organisers' X25519 public key, base64")
    erase_after_days: int = Field(ge=1, le=365, description="days after dispatch.deadline when the intake erases the sealed addresses")


class Consent(Strict):
    """The consent texts shown with the form; their version is recorded with each signature."""

    version: Version
    publish: Paragraph
    letter: Paragraph


class ConsentText(Strict):
    """The consent texts in another language (the same version as the English ones)."""

    publish: Paragraph | None = None
    letter: Paragraph | None = None


class CampaignText(Strict):
    """The campaign's own words in another language; what is left out is shown in English."""

    status: Literal["draft", "reviewed"] = Field(default="draft", description=(
        "the interface and pages in this language: draft (machine or non-native) or reviewed (by a native speaker)"))
    title: HeaderLabel | None = None
    description: Paragraph | None = None
    target: Label | None = Field(default=None, description="the government, as the translated letter names it")
    consent: ConsentText = ConsentText()


class Controller(Strict):
    """The data controller: who decides what is done with the signers' data (GDPR, Article 4(7))."""

    name: Label = Field(description="the person or organisation responsible for the signers' data")
    email: Email = Field(description="where a signer writes about their data (access, correction, removal)")
    address: Paragraph | None = Field(default=None, description="a postal address, where one is published")


class Organiser(Strict):
    """Who runs the campaign: in every page's footer and on the privacy page, in every language."""

    name: Label = Field(description="the person, group or organisation that runs the campaign")
    email: Email = Field(description="the campaign's contact address")
    url: HttpsUrl | None = Field(default=None, description="the organiser's own web site")
    controller: Controller = Field(description="the data controller, named on the privacy page")


class SiteSettings(Strict):
    """How the site shows the campaign."""

    counters_from: int = Field(default=10, ge=0, le=1_000_000, description=(
        "signatures from which the home page shows its counters; until then it asks visitors to sign"))


class Campaign(Strict):
    """data/campaign.yaml"""

    id: Slug
    title: HeaderLabel
    description: Paragraph
    target: Label = Field(description="the government the letter is addressed to")
    site_url: HttpsUrl
    languages: list[Lang] = Field(min_length=1, description=(
        "the campaign's languages, English first: the site is built in each (English at the root), the form "
        "signs in each, and each has its letter, data/letter/<lang>.md"))
    translations: dict[Lang, CampaignText] = Field(default={}, description="title, description, target and consent per language")
    organiser: Organiser = Field(description=(
        "who runs the campaign: `name`, `email` (the contact) and `controller` (`name`, `email`: who is responsible "
        "for the signers' data), shown in every page's footer and on the privacy page"))
    site: SiteSettings = SiteSettings()
    dispatch: Dispatch
    intake: Intake
    consent: Consent
    followup: Followup | None = Field(default=None, description="reports to the signers who ask (none: the form does not offer it)")

    @model_validator(mode="after")
    def _languages(self) -> Campaign:
        if self.languages[0] != locales.DEFAULT:
            raise ValueError(f"`languages` must start with {locales.DEFAULT!r}: the English letter is authoritative")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("`languages` lists a language twice; list each once")
        unknown = sorted(set(self.translations) - set(self.languages[1:]))
        if unknown:
            raise ValueError(f"`translations` has {', '.join(unknown)}, not one of the other `languages`; add it there or remove it")
        return self

    def erase_on(self) -> dt.date | None:
        """The day the intake erases the sealed addresses of `followup` (from 00:00 UTC); None without reports."""
        return self.dispatch.deadline + dt.timedelta(days=self.followup.erase_after_days) if self.followup else None

    def text(self, lang: str) -> CampaignText:
        """The campaign's words in `lang`, English where a translation leaves one out."""
        found = self.translations.get(lang, CampaignText())
        consent = ConsentText(publish=found.consent.publish or self.consent.publish,
                              letter=found.consent.letter or self.consent.letter)
        return CampaignText(status="reviewed" if lang == locales.DEFAULT else found.status, title=found.title or self.title,
                            description=found.description or self.description, target=found.target or self.target,
                            consent=consent)


# --- data/missions.yaml -------------------------------------------------------------------


class Phone(Strict):
    label: Label
    number: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()./-]{3,40}$", description=(
        "E.164 (e.g. '+97126101100') when it is one number valid for the mission's country; otherwise as "
        "published (alternatives separated by /), and `campaign missions check` reports it"))]


RefreshedField = Literal["name", "address", "phones", "emails", "contact_form", "url", "opening_hours"]
"""The fields `campaign missions refresh` takes from GOV.UK (a mission's `keep` can pin them)."""

MissionType = Literal[
    "embassy", "high-commission", "consulate-general", "consulate", "mission", "office"
]


EmailKind = Literal["general", "consular", "press", "other"]
"""A mission mailbox's kind: `general` (the post's own inbox) and `consular` (its consular
section) are delivery routes; `press` and `other` (trade, pensions, projects) are shown only."""


class MissionEmail(Strict):
    """One published email address of a mission."""

    address: Email
    kind: EmailKind = "general"
    source: Source | None = Field(default=None, description="where it is published, when not in the record's `source`")


class Mission(Strict):
    """One diplomatic mission of the target government."""

    id: MissionId
    country: Country
    type: MissionType
    name: HeaderLabel
    city: Label
    address: Paragraph | None = None
    phones: list[Phone] = []
    emails: list[MissionEmail] = Field(default=[], description="published addresses, the preferred first")
    contact_form: HttpsUrl | None = None
    url: HttpsUrl | None = None
    opening_hours: Paragraph | None = None
    timezone: TimeZone
    primary: bool = Field(description="the one mission that receives its country's letters")
    also_covers: list[Country] = Field(default=[], description="countries without a mission of their own that this one serves")
    status: Literal["open", "suspended", "closed"] = "open"
    note: Paragraph | None = None
    keep: list[RefreshedField] = Field(default=[], description=(
        "fields corrected by hand that `campaign missions refresh` must not overwrite from GOV.UK"))
    source: list[Source] = Field(min_length=1)
    verified: Date = Field(description="the date the record's contact details were last confirmed")


class MissionDirectory(Strict):
    """data/missions.yaml"""

    missions: list[Mission]


# --- data/signatories/**/*.yaml -----------------------------------------------------------


class Signature(Strict):
    """One signature: a person or an organisation."""

    type: Literal["individual", "organisation"]
    name: Name
    country: Country = Field(description="country of residence (individual) or seat (organisation)")
    mission: MissionId | None = Field(default=None, description="id of the mission to receive the letter")
    signed: Date
    publish: bool = Field(description="consent to list the name on the site")
    letter: bool = Field(description="consent to include the name in the letter")
    consent: Version | None = Field(default=None, description="version of the consent texts agreed to")
    url: HttpsUrl | None = Field(default=None, description="an organisation's web site")
    fingerprint: Fingerprint | None = Field(default=None, description="keyed hash of the email, set by the intake")
    source: Literal["form", "issue", "pull-request", "import"]
    language: Lang | None = Field(default=None, description=(
        "the language the signer signed in (the form's page); absent: English. The letter follows in it"))

    @model_validator(mode="after")
    def _by_type(self) -> Signature:
        if self.type == "individual" and self.mission is None:
            raise ValueError("an individual signature needs `mission`: the id of the mission to receive the letter")
        if self.type == "individual" and self.url is not None:
            raise ValueError("only organisations may carry a `url`; remove it")
        return self


# --- data/actions/**/*.yaml ---------------------------------------------------------------


class Action(Strict):
    """A registered delivery, call or other action at a mission."""

    type: Literal["delivery", "call", "other"]
    mission: MissionId
    date: Date
    by: Name = Field(description="the organisation or person who acted")
    description: Paragraph
    photos: list[Annotated[str, Field(pattern=PHOTO_PATTERN)]] = Field(
        default=[], max_length=12, description="paths under docs/"
    )

"""The intake service's logic, without HTTP: submit, confirm, send mail, flush.

`app.py` is a thin FastAPI layer over `Intake`; the CLI's `campaign intake flush` uses it too.
Validation is the library's: `signatures.build` (the Signature model), `signatures.Index`
(duplicates and missions, as `campaign validate`), `models.Email` for the address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from campaign.core.errors import CampaignError, Problem
from campaign.data import countries, dataset, duplicates, locales, signatures
from campaign.data.dataset import describe_error
from campaign.data.locales import N_
from campaign.data.models import Campaign, IntakeLimits, Signature
from campaign.forge.base import Forge, Published
from campaign.i18n import catalogues
from campaign.i18n.catalogues import Translator
from campaign.intake import fingerprint as fp
from campaign.intake import mails
from campaign.intake.store import Mail, Store
from campaign.mail import get_backend

log = logging.getLogger("campaign.intake")

FIELDS = ("name", "country", "email", "mission", "publish", "letter", "consent", "language", "website")
TEXT_FIELDS = ("name", "country", "email", "mission", "consent", "language", "website")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"", "off", "false", "no", "0"}
NOTICES_PER_ADDRESS, NOTICES_PER_CLIENT = 1, 5
"""Notices and resends per hour: to one address (its fingerprint), caused by one client."""
ACCEPTED = N_("Thank you! We sent a confirmation link to your email address. Your signature counts "
              "once you open it and press the button (within %(hours)s hours).")


@dataclass
class Answer:
    """What the HTTP layer returns: a status and a JSON body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    lang: str = locales.DEFAULT
    """The language the answer is in (the form's page's)."""


@dataclass
class Settings:
    root: Path
    db: Path
    public_url: str
    key: bytes
    key_from: str = "$CAMPAIGN_FINGERPRINT_KEY"
    """Where the key came from (an environment variable, or the local key file)."""
    forge: Forge | None = None
    mail_backend: str = "file"
    mail_options: dict[str, Any] = field(default_factory=dict)
    limits: IntakeLimits | None = None
    confirm_hours: int | None = None
    branch: str | None = None
    flush_every: float | None = 300.0
    batch_size: int = 5000
    sync: Callable[[], object] | None = None
    """Called before each flush that has signatures to commit (the production intake pulls its clone)."""


@dataclass(frozen=True)
class FlushResult:
    committed: int
    rejected: int
    published: Published | None

    def describe(self) -> str:
        if self.published is None:
            return f"nothing to flush ({self.rejected} set aside as duplicates)" if self.rejected else "nothing to flush"
        extra = f", {self.rejected} set aside as duplicates" if self.rejected else ""
        return f"{self.committed} signatures {self.published.describe()}{extra}"


class Intake:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.root
        self.store = Store(settings.db)
        self._flush_lock = threading.Lock()
        self._words = catalogues.Catalogues(self.root)
        self.reload()
        assert self.campaign is not None
        intake = self.campaign.intake
        self.limits = settings.limits or intake.limits
        self.ttl = 3600.0 * (settings.confirm_hours or intake.confirm_hours)
        self.branch = settings.branch or intake.branch

    def reload(self) -> None:
        """Load data/ again (cached per file), for duplicate checks against the repository."""
        ds = dataset.load(self.root)
        fatal = [p for p in ds.problems if p.path in (dataset.CAMPAIGN, dataset.MISSIONS)]
        if ds.campaign is None or fatal:
            raise CampaignError(fatal or [Problem(dataset.CAMPAIGN, 1, "the campaign settings did not load")])
        self.ds = ds
        self.campaign: Campaign = ds.campaign
        self.index = signatures.Index(ds)

    def close(self) -> None:
        self.store.close()

    # --- submission ---------------------------------------------------------------------

    def submit(self, fields: dict[str, Any], *, client: str | None = None, today: dt.date | None = None) -> Answer:
        """Validate one form submission and record it as pending; mail the confirmation.

        All or nothing: if the confirmation mail cannot even be built, the new entry is removed
        again before the error goes up (a 500), so a retry starts afresh. `client` (the rate
        limiter's key) throttles the notices and resends one client can cause.
        """
        words = self.words(fields.get("language"))
        if str(fields.get("website") or "").strip():
            return Answer(400, {"error": "rejected", "message": words.gettext("the submission was refused")}, lang=words.lang)
        found = self._validate(fields, today, words)
        if isinstance(found, Answer):
            return found
        sig, email, key = found
        if self.index.taken.name_holder(sig):
            return _duplicate(sig, words)
        if self.index.taken.address_holder(sig):
            self._notice(email, key, client, words)
            return self._accepted(words)
        similar = self.index.taken.look_alike_holder(sig)
        token = secrets.token_urlsafe(32)
        added = self.store.add(name_key=duplicates.key(sig), look_alike=duplicates.look_alike_key(sig), fingerprint=key,
                               email=email, token=token, ttl=self.ttl, signature=sig.model_dump(mode="json", exclude_none=True),
                               held=f"looks like {similar}" if similar else None)
        if added.kind == "duplicate_name":
            return _duplicate(sig, words)
        if added.kind == "known_address":
            self._notice(email, key, client, words)
        elif added.entry_id is not None and (added.kind == "new" or self._may_resend(added.entry_id, key, client, token, email)):
            try:
                self._mail_now(added.entry_id)
            except BaseException:
                self.store.discard(added.entry_id)  # no half-done request: no pending entry stays behind
                raise
        log.info("submission accepted (%s%s): entry %s", added.kind, ", held for review" if added.held else "", added.entry_id)
        return self._accepted(words)

    def words(self, lang: object) -> Translator:
        """The catalogue of a language the campaign speaks (`lang` from the form), else English's."""
        return self._words(lang if isinstance(lang, str) and lang in self.campaign.languages else locales.DEFAULT)

    def _validate(self, fields: dict[str, Any], today: dt.date | None, words: Translator) -> tuple[Signature, str, str] | Answer:
        """(signature, address, fingerprint), or the 422 answer listing every field to fix (in the form's language)."""
        _ = words.format
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
        for name in ("publish", "letter"):
            flag = _flag(fields.get(name))
            if flag is None:
                errors[name] = [_("must be true or false")]
            flags[name] = bool(flag)
        email = text["email"]
        if "email" in errors:
            pass
        elif not email:
            errors["email"] = [_("is required: the confirmation link is sent there")]
        elif len(email) > 254:
            errors["email"] = [_("is longer than 254 characters; no email address is that long")]
        elif problem := fp.check_email(email):
            errors["email"] = [problem]
        version = self.campaign.consent.version
        if text["consent"] != version and "consent" not in errors:
            errors["consent"] = [_("must be %(version)s, the version of the consent texts shown with the form; "
                                   "reload the page and submit again", version=repr(version))]
        country = text["country"].upper()
        if (not text["mission"] and "mission" not in errors and country in countries.names()
                and not self.ds.mission_for(country)):
            errors["mission"] = [_("no mission receives letters from %(country)s yet; choose one from the directory",
                                   country=locales.country_name(country, words.lang))]
        key = fp.fingerprint(self.settings.key, email) if "email" not in errors else None
        try:
            sig = signatures.build(self.ds, {
                "type": "individual", "name": text["name"], "country": country, "mission": text["mission"] or None,
                "publish": flags["publish"], "letter": flags["letter"], "consent": version, "fingerprint": key,
                "signed": today or dt.datetime.now(dt.timezone.utc).date(), "source": "form", "language": words.lang})
        except ValidationError as exc:
            for err in exc.errors():
                where = str(err["loc"][0]) if err["loc"] else "mission"
                if where not in errors:  # one message per field: the first is the one to fix (English: the model's)
                    errors[where] = [describe_error(err)]
            return _invalid(errors, words)
        if errors:
            return _invalid(errors, words)
        assert key is not None
        if sig.mission not in self.index.missions:
            return _invalid({"mission": [_("unknown mission %(mission)s; choose one from the directory",
                                           mission=repr(sig.mission))]}, words)
        return sig, email, key

    def _accepted(self, words: Translator) -> Answer:
        hours = round(self.ttl / 3600)
        return Answer(202, {"status": "pending", "message": words.format(ACCEPTED, hours=hours), "check_email": True},
                      lang=words.lang)

    # --- mail ---------------------------------------------------------------------------

    def _mail_keys(self, key: str, client: str | None) -> dict[str, int]:
        """Throttle keys of a notice or resend: the address's fingerprint, and a keyed hash of the
        client (never the address or the client's IP itself), with their hourly allowance."""
        keys = {f"address:{key}": NOTICES_PER_ADDRESS}
        if client:
            keys[f"client:{hmac.new(self.settings.key, client.encode(), hashlib.sha256).hexdigest()}"] = NOTICES_PER_CLIENT
        return keys

    def _may_resend(self, entry_id: int, key: str, client: str | None, token: str, email: str) -> bool:
        """Re-arm a pending entry's confirmation with a new link, if the throttle allows a mail."""
        if not self.store.allow_mail(self._mail_keys(key, client)):
            log.info("confirmation resend throttled")
            return False
        return self.store.rearm(entry_id, token, email)

    def _mail_now(self, entry_id: int) -> None:
        mail = self.store.mail(entry_id)
        if mail is not None:
            self.send_confirmation(mail)

    def send_confirmation(self, mail: Mail) -> bool:
        """Send one confirmation mail; on success the address is erased from the store.

        Raises when the message cannot even be built (the caller decides what that means)."""
        words = self.words(mail.signature.get("language"))
        outcome = self._send(mails.confirmation(self.campaign, mail, self.settings.public_url, words))
        if outcome:
            self.store.mail_sent(mail.entry_id, mail.token)
        else:
            self.store.mail_deferred(mail.entry_id)
        return outcome

    def send_queued(self, everything: bool = False) -> int:
        """Retry confirmation mails that could not be sent (all of them at startup).

        One mail that cannot be built (an address stored before today's rules) never stops the
        others: its entry is dropped, since no link can ever reach it."""
        sent = after = 0
        while True:
            batch = self.store.mail_queue(everything=everything, after=after)
            for mail in batch:
                after = mail.entry_id
                try:
                    sent += self.send_confirmation(mail)
                except Exception as exc:  # noqa: BLE001 - this one entry, not the queue
                    log.error("entry %s dropped: its confirmation mail cannot be built (%s)", mail.entry_id,
                              fp.redact(f"{type(exc).__name__}: {exc}"))
                    self.store.discard(mail.entry_id)
            if not everything or len(batch) < 500:
                return sent

    def _send(self, message: EmailMessage) -> bool:
        try:
            with get_backend(self.settings.mail_backend, **self.settings.mail_options) as backend:
                outcome = backend.send(message)
        except Exception as exc:  # noqa: BLE001 - a mail problem must not lose the submission
            log.warning("mail backend error: %s", fp.redact(f"{type(exc).__name__}: {exc}"))
            return False
        if not outcome.ok:
            log.warning("confirmation mail %s: %s", outcome.state, fp.redact(outcome.detail))
        return outcome.ok

    def _notice(self, email: str, key: str, client: str | None, words: Translator) -> None:
        """Tell an address that already signed, at most once an hour per address (and a few
        times an hour per client); the answer to the form is the same either way."""
        if not self.store.allow_mail(self._mail_keys(key, client)):
            log.info("already-signed notice throttled")
            return
        try:
            self._send(mails.notice(self.campaign, email, words))
        except Exception as exc:  # noqa: BLE001 - a notice is a courtesy: never fail the request for it
            log.warning("notice not sent: %s", fp.redact(f"{type(exc).__name__}: {exc}"))

    # --- confirmation -------------------------------------------------------------------

    def preview(self, token: str) -> dict[str, Any] | None:
        entry = self.store.lookup(token)
        if entry is None:
            return None
        return {"state": entry.state, **entry.signature}

    def confirm(self, token: str) -> tuple[str, dict[str, Any] | None]:
        state, entry = self.store.confirm(token)
        if state == "confirmed":
            log.info("entry %s confirmed", entry.entry_id if entry else "?")
        return state, entry.signature if entry else None

    # --- flushing -----------------------------------------------------------------------

    def flush(self, forge: Forge | None = None) -> FlushResult:
        """Commit every confirmed signature as one commit on the intake branch; open/update the PR."""
        forge = forge or self.settings.forge
        if forge is None:
            raise CampaignError([Problem(dataset.CAMPAIGN, 1, "no forge configured to flush to")])
        with self._flush_lock:
            self.store.expire()
            entries = self.store.confirmed(self.settings.batch_size)
            if not entries:
                return FlushResult(0, 0, None)
            if self.settings.sync is not None:
                self.settings.sync()
            self.reload()
            files: dict[str, bytes] = {}
            done: dict[int, str] = {}
            rejected = 0
            for entry in entries:
                data = dict(entry.signature)
                data["signed"] = dt.datetime.fromtimestamp(entry.confirmed or time.time(), dt.timezone.utc).date().isoformat()
                sig = Signature.model_validate(data)
                reason = self.index.problem(sig)
                if reason:
                    self.store.reject(entry.entry_id, reason)
                    rejected += 1
                    continue
                rel = signatures.relative_path(sig)
                files[rel] = signatures.to_yaml(sig).encode("utf-8")
                done[entry.entry_id] = rel
            if not files:
                return FlushResult(0, rejected, None)
            published = forge.publish(files, branch=self.branch, message=_commit_message(len(files)),
                                      title=f"Signatures from the form ({self.campaign.title})",
                                      body=self._pull_body(files))
            self.store.flushed(done, published.commit)
            self.store.compact()
            log.info("flushed %d signatures: %s", len(files), published.describe())
            return FlushResult(len(files), rejected, published)

    def _pull_body(self, files: dict[str, bytes]) -> str:
        lines = [
            "Signatures collected by the intake service from the web form.",
            "",
            "- Every signer confirmed by email (double opt-in); the address was deleted on confirmation.",
            "  Files carry at most a keyed fingerprint of it (HMAC-SHA256), never the address.",
            "- Each file was validated like `campaign validate` when it was submitted and again when it was committed.",
            "- This pull request only adds files under `data/signatories/`; the validation workflow checks that.",
            "",
            f"Latest batch: {len(files)} signatures. Further batches are added to this pull request until it is merged.",
        ]
        return "\n".join(lines) + "\n"

    def status(self) -> dict[str, int]:
        return self.store.counts()


def _commit_message(count: int) -> str:
    noun = "signature" if count == 1 else "signatures"
    return f"intake: add {count} {noun} from the form\n\nConfirmed by their signers by email (double opt-in).\n"


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _invalid(errors: dict[str, list[str]], words: Translator) -> Answer:
    return Answer(422, {"error": "invalid", "message": words.gettext("some fields need fixing"), "errors": errors}, lang=words.lang)


def _duplicate(sig: Signature, words: Translator) -> Answer:
    _ = words.format
    return Answer(409, {"error": "duplicate",
                        "message": _("%(name)s from %(country)s has already signed. Thank you!", name=sig.name,
                                     country=locales.country_name(sig.country, words.lang)),
                        "errors": {"name": [_("has already signed from this country")]}}, lang=words.lang)

"""The intake service's logic, without HTTP: submit, confirm, send mail, withdraw, flush.

`app.py` is a thin FastAPI layer over `Intake`; the CLI's `campaign intake flush` uses it too.
A submission's fields are checked by `submission.py`; withdrawals are `withdrawal.py`, the
sealed addresses of signers who asked for a report `followup.py`.
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

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset, duplicates, locales, signatures
from campaign.data.locales import N_
from campaign.data.models import Campaign, IntakeLimits, Signature
from campaign.forge.base import Forge, Published
from campaign.i18n import catalogues
from campaign.i18n.catalogues import Translator
from campaign.intake import fingerprint as fp
from campaign.intake import followup, mails, submission, withdrawal
from campaign.intake.store import Mail, Store, token_hash
from campaign.intake.submission import Answer
from campaign.mail import get_backend

log = logging.getLogger("campaign.intake")

NOTICES_PER_ADDRESS, NOTICES_PER_CLIENT = 1, 5
"""Notices and resends per hour: to one address (its fingerprint), caused by one client."""
ACCEPTED = N_("Thank you! We sent a confirmation link to your email address. Your signature counts "
              "once you open it and press the button (within %(hours)s hours).")


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
        found = submission.validate(self.ds, self.index, self.settings.key, fields, today, words)
        if isinstance(found, Answer):
            return found
        sig, email, key, wants = found
        if self.index.taken.name_holder(sig):
            return submission.duplicate(sig, words)
        if self.index.taken.address_holder(sig):
            self._notice(email, key, client, words)
            return self._accepted(words)
        similar = self.index.taken.look_alike_holder(sig)
        token = secrets.token_urlsafe(32)
        box = followup.seal(self.campaign.followup.public_key, {"email": email, "name": sig.name, "mission": str(sig.mission),
                                                                "language": words.lang}) if wants and self.campaign.followup else None
        added = self.store.add(name_key=duplicates.key(sig), look_alike=duplicates.look_alike_key(sig), fingerprint=key,
                               email=email, token=token, ttl=self.ttl, signature=sig.model_dump(mode="json", exclude_none=True),
                               held=f"looks like {similar}" if similar else None, followup=box,
                               withdraw=token_hash(withdrawal.token(self.settings.key, token)))
        if added.kind == "duplicate_name":
            return submission.duplicate(sig, words)
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
        return self.store.rearm(entry_id, token, email, withdraw=token_hash(withdrawal.token(self.settings.key, token)))

    def _mail_now(self, entry_id: int) -> None:
        mail = self.store.mail(entry_id)
        if mail is not None:
            self.send_confirmation(mail)

    def send_confirmation(self, mail: Mail) -> bool:
        """Send one confirmation mail; on success the address is erased from the store.

        Raises when the message cannot even be built (the caller decides what that means)."""
        words = self.words(mail.signature.get("language"))
        outcome = self._send(mails.confirmation(self.campaign, mail, self.settings.public_url, words,
                                                withdrawal.token(self.settings.key, mail.token)))
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

    # --- withdrawal (withdrawal.py) and reports (followup.py) ---------------------------

    def withdraw(self, token: str, now: dt.datetime | None = None) -> tuple[str, dict[str, Any] | None]:
        """('too_late' | 'withdrawn' | 'requested' | 'already' | 'pending' | 'unknown', signature); a
        committed signature's removal pull request is opened at once if the forge can (else by a later flush)."""
        if withdrawal.too_late(self.campaign, now):
            entry = self.store.withdrawal(token_hash(token))
            return ("too_late", entry.signature) if entry else ("unknown", None)
        state, entry = self.store.withdraw(token_hash(token))
        log.info("entry %s: withdrawal %s", entry.entry_id if entry else "?", state)
        if state == "requested" and self.settings.forge is not None:
            try:
                self.publish_withdrawals()
            except Exception as exc:  # noqa: BLE001 - recorded in the store: the next flush opens it
                log.warning("removal pull request not opened yet: %s", fp.redact(f"{type(exc).__name__}: {exc}"))
        return state, entry.signature if entry else None

    def withdrawal_state(self, token: str) -> tuple[str, dict[str, Any] | None]:
        """What the withdrawal page shows: 'too_late', 'unknown', or the entry's state ('withdrawn' once done)."""
        entry = self.store.withdrawal(token_hash(token))
        if entry is None or withdrawal.too_late(self.campaign):
            return ("too_late" if entry else "unknown"), entry.signature if entry else None
        done = entry.withdrawn is not None or entry.state == "rejected"
        return ("withdrawn" if done else entry.state), entry.signature

    def publish_withdrawals(self, forge: Forge | None = None) -> Published | None:
        """Open or update the removal pull request of the committed signatures withdrawn (withdrawal.publish)."""
        forge = forge or self.settings.forge
        if forge is None:
            return None
        with self._flush_lock:
            return withdrawal.publish(self.store, forge, self.root, self.campaign.title, self.settings.sync)

    def erase_followups(self) -> int:
        """Erase the sealed boxes once the campaign's erase date has come; the number erased."""
        return self.store.erase_followups() if followup.erased(self.campaign) else 0

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

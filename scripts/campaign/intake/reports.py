"""`campaign followup send`: one report mail to each signer who asked, from an organiser's machine.

It opens each sealed box of an export file (`followup.py`) with the organisers' private key and
mails the signer, in the language they signed in, what became of the letters to their mission:
the dispatch ledger's letters sent, bounced and replied to (`records/ledger.py`) and the
deliveries and calls registered in `data/actions/`. Run it in a clone with the ledger and the
actions merged. A progress file beside the export (`FILE.sent`: the SHA-256 of each box whose
report went out, no address) makes a second run send only what the first did not. What a box
holds is never printed or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from email.message import EmailMessage
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset, locales
from campaign.data.locales import N_
from campaign.data.models import Action, Campaign
from campaign.i18n import catalogues
from campaign.i18n.catalogues import Translator
from campaign.intake import fingerprint, followup, mails
from campaign.mail import get_backend
from campaign.records import published
from campaign.records.ledger import Ledger, LetterState

ACTIONS = {"delivery": N_("a delivery in person"), "call": N_("a call"), "other": N_("another action")}


def report(campaign: Campaign, mission_id: str, mission: str, name: str, letters: list[LetterState], actions: list[Action],
           words: Translator, to: str, msgid: str, erase: dt.date) -> EmailMessage:
    """The report mail of one signer: the record of the letters to the mission `mission_id` (named
    `mission`), and its actions, in the language of `words`."""
    _ = words.format
    lang = words.lang
    title = campaign.text(lang).title
    site = published.site_root(campaign.site_url, lang)
    sent = sorted(letter.at for letter in letters if letter.state == "sent")
    refused = sum(letter.state in ("bounced", "failed") for letter in letters)
    replies = sum(letter.replies for letter in letters)
    lines = [_("Hello %(name)s,", name=name),
             _("you signed \"%(campaign)s\" and asked to hear what became of the letters. This is that report, the only "
               "one we send.", campaign=title)]
    if sent:
        day = locales.long_date(dt.date.fromisoformat(sent[0][:10]), lang)
        lines.append(words.ngettext("%(num)s letter went to %(mission)s by email on %(date)s.",
                        "%(num)s letters went to %(mission)s by email, the first on %(date)s.", len(sent))
                     % {"num": locales.number(len(sent), lang), "mission": mission, "date": day})
    else:
        lines.append(_("No letter reached %(mission)s by email; its letter goes on paper or in person.", mission=mission))
    if refused:
        lines.append(words.ngettext("%(num)s letter was refused or bounced.", "%(num)s letters were refused or bounced.", refused)
                     % {"num": locales.number(refused, lang)})
    lines.append(words.ngettext("The mission replied once.", "The mission replied %(num)s times.", replies)
                 % {"num": locales.number(replies, lang)} if replies else _("The mission has not replied so far."))
    for action in sorted(actions, key=lambda a: a.date):
        lines.append(_("%(date)s: %(what)s, by %(by)s.", date=locales.long_date(action.date, lang),
                       what=words.gettext(ACTIONS[action.type]), by=action.by))
    link = published.mission_url(site, mission_id)
    return mails.compose(campaign, to, _("What became of your letter: %(campaign)s", campaign=title), msgid, words, [
        *lines, _("The mission's page, with its letters and actions:"), link,
        _("We kept your address only for this message, sealed so that only the organisers could read it; the sign-up "
          "service deletes it on %(date)s.", date=locales.long_date(erase, lang)),
    ], (link,))


def send(root: Path, boxes: Path, *, key_file: Path | None = None, mail_backend: str = "file", outbox: Path | None = None,
         env: dict[str, str] | None = None, today: dt.date | None = None) -> str:
    """Open every box of the export file `boxes` and mail its signer a report; what was sent."""
    export = followup.read(boxes)
    key = followup.private_key(key_file, env)
    ds = dataset.load(root)
    campaign = ds.campaign
    if campaign is None or campaign.id != export.campaign:
        raise CampaignError([Problem(str(boxes), 1, f"exported for the campaign {export.campaign!r}, not this repository's; "
                                     "run the command in that campaign's repository")])
    if followup.public_key_of(key) != export.public_key:
        raise CampaignError([Problem(str(boxes), 1, f"these boxes are sealed to {export.public_key}, and this private key "
                                     f"is {followup.public_key_of(key)}'s: use the private key of that public key")])
    if (today or dt.date.today()) >= export.erase_on:
        raise CampaignError([Problem(str(boxes), 1, f"the addresses were due to be erased on {export.erase_on} "
                                     "(followup.erase_after_days): nothing is sent; delete this file")])
    letters: dict[str, list[LetterState]] = {}
    for letter in Ledger.for_campaign(root, campaign).letters.values():
        letters.setdefault(letter.mission, []).append(letter)
    actions: dict[str, list[Action]] = {}
    for record in ds.actions:
        actions.setdefault(record.model.mission, []).append(record.model)
    missions, words = ds.mission_by_id, catalogues.Catalogues(root)
    progress = boxes.with_name(boxes.name + ".sent")
    done = set(progress.read_text(encoding="ascii").split()) if progress.is_file() else set()
    sent, problems = 0, []
    options: dict[str, object] = {"outbox": outbox or root / "outbox"} if mail_backend == "file" else {}
    if mail_backend == "smtp" and env is not None:
        options["env"] = env
    with get_backend(mail_backend, **options) as backend, open(progress, "a", encoding="ascii") as log:
        for line, box in export.boxes:
            digest = hashlib.sha256(box.encode()).hexdigest()
            if digest in done:
                continue
            found = export.open(key, line, box)
            mission = missions.get(found["mission"])
            lang = found.get("language") if found.get("language") in campaign.languages else locales.DEFAULT
            message = report(campaign, found["mission"], mission.name if mission else found["mission"], found.get("name", ""),
                             letters.get(found["mission"], []), actions.get(found["mission"], []), words(str(lang)),
                             found["email"], f"followup-{digest[:24]}", export.erase_on)
            outcome = backend.send(message)
            if not outcome.ok:
                problems.append(Problem(str(boxes), line, f"the report was not sent ({outcome.state}: "
                                        f"{fingerprint.redact(outcome.detail)}); run the command again to retry"))
                continue
            log.write(digest + "\n")
            log.flush()
            os.fsync(log.fileno())
            done.add(digest)
            sent += 1
    if problems:
        raise CampaignError([*problems, Problem(str(boxes), 1, f"{sent} reports sent, {len(problems)} not sent")])
    return f"sent {sent} reports ({len(export.boxes) - sent} sent before); progress in {progress}"

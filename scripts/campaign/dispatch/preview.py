"""`campaign letter`: the letter a mission will receive, exactly as dispatch would send it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset, letter
from campaign.data.models import Signature
from campaign.dispatch import compose, planning, session
from campaign.i18n import catalogues

FORMATS = ("text", "html", "eml")
HEADERS = ("From", "To", "Reply-To", "Subject", "Message-ID")


def preview(root: Path, mission_id: str, signature_path: str | None = None, fmt: str = "text",
            warn: session.Echo = print) -> str:
    """The letter to `mission_id`: from `signature_path` (a signature file of that mission),
    else from the mission's first letter, else signed by a sample signer.

    `text`: the main headers and the plain text; `html`: the HTML alternative; `eml`: all of it.
    """
    ds = session.load(root, warn)
    campaign = ds.campaign
    assert campaign is not None
    plan = planning.plan(ds, dt.datetime.now(dt.timezone.utc), force=True, missions=[mission_id])
    mission = ds.mission_by_id[mission_id]
    letters = plan.missions[mission_id].letters if mission_id in plan.missions else []
    if signature_path:
        wanted = Path(signature_path).as_posix().removeprefix("./")
        chosen = [item for item in letters if wanted in item.paths]
        if not chosen:
            raise CampaignError([Problem(wanted, 1, f"no letter from this signature goes to {mission_id}; "
                                         "check the path and the signature's mission")])
        item = chosen[0]
        sigs = item.signatures if campaign.dispatch.mode != "individual" else (item.signatures[item.paths.index(wanted)],)
        key = item.key
    elif letters:
        sigs, key = letters[0].signatures, letters[0].key
    else:
        sample = Signature.model_validate({"type": "individual", "name": "A. Sample Signer", "country": mission.country,
                                           "mission": mission.id, "signed": campaign.dispatch.date,
                                           "publish": False, "letter": True, "source": "form"})
        sigs, key = (sample,), "sample"
        warn("(no signature for this mission yet: a sample signer is shown)")
    lang, template = letter.template_for(ds.letters, campaign)
    try:
        msg = compose.compose(campaign, template, mission, sigs, key, letter.version(template, campaign.dispatch.subject),
                              lang=lang, files=ds.letter_files, words=catalogues.Catalogues(root))
    except CampaignError as exc:
        raise CampaignError([Problem(dataset.MISSIONS, 1, exc.message)]) from None
    if fmt == "eml":
        return msg.as_string(policy=msg.policy.clone(utf8=True))
    if fmt == "html":
        return msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    head = "".join(f"{name}: {msg[name]}\n" for name in HEADERS if msg[name])
    return head + "\n" + msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]

"""Reports to the signers who ask for one: their address sealed to the organisers' key
(ARCHITECTURE.md, "Privacy").

    the form, ticked:        seal(public_key, {email, name, mission, language}) -> the store's `followup`
    on the server:           `campaign followup export FILE`: the sealed boxes, nothing else
    on an organiser's machine: `campaign followup send FILE` opens them with the private key (reports.py)

A sealed box (libsodium's `crypto_box_seal`, PyNaCl's `SealedBox`) is encrypted to the public key
with a key pair made for that one box and thrown away: only the private key opens it; the intake
itself cannot read back what it sealed. The boxes are erased from the store on `Campaign.erase_on`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset
from campaign.data.models import Campaign
from campaign.records.ledger import load_campaign

FORMAT = "campaign-followup/1"
KEY_ENV = "CAMPAIGN_FOLLOWUP_KEY"
"""The private key itself (base64), instead of `--key-file`."""


def erased(campaign: Campaign, now: dt.datetime | None = None) -> bool:
    """Whether the erase date has come."""
    day = campaign.erase_on()
    return day is not None and (now or dt.datetime.now(dt.timezone.utc)).date() >= day


def seal(public_key: str, contents: Mapping[str, str]) -> str:
    """`contents` as JSON in a sealed box to `public_key` (base64), base64-encoded."""
    box = SealedBox(PublicKey(base64.b64decode(public_key))).encrypt(json.dumps(dict(contents), sort_keys=True).encode())
    return base64.b64encode(box).decode("ascii")


def _new_file(path: Path, data: bytes) -> None:
    """Write a new file, mode 0600, never over an existing one; fsynced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CampaignError([Problem(str(path), 1, "already exists; choose a new file name (nothing is overwritten)")]) from None
    except OSError as exc:
        raise CampaignError([Problem(str(path), 1, f"cannot be created ({exc.strerror})")]) from None
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def keygen(private: Path) -> str:
    """Write a new private key to `private` (mode 0600); the public key, for data/campaign.yaml."""
    key = PrivateKey.generate()
    _new_file(private, base64.b64encode(bytes(key)) + b"\n")
    public = public_key_of(key)
    return (f"wrote the private key to {private}: keep it off the server (a password manager, an encrypted disk)\n"
            f"put the public key into data/campaign.yaml:\nfollowup:\n  public_key: '{public}'")


def public_key_of(key: PrivateKey) -> str:
    """The public key of a private key, as data/campaign.yaml holds it."""
    return base64.b64encode(bytes(key.public_key)).decode("ascii")


def private_key(key_file: Path | None, env: Mapping[str, str] | None = None) -> PrivateKey:
    """The organisers' private key from `key_file`, else from $CAMPAIGN_FOLLOWUP_KEY; its text is never shown."""
    env = os.environ if env is None else env
    where, text = (str(key_file), None) if key_file else (f"${KEY_ENV}", env.get(KEY_ENV))
    if key_file:
        try:
            text = key_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise CampaignError([Problem(where, 1, f"cannot read the private key ({getattr(exc, 'strerror', None) or 'not text'})")]) from None
    if not text:
        raise CampaignError([Problem(where, 1, f"no private key: pass --key-file FILE or set {KEY_ENV}")])
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise CampaignError([Problem(where, 1, "is not a private key: 44 characters of base64, as `campaign followup keygen` "
                                     "writes it")])
    return PrivateKey(raw)


@dataclass(frozen=True)
class Export:
    """A file of sealed boxes: its header and (line, box) for each signer."""

    path: Path
    campaign: str
    public_key: str
    erase_on: dt.date
    boxes: list[tuple[int, str]]

    def open(self, key: PrivateKey, line: int, box: str) -> dict[str, str]:
        """One box's contents; a box the key cannot open is `path:line`."""
        try:
            found = json.loads(SealedBox(key).decrypt(base64.b64decode(box)))
        except (CryptoError, ValueError, binascii.Error):
            raise CampaignError([Problem(str(self.path), line, "this box does not open with the key; it is damaged")]) from None
        if not isinstance(found, dict) or not all(isinstance(found.get(k), str) for k in ("email", "mission")):
            raise CampaignError([Problem(str(self.path), line, "this box holds no address and mission")])
        return found


def export(root: Path, db: Path, dest: Path) -> str:
    """Write the sealed boxes of the signers who asked for a report to `dest` (mode 0600, a new file)."""
    from campaign.intake.store import Store

    campaign = load_campaign(root)
    if campaign.followup is None:
        raise CampaignError([Problem(dataset.CAMPAIGN, 1, "`followup` is not set: this campaign sends no reports")])
    store = Store(db)
    try:
        if erased(campaign):
            gone = store.erase_followups()
            raise CampaignError([Problem(dataset.CAMPAIGN, 1, f"the sealed addresses were due to be erased on {campaign.erase_on()} "
                                         f"(followup.erase_after_days); {gone} were erased now, nothing is exported")])
        boxes = store.followups()
    finally:
        store.close()
    head = {"format": FORMAT, "campaign": campaign.id, "public_key": campaign.followup.public_key,
            "erase_on": str(campaign.erase_on()), "count": len(boxes)}
    _new_file(dest, "".join(json.dumps(line) + "\n" for line in [head, *({"box": b} for b in boxes)]).encode())
    return (f"wrote {len(boxes)} sealed addresses to {dest}; only the private key opens them "
            f"(`campaign followup send`); the intake erases them on {campaign.erase_on()}")


def read(path: Path) -> Export:
    """Read an export file; every problem is `path:line`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError([Problem(str(path), 1, f"cannot read it ({getattr(exc, 'strerror', None) or 'not UTF-8'})")]) from None
    try:
        head = json.loads(lines[0]) if lines else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise CampaignError([Problem(str(path), 1, f"not a file of `campaign followup export` ({FORMAT})")])
    try:
        until = dt.date.fromisoformat(str(head.get("erase_on")))
    except ValueError:
        raise CampaignError([Problem(str(path), 1, "`erase_on` is not a date; export the file again")]) from None
    boxes, problems = [], []
    for number, text in enumerate(lines[1:], 2):
        try:
            box = json.loads(text).get("box")
        except (ValueError, AttributeError):
            box = None
        if isinstance(box, str):
            boxes.append((number, box))
        else:
            problems.append(Problem(str(path), number, "not a sealed box line ({\"box\": ...}); export the file again"))
    if problems:
        raise CampaignError(problems)
    return Export(path, str(head.get("campaign")), str(head.get("public_key")), until, boxes)


def run(root: Path, action: str, file: Path, *, db: Path | None = None, key_file: Path | None = None,
        mail_backend: str = "file") -> str:
    """`campaign followup ACTION FILE`: `keygen` (a key pair), `export` (the store's boxes) or `send` (`reports.send`)."""
    from campaign.intake import DEFAULT_DB, reports

    if action == "keygen":
        return keygen(file)
    if action == "export":
        return export(root, db or root / DEFAULT_DB, file)
    return reports.send(root, file, key_file=key_file, mail_backend=mail_backend)

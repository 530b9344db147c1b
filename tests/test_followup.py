"""Reports to the signers who ask (ARCHITECTURE.md, "Privacy"): a separate unticked consent, the
address kept only as a sealed box to the organisers' key, erased on the campaign's date, exported
on the server, opened and mailed from an organiser's machine against a real SMTP server."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey, SealedBox

from campaign.core.errors import CampaignError
from campaign.intake import followup, reports
from campaign.records.ledger import Ledger
from support.builders import run, write
from support.smtp import SmtpTestServer
from test_intake_service import GOOD, Service, start
from test_withdrawal import links

ADDRESS = "ilda.followup@example.org"


@pytest.fixture
def key(git_repo: Path) -> PrivateKey:
    """The organisers' key pair: the public key in the repository's campaign.yaml."""
    private = PrivateKey.generate()
    settings = git_repo / "data" / "campaign.yaml"
    text = settings.read_text(encoding="utf-8")
    old = text.split("public_key: '", 1)[1].split("'", 1)[0]
    settings.write_text(text.replace(old, followup.public_key_of(private)), encoding="utf-8")
    return private


@pytest.fixture
def svc(git_repo: Path, tmp_path: Path, key: PrivateKey) -> Iterator[Service]:
    yield from start(git_repo, tmp_path)


def signed(svc: Service, **fields: object) -> None:
    """Sign with `fields` and confirm through the link mailed."""
    assert svc.sign(**fields).status_code == 202
    link = svc.links()[str(fields.get("email", GOOD["email"]))]
    assert svc.client.post(link).status_code == 200


def raw_store(svc: Service) -> bytes:
    db = svc.intake.store.path
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def test_the_address_is_kept_only_sealed_and_exported_as_boxes(svc: Service, key: PrivateKey, tmp_path: Path) -> None:
    signed(svc, name="Ilda Marçal", email=ADDRESS, followup=True, language="es")
    signed(svc, name="Bento Quaresma", email="bento@example.org")  # unticked: nothing kept
    assert svc.sign(name="Carla Sousa", email="carla@example.org", followup="maybe").status_code == 422
    assert ADDRESS.encode() not in raw_store(svc) and b"ilda.followup" not in raw_store(svc), "never in plain text"
    (box,) = svc.intake.store.followups()
    opened = json.loads(SealedBox(key).decrypt(base64.b64decode(box)))
    assert opened == {"email": ADDRESS, "name": "Ilda Marçal", "mission": "pt-lisbon", "language": "es"}

    out = tmp_path / "boxes.jsonl"
    said = followup.export(svc.root, svc.intake.store.path, out)
    assert "wrote 1 sealed addresses" in said and ADDRESS not in said
    assert out.stat().st_mode & 0o777 == 0o600
    assert ADDRESS.encode() not in out.read_bytes() and b"Ilda" not in out.read_bytes(), "useless without the key"
    head = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert head == {"format": followup.FORMAT, "campaign": "free-assange", "public_key": followup.public_key_of(key),
                    "erase_on": "2027-02-09", "count": 1}
    with pytest.raises(CampaignError, match="already exists"):
        followup.export(svc.root, svc.intake.store.path, out)


def test_withdrawal_and_the_erase_date_remove_the_boxes(svc: Service) -> None:
    signed(svc, email=ADDRESS, followup=True)
    signed(svc, name="Bento Quaresma", email="bento@example.org", followup=True)
    assert len(svc.intake.store.followups()) == 2
    assert svc.client.post(links(svc, ADDRESS)[1]).status_code == 200
    assert len(svc.intake.store.followups()) == 1, "a withdrawal erases the box"
    assert svc.intake.erase_followups() == 0, "not before the erase date"
    settings = svc.root / "data" / "campaign.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("erase_after_days: 60", "erase_after_days: 1")
                        .replace("date: '2026-12-10'", "date: '2020-12-10'").replace("deadline: '2026-12-11'",
                                                                                  "deadline: '2020-12-11'"), encoding="utf-8")
    svc.intake.reload()
    assert svc.intake.erase_followups() == 1 and svc.intake.store.followups() == []
    with pytest.raises(CampaignError, match="due to be erased on 2020-12-12"):
        followup.export(svc.root, svc.intake.store.path, svc.root.parent / "late.jsonl")


def test_the_option_needs_the_campaign_s_key(git_repo: Path, tmp_path: Path) -> None:
    settings = git_repo / "data" / "campaign.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").split("\nfollowup:")[0] + "\n", encoding="utf-8")
    for svc in start(git_repo, tmp_path):
        answer = svc.sign(followup=True)
        assert answer.status_code == 422 and "sends no reports" in answer.json()["errors"]["followup"][0]
        assert svc.sign().status_code == 202
    assert "`followup` is not set" in run(git_repo, "followup", "export", str(tmp_path / "x.jsonl")).output


def test_reports_go_out_once_each_in_the_signer_s_language(svc: Service, key: PrivateKey, tmp_path: Path,
                                                           smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    signed(svc, name="Ilda Marçal", email=ADDRESS, followup=True, language="es")
    signed(svc, name="Bento Quaresma", email="bento@example.org", followup=True, country="NO")
    boxes = tmp_path / "boxes.jsonl"
    assert run(svc.root, "followup", "export", str(boxes), "--db", str(svc.intake.store.path)).exit_code == 0
    root = svc.root  # the organiser's clone: the ledger and the actions merged
    with Ledger.for_campaign(root, svc.intake.campaign) as ledger:
        ledger.append("s-1", "sending", "pt-lisbon", "<a@x>", to="embassy@fcdo.gov.uk")
        ledger.append("s-1", "sent", "pt-lisbon", "<a@x>", attempt=1, to="embassy@fcdo.gov.uk")
        ledger.append("s-2", "sent", "pt-lisbon", "<b@x>", attempt=1, to="embassy@fcdo.gov.uk")
        ledger.append("s-1", "replied", "pt-lisbon", "<a@x>", source="reply-1")
        ledger.append("s-3", "failed", "pt-lisbon", "<c@x>", attempt=1, detail="550 5.1.1 unknown")
    write(root, "data/actions/pt-lisbon-delivery.yaml", "type: 'delivery'\nmission: 'pt-lisbon'\ndate: '2026-12-10'\n"
          "by: 'Press Freedom Lisbon'\ndescription: 'Handed the letter in at the gate.'\n")
    key_file = tmp_path / "organisers.key"
    key_file.write_text(base64.b64encode(bytes(key)).decode() + "\n", encoding="ascii")
    for name, value in smtp_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMTP_USERNAME", "")

    sent = run(root, "followup", "send", str(boxes), "--key-file", str(key_file), "--mail", "smtp")
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("sent 2 reports") and "@" not in sent.output.split("progress")[0]
    by_address = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert set(by_address) == {ADDRESS, "bento@example.org"}
    spanish = by_address[ADDRESS]
    assert spanish["Content-Language"] == "es" and spanish["Subject"].startswith("Qué fue de su carta")
    text = spanish.get_body(("plain",)).get_content()
    for part in ("Hola, Ilda Marçal:", "2 cartas llegaron a British Embassy Lisbon por correo electrónico, la primera el",
                 "1 carta fue rechazada o devuelta.", "La misión respondió una vez.",
                 "10 de diciembre de 2026: una entrega en persona, por Press Freedom Lisbon.",
                 "https://free-assange.github.io/letter/es/missions/pt-lisbon/", "la borra el 9 de febrero de 2027"):
        assert part in text, part
    english = by_address["bento@example.org"].get_body(("plain",)).get_content()
    assert "No letter reached" in english and "The mission has not replied so far." in english

    again = run(root, "followup", "send", str(boxes), "--key-file", str(key_file), "--mail", "smtp")
    assert again.exit_code == 0 and again.output.startswith("sent 0 reports") and len(smtp_server.messages) == 2
    progress = boxes.with_name(boxes.name + ".sent").read_text(encoding="ascii")
    assert len(progress.split()) == 2 and "@" not in progress


def test_send_refuses_a_wrong_key_a_damaged_box_and_a_late_file(svc: Service, key: PrivateKey, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    signed(svc, email=ADDRESS, followup=True)
    boxes = tmp_path / "boxes.jsonl"
    followup.export(svc.root, svc.intake.store.path, boxes)
    other = base64.b64encode(bytes(PrivateKey.generate())).decode()
    monkeypatch.setenv(followup.KEY_ENV, other)
    wrong = run(svc.root, "followup", "send", str(boxes))
    assert wrong.exit_code == 1 and f"{boxes}:1: these boxes are sealed to {followup.public_key_of(key)}" in wrong.output
    assert other not in wrong.output, "the key is never shown"
    monkeypatch.setenv(followup.KEY_ENV, "not a key")
    assert "is not a private key" in run(svc.root, "followup", "send", str(boxes)).output
    monkeypatch.setenv(followup.KEY_ENV, base64.b64encode(bytes(key)).decode())
    lines = boxes.read_text(encoding="utf-8").splitlines()
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(lines[0] + "\n" + json.dumps({"box": base64.b64encode(b"x" * 80).decode()}) + "\n", encoding="utf-8")
    assert f"{damaged}:2: this box does not open with the key" in run(svc.root, "followup", "send", str(damaged)).output
    with pytest.raises(CampaignError, match="due to be erased on 2027-02-09"):
        reports.send(svc.root, boxes, today=dt.date(2027, 2, 9))
    assert not list((svc.root / "outbox").glob("*.eml")), "nothing was sent"


def test_keygen_writes_a_private_key_and_prints_a_valid_public_one(git_repo: Path, tmp_path: Path) -> None:
    done = run(git_repo, "followup", "keygen", str(tmp_path / "organisers.key"))
    assert done.exit_code == 0 and (tmp_path / "organisers.key").stat().st_mode & 0o777 == 0o600
    public = done.output.split("public_key: '")[1].split("'")[0]
    assert public == followup.public_key_of(followup.private_key(tmp_path / "organisers.key"))
    assert "already exists" in run(git_repo, "followup", "keygen", str(tmp_path / "organisers.key")).output


def test_campaign_yaml_validates_the_followup_settings(git_repo: Path) -> None:
    settings = git_repo / "data" / "campaign.yaml"
    text = settings.read_text(encoding="utf-8")
    line = text.splitlines().index("followup:") + 2
    settings.write_text(text.replace("public_key: '", "public_key: 'x").replace("erase_after_days: 60", "erase_after_days: 0"),
                        encoding="utf-8")
    checked = run(git_repo, "validate")
    assert checked.exit_code == 1
    assert f"data/campaign.yaml:{line}: `followup.public_key`" in checked.output and "campaign followup keygen" in checked.output
    assert "`followup.erase_after_days`" in checked.output

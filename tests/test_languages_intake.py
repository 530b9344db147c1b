"""The intake and dispatch speak the signer's language: answers, errors, the confirmation mail and
pages (Spanish; Arabic right to left); the letter a mission receives (English, then the signer's
language, drafts marked) by email, in per-mission mode and on paper."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campaign.data import dataset, letter
from campaign.data.models import Signature
from campaign.dispatch import compose as mime
from campaign.dispatch import paper
from campaign.i18n import catalogues
from campaign.records import published
from support.builders import git, run, write
from test_intake_service import GOOD, Service, start


@pytest.fixture
def svc(git_repo: Path, tmp_path: Path) -> Iterator[Service]:
    yield from start(git_repo, tmp_path)


def mails(outbox: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(outbox.glob("*.eml"))]


def test_a_spanish_signature_is_answered_mailed_and_recorded_in_spanish(svc: Service) -> None:
    answer = svc.sign(language="es")
    assert answer.status_code == 202 and answer.headers["content-language"] == "es"
    assert answer.json()["message"].startswith("¡Gracias! Hemos enviado un enlace de confirmación")
    [mail] = mails(svc.outbox)
    assert mail["Content-Language"] == "es" and str(mail["Subject"]) == "Confirme su firma: ¡Libertad para Assange!"
    text = mail.get_body(("plain",)).get_content()
    assert "Hola, Ana Pereira:" in text and "https://free-assange.github.io/letter/es/" in text
    assert re.search(r"El enlace es válido hasta el \d+ de \w+ de 20\d\d, \d+:\d\d UTC\.", text), text
    link = svc.links()["ana.pereira@example.org"]
    page = httpx.get(link)
    assert page.headers["content-language"] == "es" and '<html lang="es" dir="ltr">' in page.text
    assert "Confirmar mi firma" in page.text and "Su nombre aparecerá en el sitio de la campaña." in page.text
    done = httpx.post(link)
    assert "Gracias: ¡Libertad para Assange!" in done.text and "Lo que puede hacer ahora" in done.text
    assert "Se borra en cuanto ese mensaje ha salido" in done.text  # what is kept, as the form and mail say it
    assert "ya estaba confirmada" in httpx.get(link).text
    done = svc.intake.flush()
    [path] = git(svc.root, "diff", "--name-only", "main", done.published.commit).split()  # type: ignore[union-attr]
    assert "language: 'es'" in git(svc.root, "show", f"{done.published.commit}:{path}")  # type: ignore[union-attr]


def test_errors_are_in_the_form_s_language(svc: Service) -> None:
    answer = svc.sign(language="fr", email="", consent="old")
    assert answer.status_code == 422 and answer.headers["content-language"] == "fr"
    body = answer.json()
    assert body["message"] == "certains champs sont à corriger"
    assert body["errors"]["email"] == ["est obligatoire\u202f: le lien de confirmation y est envoyé"]
    assert body["errors"]["consent"][0].startswith("doit être '2026-11'")
    page = svc.client.post("/api/signatures", data={**GOOD, "language": "pt", "email": ""},
                           headers={"Accept": "text/html"})
    assert page.status_code == 422 and '<html lang="pt"' in page.text
    assert "Ainda não assinado" in page.text and "<strong>E-mail</strong> é obrigatório" in page.text
    assert svc.sign(language="es").status_code == 202
    duplicate = svc.sign(language="es", email="someone.else@example.org")
    assert duplicate.status_code == 409 and duplicate.json()["message"] == "Ana Pereira, de Portugal, ya ha firmado. ¡Gracias!"


def test_an_unknown_language_is_english_and_a_bad_one_refused(svc: Service) -> None:
    assert svc.sign(language="de").headers["content-language"] == "en"
    assert mails(svc.outbox)[0]["Content-Language"] == "en"
    odd = svc.sign(language="<b>", name="Bea Nunes", email="other@example.org")
    assert odd.status_code == 202 and odd.headers["content-language"] == "en", "a stale or odd form: English"


def test_a_link_nobody_knows_answers_in_the_browser_s_language(svc: Service) -> None:
    page = svc.client.get("/confirm/" + "x" * 43, headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"})
    assert page.status_code == 404 and '<html lang="fr"' in page.text and "Lien non valable" in page.text
    assert page.headers["content-language"] == "fr"


def test_an_arabic_confirmation_runs_right_to_left(svc: Service) -> None:
    assert svc.sign(language="ar", name="محمد الخطيب").status_code == 202
    [mail] = mails(svc.outbox)
    assert mail["Content-Language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in mail.get_body(("html",)).get_content()
    assert mail.get_body(("plain",)).get_content().startswith("مرحبًا محمد الخطيب،")
    page = httpx.get(svc.links()["ana.pereira@example.org"])
    assert '<html lang="ar" dir="rtl">' in page.text and "<bdi>محمد الخطيب</bdi>" in page.text


# --- the letter a mission receives ---------------------------------------------------------------

def sig(name: str, lang: str | None, country: str = "PT", publish: bool = True, named: bool = True) -> Signature:
    return Signature.model_validate({"type": "individual", "name": name, "country": country, "mission": "pt-lisbon",
                                     "signed": "2026-11-20", "publish": publish, "letter": named, "source": "form",
                                     **({"language": lang} if lang else {})})


def compose(root: Path, sigs: list[Signature], **changes: object) -> email.message.EmailMessage:
    ds = dataset.load(root)
    campaign = ds.campaign.model_copy(update=changes) if changes else ds.campaign  # type: ignore[union-attr]
    return mime.compose(campaign, ds.letters["en"], ds.mission_by_id["pt-lisbon"], sigs, "s-0123456789abcdef", "v1",
                        files=ds.letter_files, words=catalogues.Catalogues(root))


def test_a_mission_gets_the_english_text_then_the_signer_s_language(repo: Path) -> None:
    msg = compose(repo, [sig("Lucía Fernández", "es", country="ES", named=False)])
    assert msg["Content-Language"] == "en, es"
    text = msg.get_body(("plain",)).get_content()
    english, spanish = text.split("[The letter in Spanish (Español): a draft translation, not yet reviewed by a native speaker]")
    assert "for the attention of the Government of the United Kingdom" in english and english.rstrip().endswith("A resident of Spain")
    assert "A la atención del Gobierno del Reino Unido" in spanish and "10 de diciembre de 2026" in spanish
    assert spanish.rstrip().endswith("Una persona residente en España")
    html = msg.get_body(("html",)).get_content()
    assert '<html lang="en">' in html and '<div lang="es" dir="ltr">' in html
    english_only = compose(repo, [sig("Ana Pereira", None)])
    assert english_only["Content-Language"] == "en" and "[The letter in" not in english_only.get_body(("plain",)).get_content()


def test_names_are_isolated_in_every_version_and_the_marks_never_leak(repo: Path) -> None:
    for sigs in ([sig("\u05e9\u05e8\u05d4 \u05db\u05d4\u05df", "es", country="ES")],
                 [sig("\u05e9\u05e8\u05d4 \u05db\u05d4\u05df", "es", country="ES"), sig("Ana Pereira", "fr")]):
        msg = compose(repo, sigs)  # one signer, or a mission's list (per-mission mode)
        text, html = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
        assert not re.search("[\ue000-\ue003]", text + html), "no private-use mark reaches a mission"
        assert "<bdi>\u05e9\u05e8\u05d4 \u05db\u05d4\u05df</bdi>" in html and "\u05e9\u05e8\u05d4 \u05db\u05d4\u05df" in text


def test_the_translations_setting_turns_the_versions_off(repo: Path) -> None:
    ds = dataset.load(repo)
    off = ds.campaign.dispatch.model_copy(update={"translations": False})  # type: ignore[union-attr]
    msg = compose(repo, [sig("Lucía Fernández", "es")], dispatch=off)
    assert msg["Content-Language"] == "en" and "Excelencia" not in msg.get_body(("plain",)).get_content()


def test_per_mission_letters_carry_one_version_per_language_and_the_names_once(repo: Path) -> None:
    sigs = [sig("Lucía Fernández", "es"), sig("Ahmad Khalil", "ar"), sig("Ana Pereira", "en"), sig("Bruno Dias", "es")]
    msg = compose(repo, sigs)
    assert msg["Content-Language"] == "en, es, ar"
    text = msg.get_body(("plain",)).get_content()
    assert text.count("[The letter in") == 2 and "(العربية): a draft translation" in text
    assert "The 4 signatories listed below" in text and "Las 4 personas firmantes que figuran abajo" in text
    assert text.count("Lucía Fernández") == 1 and text.rstrip().endswith("- Lucía Fernández (individual), Portugal")
    assert text.index("Signatories (4):") > text.index("(العربية)"), "the names come once, after every version"
    assert '<div lang="ar" dir="rtl">' in msg.get_body(("html",)).get_content()


def test_a_reviewed_translation_is_not_marked_as_a_draft(repo: Path) -> None:
    path = repo / "data/letter/pt.md"
    path.write_text(path.read_text().replace("status: 'draft'", "status: 'reviewed'"))
    text = compose(repo, [sig("Paulo Costa", "pt")]).get_body(("plain",)).get_content()
    assert "[The letter in Portuguese (Português)]" in text and "draft" not in text


def test_a_stub_is_never_sent(repo: Path) -> None:
    assert run(repo, "i18n", "new", "de").exit_code == 0
    text = compose(repo, [sig("Jonas Weber", "de")]).get_body(("plain",)).get_content()
    assert "[The letter in" not in text


def test_the_preview_shows_the_versions(repo: Path) -> None:
    write(repo, "data/signatories/aa/0000000000000001.yaml",
          "type: 'individual'\nname: 'Lucía Fernández'\ncountry: 'ES'\nmission: 'pt-lisbon'\nsigned: '2026-11-20'\n"
          "publish: true\nletter: true\nsource: 'form'\nlanguage: 'es'\n")
    result = run(repo, "letter", "--mission", "pt-lisbon")
    assert result.exit_code == 0, result.output
    assert "[The letter in Spanish (Español): a draft translation" in result.output and "Lucía Fernández, España" in result.output


def test_the_pdf_letter_follows_the_same_rule(repo: Path) -> None:
    ds = dataset.load(repo)
    sigs = [sig("Lucía Fernández", "es"), sig("Ahmad Khalil", "ar")]
    named, hidden = letter.printed(sigs)
    found = paper.Paper(ds.mission_by_id["pt-lisbon"], named, hidden, published.mission_url(ds.campaign.site_url, "pt-lisbon"),
                        frozenset(s.language for s in sigs))
    document = paper.html(ds.campaign, ds.letters["en"], "en", found, ds.letter_files, catalogues.Catalogues(repo))  # type: ignore[arg-type]
    assert re.findall(r'<article class="letter" lang="(\w+)" dir="(\w+)">', document) == [
        ("en", "ltr"), ("es", "ltr"), ("ar", "rtl")]
    assert "[The letter in Arabic (العربية): a draft translation, not yet reviewed by a native speaker]" in document
    assert "Las 2 personas firmantes que figuran abajo" in document

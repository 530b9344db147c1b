"""The site in every language, built for real with `campaign build` (one MkDocs build per
language, forked from one loaded dataset) into a temporary copy; the tests read the files.

English is at the site root, es/pt/fr/ar under their code; every language has every page;
<html lang>, <body dir>, hreflang alternates and the switcher are checked on every page, and
the things that are not (fully) translated say so. `test_browser_languages.py` clicks through.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from campaign.data.models import Signature
from campaign.i18n import catalogues
from campaign.site import build as site_build
from support.builders import run
from test_site_build import build, make_repo, populate, write_signature

LANGS = ["en", "es", "pt", "fr", "ar"]
SITE_URL = "https://example.org/letter/"
DAY = "2026-11-20"


def sign(root: Path, name: str, lang: str | None, mission: str = "pt-lisbon", country: str = "PT") -> None:
    write_signature(root, Signature.model_validate({
        "type": "individual", "name": name, "country": country, "mission": mission, "signed": DAY,
        "publish": True, "letter": True, "source": "form", **({"language": lang} if lang else {})}))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("languages"))
    populate(root, synthetic=60)
    sign(root, "Lucía Fernández", "es")
    sign(root, "Ahmad Khalil", "ar")
    sign(root, "Paulo Costa", "pt", mission="no-oslo", country="NO")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    done = subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "build", "-d", str(root / "site")],
                          cwd=root, env={**env, "CAMPAIGN_SITE_URL": SITE_URL, "NO_MKDOCS_2_WARNING": "1"},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:] + done.stdout[-2000:]
    assert re.search(r"built 5 languages into .*/site in [\d.]+ s \(en [\d.]+ s, es", done.stdout), done.stdout
    return root / "site"


def pages(site: Path, lang: str) -> set[str]:
    base = site if lang == "en" else site / lang
    found = {p.relative_to(base).as_posix() for p in base.rglob("*.html")}
    return {p for p in found if lang != "en" or p.split("/", 1)[0] not in LANGS[1:]}


def html(site: Path, lang: str, page: str) -> str:
    return ((site if lang == "en" else site / lang) / page).read_text(encoding="utf-8")


def test_every_language_has_every_page(built: Path) -> None:
    english = pages(built, "en")
    assert len(english) > 20 and "missions/pt-lisbon/index.html" in english
    for lang in LANGS[1:]:
        assert pages(built, lang) == english, lang
        assert (built / lang / "search" / "search_index.json").is_file()
        assert (built / lang / "assets" / "javascripts").is_dir()


def test_each_page_has_its_language_direction_and_alternates(built: Path) -> None:
    for lang in LANGS:
        for page in sorted(pages(built, lang))[::7] + ["missions/pt-lisbon/index.html", "index.html"]:
            text = html(built, lang, page)
            assert f'<html lang="{lang}"' in text, (lang, page)
            assert f'<body dir="{"rtl" if lang == "ar" else "ltr"}"' in text, (lang, page)
            if page == "404.html":
                continue
            path = "" if page == "index.html" else page.removesuffix("index.html")
            links = re.findall(r'<link rel="alternate" href="([^"]+)" hreflang="([^"]+)">', text)
            want = [(SITE_URL + ("" if code == "en" else f"{code}/") + path, code) for code in LANGS]
            assert sorted(links) == sorted([*want, (SITE_URL + path, "x-default")]), (lang, page)
            switcher = re.findall(r'<a href="([^"]+)" hreflang="([^"]+)" lang="[^"]+" target="_self"', text)
            assert switcher == want, (lang, page)
            assert f'data-campaign-language="{lang}" aria-current="true"' in text


def test_each_language_searches_its_own_pages_with_its_stemmer(built: Path) -> None:
    for lang in LANGS:
        index = json.loads(((built if lang == "en" else built / lang) / "search" / "search_index.json").read_text())
        assert index["config"]["lang"] == [lang]
        locations = [d["location"] for d in index["docs"]]
        assert locations and not any(loc.startswith(("es/", "pt/", "fr/", "ar/")) for loc in locations)
    spanish = json.loads((built / "es" / "search" / "search_index.json").read_text())
    assert any("Firme la carta" in d["title"] for d in spanish["docs"])


def test_sitemaps_list_one_language_with_hreflang_alternates(built: Path) -> None:
    es = (built / "es" / "sitemap.xml").read_text()
    assert f"<loc>{SITE_URL}es/missions/pt-lisbon/</loc>" in es and f"<loc>{SITE_URL}missions/" not in es
    assert f'hreflang="ar" href="{SITE_URL}ar/missions/pt-lisbon/"' in es
    assert f'hreflang="en" href="{SITE_URL}missions/pt-lisbon/"' in es


def test_the_words_are_the_language_s(built: Path) -> None:
    es_home = html(built, "es", "index.html")
    assert "¡Libertad para Assange!" in es_home and "Firme la carta" in es_home and "10 de diciembre de 2026" in es_home
    assert re.search(r"Firmantes\s*</a>", es_home), "the nav titles"
    assert 'placeholder="Búsqueda"' in es_home, "Material's own strings, from theme.language"
    fr = html(built, "fr", "missions/index.html")
    assert "Annuaire des représentations" in fr and "<td>Norvège</td>" in fr
    pt_mission = html(built, "pt", "missions/no-oslo/index.html")
    assert "Noruega" in pt_mission and "Guião de telefonema para 10 de dezembro de 2026" in pt_mission
    assert '<address lang="en">Rua de São Bernardo 33' in html(built, "pt", "missions/pt-lisbon/index.html"), "GOV.UK's data is marked English"
    ar = html(built, "ar", "index.html")
    assert "الحرية لأسانج!" in ar and "وقّع الرسالة" in ar


def test_draft_pages_say_they_await_a_native_speaker(built: Path) -> None:
    for lang, words in (("es", "espera la revisión de una persona nativa"),
                        ("pt", "aguarda revisão por um falante nativo"),
                        ("fr", "attend la relecture")):
        for page in ("index.html", "missions/pt-lisbon/index.html", "letter/index.html", "privacy/index.html"):
            text = html(built, lang, page)
            assert 'data-campaign-note="draft"' in text and words in text, (lang, page)
    assert "campaign-language-note" not in html(built, "en", "index.html")


def test_untranslated_pages_and_strings_fall_back_to_english_with_a_note(built: Path) -> None:
    privacy = html(built, "ar", "privacy/index.html")
    assert 'data-campaign-note="fallback"' in privacy and "لم تُترجم هذه الصفحة إلى العربية بعد" in privacy
    assert '<div lang="en" dir="ltr"><h1 id="your-data">Your data<' in privacy
    mission = html(built, "ar", "missions/pt-lisbon/index.html")
    assert 'data-campaign-note="partial"' in mission and "Phone call script for" in mission
    assert 'data-campaign-note="partial"' not in html(built, "es", "missions/pt-lisbon/index.html")


def test_the_letter_page_shows_the_translation_and_the_english(built: Path) -> None:
    text = html(built, "es", "letter/index.html")
    article = re.search(r'<article class="campaign-letter" lang="es" dir="ltr"[^>]*>(.*?)</article>', text, re.S)
    assert article and "A la atención del Gobierno del Reino Unido" in article.group(1)
    assert "10 de diciembre de 2026, Día de los Derechos Humanos" in article.group(1) and "[su nombre]" in article.group(1)
    assert "Esta traducción es un borrador" in text
    english = re.search(r'<details class="campaign-original">.*?<article class="campaign-letter" lang="en" dir="ltr">(.*?)</article>', text, re.S)
    assert english and "for the attention of the Government of the United Kingdom" in english.group(1)
    assert '<article class="campaign-letter" lang="ar" dir="rtl"' in html(built, "ar", "letter/index.html")


def test_a_printable_letter_is_english_then_its_signers_languages(built: Path) -> None:
    for lang in LANGS:
        text = html(built, lang, "missions/pt-lisbon/letter/index.html")
        body = text[text.index('<div class="campaign-print"'):]
        versions = re.findall(r'<article class="campaign-letter campaign-letter--print" lang="(\w+)" dir="(\w+)">', body)
        assert versions == [("en", "ltr"), ("es", "ltr"), ("ar", "rtl")], lang
        assert "[The letter in Spanish (Español): a draft translation, not yet reviewed by a native speaker]" in body
        assert re.search(r"<p>Las \d+ personas firmantes que figuran abajo</p>", body)
    oslo = html(built, "en", "missions/no-oslo/letter/index.html")
    assert re.findall(r'campaign-letter--print" lang="(\w+)"', oslo) == ["en", "pt"]


def test_one_language_builds_alone_with_plain_mkdocs(built: Path) -> None:
    root = built.parent
    result = build(root, "site-es-alone", env={"CAMPAIGN_LANG": "es", "CAMPAIGN_SITE_URL": SITE_URL})
    assert result.returncode == 0, result.stderr[-3000:]
    assert (root / "site-es-alone/missions/pt-lisbon/index.html").read_text().count('<html lang="es"') == 1
    wrong = build(root, "site-xx", env={"CAMPAIGN_LANG": "de"})
    assert wrong.returncode != 0 and "CAMPAIGN_LANG='de' is not one of the campaign's languages" in wrong.stderr


def test_a_broken_catalogue_fails_the_build_and_keeps_the_site(built: Path) -> None:
    root = built.parent
    target = root / "site-kept"
    target.mkdir(exist_ok=True)
    (target / "index.html").write_text("the previous site")
    po = root / catalogues.po_path("pt")
    original = po.read_text()
    po.write_text(original.replace('msgstr "Carta para imprimir: %(mission)s"', 'msgstr "Carta para imprimir: %(missao)s"'))
    try:
        result = run(root, "build", "-d", str(target))
    finally:
        po.write_text(original)
    line = next(i for i, text in enumerate(original.splitlines(), 1) if text == 'msgid "Printable letter: %(mission)s"')
    assert result.exit_code == 1 and f"locale/pt/LC_MESSAGES/messages.po:{line}:" in result.output
    assert (target / "index.html").read_text() == "the previous site"


@pytest.mark.parametrize("jobs", [2, 1])
def test_a_failing_language_fails_the_run_and_keeps_the_site(built: Path, jobs: int) -> None:
    """Forked (two at once) or one after the other in this process (one job)."""
    root = built.parent
    target = root / f"site-kept-{jobs}"
    target.mkdir(exist_ok=True)
    (target / "index.html").write_text("the previous site")
    page = root / "docs" / "take-part.fr.md"  # sign.fr.md links take-part.md#organisations
    original = page.read_text()
    page.write_text(original.replace("{ #organisations }", "{ #associations }"))
    try:
        with pytest.raises(Exception) as caught:
            site_build.build_all(root, target, languages="en,fr", jobs=jobs)
    finally:
        page.write_text(original)
    assert "[fr]" in str(caught.value) and "left as it was" in str(caught.value)
    assert (target / "index.html").read_text() == "the previous site"
    bad = run(root, "build", "--languages", "es,en")
    assert bad.exit_code == 1 and "--languages: give languages of data/campaign.yaml" in bad.output


def test_one_job_builds_the_languages_in_this_process_alike(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large campaigns build one language at a time in the driver (no copy-on-write copies)."""
    assert site_build.default_jobs(site_build.SEQUENTIAL_FROM) == 1
    assert site_build.default_jobs(site_build.SEQUENTIAL_FROM - 1) == (os.cpu_count() or 1)
    monkeypatch.setenv("CAMPAIGN_SITE_URL", SITE_URL)
    target = built.parent / "site-one-job"
    done = site_build.build_all(built.parent, target, languages="en,es", jobs=1)
    assert done.languages == ["en", "es"] and os.environ.get("CAMPAIGN_LANG") is None
    for rel in ("missions/pt-lisbon/index.html", "es/missions/pt-lisbon/index.html", "es/signatories/index.html"):
        assert (target / rel).read_text() == (built / rel).read_text(), rel


def test_every_language_links_the_one_pdf_letter(built: Path) -> None:
    """The deploy writes the PDF letters once, into the site's root (`campaign letters --pdf _site/letters`)."""
    assert 'href="../../letters/pt-lisbon.pdf" type="application/pdf"' in html(built, "en", "missions/pt-lisbon/index.html")
    for lang in LANGS[1:]:
        text = html(built, lang, "missions/pt-lisbon/index.html")
        assert 'href="../../../letters/pt-lisbon.pdf" type="application/pdf"' in text, lang

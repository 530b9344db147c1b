"""Languages without a browser: CLDR through Babel, the catalogues, the letter's translations as
`campaign validate` sees them, and the translators' workflow (`campaign i18n new|status`)."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from campaign.core.errors import CampaignError
from campaign.data import dataset, letter, locales, translations
from campaign.data.models import Signature
from campaign.i18n import catalogues, workflow
from support.builders import ROOT, run, write

LANGS = ("es", "pt", "fr")
ALLOWED_SAME = {"%(title)s (page %(number)s)", "Action", "Actions", "Contact", "Consulate", "Organisations", "Type",
                "Missions", "Pages", "Print", "Signatories: %(country)s", "Mission", "Photo %(number)s: %(action)s",
                "Photo %(number)s: %(action)s, %(mission)s", "Email", "Map", "Note", "no", "Office", "Page",
                "%(type)s in %(city)s, %(country)s.", "Gallery", "Consent", "Signature of %(who)s.", "Letter",
                "Language", "signature", "organisation", "page %(number)s", "Pages:", "%(num)s minute",
                "%(num)s signature", "%(num)s organisation"}
"""Messages whose translation may equal the English: words spelt alike in a language (names, "OK")."""


# --- CLDR ------------------------------------------------------------------------------------

def test_dates_numbers_and_names_come_from_cldr() -> None:
    day = dt.date(2026, 12, 10)
    assert locales.long_date(day, "en") == "10 December 2026"
    assert locales.long_date(day, "es") == "10 de diciembre de 2026"
    assert locales.long_date(day, "fr") == "10 décembre 2026"
    assert (locales.number(1234, "en"), locales.number(1234, "es")) == ("1,234", "1.234")
    assert locales.number(1234, "fr") == "1\u202f234"
    assert [locales.country_name("GB", lang) for lang in ("en", "es", "pt", "fr")] == [
        "United Kingdom", "Reino Unido", "Reino Unido", "Royaume-Uni"]
    assert locales.country_name("XK", "es") == "Kosovo" and locales.country_name("DE", "ar") == "ألمانيا"
    assert [locales.native_name(x) for x in ("es", "fr", "ar")] == ["Español", "Français", "العربية"]
    assert locales.language_name("es", "fr") == "espagnol"
    assert (locales.direction("ar"), locales.direction("es")) == ("rtl", "ltr")
    with pytest.raises(ValueError, match="CLDR"):
        locales.check("xx")


def test_the_letter_context_speaks_the_letter_language(repo: Path) -> None:
    ds = dataset.load(repo)
    lisbon = ds.mission_by_id["pt-lisbon"]
    ctx = letter.LetterContext.build(lisbon, "X", dt.date(2026, 12, 10), "S", "es")
    assert (ctx.date, ctx.mission_country, ctx.mission_name) == ("10 de diciembre de 2026", "Portugal", lisbon.name)
    words = catalogues.translator(repo, "es")
    sig = Signature.model_validate({"type": "individual", "name": "Ana", "country": "DE", "mission": "pt-lisbon",
                                    "signed": "2026-11-01", "publish": True, "letter": False, "source": "form"})
    assert letter.signer_line(sig, words) == "Una persona residente en Alemania"
    assert letter.signer_line(sig) == "A resident of Germany"
    assert letter.listed_below(1234, words) == "Las 1.234 personas firmantes que figuran abajo"


# --- the catalogues --------------------------------------------------------------------------

def _catalogue(lang: str):
    return read_po((ROOT / catalogues.po_path(lang)).open("rb"))


def test_the_template_holds_every_message_of_the_code() -> None:
    """`pybabel extract -F babel.cfg` would find exactly the committed template's messages, and
    `pybabel update` has carried them into every catalogue."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {m[2] if isinstance(m[2], str) else m[2][0] for m in extract_from_dir(str(ROOT), method_map, options_map)}
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po((ROOT / catalogues.TEMPLATE).open("rb")) if m.id}
    assert found == template, "run the README's `pybabel extract` and `pybabel update`"
    for lang in (*LANGS, "ar"):
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(lang) if m.id}
        assert have == template, f"{lang}: run `pybabel update -i locale/messages.pot -d locale`"


@pytest.mark.parametrize("lang", LANGS)
def test_spanish_portuguese_and_french_are_complete_and_translated(lang: str) -> None:
    cat = _catalogue(lang)
    done, fuzzy, total = catalogues.statistics(cat)
    assert (done, fuzzy) == (total, 0)
    same = [m.id for m in cat if m.id and (m.string == m.id or (isinstance(m.id, tuple) and m.string[0] == m.id[0]))
            and (m.id if isinstance(m.id, str) else m.id[0]) not in ALLOWED_SAME]
    assert same == []
    assert catalogues.placeholder_problems(catalogues.po_path(lang), cat) == []


def test_the_arabic_catalogue_is_partial_and_falls_back_to_english() -> None:
    done, _, total = catalogues.statistics(_catalogue("ar"))
    assert 0 < done < total
    words = catalogues.translator(ROOT, "ar")
    assert words.gettext("Sign the letter") == "وقّع الرسالة" and not words.missed
    assert words.gettext("Mission directory") == "دليل البعثات"
    assert words.gettext("Gallery") == "Gallery" and words.missed == {"Gallery"}
    assert words.ngettext("%(num)s day", "%(num)s days", 3) == "%(num)s days"


def _broken(repo: Path, msgid: str, msgstr: str) -> Path:
    path = repo / catalogues.po_path("es")
    cat = read_po(path.open("rb"))
    cat[msgid].string = msgstr
    buf = io.BytesIO()
    write_po(buf, cat, width=120)
    path.write_bytes(buf.getvalue())
    return path


def test_a_broken_placeholder_is_reported_where_it_is(repo: Path) -> None:
    path = _broken(repo, "Printable letter: %(mission)s", "Carta para imprimir: %(mision)s")
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text == 'msgid "Printable letter: %(mission)s"')
    problems = catalogues.check(repo, ["es"])
    assert [(p.path, p.line) for p in problems] == [("locale/es/LC_MESSAGES/messages.po", line)]
    assert "%(mision)s is not in the English message" in problems[0].message and "%(mission)s is missing" in problems[0].message
    result = run(repo, "i18n", "status")
    assert result.exit_code == 1 and f"locale/es/LC_MESSAGES/messages.po:{line}:" in result.output
    _broken(repo, "Printable letter: %(mission)s", "Carta al 100% para imprimir: %(mission)s")
    assert "lone %" in catalogues.check(repo, ["es"])[0].message


def test_an_unreadable_catalogue_is_a_problem_not_a_traceback(repo: Path) -> None:
    write(repo, catalogues.po_path("fr"), 'msgid "a"\nmsgstr "b"\n\nmsgid "x"\nfoo bar\n')
    problems = catalogues.check(repo, ["fr"])
    assert [(p.path, p.line) for p in problems] == [("locale/fr/LC_MESSAGES/messages.po", 5)]
    assert "cannot be read" in problems[0].message
    write(repo, catalogues.po_path("pt"), b"\xff\xfe not UTF-8")
    assert "cannot be read" in catalogues.check(repo, ["pt"])[0].message
    status = run(repo, "i18n", "status")
    assert status.exit_code == 1 and "locale/fr/LC_MESSAGES/messages.po:5:" in status.output and "Traceback" not in status.output


def test_the_script_gets_its_messages_and_plural_rules() -> None:
    words = catalogues.translator(ROOT, "es")
    found = words.script_json()
    assert found["lang"] == "es" and found["plural"] == ["one", "many", "other"]
    messages = found["messages"]
    assert messages["Give your full name."] == "Indique su nombre completo."
    assert messages["%(num)s day"] == ["%(num)s día", "%(num)s días", "%(num)s días"]
    assert "The letter" not in messages, "only the script's own messages"
    assert catalogues.plural_tags("ar") == ["zero", "one", "two", "few", "many", "other"]


def test_accept_language_picks_a_campaign_language() -> None:
    langs = ["en", "es", "pt", "fr", "ar"]
    assert catalogues.negotiate("de-DE,de;q=0.9,fr;q=0.8,en;q=0.5", langs) == "fr"
    assert catalogues.negotiate("pt-BR", langs) == "pt"
    assert catalogues.negotiate("es;q=0.1, ar;q=0.9", langs) == "ar"
    assert catalogues.negotiate("", langs) == catalogues.negotiate("zz, *;q=0.1", langs) == "en"
    assert catalogues.negotiate("es;q=abc", langs) == "en"


# --- the letter's translations in `campaign validate` ------------------------------------------

def _letter(repo: Path, lang: str) -> Path:
    return repo / translations.LETTERS / f"{lang}.md"


def test_the_translations_follow_the_current_english_letter(repo: Path) -> None:
    ds = dataset.load(repo)
    current = translations.version(ds.letters["en"])
    for lang in ("es", "pt", "fr", "ar"):
        found = ds.letter_files[lang]
        assert (found.translates, found.status, found.draft) == (current, "draft", True)
        assert set(translations.placeholders(found.text)) == set(translations.placeholders(ds.letters["en"]))


def test_a_stale_translation_warns_and_fails_only_with_strict(repo: Path) -> None:
    english = repo / translations.LETTERS / "en.md"
    english.write_text(english.read_text().replace("Your Excellency,", "Your Excellency, dear colleague,"))
    result = run(repo, "validate")
    assert result.exit_code == 0, result.output
    new = translations.version(english.read_text())
    old = translations.version(english.read_text().replace("Your Excellency, dear colleague,", "Your Excellency,"))
    es_line = _letter(repo, "es").read_text().splitlines().index(f"translates: '{old}'") + 1
    assert f"warning: data/letter/es.md:{es_line}: translates version {old} of data/letter/en.md, which is now {new}" in result.output
    assert result.output.count("warning:") == 4
    strict = run(repo, "validate", "--strict")
    assert strict.exit_code == 1 and f"data/letter/es.md:{es_line}: translates version" in strict.output
    re_wrapped = english.read_text().replace("Julian Assange spent more than five years", "Julian Assange spent\nmore than five years")
    english.write_text(re_wrapped)
    assert translations.version(re_wrapped) == new, "re-wrapping the English lines changes no version"


def test_a_missing_or_extra_placeholder_is_an_error(repo: Path) -> None:
    path = _letter(repo, "fr")
    text = path.read_text()
    path.write_text(text.replace("{{ signer }}", "[signature]").replace("Excellence,", "Excellence {{ mission_nam }},"))
    result = run(repo, "validate")
    assert result.exit_code == 1
    lines = path.read_text().splitlines()
    body = lines.index("---", 1) + 2
    extra = next(i for i, line in enumerate(lines, 1) if "{{ mission_nam }}" in line)
    assert f"data/letter/fr.md:{body}: the placeholder {{{{ signer }}}} of the English letter (data/letter/en.md:41) is missing" in result.output
    assert f"data/letter/fr.md:{extra}: the placeholder {{{{ mission_nam }}}} is not in the English letter" in result.output


def test_a_bad_front_matter_is_reported_at_its_line(repo: Path) -> None:
    path = _letter(repo, "pt")
    path.write_text(path.read_text().replace("status: 'draft'", "status: 'finished'\nreviewer: 'me'"))
    result = run(repo, "validate")
    assert result.exit_code == 1
    assert "data/letter/pt.md:4: `status` must be 'draft'" in result.output
    assert "data/letter/pt.md:5: unknown front matter `reviewer`" in result.output
    path.write_text("Sem cabeçalho {{ signer }}\n")
    assert "data/letter/pt.md:1: a translation starts with front matter" in run(repo, "validate").output


def test_a_listed_language_needs_its_letter(repo: Path) -> None:
    _letter(repo, "ar").unlink()
    result = run(repo, "validate")
    assert result.exit_code == 1 and "language 'ar' is listed but data/letter/ar.md is missing" in result.output


# --- the translators' workflow -----------------------------------------------------------------

def test_a_new_language_is_scaffolded_and_reported(repo: Path) -> None:
    import shutil
    shutil.copytree(ROOT / "docs", repo / "docs")
    result = run(repo, "i18n", "new", "de")
    assert result.exit_code == 0, result.output
    assert "wrote locale/de/LC_MESSAGES/messages.po" in result.output
    assert "added 'de' to `languages` in data/campaign.yaml" in result.output
    assert dataset.load(repo).campaign.languages[-1] == "de"  # type: ignore[union-attr]
    stub = _letter(repo, "de").read_text()
    assert "status: 'untranslated'" in stub and f"translates: '{translations.version(dataset.load(repo).letters['en'])}'" in stub
    assert (repo / "docs/privacy.de.md").read_text().startswith(workflow.STUB)
    assert workflow.page_translated(repo / "docs", "privacy.md", "de") is False
    validated = run(repo, "validate")
    assert validated.exit_code == 0 and "data/letter/de.md:4: is not translated yet" in validated.output
    status = run(repo, "i18n", "status")
    assert status.exit_code == 0
    row = next(line for line in status.output.splitlines() if line.startswith("de "))
    assert re.search(r"0/\d+\s+0%\s+0/4\s+not translated \(a stub\)", row), row
    assert re.search(r"^es\s+draft\s+\d+/\d+ 100%\s+4/4\s+draft$", status.output, re.M), status.output
    again = run(repo, "i18n", "new", "de")
    assert "kept locale/de/LC_MESSAGES/messages.po" in again.output and "kept 'de' in `languages`" in again.output
    ds = dataset.load(repo)
    assert letter.translation(ds.letter_files, "de").lang == "en", "a stub is never the letter in that language"


@pytest.mark.parametrize(("lang", "message"), [("en", "another language"), ("xx", "CLDR"), ("de_DE", "two- or three-letter")])
def test_a_bad_language_code_is_refused(repo: Path, lang: str, message: str) -> None:
    result = run(repo, "i18n", "new", lang)
    assert result.exit_code == 1 and "LANG" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_a_new_language_needs_the_template(repo: Path) -> None:
    (repo / "docs").mkdir()
    (repo / catalogues.TEMPLATE).unlink()
    with pytest.raises(CampaignError, match="pybabel extract"):
        workflow.new_language(repo, "de")

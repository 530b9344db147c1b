"""The PDF letters (`campaign letter --pdf`, `campaign letters --pdf`; ARCHITECTURE.md, "Paper"):
rendered for real by WeasyPrint with the Noto fonts, read back with poppler's pdftotext,
pdfinfo and pdffonts (tests/support/pdf.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from campaign.core.errors import CampaignError
from campaign.data import countries, dataset, letter, signatures
from campaign.data.models import Signature
from campaign.dispatch import paper, planning
from campaign.records import published
from campaign.site.pages import Site
from support import pdf
from support.builders import ROOT, run, write

URL = "https://free-assange.github.io/letter/missions/pt-lisbon/"

# Names of every script the issue asks for, and the hard cases of each: Latin with accents and
# a hyphen, Cyrillic, Greek, Arabic (lam-alef ligatures, a name mixing directions), Hebrew,
# Chinese, Japanese, Korean, markup and Jinja syntax that must stay text.
NAMES = [
    "Zoë Ångström-Łukasiewicz", "Ngô Bảo Châu", "Siobhán Ó Briain", "Jean-Pierre Marie-Thérèse Saint-Exupéry",
    "Анна Петрова", "Олександр Шевченко", "Γιώργος Παπαδόπουλος", "Ελένη",
    "محمد الحسن", "عبد السلام", "ليلى علاء", "فاطمة منصور", "Layla ليلى Haddad",
    "שרה כהן", "王伟", "李娜", "山田 さくら", "김민준", "이서연",
    "Tom & Jerry <b>bold</b>", "{{ config }}",
]


def sign(root: Path, name: str, *, country: str = "PT", mission: str | None = "pt-lisbon", publish: bool = True,
         consent: bool = True, kind: str = "individual") -> Signature:
    sig = Signature.model_validate({"type": kind, "name": name, "country": country, "mission": mission,
                                    "signed": "2026-11-20", "publish": publish, "letter": consent, "source": "form"})
    signatures.write(root, sig)
    return sig


def expected(sigs: list[Signature]) -> list[tuple[str, str]]:
    """The list as printed: (name, what follows it), in `letter.printed` order."""
    named, _ = letter.printed(sigs)
    return [(s.name, (" (organisation)" if s.type == "organisation" else "") + ", " + countries.name(s.country))
            for s in named]


@pytest.fixture
def lisbon(repo: Path) -> tuple[Path, list[Signature], list[str]]:
    """Named signatories of every script to pt-lisbon, and three who may not be printed."""
    sigs = [sign(repo, name, country=("PT", "EG", "CN", "RU")[i % 4]) for i, name in enumerate(NAMES)]
    sigs.append(sign(repo, "Reporters United", kind="organisation", country="PT"))
    hidden = ["Letter Only Person", "Site Only Person", "Neither Person"]
    sign(repo, hidden[0], publish=False, consent=True)
    sign(repo, hidden[1], publish=True, consent=False)
    sign(repo, hidden[2], publish=False, consent=False)
    return repo, sigs, hidden


def test_the_pdf_holds_every_named_signatory_in_every_script(lisbon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, sigs, hidden = lisbon
    target = tmp_path / "pt-lisbon.pdf"
    written = paper.letter_pdf(root, "pt-lisbon", target)
    assert (written.named, written.hidden, written.missing) == (len(sigs), 3, [])
    found = pdf.check_names(target, expected(sigs))
    assert found.ok and not found.indic, found
    body = pdf.text(target, body=False)
    assert not [name for name in hidden if name in body]
    assert f"{len(sigs) + 3} signatories to the British Embassy Lisbon, {len(sigs)} of them named below." in body
    assert "and 3 more signatories who asked not to be named." in body
    assert f"The {len(sigs) + 3} signatories listed below" in body  # how the letter is signed
    assert "To the British Embassy Lisbon," in body and "Lisbon, Lisbon" not in body and "Your Excellency," in body
    assert "1. Reporters United (organisation), Portugal" in pdf.text(target)  # organisations first


def test_the_pdf_is_a4_numbered_linked_and_uses_only_embedded_noto_subsets(lisbon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, _, _ = lisbon
    target = tmp_path / "letter.pdf"
    written = paper.letter_pdf(root, "pt-lisbon", target)
    info = pdf.info(target)
    pages = int(info["Pages"])
    assert pages == written.pages >= 2 and info["Title"] == "Open letter to the British Embassy Lisbon"
    assert pdf.page_sizes(target) == {pdf.A4_POINTS}
    full = pdf.text(target, body=False, raw=False)
    assert [f"Page {n} of {pages}" in full for n in range(1, pages + 1)] == [True] * pages
    links = pdf.links(target)
    assert {url for _, url in links} == {URL}
    assert {page for page, _ in links} == set(range(1, pages + 1))  # the footer links back on every page
    families = pdf.fonts(target)
    assert all(embedded and subset for _, embedded, subset in families)
    names = {family for family, _, _ in families}
    assert {"Noto-Sans", "Noto-Sans-Arabic", "Noto-Sans-Hebrew", "Noto-Sans-CJK-SC"} <= names
    assert all(name.startswith("Noto-Sans") for name in names), names  # no DejaVu fallback for Arabic or Hebrew
    assert written.size < 1_000_000  # fonts are subset: the CJK face alone is 19 MB


def test_who_is_named_and_counted_is_the_site_and_the_dispatch_plan(repo: Path, tmp_path: Path) -> None:
    """Which mission a signature reaches is Dataset.destination, repeats are left out as in the
    dispatch plan, and a name is printed only with both consents, as on the site's printable letter."""
    twin = write(repo, "data/signatories/zz/twin.yaml", signatures.to_yaml(sign(repo, "Ana Pereira")))  # counted once
    sign(repo, "Norsk Forening", kind="organisation", country="NO", mission=None)  # to its country's mission
    sign(repo, "Islander", country="IS", mission="no-oslo")  # Iceland: served from Oslo
    sign(repo, "Only In The Letter", country="NO", mission="no-oslo", publish=False)
    ds = dataset.load(repo)
    plan = planning.plan(ds, planning.parse_now("2026-12-10T12:00:00Z"), force=True)
    found = {p.mission.id: p for p in paper.papers(ds)}
    assert set(found) == set(ds.mission_by_id)
    for mission_id, mp in plan.missions.items():
        assert found[mission_id].total == sum(len(item.signatures) for item in mp.letters)
    assert [s.name for s in found["pt-lisbon"].named] == ["Ana Pereira"] and found["pt-lisbon"].hidden == 0
    oslo = found["no-oslo"]
    assert [s.name for s in oslo.named] == ["Norsk Forening", "Islander"] and oslo.hidden == 1
    assert oslo.url == published.mission_url(ds.campaign.site_url, "no-oslo")  # type: ignore[union-attr]
    twin.unlink()  # the site needs a valid dataset: no repeat
    ds = dataset.load(repo)
    site = Site(ds)
    for p in paper.papers(ds):
        assert (p.named, p.hidden) == site.print_names(p.mission.id)


def test_a_mission_without_signatories_gets_a_letter_to_sign(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "chicago.pdf"
    written = paper.letter_pdf(repo, "us-chicago", target)
    assert (written.named, written.hidden) == (0, 0)
    text = pdf.text(target, body=False)
    assert "[your name]" in text and "Signature: ____" in text and "Signatories" not in text
    assert "To the British Consulate General Chicago," in text and "Chicago, Chicago" not in text


def test_a_character_no_font_has_is_reported(repo: Path, tmp_path: Path) -> None:
    sign(repo, "Ayşe \U0001f9ff")  # NAZAR AMULET: no installed font has it
    warnings: list[str] = []
    written = paper.letter_pdf(repo, "pt-lisbon", tmp_path / "x.pdf", warn=warnings.append)
    assert written.missing == ['U+1F9FF "\U0001f9ff"']
    assert len(warnings) == 1 and "no installed font has U+1F9FF" in warnings[0] and "fonts-noto-core" in warnings[0]


def test_the_letter_command_writes_one_pdf(lisbon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, sigs, _ = lisbon
    target = tmp_path / "out" / "lisbon.pdf"
    result = run(root, "letter", "--mission", "pt-lisbon", "--pdf", str(target))
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"{re.escape(str(target))}: \d+ pages, {len(sigs)} named and 3 unnamed signatories, \d+ KB, "
                        r"[\d.]+ s\n", result.output)
    assert pdf.check_names(target, expected(sigs)).ok


def test_the_letters_command_writes_a_pdf_per_mission_where_the_site_links_them(repo: Path, tmp_path: Path) -> None:
    sign(repo, "Ana Pereira")
    sign(repo, "Олена Коваль", country="NO", mission="no-oslo", publish=False)
    folder = tmp_path / "site" / published.PDF_FOLDER
    result = run(repo, "letters", "--pdf", str(folder))
    assert result.exit_code == 0, result.output
    ids = sorted(r.model.id for r in dataset.load(repo).missions)
    assert result.output.startswith(f"wrote {len(ids)} PDF letters to {folder}: ")
    assert ", 1 named and 1 unnamed signatories, " in result.output
    assert sorted(p.name for p in folder.iterdir()) == [published.pdf_name(i) for i in ids]
    for mission_id in ids:
        assert {u for _, u in pdf.links(folder / published.pdf_name(mission_id))} == {
            f"https://free-assange.github.io/letter/missions/{mission_id}/"}
    assert not list(folder.glob(".*"))  # no temporary file left


def test_the_deploy_workflow_publishes_the_pdfs_where_mission_pages_link() -> None:
    steps = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    site_dir = next(re.search(r"--site-dir (\S+)", r).group(1) for r in runs if r.startswith("campaign build"))  # type: ignore[union-attr]
    assert f"campaign letters --pdf {site_dir}/{published.PDF_FOLDER}" in runs
    assert runs.index(f"campaign letters --pdf {site_dir}/{published.PDF_FOLDER}") > runs.index(
        next(r for r in runs if r.startswith("campaign build")))  # after the build, which empties the folder
    assert "sudo scripts/setup --pdf-packages" in runs
    setup = (ROOT / "scripts" / "setup").read_text()
    packages = re.search(r"^PDF_PACKAGES=\((.*)\)$", setup, re.M).group(1).split()  # type: ignore[union-attr]
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-noto-core", "fonts-noto-cjk"} <= set(packages)
    assert "fonts-noto" not in packages  # not the metapackage


def test_bad_input_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    result = run(repo, "letter", "--mission", "xx-nowhere", "--pdf", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1 and "--mission:1: unknown mission 'xx-nowhere'" in result.output
    blocker = write(tmp_path, "file", "not a folder")
    result = run(repo, "letter", "--mission", "pt-lisbon", "--pdf", str(blocker / "x.pdf"))
    assert result.exit_code == 1 and f"{blocker / 'x.pdf'}:1: cannot write the PDF: " in result.output
    assert "Traceback" not in result.output
    result = run(repo, "letters", "--pdf", str(blocker))
    assert result.exit_code == 2 and "is a file" in result.output
    (repo / "data" / "campaign.yaml").write_text("id: [\n", encoding="utf-8")
    result = run(repo, "letters", "--pdf", str(tmp_path / "out"))
    assert result.exit_code == 1 and result.output.startswith("data/campaign.yaml:")
    with pytest.raises(CampaignError):
        paper.letters_pdf(repo, tmp_path / "out")


def test_address_lines_drop_a_repeated_name_and_end_with_the_country(repo: Path) -> None:
    ds = dataset.load(repo)
    mission = ds.mission_by_id["pt-lisbon"].model_copy(update={"address": "British Embassy Lisbon\nRua 33\n1249 Lisboa"})
    assert paper.address_lines(mission) == ["Rua 33", "1249 Lisboa", "Portugal"]
    assert paper.address_lines(ds.mission_by_id["pt-lisbon"]) == ["Rua de São Bernardo 33, 1249-082 Lisboa, Portugal"]
    assert paper.address_lines(ds.mission_by_id["us-chicago"]) == ["United States"]


def test_the_html_escapes_names_and_isolates_them() -> None:
    """A name is text in the HTML, between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, and
    never breaks at its hyphen."""
    ds = dataset.load(ROOT)
    assert ds.campaign is not None
    mission = ds.mission_by_id["fr-paris"]
    sig = Signature.model_validate({"type": "individual", "name": "<b>Ana</b> & Jean-Luc", "country": "FR",
                                    "mission": "fr-paris", "signed": "2026-11-20", "publish": True, "letter": True,
                                    "source": "form"})
    html = paper.html(ds.campaign, ds.letters["en"], "en", paper.Paper(mission, [sig], 0, "https://example.org/m/"))
    assert "<li>1. \u2068&lt;b&gt;Ana&lt;/b&gt; &amp; Jean-\u2060Luc\u2069, France</li>" in html
    assert "<b>Ana" not in html


def test_printed_names_only_signatories_with_both_consents_organisations_first() -> None:
    def sig(name: str, publish: bool = True, consent: bool = True, kind: str = "individual") -> Signature:
        return Signature.model_validate({"type": kind, "name": name, "country": "FR", "mission": "fr-paris",
                                         "signed": "2026-11-20", "publish": publish, "letter": consent, "source": "form"})

    sigs = [sig("zoë"), sig("Émile"), sig("Zed Org", kind="organisation"), sig("Ana", publish=False),
            sig("Bo", consent=False), sig("Ed", publish=False, consent=False)]
    named, hidden = letter.printed(sigs)
    assert [s.name for s in named] == ["Zed Org", "Émile", "zoë"] and hidden == 3
    assert letter.print_signer(0) == "[your name]"
    assert letter.print_signer(1) == "The signatory listed below"
    assert letter.print_signer(12_345) == "The 12,345 signatories listed below"

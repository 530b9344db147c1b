"""Pages a visitor trusts, as library calls: who runs the campaign (a required, validated part of
campaign.yaml), where a mission's details come from in plain words, no row of zeros before the
counters mean something, one sentence for what is kept of an address, the theme's widgets named,
and the intake's pages in the site's look with next steps. The browser side is test_accessibility.py.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path

import pytest

from campaign.data import dataset
from campaign.data.models import Signature, Source
from campaign.i18n import catalogues, wording
from campaign.intake import mails, pages
from campaign.intake.store import Mail
from campaign.site import links
from campaign.site.html import UNNAMED_WIDGETS, name_widgets
from campaign.site.pages import Site
from support.builders import ROOT, run
from test_site_build import write_signature


def _campaign_yaml(repo: Path, old: str, new: str) -> None:
    path = repo / "data" / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


ORGANISER = """organiser:
  name: 'Free Assange! letter campaign'
  email: 'contact@free-assange.example.org'
  controller:
    name: 'Free Assange! letter campaign'
    email: 'contact@free-assange.example.org'
"""


def test_the_repository_says_who_runs_the_campaign() -> None:
    campaign = dataset.load(ROOT, use_cache=False).campaign
    assert campaign is not None
    o = campaign.organiser
    assert o.name == campaign.dispatch.sender.name, "the organiser as the existing data names it"
    assert o.email == campaign.dispatch.reply_to and o.controller.email == o.email
    assert campaign.site.counters_from == 10


@pytest.mark.parametrize(("old", "new", "expected"), [
    (ORGANISER, "", "`organiser` is required but missing; add it: who runs the campaign"),
    ("  controller:\n    name: 'Free Assange! letter campaign'\n    email: 'contact@free-assange.example.org'\n", "",
     "`organiser.controller` is required but missing; add it: the data controller, named on the privacy page"),
    ("  email: 'contact@free-assange.example.org'\n  controller:", "  email: 'nobody'\n  controller:",
     "`organiser.email` 'nobody' is not a valid email address"),
    ("    name: 'Free Assange! letter campaign'\n    email:", "    email:", "`organiser.controller.name` is required"),
    ("  counters_from: 10", "  counters_from: -1", "`site.counters_from` Input should be greater than or equal to 0"),
    ("  counters_from: 10", "  counters_from: '10'", "`site.counters_from`: input should be a valid integer"),
])
def test_organiser_and_site_settings_are_validated(repo: Path, old: str, new: str, expected: str) -> None:
    _campaign_yaml(repo, old, new)
    result = run(repo, "validate")
    assert result.exit_code == 1
    assert re.search(r"^data/campaign\.yaml:\d+: " + re.escape(expected), result.output, re.M), result.output


def test_details_come_from_a_publisher_and_a_year_never_a_repository_path() -> None:
    snapshot = Source(dataset="govuk-worldwide-2018", repo="alphagov/smart-answers",
                      path="test/fixtures/worldwide/norway_organisations.json", date="2013-04-11")
    page = Source(url="https://www.gov.uk/world/organisations/british-embassy-oslo", date="2021-03-02")
    press = Source(url="http://www.looptonga.com/news/x", date="2019-11-08")
    assert links.origins([snapshot]) == [links.Origin("GOV.UK", "2018", None)]
    assert links.origins([press, snapshot, page]) == [
        links.Origin("GOV.UK", "2021", "https://www.gov.uk/world/organisations/british-embassy-oslo"),
        links.Origin("looptonga.com", "2019", None)]  # an http:// page is named, not linked
    ds = dataset.load(ROOT, use_cache=False)
    seen = set()
    for mission in ds.mission_by_id.values():
        for origin in links.origins(mission.source):
            seen.add(origin.name)
            assert "/" not in origin.name and "fixtures" not in origin.name and origin.name != "?", (mission.id, origin)
            assert origin.year is None or re.fullmatch(r"(19|20)\d\d", origin.year), (mission.id, origin)
    assert "GOV.UK" in seen and len(seen) > 5


def test_a_mission_page_speaks_to_visitors(repo: Path) -> None:
    missions = repo / "data" / "missions.yaml"
    text = missions.read_text(encoding="utf-8")
    missions.write_text(text.replace(
        "      - url: 'https://www.gov.uk/world/organisations/british-embassy-oslo'\n",
        "      - dataset: 'govuk-worldwide-2018'\n        repo: 'alphagov/smart-answers'\n"
        "        path: 'test/fixtures/worldwide/norway_organisations.json'\n        date: '2013-04-11'\n", 1), encoding="utf-8")
    ds = dataset.load(repo, use_cache=False)
    site = Site(ds)
    [page] = [p for p in site.pages() if p.uri == "missions/no-oslo/index.md"]
    html = page.render()
    assert "These details come from GOV.UK (2018); check them before you go." in html
    assert 'id="needs-checking"' in html and "The details have not been checked for a long time" in html
    for maintainer in ("`", "test/fixtures", "alphagov", "limit is", "days)", "update ", "campaign missions"):
        assert maintainer not in html, maintainer
    es = Site(ds, lang="es").pages()
    [spanish] = [p for p in es if p.uri == "missions/no-oslo/index.md"]
    assert "Estos datos proceden de GOV.UK (2018); compruébelos antes de ir." in spanish.render()


def _signatures(root: Path, count: int) -> None:
    for i in range(count):
        write_signature(root, Signature(type="individual", name=f"Signer {i:03d}", country="PT", mission="pt-lisbon",
                                        signed=dt.date(2026, 11, 1), publish=True, letter=True, source="form"))


@pytest.mark.parametrize(("signed", "threshold", "shown"), [(0, None, False), (9, None, False), (10, None, True),
                                                           (3, 3, True), (2, 3, False), (0, 0, True)])
def test_counters_show_from_the_threshold_and_the_ask_before(repo: Path, signed: int, threshold: int | None,
                                                              shown: bool) -> None:
    if threshold is not None:
        _campaign_yaml(repo, "  counters_from: 10", f"  counters_from: {threshold}")
    _signatures(repo, signed)
    html = Site(dataset.load(repo, use_cache=False)).snippet("counters", "index.md")
    assert ('class="campaign-counters"' in html) is shown
    assert ('class="campaign-ask"' in html) is not shown
    if not shown:
        assert 'href="sign/"' in html and ">0<" not in html and "Sign the letter" in html


def test_once_letters_are_sent_the_counters_show_whatever_the_threshold(repo: Path) -> None:
    _signatures(repo, 2)
    site = Site(dataset.load(repo, use_cache=False), letters_sent=2)
    html = site.snippet("counters", "index.md")
    assert 'data-counter="sent">2<' in html and 'class="campaign-ask"' not in html


def test_the_privacy_snippet_names_the_organiser_and_the_controller(repo: Path) -> None:
    controller = "  controller:\n    name: 'Free Assange! letter campaign'\n    email: 'contact@free-assange.example.org'\n"
    _campaign_yaml(repo, controller, "  url: 'https://free-assange.example.org/'\n  controller:\n    name: 'Data <Team>'\n"
                   "    email: 'data@free-assange.example.org'\n    address: 'Postbox 1\n      1000 Town'\n")
    site = Site(dataset.load(repo, use_cache=False), lang="fr")
    html = site.snippet("organiser", "privacy.md")
    assert '<a href="https://free-assange.example.org/" rel="noopener">Free Assange! letter campaign</a>' in html
    assert "Data &lt;Team&gt;" in html and 'href="mailto:data@free-assange.example.org"' in html
    assert "Responsable du traitement" in html and "<address>" in html


def test_one_sentence_says_what_is_kept_everywhere(repo: Path) -> None:
    """The form's hint, the privacy page's marker, the mail and the intake's pages all say `wording.KEPT`."""
    kept_es = catalogues.translator(ROOT, "es").gettext(wording.KEPT)
    assert kept_es != wording.KEPT
    ds = dataset.load(repo, use_cache=False)
    site = Site(ds, lang="es", endpoint="https://intake.example.org")
    assert site.form()["kept"] == wording.KEPT  # the form's partial shows _(form.kept)
    assert kept_es in site.snippet("kept", "privacy.md")
    words = catalogues.translator(ROOT, "es")
    sig = {"name": "Lucía", "country": "ES", "mission": "pt-lisbon", "publish": True, "letter": False, "language": "es"}
    mail = mails.confirmation(ds.campaign, Mail(1, "lucia@example.org", "t" * 40, sig, 1.9e9), "https://i.example.org", words)
    text = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()
    assert kept_es in " ".join(text.split())
    look = pages.Pages(ds.campaign, "https://example.org/letter/")
    assert kept_es in look.confirm(words, "t" * 40, sig) and kept_es in look.confirmed(words, sig, already=False)
    partial = (ROOT / "docs" / "overrides" / "partials" / "sign-form.html").read_text(encoding="utf-8")
    assert "{{ _(f.kept) }}" in partial
    for lang in ("", ".es", ".pt", ".fr", ".ar"):
        assert "<!-- campaign:kept -->" in (ROOT / "docs" / f"privacy{lang}.md").read_text(encoding="utf-8"), lang


def test_the_thank_you_page_offers_next_steps_in_the_signer_s_language(repo: Path) -> None:
    ds = dataset.load(repo, use_cache=False)
    look = pages.Pages(ds.campaign, "https://example.org/letter/")
    words = catalogues.translator(ROOT, "pt")
    sig = {"name": "Ana <b>", "country": "PT", "mission": "pt-lisbon", "publish": True, "letter": True}
    html = look.confirmed(words, sig, already=False, mission=ds.mission_by_id["pt-lisbon"])
    assert '<html lang="pt" dir="ltr">' in html and "Ana &lt;b&gt;" in html
    assert 'href="https://example.org/letter/pt/missions/pt-lisbon/"' in html
    assert 'href="https://example.org/letter/pt/take-part/#register-an-action"' in html
    assert "https%3A%2F%2Fexample.org%2Fletter%2Fpt%2Fletter%2F" in html  # share links to the letter page
    assert "O que pode fazer a seguir" in html and "Registe uma ação" in html
    assert 'href="https://example.org/letter/pt/privacy/"' in html and "contact@free-assange.example.org" in html
    assert "<link" not in html and "<script" not in html and "src=" not in html, "nothing is loaded from elsewhere"
    ar = look.confirmed(catalogues.translator(ROOT, "ar"), sig, already=True, mission=None)
    assert '<html lang="ar" dir="rtl">' in ar and 'href="https://example.org/letter/ar/missions/"' in ar


def test_the_theme_s_unnamed_widgets_get_a_name_in_the_page_s_language() -> None:
    page = ('<div class="md-search" data-md-component="search" role="dialog">'
            '<div class="md-progress" data-md-component="progress" role="progressbar"></div>')
    named = name_widgets(page, catalogues.translator(ROOT, "fr"))
    assert 'role="dialog" aria-label="Rechercher sur le site"' in named
    assert 'role="progressbar" aria-label="Chargement de la page"' in named
    assert len(UNNAMED_WIDGETS) == 2 and name_widgets("<p>none</p>", catalogues.translator(ROOT, "fr")) == "<p>none</p>"

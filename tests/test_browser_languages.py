"""The site in every language in a real headless Chromium: the switcher keeps the page, a
Spanish visitor signs through the real intake and gets a Spanish mail, the Spanish, Portuguese
and French pages show no English interface words, and the Arabic pages run right to left.

One `campaign build` (every language, the intake on the same origin) is served by the intake
service itself, as `campaign serve` does.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from campaign.data import dataset
from campaign.i18n import catalogues
from support.builders import ROOT
from support.http import confirmation_links
from support.site import served_by_intake
from test_browser import ARGS, CHROMIUM, pytestmark  # noqa: F401 - skipped without Chromium
from test_languages import ALLOWED_SAME
from test_site_build import make_repo, populate

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("campaign.intake.app")

PAGES = ["", "letter/", "sign/", "missions/", "missions/pt-lisbon/", "missions/pt-lisbon/letter/", "signatories/",
         "signatories/pt/", "actions/", "deliveries/", "take-part/", "privacy/"]
SHORT = 2
"""Messages of fewer words than this are not searched in a page's text (a word like "Email" may be a name)."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("browser-languages")
    root = make_repo(base)
    populate(root, synthetic=30)
    with served_by_intake(root, base) as up:
        pw = playwright_api.sync_playwright().start()
        chromium = pw.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else "chromium", args=ARGS)
        yield {"url": up.url, "intake": up.intake, "outbox": up.outbox, "browser": chromium, "root": root}
        chromium.close()
        pw.stop()


@pytest.fixture
def page(served: dict[str, Any]) -> Iterator[Any]:
    context = served["browser"].new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    assert page.errors == []
    context.close()


def switch(page: Any, lang: str) -> None:
    """Choose `lang` in the header's language menu, as a visitor does (hover, click)."""
    page.hover(".md-header__option .md-select")
    page.click(f".md-select__list a[hreflang='{lang}']")


def test_the_switcher_keeps_the_page(page: Any, served: dict[str, Any]) -> None:
    url = served["url"]
    page.goto(f"{url}/missions/pt-lisbon/")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.evaluate("window.__loaded_once = true")
    switch(page, "es")
    page.wait_for_url(f"{url}/es/missions/pt-lisbon/")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.evaluate("window.__loaded_once === undefined"), "a full page load, not an instant swap"
    assert "Guion de llamada" in page.locator("#call").inner_text()
    page.evaluate("window.__loaded_once = true")
    switch(page, "pt")
    page.wait_for_url(f"{url}/pt/missions/pt-lisbon/")
    assert page.evaluate("document.documentElement.lang") == "pt"
    assert page.evaluate("window.__loaded_once === undefined")
    assert "Guião de telefonema" in page.locator("#call").inner_text()
    # within a language, instant navigation still swaps pages without a reload
    page.evaluate("window.__same_document = true")
    page.click(".md-tabs a:text-is('Assinar')")
    page.wait_for_url(f"{url}/pt/sign/")
    page.locator("#sign-name").wait_for()
    assert page.evaluate("window.__same_document === true")
    switch(page, "en")
    page.wait_for_url(f"{url}/sign/")
    assert page.evaluate("document.documentElement.lang") == "en"


def test_a_spanish_visitor_signs_and_gets_the_mail_in_spanish(page: Any, served: dict[str, Any]) -> None:
    url, outbox = served["url"], served["outbox"]
    page.goto(f"{url}/es/missions/pt-lisbon/")
    page.click("button[type=submit]")
    assert page.locator("#sign-name-error").inner_text() == "Indique su nombre completo."
    assert page.locator("[data-sign-result]").inner_text() == "Corrija los campos señalados arriba."
    page.fill("#sign-name", "Lucía Fernández")
    page.select_option("#sign-country", "ES")
    page.select_option("#sign-mission", "pt-lisbon")
    page.fill("#sign-email", "lucia.fernandez@example.org")
    page.check("#sign-publish")
    page.check("#sign-letter")
    assert page.locator("label[for=sign-publish]").inner_text() == "Publicar mi nombre y mi país en el sitio web de la campaña."
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('[data-sign-result]').dataset.state === 'ok'")
    assert page.locator("[data-sign-result]").inner_text().startswith("¡Gracias! Hemos enviado un enlace de confirmación")
    [eml] = [p for p in outbox.glob("*.eml") if "lucia.fernandez" in p.read_text(errors="replace")]
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert mail["Content-Language"] == "es"
    assert str(mail["Subject"]) == "Confirme su firma: ¡Libertad para Assange!"
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Hola, Lucía Fernández:") and "El enlace es válido hasta el" in text
    assert "Su nombre aparecerá en el sitio de la campaña. Aparecerá en la carta." in text
    assert '<html lang="es" dir="ltr">' in mail.get_body(("html",)).get_content()
    link = confirmation_links(outbox)["lucia.fernandez@example.org"]
    page.goto(link)
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.locator("h1").inner_text() == "Confirme su firma: ¡Libertad para Assange!"
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Gracias: ¡Libertad para Assange!"
    assert "queda confirmada" in page.locator("body").inner_text()
    entry = served["intake"].store.confirmed(10)[0]
    assert entry.signature["language"] == "es"


def _english(lang: str) -> dict[str, str]:
    """Every English message of the interface (its literal runs of words) that the language translates."""
    found: dict[str, str] = {}
    for message in read_po((ROOT / catalogues.po_path(lang)).open("rb")):
        if not message.id or not catalogues.translated(message):
            continue
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for run in re.split(r"%\(\w+\)s|<[^>]+>|\[|\]", text):
                run = run.strip(" .,:;()\"“”")
                if len(run.split()) >= SHORT and run not in ALLOWED_SAME:
                    found[run] = text
    return found


VISIBLE = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('[lang]:not([lang=""])').forEach(el => { if (el.lang !== document.documentElement.lang) el.remove(); });
  body.querySelectorAll('script, style, .md-select__list, .md-search-result').forEach(el => el.remove());
  document.body.appendChild(body); const text = body.innerText; body.remove(); return text;
}"""
"""The page's visible words in its own language: what is marked as another language (GOV.UK's
English data, the letter as the mission receives it, the language menu) is left out."""


@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_no_untranslated_interface_string(page: Any, served: dict[str, Any], lang: str) -> None:
    """Every page kind, after the script ran and after the form showed its errors: none of the
    catalogue's English messages shows; and no translation equals its English message outside
    the short allow-list of words spelt alike."""
    same = [m.id for m in read_po((ROOT / catalogues.po_path(lang)).open("rb"))
            if m.id and catalogues.translated(m) and (m.string if isinstance(m.id, str) else m.string[0])
            == (m.id if isinstance(m.id, str) else m.id[0]) and (m.id if isinstance(m.id, str) else m.id[0]) not in ALLOWED_SAME]
    assert same == []
    english = _english(lang)
    assert len(english) > 200
    names = sorted({m.name for m in dataset.load(served["root"]).mission_by_id.values()}, key=len, reverse=True)
    seen = []
    for path in PAGES:
        page.goto(f"{served['url']}/{lang}/{path}")
        if path in ("sign/", "missions/pt-lisbon/"):
            page.click("button[type=submit]")  # the script's own messages
            page.locator("#sign-name-error").wait_for()
        if path == "missions/":
            page.fill("#campaign-missions-text", "oslo")
        text = page.evaluate(VISIBLE)
        for name in names:  # mission names stay as GOV.UK publishes them
            text = text.replace(name, "")
        seen.append(path)
        leaks = sorted(run for run in english if run in text)
        assert leaks == [], (lang, path, leaks[:5])
        assert "campaign-language-note" in page.content() and 'data-campaign-note="partial"' not in page.content()
    assert seen == PAGES


@pytest.mark.parametrize("lang", ["en", "es", "pt", "fr", "ar"])
def test_on_a_phone_the_sign_button_shows_without_scrolling(served: dict[str, Any], lang: str) -> None:
    """A 390x844 phone (an iPhone 12-15's CSS size), the home page as it opens: the call to sign is on screen."""
    context = served["browser"].new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                            device_scale_factor=3)
    try:
        page = context.new_page()
        page.goto(f"{served['url']}/{'' if lang == 'en' else lang + '/'}")
        button = page.locator(".md-content a.md-button--primary[href$='sign/']").first
        box = button.bounding_box()
        assert box is not None and page.evaluate("scrollY") == 0
        assert page.evaluate("[document.documentElement.scrollWidth, innerWidth]") == [390, 390], "nothing wider than the phone"
        assert 0 <= box["y"] and box["y"] + box["height"] <= 844 and 0 <= box["x"] and box["x"] + box["width"] <= 390, box
        assert button.is_visible() and page.evaluate("""() => {
            const r = document.querySelector(".md-content a.md-button--primary[href$='sign/']").getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return hit !== null && hit.closest("a.md-button--primary") !== null; }"""), "nothing covers it"
    finally:
        context.close()


def test_the_arabic_pages_run_right_to_left(page: Any, served: dict[str, Any]) -> None:
    url = served["url"]
    for path in ("", "missions/pt-lisbon/", "sign/", "privacy/"):
        page.goto(f"{url}/ar/{path}")
        assert page.evaluate("document.documentElement.lang") == "ar"
        assert page.evaluate("document.body.dir") == "rtl"
        assert page.eval_on_selector(".md-content", "e => getComputedStyle(e).direction") == "rtl"
    page.goto(f"{url}/ar/sign/")
    assert page.locator("label[for=sign-name]").inner_text() == "الاسم الكامل"
    assert page.eval_on_selector(".campaign-form", "e => getComputedStyle(e).direction") == "rtl"
    page.fill("#sign-name", "محمد الخطيب")
    assert page.eval_on_selector("#sign-name", "e => e.matches(':dir(rtl)')"), "a name takes its own script's direction"
    page.fill("#sign-name", "Ana Pereira")
    assert page.eval_on_selector("#sign-name", "e => e.matches(':dir(ltr)')")
    assert page.eval_on_selector("#sign-email", "e => e.dir") == "ltr", "addresses read left to right"
    page.goto(f"{url}/ar/privacy/")
    fallback = page.locator(".md-content [lang=en]").first
    assert fallback.evaluate("e => getComputedStyle(e).direction") == "ltr", "an English page inside stays left to right"
    assert "لم تُترجم هذه الصفحة" in page.locator(".campaign-language-note").inner_text()
    page.goto(f"{url}/ar/letter/")
    assert page.eval_on_selector("article.campaign-letter[lang=ar]", "e => getComputedStyle(e).direction") == "rtl"

"""Accessibility in a real headless Chromium, as a visitor meets the campaign.

axe-core (the copy axe-playwright-python ships: AXE_VERSION below) runs over every page kind of
the site (every tab of the navigation, a mission, its printable letter, a country's signatories,
the sign form showing its errors) and the intake's own pages (confirm, thank-you, an unknown
link, its front page without a site), in English and in Arabic (right to left), on a desktop,
a phone (and in English a desktop in the dark scheme). Serious and critical violations fail; before the
fixes of issue 15 every page had some (the search dialog and progress bar without a name, the
announcement link and the tabs below 4.5:1, links told apart by colour alone).

Also: every control of the content shows where the focus is, and after the form is sent the
focus moves to its result. One build (en, ar) is served by the intake service itself, as
`campaign serve` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.http import confirmation_links, serve_in_thread
from support.site import served_by_intake
from test_browser import ARGS, CHROMIUM, pytestmark  # noqa: F401 - skipped without Chromium
from test_site_build import make_repo, populate

playwright_api = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")
app_module = pytest.importorskip("campaign.intake.app")

AXE_VERSION = "4.12"
"""axe-core's version in axe-playwright-python 0.1.8 (its axe.min.js); checked, so an upgrade is seen."""
BAD = {"serious", "critical"}
DEEP = ["missions/pt-lisbon/", "missions/pt-lisbon/letter/", "signatories/pt/"]
"""Page kinds the navigation does not link directly: a mission, its printable letter, a country's names."""
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
    "desktop, dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
}
_people = count()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("accessibility")
    root = make_repo(base)
    populate(root, synthetic=30)
    with served_by_intake(root, base, languages="en,ar", burst=1000) as up:
        intake = up.intake
        # the intake without a site: its own front page
        bare, bare_thread, bare_url = serve_in_thread(app_module.create_app(intake, background=False))
        pw = playwright_api.sync_playwright().start()
        chromium = pw.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else "chromium", args=ARGS)
        yield {"url": up.url, "bare": bare_url, "outbox": up.outbox, "browser": chromium, "site": up.site}
        chromium.close()
        pw.stop()
        bare.should_exit = True
        bare_thread.join(timeout=10)


def pending_link(served: dict[str, Any], lang: str) -> str:
    """A new pending signature in `lang`, through the API; its confirmation link from the outbox."""
    n = next(_people)
    address = f"visitor.{n}@example.org"
    answer = httpx.post(served["url"] + "/api/signatures", json={
        "name": f"Visitor Number {n}", "country": "PT", "email": address, "mission": "pt-lisbon", "publish": True,
        "letter": True, "consent": "2026-11", "language": lang, "website": ""})
    assert answer.status_code == 202, answer.text
    return confirmation_links(served["outbox"])[address]


@pytest.fixture
def context(served: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Any]:
    screen = getattr(request, "param", "desktop")
    ctx = served["browser"].new_context(**SCREENS[screen])
    ctx.set_default_timeout(10_000)
    ctx.errors = []
    ctx.on("weberror", lambda e: ctx.errors.append(str(e.error)))
    yield ctx
    assert ctx.errors == []
    ctx.close()


def serious(page: Any, where: str) -> list[str]:
    """The page's serious and critical axe violations, one readable line each."""
    response = axe_playwright.Axe().run(page).response
    assert response["testEngine"]["version"].startswith(AXE_VERSION), response["testEngine"]
    assert len(response["passes"]) > 10, "axe checked the page"
    return [f"{where}: {v['id']} ({v['impact']}): {v['help']}: " + "; ".join(
                f"{' '.join(n['target'])} {n.get('failureSummary', '').splitlines()[-1].strip()}" for n in v["nodes"][:4])
            for v in response["violations"] if v["impact"] in BAD]


def settled(page: Any) -> None:
    """Wait until no CSS transition or animation runs: axe measures colours mid-fade otherwise."""
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')", timeout=10_000)


def page_kinds(page: Any, root: str) -> list[str]:
    """Every page of the navigation's tabs (a Deliveries page too, once there is one), then the deep ones."""
    page.goto(root)
    tabs = page.eval_on_selector_all(".md-tabs__link", "els => els.map(e => e.href)")
    assert len(tabs) >= 8, tabs
    return list(dict.fromkeys([*tabs, *(root + p for p in DEEP)]))


@pytest.mark.parametrize(("context", "lang"), [(screen, lang) for screen in SCREENS for lang in ("en", "ar")
                                               if lang == "en" or "dark" not in screen], indirect=["context"])
def test_no_serious_axe_violation_on_any_page(context: Any, served: dict[str, Any], lang: str) -> None:
    page = context.new_page()
    root = served["url"] + ("/" if lang == "en" else f"/{lang}/")
    found: list[str] = []
    kinds = page_kinds(page, root)
    for url in kinds:
        page.goto(url)
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.lang") == lang
        found += serious(page, url.removeprefix(served["url"]))
    page.goto(root + "sign/")
    page.click("button[type=submit]")  # the form with its errors shown
    page.locator("#sign-name-error").wait_for()
    settled(page)  # the focus moved to the errors: the page scrolled and the back-to-top button fades in
    found += serious(page, "sign/ (errors shown)")
    page.goto(pending_link(served, lang))
    assert page.evaluate("document.documentElement.lang") == lang
    found += serious(page, "confirm")
    page.click("button[type=submit]")
    page.locator("#next").wait_for()
    found += serious(page, "thank-you")
    page.goto(served["url"] + "/confirm/" + "x" * 40)
    found += serious(page, "unknown link")
    page.goto(served["bare"] + "/")
    found += serious(page, "intake front page (no site)")
    assert found == [], "\n".join(found)
    assert len(kinds) >= 11


FOCUS_STYLE = """el => { const s = getComputedStyle(el);
  return {outline: s.outlineStyle === 'none' ? 'none' : `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
          shadow: s.boxShadow, width: parseFloat(s.outlineWidth) || 0}; }"""
CONTROLS = (".md-content input:not([type=hidden]):not([tabindex='-1']), .md-content select, .md-content textarea, "
            ".md-content button")


def test_every_control_shows_where_the_focus_is(context: Any, served: dict[str, Any]) -> None:
    page = context.new_page()
    checked: list[str] = []
    for path in ("sign/", "missions/", "", "ar/sign/", "letter/"):
        page.goto(f"{served['url']}/{path}")
        page.keyboard.press("Tab")  # a keyboard user: :focus-visible applies to every control
        for control in page.locator(CONTROLS).all():
            if not control.is_visible():
                continue
            name = control.evaluate("el => el.id || el.name || el.textContent.trim() || el.type")
            control.evaluate("el => el.blur()")
            before = control.evaluate(FOCUS_STYLE)
            control.focus()
            after = control.evaluate(FOCUS_STYLE)
            assert control.evaluate("el => el === document.activeElement"), (path, name)
            assert after != before and (after["width"] >= 2 or after["shadow"] != "none"), (path, name, before, after)
            checked.append(control.evaluate("el => el.type || el.tagName"))
    assert {"text", "email", "checkbox", "select-one", "submit", "search"} <= set(checked), checked


def test_after_sending_the_form_the_focus_is_on_its_result(context: Any, served: dict[str, Any]) -> None:
    page = context.new_page()
    page.goto(served["url"] + "/sign/")
    page.fill("#sign-name", "Focus Person")
    page.select_option("#sign-country", "PT")
    page.fill("#sign-email", "focus.person@example.invalid")  # refused by the service
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('[data-sign-result]').dataset.state === 'error'")
    assert page.evaluate("document.activeElement.hasAttribute('data-sign-result')")
    page.fill("#sign-email", "focus.person@example.org")
    page.keyboard.press("Enter")  # sent from the keyboard, as many do
    page.wait_for_function("document.querySelector('[data-sign-result]').dataset.state === 'ok'")
    result = page.locator("[data-sign-result]")
    assert page.evaluate("document.activeElement.hasAttribute('data-sign-result')")
    assert "email" in result.inner_text().lower() and result.get_attribute("role") == "status"
    outline = result.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused result shows its focus"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_intake_s_pages_look_like_the_site(context: Any, served: dict[str, Any], lang: str) -> None:
    page = context.new_page()
    prefix = "" if lang == "en" else f"{lang}/"
    page.goto(f"{served['url']}/{prefix}sign/")
    look = """() => ({bar: getComputedStyle(document.querySelector('.md-header')).backgroundColor,
        font: getComputedStyle(document.body).fontFamily.replace(/^_, /, ''),  // the theme's placeholder first
        button: getComputedStyle(document.querySelector('.md-button--primary')).backgroundColor,
        dir: getComputedStyle(document.body).direction})"""
    site = page.evaluate(look)
    page.goto(pending_link(served, lang))
    intake = page.evaluate(look.replace(".md-header", ".bar").replace(".md-button--primary", ".button--primary"))
    assert intake == site
    assert page.locator("footer").inner_text().count("contact@free-assange.example.org") == 1
    page.click("button[type=submit]")
    page.locator("#next").wait_for()
    steps = page.locator("#next + ul.steps")
    hrefs = steps.locator("a").evaluate_all("els => els.map(e => e.href)")
    mission = f"{served['url']}/{prefix}missions/pt-lisbon/"
    action = f"{served['url']}/{prefix}take-part/#register-an-action"
    assert mission in hrefs and action in hrefs and any("bsky.app" in h for h in hrefs)
    page.click(f"a[href='{mission}']")  # the next steps lead into the site, in the signer's language
    page.wait_for_url(mission)
    assert page.evaluate("document.documentElement.lang") == lang
    page.goto(action)
    assert page.locator("#register-an-action").count() == 1

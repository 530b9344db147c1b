"""The built site in a real headless Chromium (Debian's, through Playwright).

Two builds of one repository are served over loopback by a small HTTP server: `/a/` without
an intake endpoint (the form offers the GitHub route), `/b/` with the intake on the same
origin (`CAMPAIGN_INTAKE_ENDPOINT=/`), where the server records `POST /api/signatures` the way
the intake service receives it. One browser serves the whole module.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from campaign.data import dataset
from campaign.data.models import Signature
from campaign.data.signatures import relative_path
from campaign.data.text import clean_name
from test_site_build import NAME_PAGES, XSS, build, make_repo, populate

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
FIELDS = {"name", "country", "email", "mission", "publish", "letter", "followup", "consent", "language", "website"}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                reason="Debian's chromium is not installed (scripts/setup installs it)")


class Handler(SimpleHTTPRequestHandler):
    """Static files of two builds, and a stand-in for the intake's POST /api/signatures."""

    sites: dict[str, Path] = {}
    received: list[dict[str, object]] = []

    def translate_path(self, path: str) -> str:
        parts = urlsplit(path).path.split("/", 2)
        if len(parts) >= 2 and parts[1] in self.sites:
            rest = parts[2] if len(parts) > 2 else ""
            target = self.sites[parts[1]] / rest
            return str(target)
        return "/nonexistent"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if urlsplit(self.path).path != "/api/signatures":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        payload = json.loads(body)
        self.received.append({"type": self.headers.get("Content-Type"), "payload": payload})
        if payload.get("name") == "Server Reject":
            status, answer = 422, {"detail": [{"loc": ["body", "email"], "msg": "This address has already signed."}]}
        else:
            status, answer = 202, {"message": "Thank you: check your inbox to confirm your signature."}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = make_repo(tmp_path_factory.mktemp("browser"))
    populate(root, synthetic=40)
    missions = root / "data/missions.yaml"  # Lisbon freshly checked: the one mission not "needing checking"
    missions.write_text(missions.read_text().replace("verified: '2018-09-27'", f"verified: '{dt.date.today()}'", 1))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler))
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    for dest, env in (("a", {}), ("b", {"CAMPAIGN_INTAKE_ENDPOINT": "/"})):
        # site_url where the build is served: instant navigation follows sitemap.xml's URLs
        result = build(root, f"site-{dest}", env={**env, "CAMPAIGN_SITE_URL": f"{base}/{dest}/"})
        assert result.returncode == 0, result.stderr[-3000:]
    Handler.sites = {"a": root / "site-a", "b": root / "site-b"}
    Handler.received = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    pw = playwright_api.sync_playwright().start()
    chromium = pw.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                  args=ARGS)
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    assert page.errors == []
    context.close()


def test_mission_page_offers_the_github_route_without_asking_for_email(page, server: str) -> None:
    page.goto(f"{server}/a/missions/no-oslo/")
    assert page.locator("[data-no-endpoint]").is_visible()
    assert page.locator("#sign-email").count() == 0
    assert page.locator("#sign-mission").input_value() == "no-oslo"
    assert page.eval_on_selector("#sign-mission", "s => s.selectedOptions[0].dataset.country") == "NO"
    page.fill("#sign-name", "  Ana   O'Brien <b>x</b> ")
    page.select_option("#sign-country", "IS")  # the mission follows the country of residence
    assert page.eval_on_selector("#sign-mission", "s => s.selectedOptions[0].dataset.country") == "IS"
    page.check("#sign-publish")
    page.click("button[type=submit]")
    link = page.locator("[data-github-link][data-ready]")
    link.wait_for()
    assert "Propose new file" in page.locator("[data-sign-result]").inner_text()
    href = link.get_attribute("href")
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "github.com", "/free-assange/letter/new/main")
    query = parse_qs(parts.query)
    text = query["value"][0]
    expected = Signature(type="individual", name="Ana O'Brien <b>x</b>", country="IS", mission="no-oslo",
                         signed=dt.date.today(), publish=True, letter=False, consent="2026-11", source="pull-request")
    assert query["filename"] == [relative_path(expected)]  # the same file name as `campaign sign`
    sig, _, problems = dataset.parse(query["filename"][0], text.encode(), Signature)
    assert problems == [] and sig == expected
    assert yaml.safe_load(text)["name"] == "Ana O'Brien <b>x</b>"


def test_client_side_validation_mirrors_the_server(page, server: str) -> None:
    page.goto(f"{server}/a/sign/")
    page.click("button[type=submit]")
    error = page.locator("#sign-name-error")
    assert error.is_visible() and error.inner_text() == "Give your full name."
    name = page.locator("#sign-name")
    assert name.get_attribute("aria-invalid") == "true"
    assert "sign-name-error" in name.get_attribute("aria-describedby").split()
    assert page.locator("#sign-country-error").is_visible()
    assert page.locator("#sign-mission-error").is_visible()
    assert page.evaluate("document.activeElement.id") == "sign-name"
    for typed, message in [("12345", "has no letters"), ("Ana\u200bBel", "U+200B"), ("A" * 201, "201 characters")]:
        page.fill("#sign-name", typed)
        page.click("button[type=submit]")
        assert message in error.inner_text()
    page.fill("#sign-name", "Ana Bel")
    assert not error.is_visible()  # typing clears the message
    page.select_option("#sign-country", "PT")
    page.click("button[type=submit]")
    page.locator("[data-github-link][data-ready]").wait_for()
    assert not page.locator(".campaign-error:visible").count()
    # The JS rules give the same answer as campaign.text.clean_name, for every kind of input.
    samples = ["Ana", "  Ana  Maria ", "Ａｎａ Ｂ", "a\u0301 b", "\u202eevil", "x" * 200, "x" * 201, "٣٤٥",
               "Ω", "\ue000pua", "tab\tname", "line\u2028break", "", "  ", "Ｘ" * 200, "ﬁ" * 150, "O'Brien-Smith",
               "Ana\u034fPereira", "\u3164", "\uffa0Kim", "Ana\u2800", "Zoe\ufe0f", "x\U000e0100", "\u115f\u1160", "a\u17b4",
               "Nguyễn Thị Ánh", "ệ\u0301\u0300", "ệ\u0301\u0300\u0302", "Za" + "\u0301" * 5 + "lgo", "a\u0301\u0302\u0303\u0304",
               "שָׁלוֹם", "བསྒྲུབས", "\u0410na"]
    for sample in samples:
        js = page.evaluate("s => window.campaign.cleanName(s)", sample)
        try:
            py = clean_name(sample)
        except ValueError:
            py = None
        assert (js.get("value") if "value" in js else None) == py, sample


def test_form_posts_the_intake_payload_and_shows_server_errors(page, server: str) -> None:
    Handler.received.clear()
    page.goto(f"{server}/b/missions/pt-lisbon/")
    assert page.locator("[data-no-endpoint]").count() == 0
    page.fill("#sign-name", "Maria  Silva")
    page.select_option("#sign-country", "PT")
    page.fill("#sign-email", "nope")
    page.click("button[type=submit]")
    assert "not a valid email" in page.locator("#sign-email-error").inner_text()
    assert Handler.received == []
    page.fill("#sign-email", "maria@example.net")
    page.check("#sign-letter")
    assert not page.is_checked("#sign-followup"), "the report is a separate consent, unticked"
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('[data-sign-result]').dataset.state === 'ok'")
    assert "check your inbox" in page.locator("[data-sign-result]").inner_text()
    assert len(Handler.received) == 1
    sent = Handler.received[0]
    assert sent["type"] == "application/json"
    assert sent["payload"] == {"name": "Maria Silva", "country": "PT", "email": "maria@example.net",
                               "mission": "pt-lisbon", "publish": False, "letter": True, "followup": False,
                               "consent": "2026-11", "language": "en", "website": ""}
    assert set(sent["payload"]) == FIELDS  # type: ignore[arg-type]
    page.fill("#sign-name", "Server Reject")
    page.fill("#sign-email", "maria@example.net")
    page.check("#sign-followup")
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('[data-sign-result]').dataset.state === 'error'")
    assert page.locator("#sign-email-error").inner_text() == "This address has already signed."
    assert page.locator("#sign-email").get_attribute("aria-invalid") == "true"
    assert Handler.received[1]["payload"]["followup"] is True


def test_names_with_markup_show_as_typed_and_open_no_dialog(page, server: str) -> None:
    for rel in NAME_PAGES:
        url = f"{server}/a/" + rel.removesuffix("index.html")
        page.goto(url)
        page.wait_for_timeout(50)
        shown = page.eval_on_selector_all(".campaign-name", "els => els.map(e => e.textContent)")
        assert any(name in shown for name in XSS), rel
        if "signatories" in rel or "letter" in rel or rel.startswith("actions"):
            assert set(XSS) <= set(shown), rel
        assert page.locator("img[src='x'], .md-content script, [onclick], [onerror], [onmouseover]").count() == 0, rel
        assert page.locator(".md-content em, .md-content b").count() == 0, rel
        for link in page.locator("a.campaign-name").all()[:3]:
            link.hover()
    assert page.dialogs == []


def test_instant_navigation_keeps_the_scripts_working(page, server: str) -> None:
    page.goto(f"{server}/a/")
    clock = page.locator("[data-countdown-clock]").inner_text()
    assert clock.endswith("to go") or "went out" in clock
    page.evaluate("window.__same_document = true")
    page.click(".md-tabs a:text-is('Sign')")
    page.wait_for_url("**/a/sign/")
    page.locator("#sign-name").wait_for()
    assert page.evaluate("window.__same_document === true")  # instant navigation, no reload
    page.click("button[type=submit]")
    assert page.locator("#sign-name-error").is_visible()
    page.click(".md-tabs a:text-is('Missions')")
    page.wait_for_url("**/a/missions/")
    page.locator("#campaign-missions-text").wait_for()
    assert page.evaluate("window.__same_document === true")
    page.fill("#campaign-missions-text", "oslo")
    assert page.locator("#campaign-missions tbody tr:visible").count() == 1
    assert page.locator("[data-filter-count]").inner_text() == "1 of 5 missions shown"
    page.fill("#campaign-missions-text", "")
    page.check("#campaign-missions-primary")
    assert page.locator("#campaign-missions tbody tr:visible").count() == 4
    page.uncheck("#campaign-missions-primary")
    page.check("#campaign-missions-check")
    flagged = page.locator("#campaign-missions tbody tr[data-check=yes]")
    assert flagged.count() == page.locator("#campaign-missions tbody tr:visible").count() == 4
    assert not page.locator("#campaign-missions tbody tr:has-text('Lisbon')").is_visible()
    flagged.first.locator("a.campaign-badge--warn").click()
    page.locator("#needs-checking").wait_for()
    page.go_back()
    page.locator("#campaign-missions-text").wait_for()
    page.click("button[data-sort='4']")
    header = page.locator("th:has(button[data-sort='4'])")
    assert header.get_attribute("aria-sort") == "ascending"
    letters = [int(v) for v in page.eval_on_selector_all(
        "#campaign-missions tbody tr td:nth-child(5)", "els => els.map(e => e.dataset.value)")]
    assert letters == sorted(letters)


def test_printable_letter_is_laid_out_for_paper(page, server: str) -> None:
    page.goto(f"{server}/a/missions/pt-lisbon/letter/")
    assert page.locator(".md-header").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".md-header").is_visible()
    assert not page.locator(".campaign-noprint").first.is_visible()
    assert page.locator(".campaign-letter").is_visible()
    letter_text = page.locator(".campaign-letter").inner_text()
    assert "To the British Embassy Lisbon, for the attention of" in letter_text and "Lisbon, Lisbon" not in letter_text
    brk = page.eval_on_selector(".campaign-print-signatories", "e => getComputedStyle(e).breakBefore")
    assert brk == "page"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2


def test_form_signs_through_the_real_intake_service(browser, tmp_path: Path) -> None:
    """The site served by the intake service itself (as `campaign serve` does): sign in the
    browser, get the confirmation mail in the file outbox; a field the server refuses is
    marked next to the field."""
    app_module = pytest.importorskip("campaign.intake.app")
    from campaign.data.models import IntakeLimits
    from campaign.intake.service import Intake, Settings
    from support.http import confirmation_links, serve_in_thread

    root = make_repo(tmp_path)
    result = build(root, "site", env={"CAMPAIGN_INTAKE_ENDPOINT": "/"})
    assert result.returncode == 0, result.stderr[-3000:]
    outbox = tmp_path / "outbox"
    intake = Intake(Settings(root=root, db=tmp_path / "intake.sqlite3", public_url="http://127.0.0.1:1",
                             key=b"k" * 32, mail_backend="file", mail_options={"outbox": outbox},
                             limits=IntakeLimits(burst=100, hourly=1000, max_body=4096)))
    server, thread, url = serve_in_thread(app_module.create_app(intake, site_dir=root / "site", background=False))
    intake.settings.public_url = url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/missions/pt-lisbon/")
        page.fill("#sign-name", "Ana Pereira")
        page.select_option("#sign-country", "PT")
        page.fill("#sign-email", "ana@example.invalid")
        page.click("button[type=submit]")
        page.wait_for_function("document.querySelector('[data-sign-result]').dataset.state === 'error'")
        assert page.locator("#sign-email-error").is_visible()  # refused by the service, shown at the field
        page.fill("#sign-email", "ana.pereira@example.org")
        page.check("#sign-publish")
        page.click("button[type=submit]")
        page.wait_for_function("document.querySelector('[data-sign-result]').dataset.state === 'ok'")
        assert "email" in page.locator("[data-sign-result]").inner_text()
        assert list(confirmation_links(outbox)) == ["ana.pereira@example.org"]
        assert intake.status()["pending"] == 1
        assert errors == []
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=10)
        intake.close()


def test_every_country_shows_its_own_mission_label(browser, tmp_path: Path) -> None:
    """The real mission directory: many countries share a mission (Portugal and Cabo Verde both
    write to Lisbon). Choosing a country must select that country's own option, never the first
    option with the same mission id; checked for every country in the form, and for the
    preselected country of a mission page."""
    from jinja2 import Environment, FileSystemLoader

    from campaign.data import countries
    from campaign.site.pages import Site
    from support.builders import ROOT

    ds = dataset.load(ROOT, use_cache=False)
    site = Site(ds, endpoint="/")
    env = Environment(loader=FileSystemLoader(str(ROOT / "docs" / "overrides")), extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(site.words.gettext, site.words.ngettext, newstyle=True)  # type: ignore[attr-defined]
    script = (ROOT / "docs" / "javascripts" / "campaign.js").read_text(encoding="utf-8")
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for preselect in (None, "PT", "CV"):
            form = site.form(preselect)
            html = env.get_template("partials/sign-form.html").render(form=form, privacy="#", take_part="#")
            page.set_content(f"<!doctype html><html><body>{html}</body></html>")
            page.add_script_tag(content=script)
            shown = lambda: page.eval_on_selector(
                "#sign-mission", "s => [s.selectedOptions[0].dataset.country, s.selectedOptions[0].textContent]")
            if preselect:
                code, label = shown()
                assert code == preselect and label.startswith(countries.name(preselect) + ":"), label
                continue
            codes = [o["country"] for o in form["missions"]]
            shared = {o["mission"] for o in form["missions"] if sum(p["mission"] == o["mission"] for p in form["missions"]) > 1}
            assert len(codes) > 150 and len(shared) > 20, "the real directory, with shared missions"
            for code in codes:
                page.select_option("#sign-country", code)
                shown_code, label = shown()
                assert shown_code == code and label.startswith(countries.name(code) + ":"), (code, label)
                assert page.eval_on_selector("#sign-mission", "s => s.value") == ds.serving[code].id
        assert errors == []
    finally:
        context.close()

"""The public delivery record: the mission pages' record, the Deliveries page and its world map,
built for real with `campaign build` (every language) from a ledger fixture, read in the built
files and once in headless Chromium; and no URL to another host anywhere in the built site,
but in links a person clicks.

The ledger fixture (tests/fixtures/ledger/, see its README) holds the lines dispatch and
`campaign dispatch bounces` write: letters accepted with their servers' replies, one deferred,
one refused, two bounced (one sent again by the fallback route), a reply and an automatic
reply. The library parts are also tested directly, and once on a ledger a real dispatch wrote
against aiosmtpd, with a real Postfix DSN read back by `campaign dispatch bounces`.
"""

from __future__ import annotations

import datetime as dt
import email.message
import functools
import json
import mailbox
import os
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from html import unescape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from campaign.data.dataset import load
from campaign.mail.replies import queue_id
from campaign.records import ledger
from campaign.records.ledger import Ledger
from campaign.site import deliveries, worldmap
from support import hosts
from support.builders import FIXTURES, run
from support.dispatch import ALL_DUE, LEDGER, add_signatures, dispatch, dsn_for, smtp_env
from support.smtp import SmtpTestServer
from support.site import make_repo
from test_site_build import populate

LANGS = ["en", "es", "pt", "fr", "ar"]
FIXTURE = FIXTURES / "ledger" / "free-assange-2026-12-10.jsonl"
A, B, C, D = "s-1a2b3c4d5e6f7081", "s-2b3c4d5e6f708192", "s-3c4d5e6f708192a3", "s-4d5e6f708192a3b4"
E, F = "s-5e6f708192a3b4c5", "s-6f708192a3b4c5d6"
PRIVATE = ["PRIVATE", "Private Reader Subject", "Out of office until", "gh-12345678-1", "local-20261210T151000Z", "correspondence.test@example.org", "Message refused by policy",
           "Try again later", "3a9e0c1d2e"]
"""What the ledger fixture holds that the site must not publish: reply subjects, replies of the
server, mail ids, runs, the fallback address and the letters' Message-IDs. (A hard bounce's
diagnostic about a mission's address is shown on purpose, in the mission page's "needs checking"
box: records/findings.py.)"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The site in every language, built from the ledger fixture and served over loopback (its
    site_url is where it is served: the only host the site may name)."""
    root = make_repo(tmp_path_factory.mktemp("deliveries"))
    populate(root, synthetic=30)
    (root / "data/dispatch").mkdir()
    shutil.copy(FIXTURE, root / LEDGER)
    (root / "data/dispatch/other-campaign-2025-12-10.jsonl").write_text(FIXTURE.read_text().replace(A, "s-0000000000000000"))
    site = root / "site"
    site.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    own = f"127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    done = subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "build", "-d", str(site)], cwd=root,
                          env={**env, "CAMPAIGN_SITE_URL": f"http://{own}/", "NO_MKDOCS_2_WARNING": "1"},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:] + done.stdout[-2000:]
    ds = load(root)
    actions = Counter((r.model.mission, r.model.type) for r in ds.actions)
    assert ds.campaign is not None
    hosts_ = {own, hosts.host(ds.campaign.site_url)}  # served here; the Open Graph image names the campaign's own site
    yield {"root": root, "site": site, "own": own, "hosts": hosts_, "url": f"http://{own}", "actions": actions}
    httpd.shutdown()
    httpd.server_close()


def page(served: dict[str, Any], lang: str, path: str) -> str:
    base = served["site"] if lang == "en" else served["site"] / lang
    return (base / path).read_text(encoding="utf-8")


def section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def rows(html: str, attribute: str) -> dict[str, str]:
    """Each table row's HTML by its data-letter / data-mission attribute."""
    return {m.group(1): m.group(2) for m in re.finditer(rf'<tr {attribute}="([^"]+)"[^>]*>(.*?)</tr>', html, re.DOTALL)}


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- the built site -----------------------------------------------------------------------


def test_the_mission_page_shows_its_letters_bounces_replies_and_actions(served: dict[str, Any]) -> None:
    record = section(page(served, "en", "missions/pt-lisbon/index.html"), 'id="record"', 'id="call"')
    said = text(record)
    actions = served["actions"]
    assert "2 letters accepted by the mail server: from 10 Dec 2026, 09:00:01 to 10 Dec 2026, 09:00:04 local time" in said
    assert "1 letter bounced" in said and "1 letter waiting to be retried or checked" in said
    assert "1 letter answered (and 1 automatic reply)" in said
    deliveries_n, calls_n = actions[("pt-lisbon", "delivery")], actions[("pt-lisbon", "call")]
    assert deliveries_n and calls_n
    assert f"{deliveries_n} deliveries in person registered" in said and f"{calls_n} phone calls registered" in said
    letters = rows(record, "data-letter")
    assert list(letters) == [A, B, D, C]  # the notable ones first (a reply, a bounce, an automatic reply), then by time
    assert text(letters[A]) == f"{A} 10 Dec 2026, 09:00:01 4QbW1n2xYz email Accepted by the mail server 1 reply"
    assert '<time datetime="2026-12-10T09:00:01.420000+00:00">' in letters[A]
    assert text(letters[B]) == f"{B} 10 Dec 2026, 09:00:02 4QbW1p3Abc email Bounced (status 5.1.1)"
    assert text(letters[D]) == f"{D} 10 Dec 2026, 09:00:04 4QbW1q9Def email Accepted by the mail server 1 automatic reply"
    assert text(letters[C]) == f"{C} email Waiting to be retried"
    assert "@" not in record, "no address in the record"
    assert record.count('<th scope="col">') == 6 and record.count('<th scope="row">') == 4 and "<caption>" in record


def test_a_letter_sent_again_after_a_bounce_and_a_refused_one(served: dict[str, Any]) -> None:
    record = section(page(served, "en", "missions/us-washington/index.html"), 'id="record"', 'id="call"')
    letters = rows(record, "data-letter")
    # 11:00 in Washington (UTC-5): the fallback's reply; the first queue id went with the bounce
    assert text(letters[E]) == (f"{E} 10 Dec 2026, 11:00:01 1uXyZa-000abc-De fallback address Accepted by the mail server "
                                "(sent again after a bounce, status 5.2.2)")
    assert text(letters[F]) == f"{F} email Refused by the mail server"
    assert "7Hd8Kl2Mn" not in record
    said = text(record)
    assert "1 letter accepted by the mail server: at 10 Dec 2026, 11:00:01 local time" in said
    assert "0 letters bounced" in said and "1 letter refused by the mail server" in said


def test_a_mission_without_letters_says_so(served: dict[str, Any]) -> None:
    record = section(page(served, "en", "missions/to-nukualofa/index.html"), 'id="record"', 'id="call"')
    assert "No letter to this mission is in the dispatch ledger yet." in text(record)
    assert "0 letters accepted by the mail server" in text(record) and "<table" not in record


def test_the_deliveries_page_shows_every_mission(served: dict[str, Any]) -> None:
    html = page(served, "en", "deliveries/index.html")
    actions = served["actions"]
    table = rows(html, "data-mission")
    assert set(table) == {"pt-lisbon", "no-oslo", "to-nukualofa", "us-washington", "us-chicago"}
    assert text(table["pt-lisbon"]) == (f"British Embassy Lisbon Portugal A reply received paper 2 1 1 "
                                        f"{actions[('pt-lisbon', 'delivery')]} {actions[('pt-lisbon', 'call')]} 10 Dec 2026, 09:00:04")
    assert 'data-state="replied"' in html and '<a href="../missions/pt-lisbon/#record">' in html
    assert text(table["us-washington"]) == "British Embassy Washington United States Letters bounced or refused email 1 1 0 0 0 10 Dec 2026, 11:00:01"
    assert text(table["no-oslo"]).startswith("British Embassy Oslo Norway Delivered in person or called contact form 0 0 0")
    assert text(table["to-nukualofa"]).startswith("British High Commission Nuku'alofa Tonga Letters waiting to be sent email 0")
    assert "No letters yet" in text(table["us-chicago"])
    said = text(html[:html.index('id="map"')])
    assert "3 letters accepted by the mail server" in said and "1 letter refused by the mail server" in said
    assert "1 letter bounced" in said, "only the fixture's campaign: another campaign's ledger is not read"
    assert "3 missions reached so far" in said  # Lisbon and Washington by email, Oslo in person
    assert '<img src="map.svg" width="1000" height="680" alt="World map' in html
    assert html.count('<th scope="col">') == 10 and html.count('<th scope="row">') == 5
    nav = re.findall(r'class="md-tabs__link[^"]*">\s*([^<]+?)\s*</a>', html)
    assert "Deliveries" in nav


def test_the_record_in_another_language(served: dict[str, Any]) -> None:
    es = page(served, "es", "deliveries/index.html")
    assert "Entregas" in es and "3 cartas aceptadas por el servidor de correo" in es
    table = rows(es, "data-mission")
    assert text(table["us-washington"]).startswith("British Embassy Washington Estados Unidos Cartas rebotadas o rechazadas")
    assert "10 dic 2026, 11:00:01" in table["us-washington"]
    fr = section(page(served, "fr", "missions/pt-lisbon/index.html"), 'id="record"', 'id="call"')
    assert "Renvoyée (statut 5.1.1)" in text(fr) and "Suivi des remises" in fr and "10 déc. 2026, 09:00:01" in fr
    pt = page(served, "pt", "deliveries/index.html")
    assert "Mapa do mundo das cartas" in pt
    ar = page(served, "ar", "deliveries/index.html")
    assert '<body dir="rtl"' in ar and 'data-mission="pt-lisbon"' in ar


def test_the_map_is_a_static_svg_in_each_language(served: dict[str, Any]) -> None:
    for lang in LANGS:
        svg = page(served, lang, "deliveries/map.svg")
        assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" id="chart-deliveries-map"'), lang
        assert "<script" not in svg and "<metadata" not in svg and "<!--" not in svg
        assert set(re.findall(r"https?://[^\s\"'<>)]+", svg)) == {"http://www.w3.org/2000/svg"}, lang
        assert hosts.html(svg) == [] and hosts.css(svg) == [], lang
    en, es = page(served, "en", "deliveries/map.svg"), page(served, "es", "deliveries/map.svg")
    assert '<g class="pt country map-element color-0 serie-0 series"' in en  # replied: the legend's first state
    assert "<title>Portugal: A reply received</title>" in en and "<title>Norway: Delivered in person or called</title>" in en
    assert "<title>United States: Letters bounced or refused</title>" in en and "<title>Tonga: Letters waiting" in en
    assert "<title>Estados Unidos: Cartas rebotadas o rechazadas</title>" in es and "<title>Noruega:" in es
    assert len(en) < 1_000_000


def test_no_url_to_another_host_anywhere_but_in_links(served: dict[str, Any]) -> None:
    site = served["site"]
    found = list(hosts.references(site))
    assert len({rel for rel, _, _ in found}) > 100, "the scan reads the pages (their canonical links name the site)"
    assert hosts.foreign(site, served["hosts"]) == []
    clicked = sum(len(re.findall(r'<a [^>]*href="https?://(?!127\.0\.0\.1)', p.read_text())) for p in site.rglob("*.html"))
    assert clicked > 0, "links to other hosts exist, and are allowed"


def test_the_only_other_hosts_in_the_javascript_are_material_s_lazy_loaders(served: dict[str, Any]) -> None:
    """Material's bundle names unpkg.com (a ResizeObserver polyfill for browsers without one, and
    mermaid for diagrams) and the GitHub and GitLab APIs (repository facts, with `repo_url`):
    code that never runs here, and the site triggers none of it; campaign.js names github.com to
    build the "propose a new file" link (an <a href> a person clicks)."""
    lazy = {"https://unpkg.com/resize-observer-polyfill", "https://unpkg.com/mermaid@", "https://api.github.com/",
            "https://${"}
    for rel, urls in hosts.literals(served["site"]).items():
        if rel.endswith("javascripts/campaign.js"):
            assert urls == {"https://github.com/"}, rel
            assert 'link.href = "https://github.com/' in (served["site"] / rel).read_text()
        else:
            assert re.search(r"assets/javascripts/bundle\.[0-9a-f]+\.min\.js$", rel), rel
            assert all(any(u.startswith(p) for p in lazy) for u in urls), (rel, urls)
    pages = "".join(p.read_text() for p in served["site"].rglob("*.html"))
    assert 'class="mermaid"' not in pages and 'data-md-component="source"' not in pages


def test_nothing_private_from_the_ledger_reaches_the_site(served: dict[str, Any]) -> None:
    found = {}
    for path in served["site"].rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".svg", ".xml", ".js"):
            content = path.read_text(encoding="utf-8", errors="replace")
            found.update({s: path.name for s in PRIVATE if s in content})
    assert found == {}


# --- in Chromium ----------------------------------------------------------------------------


def test_in_chromium_the_record_shows_and_nothing_is_fetched_elsewhere(served: dict[str, Any]) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    from test_browser import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (scripts/setup installs it)")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                     args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        tab = context.new_page()
        requests: list[str] = []
        errors: list[str] = []
        tab.on("request", lambda r: requests.append(r.url))
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(f"{served['url']}/deliveries/")
        tab.wait_for_load_state("networkidle")
        image = tab.locator("figure.campaign-map img")
        assert image.evaluate("img => img.complete && img.naturalWidth") == 1000  # the SVG loads as an image
        assert image.get_attribute("alt").startswith("World map")
        row = tab.locator('tr[data-mission="pt-lisbon"]')
        assert row.locator("th").inner_text() == "British Embassy Lisbon"
        assert row.locator('[data-count="sent"]').inner_text() == "2"
        assert tab.locator("h1").count() == 1 and tab.locator("h1").inner_text() == "Deliveries"
        row.locator("a").click()  # instant navigation to the mission page's record
        tab.wait_for_url(re.compile(r"/missions/pt-lisbon/#record$"))
        letter = tab.locator(f'tr[data-letter="{B}"]')
        assert letter.locator("[data-queue-id]").inner_text() == "4QbW1p3Abc"
        assert "Bounced (status 5.1.1)" in letter.inner_text()
        assert tab.locator("#record").is_visible()
        tab.goto(f"{served['url']}/es/missions/us-washington/")
        tab.wait_for_load_state("networkidle")
        assert "reenviada tras un rebote" in tab.locator(f'tr[data-letter="{E}"]').inner_text()
        browser.close()
    assert errors == []
    assert requests and {hosts.host(u) for u in requests} == {served["own"]}, sorted(set(requests))


# --- the library, directly ------------------------------------------------------------------


def test_the_scanner_finds_every_kind_of_reference(tmp_path: Path) -> None:
    """The no-other-host test's own check: each way a file can make a browser fetch is found."""
    (tmp_path / "a.html").write_text(
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><link rel="stylesheet" href="https://cdn.test/x.css">'
        '<script src="//cdn.test/x.js"></script><style>@import "https://fonts.test/f.css"; b{background:url(https://img.test/b.png)}</style>'
        '<meta property="og:image" content="https://own.test/card.png"></head><body>'
        '<a href="https://clicked.test/">a link</a><img src="https://img.test/i.png" alt="https://alt.test/ is text">'
        '<img srcset="/a.png 1x, https://img.test/i2.png 2x"><div style="background-image: url(\'https://img.test/s.png\')"></div>'
        '<form action="https://post.test/"></form><div data-endpoint="https://api.test/"></div>'
        '<iframe src="https://tiles.test/map"></iframe><script>fetch("https://beacon.test/hit")</script></body></html>')
    (tmp_path / "b.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                                    '<script xlink:href="https://kozea.test/pygal-tooltips.js"/><image href="https://img.test/t.png"/></svg>')
    (tmp_path / "c.css").write_text('/* https://comment.test/ */ @font-face{src:url("https://fonts.test/a.woff2")}')
    (tmp_path / "d.js").write_text('// https://comment.test/\nconst s=document.createElement("script");s.src="https://cdn.test/late.js";'
                                   'importScripts("https://cdn.test/w.js");new Worker("https://cdn.test/w2.js");'
                                   'x.open("GET","https://api.test/x");link.href="https://clicked.test/";')
    (tmp_path / "e.json").write_text(json.dumps({"text": 'see https://text.test/ <img src="https://img.test/j.png">',
                                                 "css": "url(https://img.test/j.css.png)"}))
    found = {url for _, url in (line.split(": ", 1)[1].rsplit(" ", 1) for line in [
        f"{r}: {w} {u}" for r, w, u in hosts.references(tmp_path)])}
    assert found == {"https://cdn.test/x.css", "//cdn.test/x.js", "https://fonts.test/f.css", "https://img.test/b.png",
                     "https://own.test/card.png", "https://img.test/i.png", "https://img.test/i2.png", "https://img.test/s.png",
                     "https://post.test/", "https://api.test/", "https://tiles.test/map", "https://beacon.test/hit",
                     "https://kozea.test/pygal-tooltips.js", "https://img.test/t.png", "https://fonts.test/a.woff2",
                     "https://cdn.test/late.js", "https://cdn.test/w.js", "https://cdn.test/w2.js", "https://api.test/x",
                     "https://img.test/j.png", "https://img.test/j.css.png"}
    assert all("own.test" not in line for line in hosts.foreign(tmp_path, {"own.test"}))
    assert len(hosts.foreign(tmp_path, {"own.test"})) == len(found) - 1


@pytest.mark.parametrize(("reply", "expected"), [
    ("250 2.0.0 Ok: queued as 4QbW1n2xYz", "4QbW1n2xYz"),  # Postfix
    ("250 OK queued as 7", "7"),  # the aiosmtpd test server
    ("250 OK id=1uXyZa-000abc-De", "1uXyZa-000abc-De"),  # Exim
    ("250 2.6.0 <x@y> [InternalId=123456789, Hostname=AM0PR] Queued mail for delivery", "123456789"),  # Exchange
    ("250 2.0.0 5B9KxYz1012345 Message accepted for delivery", "5B9KxYz1012345"),  # Sendmail
    ("250 2.0.0 OK  1702213456 a1-20020a170902.123 - gsmtp", "a1-20020a170902.123"),  # Gmail
    ("250 OK", ""), ("written to outbox/1.eml", ""), ("", ""),
])
def test_queue_ids_of_the_common_servers(reply: str, expected: str) -> None:
    assert queue_id(reply) == expected


def test_the_ledger_keeps_when_a_letter_was_accepted_and_its_reply(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.jsonl") as book:
        book.append("s-1", "sending", "m", "<1@x>", attempt=1)
        book.append("s-1", "sent", "m", "<1@x>", attempt=1, detail="250 2.0.0 Ok: queued as AAA")
        book.append("s-1", "bounced", "m", "<1@x>", permanent=True, status="5.1.1")
        book.append("s-2", "sending", "m", "<2@x>", attempt=1)
        book.append("s-2", "unknown", "m", "<2@x>", detail="link lost after DATA")
        book.append("s-2", "resolved", "m", "<2@x>", outcome="sent", detail="settled by hand")
    again = Ledger(tmp_path / "l.jsonl")
    one, two = again.letters["s-1"], again.letters["s-2"]
    assert (one.state, one.reply, one.hard_bounces) == ("bounced", "250 2.0.0 Ok: queued as AAA", ["5.1.1"])
    assert one.sent_at and one.sent_at <= one.at  # the same instant on a fast machine
    assert two.state == "sent" and two.reply == "" and two.sent_at == two.tried_at  # sent when it was handed over


def test_the_record_of_the_fixture_ledger() -> None:
    from campaign.data.models import Campaign

    campaign = Campaign.model_construct(id="free-assange")
    books = {"data/dispatch/free-assange-2026-12-10.jsonl": Ledger(FIXTURE), "data/dispatch/other-2026.jsonl": Ledger(FIXTURE)}
    found = deliveries.read(books, campaign, [], {"pt-lisbon": 4, "to-nukualofa": 2}, ["pt-lisbon", "to-nukualofa", "us-chicago"])
    lisbon, washington = found.of("pt-lisbon"), found.of("us-washington")
    assert (lisbon.sent, lisbon.bounced, lisbon.pending, lisbon.replied, lisbon.auto_replied) == (2, 1, 1, 1, 1)
    assert lisbon.first_sent == dt.datetime(2026, 12, 10, 9, 0, 1, 420000, tzinfo=dt.UTC)
    assert [x.key for x in lisbon.shown()] == [A, B, D, C] and [x.key for x in lisbon.shown(2)] == [A, B]
    assert (washington.sent, washington.failed, washington.state) == (1, 1, "bounced")
    assert found.of(E) == deliveries.Record()  # a letter key is no mission
    assert {k: found.of(k).state for k in ("pt-lisbon", "to-nukualofa", "us-chicago")} == {
        "pt-lisbon": "replied", "to-nukualofa": "waiting", "us-chicago": "none"}
    assert found.total.sent == 3 and found.reached() == 2  # the other campaign's file is not read


def test_the_map_alone(tmp_path: Path) -> None:
    legend = {"replied": "Replied", "sent": "Sent"}
    svg = worldmap.render("Letters", legend, {"PT": "sent", "NO": "replied", "XX": "sent"}, {"PT": "Portugal"}, "Nothing yet")
    assert svg == worldmap.render("Letters", legend, {"PT": "sent", "NO": "replied", "XX": "sent"}, {"PT": "Portugal"}, "Nothing yet")
    assert "<title>Portugal: Sent</title>" in svg and "<title>NO: Replied</title>" in svg
    assert 'class="pt country map-element color-1 serie-1 series"' in svg and "#2e7d32" in svg
    assert "<script" not in svg and "kozea" not in svg and "Nothing yet" not in svg
    empty = worldmap.render("Letters", legend, {}, {}, "Nothing yet")
    assert "Nothing yet" in empty and "<script" not in empty
    (tmp_path / "map.svg").write_text(svg)
    assert hosts.foreign(tmp_path, {"nowhere.test"}) == []


def contrast(a: str, b: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_map_s_colours_stand_out_from_the_land_and_the_sea() -> None:
    """WCAG 1.4.11 (non-text contrast, 3:1) for each state's fill against a country without one
    and against the sea."""
    for state, colour in worldmap.COLOURS.items():
        assert contrast(colour, worldmap.LAND) >= 3 and contrast(colour, "#ffffff") >= 3, state
    assert set(worldmap.COLOURS) == set(deliveries.STATES) - {"none"}


def test_a_real_dispatch_and_a_real_bounce_make_the_record(repo: Path, tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    """Against aiosmtpd: the queue ids are the server's replies; a Postfix DSN and a reply read
    by `campaign dispatch bounces` show as a bounce and a reply."""
    text_ = (repo / "data/campaign.yaml").read_text(encoding="utf-8")
    (repo / "data/campaign.yaml").write_text(text_.replace("  throttle:\n", "  envelope: 'bounces+{key}@free-assange.example.org'\n  throttle:\n"))
    add_signatures(repo, "pt-lisbon", 2)
    sent = dispatch(repo, "--backend", "smtp", "--now", ALL_DUE, "--no-throttle", env=smtp_env(smtp_server))
    assert sent.exit_code == 0, sent.output
    first, second = smtp_server.messages
    key = first.mail_from.split("+")[1].split("@")[0]
    other = second.mail_from.split("+")[1].split("@")[0]
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(dsn_for(key, first.message_id, "lisbon.test@example.org", first.mail_from))
    reply = email.message.EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "Consul <consul@example.org>", "contact@free-assange.example.org", "Re: letter"
    reply["Message-ID"], reply["In-Reply-To"] = "<reply-1@example.org>", second.message_id
    reply.set_content("Thank you.")
    box.add(reply.as_bytes())
    assert run(repo, "dispatch", "bounces", "--maildir", str(tmp_path / "Maildir")).exit_code == 0
    books = ledger.every(repo)
    ds = load(repo)
    found = deliveries.read(books, ds.campaign, [], {}, ["pt-lisbon"]).of("pt-lisbon")
    letters = {x.key: x for x in found.letters}
    assert (letters[key].state, letters[key].queue_id, letters[key].bounces) == ("bounced", "1", ("5.1.1",))
    assert (letters[other].state, letters[other].queue_id, letters[other].replies) == ("sent", "2", 1)
    assert found.sent == 1 and found.bounced == 1 and found.replied == 1


def test_times_are_the_mission_s_local_time_in_the_reader_s_language() -> None:
    from campaign.data import locales

    moment = dt.datetime(2026, 12, 10, 14, 0, 3, tzinfo=dt.UTC)
    assert locales.local_moment(moment, "America/New_York") == "10 Dec 2026, 09:00:03"
    assert locales.local_moment(moment, "Pacific/Tongatapu", "es") == "11 dic 2026, 3:00:03"
    assert locales.local_moment(moment, "Europe/Lisbon", "fr") == "10 déc. 2026, 14:00:03"

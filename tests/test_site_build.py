"""The campaign site, built for real: `mkdocs build --strict` into a temporary copy.

One module-scoped build holds the fixture missions, ~2,000 synthetic signatures (so that
country lists split into pages), signatures and actions whose names carry HTML, Markdown,
attribute and Jinja syntax, organisations with https links, and fingerprints of known email
addresses. The tests read the built files; `test_browser.py` drives the same kind of build in
Chromium. Helpers here are shared with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import re
import shutil
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

from campaign.data.dataset import load
from campaign.data.models import Action, Signature
from campaign.data.signatures import relative_path, to_yaml
from campaign.data import countries
from campaign.records import counters as stats
from campaign.records import published
from campaign.site import links as site_links
from campaign.site import pages as campaign_site
from support import pdf
from support.builders import ROOT, run
from support.site import build, copy_hooks, make_repo

KEY = b"test-fingerprint-key-0123456789abcdef"

# Names the validator accepts that carry markup of every kind the site might interpret.
XSS = [
    "Ana <img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "*Bo* _b_",
    "Bob { onclick=alert(1) }",
    "{{ config }}",
    "Eve <script>alert(2)</script>",
    "Zoë \"quoted\" & 'single' <b>bold</b>",
    "<!-- campaign:counters --> Mallory",
    "Tom &amp; Jerry &lt;i&gt;",
    "{% raw %}Raw{% endraw %} ${alert(3)}",
]
EVIL_URL = "https://example.org/a\"onmouseover=\"alert(4)'x=<b>"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2"
    "21bc330000000049454e44ae426082")

GIVEN = ["Ana", "José", "Zoë", "Siobhán", "Łukasz", "Олена", "Γιώργος", "محمد", "דוד", "अनन्या",
         "明", "지민", "Ngozi", "O'Brien", "Jean-Pierre", "Tūhoe", "Ülle", "Kwame"]
FAMILY = ["Pereira", "Müller", "Smith", "García Márquez", "Nowak", "Иванова", "Παπαδόπουλος",
          "الخطيب", "כהן", "शर्मा", "田中", "김", "Okonkwo", "Ólafsdóttir", "Øster", "Şahin"]


def signer_email(i: int) -> str:
    return f"signer.{i}.private@mailbox-{i % 7}.example.net"


def fingerprint(email: str) -> str:
    return hmac.new(KEY, email.casefold().encode(), hashlib.sha256).hexdigest()


def write_signature(root: Path, sig: Signature) -> str:
    rel = relative_path(sig)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(sig), encoding="utf-8")
    return rel


def write_action(root: Path, name: str, action: Action) -> str:
    rel = f"data/actions/{name}.yaml"
    from campaign.data import yamlio
    (root / rel).write_text(yamlio.dumps(action.model_dump(mode="json", exclude_defaults=True)), encoding="utf-8")
    for photo in action.photos:
        target = root / "docs" / photo
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(PNG)
    return rel


def synthetic_names(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {i:x}" for i in range(count)]


def populate(root: Path, synthetic: int = 2000) -> dict[str, object]:
    """Signatures and actions for the site tests; returns what the tests look for."""
    emails: list[str] = []
    day = dt.date(2026, 10, 1)

    def sign(i: int, **fields: object) -> Signature:
        email = signer_email(i)
        emails.append(email)
        sig = Signature(signed=day, fingerprint=fingerprint(email), source="form", **fields)  # type: ignore[arg-type]
        write_signature(root, sig)
        return sig

    n = 0
    for name in XSS:  # individuals in Portugal (named), organisations in Norway, actions by them
        sign(n, type="individual", name=name, country="PT", mission="pt-lisbon", publish=True, letter=True)
        sign(n + 1, type="organisation", name=name, country="NO", publish=True, letter=True,
             url=EVIL_URL if name == XSS[0] else "https://example.org/" + str(n))
        n += 2
    for i, name in enumerate(XSS):
        write_action(root, f"action-{i}", Action(
            type="delivery" if i % 2 else "call", mission="pt-lisbon" if i % 3 else "no-oslo",
            date=dt.date(2026, 12, 10), by=name, description=f"{name}\nsecond line <i>\n\nnew paragraph",
            photos=[f"assets/actions/2026/photo-{i}.png"] if i % 2 == 0 else []))
    hidden = ["Hidden Person Unpublished", "Hidden Organisation Unpublished"]
    sign(n, type="individual", name=hidden[0], country="US", mission="us-washington", publish=False, letter=True)
    sign(n + 1, type="organisation", name=hidden[1], country="US", publish=False, letter=True,
         url="https://example.org/hidden")
    n += 2
    rng = random.Random(5)
    codes = ["US"] * 6 + ["PT", "NO", "IS", "TO"]
    missions = {"US": "us-washington", "PT": "pt-lisbon", "NO": "no-oslo", "IS": "no-oslo", "TO": "to-nukualofa"}
    for name in synthetic_names(synthetic):
        code = rng.choice(codes)
        sign(n, type="individual", name=name, country=code, mission=missions[code],
             publish=rng.random() < 0.9, letter=rng.random() < 0.95)
        n += 1
    return {"emails": emails, "hidden": hidden, "xss": XSS}


# --- reading the built site ------------------------------------------------------------------


class Links(HTMLParser):
    """Every a[href], and the text of every element with class campaign-name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.names: list[str] = []
        self._depth = 0
        self._buf: list[str] = []
        self.attrs_seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.attrs_seen.append((tag, found))
        if tag == "a" and found.get("href"):
            self.hrefs.append(found["href"] or "")
        if self._depth:
            self._depth += 1
        elif "campaign-name" in (found.get("class") or "").split():
            self._depth, self._buf = 1, []

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1
            if not self._depth:
                self.names.append("".join(self._buf))

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._buf.append(data)


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def crawl(site: Path) -> tuple[set[Path], list[str]]:
    """Pages reachable from the home page by links; broken internal links."""
    start = site / "index.html"
    seen, broken, queue = {start}, [], deque([start])
    while queue:
        page = queue.popleft()
        for href in parse(page).hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("#"):
                continue
            target_path = unquote(urldefrag(href)[0])
            target = (page.parent / target_path).resolve() if target_path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
                continue
            if target.suffix == ".html" and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen, broken


def publish_pdfs(root: Path, site: Path) -> None:
    """The PDF letters into the built site, as the deploy workflow makes them."""
    result = run(root, "letters", "--pdf", str(site / published.PDF_FOLDER))
    assert result.exit_code == 0, result.output


def text_of_site(site: Path) -> str:
    chunks = []
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json", ".js", ".xml", ".txt", ".css"}:
            chunks.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(chunks)


# --- the module's build ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = make_repo(tmp_path_factory.mktemp("site"))
    info = populate(root)
    result = build(root)
    assert result.returncode == 0, result.stderr[-3000:]
    publish_pdfs(root, root / "site")
    return {"root": root, "site": root / "site", "log": result.stderr, **info}


def test_strict_build_passes_with_signatures_and_actions(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    assert (site / "index.html").is_file()
    assert "WARNING" not in str(built["log"])


def test_every_mission_has_a_page_and_a_printable_letter(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    ds = load(built["root"])  # type: ignore[arg-type]
    for rec in ds.missions:
        m = rec.model
        page = (site / "missions" / m.id / "index.html").read_text(encoding="utf-8")
        assert m.name.replace("'", "&#39;") in page
        assert (site / "missions" / m.id / "letter" / "index.html").is_file()
    index = (site / "missions" / "index.html").read_text(encoding="utf-8")
    assert index.count('<tr data-type=') == len(ds.missions)


def test_every_page_is_reachable_and_no_internal_link_is_broken(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    reached, broken = crawl(site)
    assert not broken
    pages = {p.resolve() for p in site.rglob("*.html")} - {(site / "404.html").resolve()}
    assert pages - reached == set()


def test_every_mission_page_links_its_pdf_letter(built: dict[str, object]) -> None:
    """The link, the PDF the deploy puts there, its link back, and in it every name of the
    site's printable letter (names that carry markup included)."""
    root, site = built["root"], built["site"]
    assert isinstance(root, Path) and isinstance(site, Path)
    ds = load(root)
    s = campaign_site.Site(ds)
    for rec in ds.missions:
        m = rec.model
        page = (site / "missions" / m.id / "index.html").read_text(encoding="utf-8")
        assert f'href="../../letters/{m.id}.pdf" type="application/pdf"' in page
        target = site / published.pdf_uri(m.id)
        assert int(pdf.info(target)["Pages"]) >= 1
        assert {url for _, url in pdf.links(target)} == {f"{ds.campaign.site_url}missions/{m.id}/"}  # type: ignore[union-attr]
    named, hidden = s.print_names("pt-lisbon")
    assert set(built["xss"]) <= {sig.name for sig in named}  # type: ignore[arg-type]
    entries = [(sig.name, (" (organisation)" if sig.type == "organisation" else "") + ", " + countries.name(sig.country))
               for sig in named]
    found = pdf.check_names(site / published.pdf_uri("pt-lisbon"), entries)
    assert found.ok, found
    washington = pdf.text(site / published.pdf_uri("us-washington"), body=False)
    assert not [name for name in built["hidden"] if name in washington]  # type: ignore[union-attr]


def test_mission_page_contents(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    page = (site / "missions" / "pt-lisbon" / "index.html").read_text(encoding="utf-8")
    assert 'href="tel:+351-21-392-4000"' in page
    assert 'href="mailto:lisbon.test@example.org"' in page
    assert "https://www.openstreetmap.org/search?query=Rua+de+S%C3%A3o+Bernardo+33" in page
    assert 'href="letter/"' in page  # the printable letter
    assert 'id="call"' in page and 'id="in-person"' in page and 'id="sign"' in page
    ds = load(built["root"])  # type: ignore[arg-type]
    letters = stats.count(ds).by_mission["pt-lisbon"]
    assert f'data-letters>{letters:,}<' in page
    oslo = (site / "missions" / "no-oslo" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://www.contact-embassy.service.gov.uk/?country=Norway"' in oslo
    assert "Iceland" in oslo  # also_covers
    # the delivery route, as dispatch and `missions check` have it (records.routes)
    assert 'data-route="email">Delivery route: email to lisbon.test@example.org.' in page
    assert "data-route=\"form\">Delivery route: the mission's contact form." in oslo
    tonga = (site / "missions" / "to-nukualofa" / "index.html").read_text(encoding="utf-8")
    assert "Find British High Commission Nuku&#39;alofa on the map" in tonga
    # what needs checking is shown, with a prefilled correction link
    assert "These details need checking" in tonga and "no phone" in tonga.lower()
    assert 'href="https://github.com/free-assange/letter/issues/new?' in tonga


def test_signatories_pages_are_split_counted_and_out_of_the_search_index(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    ds = load(built["root"])  # type: ignore[arg-type]
    named_us = sum(1 for r in ds.signatures if r.model.country == "US" and r.model.publish and r.model.type == "individual")
    assert named_us > campaign_site.NAMES_PER_PAGE
    pages = sorted((site / "signatories").glob("us*/index.html"))
    assert len(pages) == -(-named_us // campaign_site.NAMES_PER_PAGE)
    shown = sum(len(parse(p).names) for p in pages)
    assert shown == named_us
    index = (site / "signatories" / "index.html").read_text(encoding="utf-8")
    hidden_us = sum(1 for r in ds.signatures if r.model.country == "US" and not r.model.publish and r.model.type == "individual")
    assert f"<td>{hidden_us:,}</td>" in index
    for name in built["hidden"]:  # type: ignore[union-attr]
        assert name not in text_of_site(site)
    search = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in search["docs"]}
    assert not [loc for loc in locations if loc.startswith("signatories/") or re.match(r"missions/[^/]+/letter/", loc)]
    assert "missions/pt-lisbon/" in locations
    blob = json.dumps(search, ensure_ascii=False)
    assert not [n for n in synthetic_names(50) if n in blob]
    biggest = max(p.stat().st_size for p in site.rglob("*.html"))
    assert biggest < 400_000


def test_organisations_link_out_with_nofollow_noopener(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    parser = parse(site / "signatories" / "organisations" / "index.html")
    links = [a for tag, a in parser.attrs_seen if tag == "a" and "campaign-name" in (a.get("class") or "")]
    assert len(links) == len(XSS)
    assert all(a["rel"] == "nofollow noopener" and (a["href"] or "").startswith("https://") for a in links)
    assert EVIL_URL in [a["href"] for a in links]  # the attribute held, quotes and all
    assert not [a for tag, a in parser.attrs_seen if "onmouseover" in a or "onerror" in a or "onclick" in a]


NAME_PAGES = ["signatories/pt/index.html", "signatories/organisations/index.html",
              "missions/pt-lisbon/letter/index.html", "missions/no-oslo/letter/index.html",
              "actions/index.html", "missions/pt-lisbon/index.html", "missions/no-oslo/index.html"]


def test_names_are_shown_exactly_as_typed_on_every_page_that_shows_them(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    expected = {
        "signatories/pt/index.html": set(XSS),
        "signatories/organisations/index.html": set(XSS),
        "missions/pt-lisbon/letter/index.html": set(XSS),
        "missions/no-oslo/letter/index.html": set(XSS),
        "actions/index.html": set(XSS),
        "missions/pt-lisbon/index.html": {n for i, n in enumerate(XSS) if i % 3},
        "missions/no-oslo/index.html": {n for i, n in enumerate(XSS) if not i % 3},
    }
    for rel, names in expected.items():
        parser = parse(site / rel)
        assert names <= set(parser.names), rel
        tags = {tag for tag, _ in parser.attrs_seen}
        assert "img" not in tags or rel in {"actions/index.html", "missions/pt-lisbon/index.html", "missions/no-oslo/index.html"}
        assert not [a for _, a in parser.attrs_seen if {"onerror", "onclick", "onmouseover"} & set(a)], rel
        raw = (site / rel).read_text(encoding="utf-8")
        assert "<img src=x" not in raw and "<script>alert" not in raw and "javascript:alert" not in raw.replace("[x](javascript:alert(1))", "")
        assert "<em>Bo</em>" not in raw and "<b>bold</b>" not in raw
    home = (site / "index.html").read_text(encoding="utf-8")
    assert home.count('class="campaign-counters"') == 1  # the marker in a name was not expanded


def test_no_signer_email_or_fingerprint_anywhere_in_the_site(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    text = text_of_site(site)
    emails = built["emails"]
    assert isinstance(emails, list) and len(emails) > 2000
    for email in emails:
        assert email not in text
        assert fingerprint(email) not in text
    ours = "\n".join(p.read_text(encoding="utf-8") for p in site.rglob("*")
                     if p.suffix in {".html", ".json", ".js"} and "assets" not in p.relative_to(site).parts)
    addresses = set(re.findall(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", ours))
    missions = {"lisbon.test@example.org", "nukualofa.test@example.org", "washington.test@example.org",
                "chicago.test@example.org"}
    organiser = load(built["root"]).campaign.organiser  # type: ignore[arg-type, union-attr]
    public = missions | {organiser.email, organiser.controller.email}  # the campaign's own contacts
    assert addresses <= public, addresses - public
    assert not [a for a in addresses if "mailbox" in a or "signer" in a]


def test_home_letter_and_take_part_pages(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    ds = load(built["root"])  # type: ignore[arg-type]
    counts = stats.count(ds)
    home = (site / "index.html").read_text(encoding="utf-8")
    assert f'data-counter="signatures">{counts.signatures:,}<' in home
    assert f'data-counter="organisations">{counts.organisations:,}<' in home
    assert f'data-counter="countries">{counts.countries:,}<' in home
    assert f'data-counter="missions">{counts.missions_receiving:,}<' in home
    assert f'data-counter="actions">{counts.actions:,}<' in home
    assert 'data-countdown="2026-12-10T09:00:00"' in home
    assert "<strong>10 December 2026</strong>, International Human Rights Day" in home  # announcement bar
    assert '<meta property="og:image" content="https://free-assange.github.io/letter/assets/images/social-card.png">' in home
    letter = (site / "letter" / "index.html").read_text(encoding="utf-8")
    assert "Julian Assange must be free" in letter and "[your name]" in letter
    assert "https://bsky.app/intent/compose?" in letter and "mailto:?subject=" in letter
    take = (site / "take-part" / "index.html").read_text(encoding="utf-8")
    assert "https://github.com/free-assange/letter/new/main?filename=data%2Fsignatories%2Forganisations%2F" in take
    assert "name,country,publish,letter,type,mission,url,signed" in take
    assert "campaign import" not in take and "list.csv:LINE" not in take  # no maintainer command on a public page
    assert "https://github.com/free-assange/letter/new/main?filename=data%2Factions%2F" in take
    assert "<!-- campaign:" not in take and "<!-- campaign:" not in home
    sign = (site / "sign" / "index.html").read_text(encoding="utf-8")
    assert "data-sign-form" in sign and 'name="email"' not in sign  # no endpoint: no email asked


def test_form_posts_to_the_configured_endpoint(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    result = build(root, env={"CAMPAIGN_INTAKE_ENDPOINT": "https://intake.example.org/"})
    assert result.returncode == 0, result.stderr
    page = (root / "site" / "sign" / "index.html").read_text(encoding="utf-8")
    assert 'action="https://intake.example.org/api/signatures" method="post" data-endpoint="https://intake.example.org"' in page
    assert 'name="email" type="email" autocomplete="email" required' in page
    assert "data-no-endpoint" not in page and "data-github-link" not in page
    for field in ("name", "country", "email", "mission", "publish", "letter", "consent", "website"):
        assert f'name="{field}"' in page
    assert 'type="hidden" name="consent" value="2026-11"' in page
    country = re.search(r'<select id="sign-country".*?</select>', page, re.S)
    assert country and country.group(0).count("<option value=\"") - 1 == 250  # every ISO country (+ XK)
    mission = re.search(r'<select id="sign-mission".*?</select>', page, re.S)
    assert mission and re.findall(r'data-country="(\w\w)"', mission.group(0)) == ["IS", "NO", "PT", "TO", "US"]


def test_bad_data_fails_the_build_with_the_validators_message(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    sig = Signature(type="individual", name="Broken Country", country="PT", mission="pt-lisbon",
                    signed=dt.date(2026, 10, 1), publish=True, letter=True, source="form")
    rel = write_signature(root, sig)
    path = root / rel
    path.write_text(path.read_text(encoding="utf-8").replace("country: 'PT'", "country: 'pt'"), encoding="utf-8")
    bad_mission = Signature(type="individual", name="Unknown Mission", country="PT", mission="pt-nowhere",
                            signed=dt.date(2026, 10, 1), publish=True, letter=True, source="form")
    rel2 = write_signature(root, bad_mission)
    result = build(root)
    assert result.returncode != 0
    assert f"{rel}:4: `country` 'pt' must be upper case: write 'PT'" in result.stderr
    assert f"{rel2}:5: unknown mission 'pt-nowhere'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_marker_fails_the_build(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    page = root / "docs" / "privacy.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n<!-- campaign:nonsense -->\n", encoding="utf-8")
    result = build(root)
    assert result.returncode != 0
    assert "docs/privacy.md: unknown marker <!-- campaign:nonsense -->" in result.stderr


def test_a_campaign_can_reword_a_generated_page_from_docs(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    custom = root / "docs" / "overrides" / "campaign" / "letter.html"
    custom.parent.mkdir(parents=True)
    custom.write_text('<h1 id="the-letter">Our letter</h1>\n<p>Addressed to {{ campaign.target }}.</p>\n'
                      "<article>{{ site.generic_letter() }}</article>\n", encoding="utf-8")
    result = build(root)
    assert result.returncode == 0, result.stderr
    page = (root / "site" / "letter" / "index.html").read_text(encoding="utf-8")
    assert "Our letter" in page and "Addressed to the Government of the United Kingdom." in page
    assert not (root / "site" / "overrides").exists()


def test_build_without_directory_urls_links_every_page(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    populate(root, synthetic=30)
    result = build(root, "site", "--no-directory-urls")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    publish_pdfs(root, site)
    reached, broken = crawl(site)
    assert not broken
    assert {p.resolve() for p in site.rglob("*.html")} - {(site / "404.html").resolve()} - reached == set()


def test_every_form_field_has_a_label(built: dict[str, object]) -> None:
    site = built["site"]
    assert isinstance(site, Path)
    checked = 0
    for path in site.rglob("*.html"):
        parser = parse(path)
        labelled = {a.get("for") for tag, a in parser.attrs_seen if tag == "label"}
        for tag, a in parser.attrs_seen:
            if tag not in {"input", "select", "textarea"} or a.get("type") == "hidden":
                continue
            if "md-toggle" in (a.get("class") or "").split():  # the theme's CSS state switches
                continue
            checked += 1
            assert a.get("id") in labelled or a.get("aria-label") or a.get("aria-labelledby"), (path, a)
    assert checked > 100


def test_the_repository_itself_builds(tmp_path: Path) -> None:
    """The real data/ (the whole mission directory), docs/ and mkdocs.yml, built strictly."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns(".cache"))
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    copy_hooks(root)
    result = build(root)
    assert result.returncode == 0, result.stderr[-3000:]
    site = root / "site"
    for rec in load(root).missions:
        assert (site / "missions" / rec.model.id / "index.html").is_file(), rec.model.id
        assert (site / "missions" / rec.model.id / "letter" / "index.html").is_file(), rec.model.id
    reached, broken = crawl(site)
    # The PDF letters are made by the deploy after the build (test_every_mission_page_links_its_pdf_letter)
    pdfs = {m.group(1) for b in broken if (m := re.fullmatch(r"missions/([a-z0-9-]+)/index\.html -> \.\./\.\./letters/\1\.pdf", b))}
    assert pdfs == {rec.model.id for rec in load(root).missions}
    broken = [b for b in broken if not b.endswith(".pdf")]
    assert not broken
    assert {p.resolve() for p in site.rglob("*.html")} - {(site / "404.html").resolve()} - reached == set()


# --- units -----------------------------------------------------------------------------------


def test_relative_links_follow_mkdocs_urls(repo: Path) -> None:
    ds = load(repo)
    s = campaign_site.Site(ds)
    assert s.href("missions/pt-lisbon/index.md", "index.md") == "../../"
    assert s.href("missions/pt-lisbon/index.md", "missions/pt-lisbon/letter.md") == "letter/"
    assert s.href("missions/pt-lisbon/letter-2.md", "missions/pt-lisbon/letter.md") == "../letter/"
    assert s.href("index.md", "missions/index.md") == "missions/"
    assert s.href("signatories/pt.md", "assets/actions/x.png") == "../../assets/actions/x.png"
    assert s.href("take-part.md", "take-part.md", "organisations") == "./#organisations"
    flat = campaign_site.Site(ds, use_directory_urls=False)
    assert flat.href("missions/pt-lisbon/index.md", "index.md") == "../../index.html"
    assert flat.href("signatories/pt-2.md", "signatories/pt.md") == "pt.html"


def test_phone_links() -> None:
    assert site_links.phone("+351213924000", "PT") == ("+351 21 392 4000", ["tel:+351-21-392-4000"])
    shown, links = site_links.phone("+91 40 6666 9147/48", "IN")
    assert shown == "+91 40 6666 9147/48" and links and all(link.startswith("tel:+91") for link in links)
    assert site_links.phone("12", "PT") == ("12", [])


def test_chunks_cover_the_list_once() -> None:
    items = list(range(2501))
    chunks = campaign_site.chunked("signatories/us", items, 1000)  # type: ignore[arg-type]
    assert [c.uri for c in chunks] == ["signatories/us.md", "signatories/us-2.md", "signatories/us-3.md"]
    assert [(c.start, c.stop) for c in chunks] == [(0, 1000), (1000, 2000), (2000, 2501)]


def test_counters(repo: Path) -> None:
    write_signature(repo, Signature(type="organisation", name="Org Without Mission", country="IS", signed=dt.date(2026, 10, 1),
                                    publish=True, letter=True, source="pull-request"))
    write_signature(repo, Signature(type="individual", name="Person", country="US", mission="us-chicago",
                                    signed=dt.date(2026, 10, 1), publish=False, letter=True, source="form"))
    counts = stats.count(load(repo))
    assert (counts.signatures, counts.organisations, counts.individuals, counts.published) == (2, 1, 1, 1)
    assert counts.by_mission == {"no-oslo": 1, "us-chicago": 1}  # Iceland is served from Oslo
    assert (counts.countries, counts.missions_receiving, counts.missions) == (2, 2, 5)

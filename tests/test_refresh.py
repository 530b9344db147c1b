"""`campaign missions refresh` against GOV.UK's APIs served by a real local HTTP server.

The tests cannot reach GOV.UK. The responses under tests/fixtures/govuk/ were written for these
tests, in the format GOV.UK publishes (its example content item
`content_schemas/examples/worldwide_organisation/frontend/worldwide_organisation.json` in
alphagov/publishing-api, and the Search API's `search.json`); they are not recordings of live
traffic. They are served by `http.server` on 127.0.0.1 in a thread, so the real httpx client
code runs: paging, headers, retries, timeouts and JSON decoding.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from campaign.core.errors import CampaignError
from campaign.directory import content, govuk, mapping, refresh
from support.builders import FIXTURES, run

GOVUK = FIXTURES / "govuk"
CONTENT = "/api/content/world/organisations/"


class Server:
    """GOV.UK's two endpoints from the fixture files; `fail[path]` lists responses to give first."""

    def __init__(self) -> None:
        self.listing = json.loads((GOVUK / "search.json").read_text(encoding="utf-8"))
        self.organisations = {p.stem: p.read_bytes() for p in (GOVUK / "organisations").glob("*.json")}
        self.fail: dict[str, list[tuple[int, bytes, dict[str, str]]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                with server.lock:
                    server.requests.append((self.path, dict(self.headers)))
                    queued = server.fail.get(parts.path)
                    reply = queued.pop(0) if queued else None
                if reply is None:
                    reply = server.answer(parts.path, parse_qs(parts.query))
                status, body, headers = reply
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, dict[str, str]]:
        if path == "/api/search.json":
            assert query["filter_format"] == ["worldwide_organisation"]
            start, count = int(query.get("start", ["0"])[0]), int(query.get("count", ["10"])[0])
            page = dict(self.listing, results=self.listing["results"][start:start + count], start=start)
            return 200, json.dumps(page).encode(), {}
        if path.startswith(CONTENT) and path[len(CONTENT):] in self.organisations:
            return 200, self.organisations[path[len(CONTENT):]], {}
        return 404, b'{"error": "not found"}', {}

    def hits(self, fragment: str) -> int:
        return sum(1 for path, _ in self.requests if fragment in path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    yield found
    found.close()


@pytest.fixture
def root(repo: Path) -> Path:
    shutil.copy(GOVUK / "missions.yaml", repo / "data" / "missions.yaml")
    return repo


def refresh_cli(root: Path, server: Server, *args: str):
    return run(root, "missions", "refresh", "--base-url", server.url, "--backoff", "0.01", "--timeout", "5", *args)


def missions(root: Path) -> dict[str, dict]:
    return {m["id"]: m for m in yaml.safe_load((root / "data/missions.yaml").read_text(encoding="utf-8"))["missions"]}


def test_dry_run_prints_the_expected_diff_and_writes_nothing(root: Path, server: Server) -> None:
    before = (root / "data/missions.yaml").read_bytes()
    result = refresh_cli(root, server)
    assert result.exit_code == 0, result.output
    out = result.output
    assert (root / "data/missions.yaml").read_bytes() == before
    assert "dry run: nothing written" in out
    assert "GOV.UK lists 7 worldwide organisations; 1 are not diplomatic missions" in out
    assert "added (1):\n  + dm-roseau: British High Commission Roseau <https://www.gov.uk/world/organisations/british-high-commission-roseau>" in out
    # changed, each field old -> new, with the mission's line
    assert "changed (4):" in out
    assert "  ~ data/missions.yaml:75: es-madrid\n" in out
    assert '      emails: madrid.old@fco.gov.uk (general) -> madrid.enquiries@example.org (general)' in out
    assert ("      phones: Telephone: +34917146300 -> Telephone: +34917146300; From the UK (24 hours): +44 20 7008 5000"
            in out)  # the fax is dropped, the free text split; a UK number stays as published
    assert ('      contact_form: (none) -> "https://www.contact-embassy.service.gov.uk/?country=Spain&post=British%20Embassy%20Madrid"'
            in out)
    assert '      opening_hours: (none) -> "Monday to Friday, 8:30am to 5pm\\nThe consular section is open by appointment only."' in out
    assert '      verified: "2015-06-01" -> "2024-05-20"' in out  # the main contact's date, the newest
    assert "      also_covers: [\"DM\", \"KN\"] -> [\"KN\"]" in out  # bb-bridgetown: Dominica has its own mission now
    assert "  ~ data/missions.yaml:3: af-kabul\n" in out and '      emails: britishembassy.kabul@fco.gov.uk (general) -> (none)' in out
    assert "closed (1):\n  - data/missions.yaml:148: ye-sanaa: no longer listed on GOV.UK\n      status: \"open\" -> \"closed\"" in out
    assert "re-dated from GOV.UK, no contact change (1): pt-lisbon" in out
    assert "unchanged: 2" in out  # bs-nassau and at-vienna-osce: not GOV.UK organisation pages
    assert "bs-nassau: GOV.UK now lists https://www.gov.uk/world/organisations/british-high-commission-nassau" in out
    assert "es-barcelona" in out and "barcelona.consular@example.org" not in out  # `keep: [emails]`
    # only our organisations and the new diplomatic mission were fetched, not the trade office
    assert server.hits("department-for-business-and-trade") == 0


def test_write_applies_it_and_keeps_hand_made_fields(root: Path, server: Server) -> None:
    before = missions(root)
    result = refresh_cli(root, server, "--write")
    assert result.exit_code == 0, result.output
    assert "wrote data/missions.yaml: 1 added, 4 changed, 1 closed, 1 re-dated" in result.output
    after = missions(root)
    madrid, kabul, barcelona = after["es-madrid"], after["af-kabul"], after["es-barcelona"]
    # hand-made fields survive
    assert madrid["note"] == before["es-madrid"]["note"] and madrid["primary"] is True
    assert kabul["status"] == "suspended" and kabul["note"] == before["af-kabul"]["note"]
    assert barcelona["emails"] == [{"address": "barcelona.fixed-by-hand@example.org", "kind": "general"}]
    assert barcelona["keep"] == ["emails"]
    assert barcelona["also_covers"] == ["AD"]
    assert after["bs-nassau"] == before["bs-nassau"] and after["at-vienna-osce"] == before["at-vienna-osce"]
    # refreshed records: GOV.UK's data, source URL and date; older GOV.UK sources replaced, others kept
    assert madrid["address"] == "Torre Emperador Castellana\nPaseo de la Castellana 259D\n28046 Madrid\nSpain"  # Spain's order
    assert madrid["source"] == [{"dataset": "govuk-content-api", "url": f"{server.url}{CONTENT}british-embassy-madrid",
                                 "date": "2024-05-20"}]
    assert madrid["verified"] == "2024-05-20"
    assert kabul["source"][0]["url"].endswith("/british-embassy-kabul") and kabul["source"][1]["url"].startswith("https://en.wikipedia")
    assert kabul["phones"] == [{"label": "Consular assistance", "number": "+44 20 7008 5000"}] and "emails" not in kabul
    assert barcelona["opening_hours"] == "Our public counter is open Monday to Friday from 9:00 to 13:30."
    assert after["pt-lisbon"]["verified"] == "2019-05-01"  # a newer check by hand is not made older
    assert after["ye-sanaa"]["status"] == "closed" and after["ye-sanaa"]["source"][-1]["dataset"] == "govuk-search-api"
    roseau = after["dm-roseau"]
    assert roseau == {
        "id": "dm-roseau", "country": "DM", "type": "high-commission", "name": "British High Commission Roseau",
        "city": "Roseau", "address": "Victoria Street 1\nRoseau\nDominica",
        "phones": [{"label": "Telephone", "number": "+17674487000"}],
        "emails": [{"address": "roseau.enquiries@example.org", "kind": "general"}],
        "url": "https://www.gov.uk/world/organisations/british-high-commission-roseau",
        "opening_hours": "Monday to Thursday: 8am to 4pm\nFriday: 8am to 1pm", "timezone": "America/Dominica",
        "primary": True, "status": "open",
        "source": [{"dataset": "govuk-content-api", "url": f"{server.url}{CONTENT}british-high-commission-roseau",
                    "date": "2025-04-02"}],
        "verified": "2025-04-02"}
    assert after["bb-bridgetown"]["also_covers"] == ["KN"]
    assert run(root, "validate").exit_code == 0
    # a second refresh finds nothing more to do
    again = refresh_cli(root, server, "--write")
    assert again.exit_code == 0 and "nothing to change" in again.output, again.output


def test_the_listing_is_paged_and_requests_say_who_we_are(root: Path, server: Server) -> None:
    with govuk.Client(server.url, page_size=3, backoff=0.01, agent=govuk.user_agent("https://example.org/x")) as client:
        listed = client.listing()
    assert len(listed) == 7 and listed[0] == content.Listed("british-embassy-madrid", "British Embassy Madrid", ("Spain",))
    starts = [parse_qs(urlsplit(path).query)["start"][0] for path, _ in server.requests]
    assert starts == ["0", "3", "6"]
    agent = server.requests[0][1]["User-Agent"]
    assert agent.startswith("campaign/") and "mission directory refresh; +https://example.org/x" in agent


@pytest.mark.parametrize(("slug", "reply", "message"), [
    ("british-consulate-general-barcelona", (200, b'{"title": "British Consulate General Barcelona",\n "links": ', {}),
     ":2: malformed JSON"),
    ("british-embassy-portugal", None, "organisation 'british-embassy-portugal': `public_updated_at` is missing"),
    ("british-embassy-madrid", (500, b'{"error": "boom"}', {}), ":1: HTTP 500 Internal Server Error after 2 attempts"),
    ("british-embassy-kabul", (200, b'{"title": "British Embassy Kabul", "base_path": "/world/organisations/british-embassy-kabul", '
                                    b'"public_updated_at": "2022-06-01T12:00:00Z", "details": {}, "links": {"contacts": [{"title": "x"}]}}', {}),
     "organisation 'british-embassy-kabul': `links.contacts[0].details` is missing"),
])
def test_a_bad_response_names_the_organisation_and_changes_nothing(root: Path, server: Server, slug: str,
                                                                    reply: tuple | None, message: str) -> None:
    path = CONTENT + slug
    if reply is None:  # a partial content item: a required field left out
        item = json.loads(server.organisations[slug])
        del item["public_updated_at"]
        server.organisations[slug] = json.dumps(item).encode()
    else:
        server.fail[path] = [reply] * 5
    before = (root / "data/missions.yaml").read_bytes()
    result = refresh_cli(root, server, "--write", "--attempts", "2")
    assert result.exit_code == 1
    assert f"{server.url}{path}" in result.output and message in result.output, result.output
    assert "nothing was changed" in result.output and "Traceback" not in result.output
    assert (root / "data/missions.yaml").read_bytes() == before
    assert not list((root / "data").glob(".missions.*"))  # no temporary file left behind


def test_429_and_5xx_are_retried_with_backoff(root: Path, server: Server) -> None:
    path = CONTENT + "british-embassy-madrid"
    server.fail[path] = [(503, b"{}", {}), (429, b"{}", {"Retry-After": "0"})]
    slept: list[float] = []
    with govuk.Client(server.url, backoff=0.01, sleep=slept.append) as client:
        org = client.organisation("british-embassy-madrid")
    assert org is not None and org.title == "British Embassy Madrid"
    assert server.hits(path) == 3 and len(slept) == 2 and slept[1] == 0.0  # Retry-After honoured


def test_timeouts_are_retried_then_reported(root: Path) -> None:
    import socket

    quiet = socket.socket()
    quiet.bind(("127.0.0.1", 0))
    quiet.listen(1)  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{quiet.getsockname()[1]}"
        with govuk.Client(url, timeout=0.2, attempts=2, backoff=0.01) as client, pytest.raises(govuk.ResponseError) as err:
            client.organisation("british-embassy-madrid")
        assert "network error (ReadTimeout" in err.value.message and "after 2 attempts" in err.value.message
        assert "british-embassy-madrid" in err.value.url
    finally:
        quiet.close()


def test_an_incomplete_listing_is_refused(root: Path, server: Server) -> None:
    server.listing["total"] = 9  # says 9, gives 7: missions would look closed
    result = refresh_cli(root, server)
    assert result.exit_code == 1 and "the listing gave 7 of 9 organisations" in result.output


def test_a_renamed_organisation_is_the_same_mission(root: Path, server: Server) -> None:
    item = json.loads(server.organisations["british-embassy-portugal"])
    item.update(title="British Embassy Sanaa", base_path="/world/organisations/british-embassy-yemen")
    item["links"]["contacts"][0]["details"]["post_addresses"][0].update(iso2_country_code="ye", locality="Sanaa")
    server.organisations["british-embassy-yemen"] = json.dumps(item).encode()
    server.listing["results"].append({"title": "British Embassy Sanaa", "link": "/world/organisations/british-embassy-yemen"})
    server.listing["total"] = 8
    result = refresh_cli(root, server)
    assert result.exit_code == 0, result.output
    assert "closed (" not in result.output and "ye-sanaa" in result.output
    assert ('url: "https://www.gov.uk/world/organisations/british-embassy-sanaa" -> '
            '"https://www.gov.uk/world/organisations/british-embassy-yemen"') in result.output


def test_guards_before_writing(root: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    with govuk.Client(server.url, backoff=0.01) as client:
        diff = refresh.plan(root, client)
    (root / "data/missions.yaml").write_text((root / "data/missions.yaml").read_text() + "\n# edited meanwhile\n")
    with pytest.raises(CampaignError, match="the file changed while GOV.UK was read"):
        refresh.write(root, diff)
    monkeypatch.setattr(refresh, "MASS_CLOSURE", (0, 0.0))
    with govuk.Client(server.url, backoff=0.01) as client:
        diff = refresh.plan(root, client)
    assert diff.blocking and "would close at once" in diff.blocking[0]
    with pytest.raises(CampaignError, match="would close at once"):
        refresh.write(root, diff)


def test_a_round_trip_of_the_real_directory_changes_no_byte() -> None:
    """Writing goes through the models; an unchanged directory must come out byte for byte."""
    from support.builders import ROOT

    text = (ROOT / "data/missions.yaml").read_text(encoding="utf-8")
    _, records, entries = refresh._load(ROOT)
    assert refresh.render_file([refresh.merged(e, r.model, r.model) for r, e in zip(records, entries, strict=True)]) == text


def test_opening_hours_are_short_plain_text() -> None:
    html = json.loads((GOVUK / "organisations/british-embassy-madrid.json").read_text())["links"]["main_office"][0]["details"][
        "access_and_opening_times"]
    assert content.opening_hours(html) == "Monday to Friday, 8:30am to 5pm\nThe consular section is open by appointment only."
    assert content.opening_hours("<p>Visit us by car.</p><p>Open 9:00 to 17:00, Monday to Friday.</p>") == \
        "Open 9:00 to 17:00, Monday to Friday."
    assert content.opening_hours("<h2>Parking</h2><p>None.</p>") is None
    long = "<h2>Opening hours</h2>" + "".join(f"<p>Monday {i}: 9am to 5pm and some more words here</p>" for i in range(40))
    text = content.opening_hours(long)
    assert text is not None and len(text) <= content.OPENING_HOURS_MAX and text.endswith("some more words here")


def test_mission_types_from_titles() -> None:
    kinds = {title: mapping.mission_type(title) for title in [
        "British Embassy Madrid", "British High Commission Nassau", "British Deputy High Commission Kolkata",
        "British Consulate General Barcelona", "British Consulate Ibiza", "British Embassy Office Banja Luka",
        "UK Joint Delegation to NATO", "UK Mission to the United Nations, Geneva", "British Office Taipei",
        "Department for Business and Trade Spain", "UK Science and Innovation Network in Japan"]}
    assert list(kinds.values()) == ["embassy", "high-commission", "consulate-general", "consulate-general", "consulate",
                                    "office", "mission", "mission", "office", None, None]


def test_an_organisation_without_contacts_does_not_erase_ours(root: Path, server: Server) -> None:
    item = json.loads(server.organisations["british-embassy-portugal"])
    del item["links"]["contacts"]  # GOV.UK leaves empty link lists out
    server.organisations["british-embassy-portugal"] = json.dumps(item).encode()
    before = missions(root)["pt-lisbon"]
    result = refresh_cli(root, server, "--write")
    assert result.exit_code == 0, result.output
    assert "pt-lisbon: GOV.UK publishes no contact for https://www.gov.uk/world/organisations/british-embassy-portugal" in result.output
    assert missions(root)["pt-lisbon"] == before


def test_a_recorded_govuk_content_item_refreshes_a_mission(repo: Path, server: Server) -> None:
    """GOV.UK's own content item (tests/fixtures/later/, copied verbatim from publishing-api's
    examples: its real shape) served as the Content API response of the organisation it names."""
    real = FIXTURES / "later/govuk-2020-2024/worldwide_organisation__frontend__worldwide_organisation.json"
    server.organisations = {"uk-embassy-in-country": real.read_bytes()}
    server.listing = dict(server.listing, total=1, results=[
        {"title": "UK Embassy in Country", "link": "/world/organisations/uk-embassy-in-country",
         "world_locations": [{"title": "Spain", "slug": "spain"}]}])
    directory = yaml.safe_load((GOVUK / "missions.yaml").read_text(encoding="utf-8"))
    madrid = next(m for m in directory["missions"] if m["id"] == "es-madrid")
    madrid["url"] = "https://www.gov.uk/world/organisations/uk-embassy-in-country"
    (repo / "data/missions.yaml").write_text(refresh.render_file([madrid]), encoding="utf-8")
    result = refresh_cli(repo, server, "--write")
    assert result.exit_code == 0, result.output
    after = missions(repo)["es-madrid"]
    assert after["name"] == "UK Embassy in Country" and after["verified"] == "2023-05-25"
    assert after["address"] == "Torre Emperador Castellana\nPaseo de la Castellana 259D\n28046 Madrid\nSpain"
    assert after["phones"][0] == {"label": "Telephone", "number": "+34917146300"}
    assert "emails" not in after  # the 2023 contact publishes none (a contact form instead)


def test_pull_request_proposes_the_changes_on_a_branch(root: Path, server: Server) -> None:
    from support.builders import git, init_repo

    init_repo(root)
    before = (root / "data/missions.yaml").read_bytes()
    result = refresh_cli(root, server, "--pull-request", "local")
    assert result.exit_code == 0, result.output
    assert "committed" in result.output and "missions/refresh" in result.output
    assert (root / "data/missions.yaml").read_bytes() == before  # the working tree is left alone
    proposed = git(root, "show", "missions/refresh:data/missions.yaml")
    assert "madrid.enquiries@example.org" in proposed and "28046 Madrid" in proposed
    assert git(root, "log", "-1", "--format=%s", "missions/refresh").startswith("Mission directory from GOV.UK: 1 added, 4 changed")
    again = refresh_cli(root, server, "--pull-request", "local")  # the same changes again: the same tree
    assert again.exit_code == 0, again.output
    assert git(root, "show", "missions/refresh:data/missions.yaml") == proposed

"""`campaign doctor`: every check against real parts on loopback.

A ready campaign (fixture missions, the real site, letter and settings on a domain of its own,
a fallback address) talks to: the real intake app over HTTPS (the site and /api/health), an
aiosmtpd server that requires STARTTLS and AUTH, and the fake GitHub API. A throw-away
certificate authority (support/tls.py) is trusted through SSL_CERT_FILE, as a host's own
authority would be. Each check passes on that campaign and fails on one thing spoilt. Nothing
leaves loopback, and the doctor sends nothing: the SMTP server receives no message, GitHub no
write.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from campaign.core.errors import BackendError, CampaignError
from campaign.forge import protection
from campaign.forge.base import LocalForge
from campaign.forge.github import GitHubForge
from campaign.intake.app import create_app
from campaign.intake.fingerprint import key_problem
from campaign.intake.service import Intake, Settings
from campaign.launch import CHECKS, doctor
from campaign.launch.settings import SAMPLE_FOLLOWUP_KEYS, reserved
from campaign.mail.smtp import SmtpBackend
from support.builders import run, write
from support.dispatch import add_signatures, configure
from support.github import FakeGitHub
from support.http import serve_in_thread
from support.site import make_repo
from support.smtp import SmtpTestServer, free_port
from support.tls import Certificates, make_certificates

REPO = "free-assange/letter"
TOKEN = "github-token-for-the-doctor"
LOGIN = ("letters@campaign-mail.net", "correct horse battery staple")
KEY = "k" * 40
OWN_KEY = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()  # as `campaign followup keygen` prints it
TODAY = dt.date.today()
"""Every fixture mission is verified today (the command has no clock of its own to set)."""
FAST = ("site",)
"""The checks left out where a test is about another one (the build takes seconds)."""
FALLBACK = """  fallback:
    name: 'Central correspondence unit'
    email: 'correspondence@campaign-mail.net'
    source:
      url: 'https://campaign-mail.net/contact'
"""


@dataclass
class World:
    root: Path
    env: dict[str, str]
    smtp: SmtpTestServer
    gh: FakeGitHub
    url: str

    def run(self, skip: tuple[str, ...] = FAST, **kw: object) -> doctor.Report:
        return doctor.run(self.root, env=self.env, skip=skip, **kw)  # type: ignore[arg-type]


def line_of(root: Path, rel: str, text: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def problems(report: doctor.Report, check: str) -> list[str]:
    return [("warning: " if i.level == "warn" else "") + i.problem.text() for i in report.issues if i.check == check]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def world(tmp_path: Path, certs: Certificates) -> Iterator[World]:
    root = make_repo(tmp_path)
    text = (root / "data" / "campaign.yaml").read_text(encoding="utf-8").replace("free-assange.example.org", "campaign-mail.net")
    text = re.sub(r"public_key: '[^']+'", f"public_key: '{OWN_KEY}'", text)  # the organisers' own, not the sample
    write(root, "data/campaign.yaml", text.replace("  throttle:\n", FALLBACK + "  throttle:\n"))
    missions = (root / "data" / "missions.yaml").read_text(encoding="utf-8")
    write(root, "data/missions.yaml", re.sub(r"verified: '[-0-9]+'", f"verified: '{TODAY}'", missions))
    site = write(root, "served/index.html", "<!doctype html><title>The campaign</title>").parent
    intake = Intake(Settings(root=root, db=tmp_path / "intake.sqlite3", public_url="https://127.0.0.1", key=KEY.encode(),
                             forge=LocalForge(root), mail_options={"outbox": tmp_path / "outbox"}))
    server, thread, url = serve_in_thread(create_app(intake, site_dir=site, background=False), tls=certs)
    configure(root, site_url=f"'{url}/'", endpoint=f"'{url}'")
    try:
        with SmtpTestServer(tls=certs, credentials=LOGIN) as smtp, FakeGitHub(REPO, token=TOKEN) as gh:
            gh.seed({"README.md": b"the campaign\n"})
            gh.require_code_owner_review()
            env = {**smtp.env(), **certs.client_env(), "CAMPAIGN_FINGERPRINT_KEY": KEY,
                   "CAMPAIGN_GITHUB_TOKEN": TOKEN, "CAMPAIGN_GITHUB_API": gh.url}
            yield World(root, env, smtp, gh, url)
    finally:
        server.should_exit = True
        thread.join(10)
        intake.close()


# --- the whole run -------------------------------------------------------------------------------


def test_a_ready_campaign_passes_every_check_and_nothing_is_sent(world: World) -> None:
    report = world.run(skip=())  # with the real strict build of the site
    assert [i.problem.text() for i in report.issues] == []
    assert report.ready and report.status == {name: "ok" for name in CHECKS}
    assert world.smtp.logins == [(LOGIN[0], True)], "AUTH over STARTTLS with the configured secrets"
    assert world.smtp.messages == [], "the session sent nothing"
    assert {method for method, _path, _body in world.gh.requests} == {"GET"}, "nothing written to GitHub"


def test_the_command_prints_one_line_per_problem_and_exits_by_what_blocks(world: World,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    ready = run(world.root, "doctor", "--skip", "site")
    assert ready.exit_code == 0, ready.output
    assert "campaign doctor: ready to launch: 0 problems block the launch, 0 warnings" in ready.output
    assert re.search(r"(?m)^  site +skipped ", ready.output)

    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    monkeypatch.delenv("CAMPAIGN_FINGERPRINT_KEY")
    blocked = run(world.root, "doctor", "--skip", "site")
    assert blocked.exit_code == 1
    lines = blocked.output.splitlines()
    assert lines[0].startswith("SMTP_USERNAME: ") and lines[1].startswith("CAMPAIGN_FINGERPRINT_KEY: is unset")
    assert "not ready: 2 problems block the launch" in lines[2]


def test_json_output_parses_and_says_where(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    configure(world.root, reply_to="'contact@free-assange.example.org'")
    result = run(world.root, "doctor", "--skip", "site", "--format", "json")
    assert result.exit_code == 1
    found = json.loads(result.output)
    assert (found["ready"], found["blocking"], found["warnings"]) == (False, 1, 0)
    assert found["checks"]["sender"]["status"] == "blocking" and found["checks"]["site"]["status"] == "skipped"
    (problem,) = found["problems"]
    assert (problem["check"], problem["level"], problem["path"]) == ("sender", "block", "data/campaign.yaml")
    assert problem["line"] == line_of(world.root, "data/campaign.yaml", "reply_to:")
    assert problem["text"].startswith(f"data/campaign.yaml:{problem['line']}: `dispatch.reply_to` contact@free-assange")


def test_warnings_alone_do_not_block(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMTP_USERNAME", "")
    open_relay = SmtpTestServer(tls=world.smtp.tls).start()  # STARTTLS, no login needed
    try:
        monkeypatch.setenv("SMTP_PORT", str(open_relay.port))
        result = run(world.root, "doctor", "--skip", "site")
    finally:
        open_relay.stop()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("warning: SMTP_USERNAME: is unset, so 127.0.0.1:")
    assert "ready to launch: 0 problems block the launch, 1 warning to plan for" in result.output


def test_an_unknown_check_and_a_broken_campaign_file(world: World) -> None:
    result = run(world.root, "doctor", "--skip", "nonsense")
    assert result.exit_code == 1 and "--skip: no check is called 'nonsense'; the checks are data, sender" in result.output
    write(world.root, "data/campaign.yaml", "id: [\n")
    report = world.run()
    assert not report.ready and report.status["data"] == "blocking"
    assert {report.status[name] for name in CHECKS if name not in ("data", "site")} == {"not run"}
    assert all(i.problem.path == "data/campaign.yaml" for i in report.issues)


# --- one check at a time -------------------------------------------------------------------------


def test_sender_and_envelope_on_an_example_domain_block(world: World) -> None:
    text = (world.root / "data/campaign.yaml").read_text(encoding="utf-8").replace(
        "letters@campaign-mail.net", "letters@free-assange.example.org")
    write(world.root, "data/campaign.yaml", text.replace("  throttle:\n", "  envelope: 'bounces+{key}@mail.test'\n  throttle:\n"))
    found = problems(world.run(), "sender")
    assert found == [
        f"data/campaign.yaml:{line_of(world.root, 'data/campaign.yaml', 'letters@free-assange')}: `dispatch.sender.email` "
        "letters@free-assange.example.org (the sender of the letters and the confirmation mails) is on example.org, a "
        "reserved example domain: mail from it is refused or lost; use an address on your own domain, with SPF and DKIM "
        "set up for it",
        f"data/campaign.yaml:{line_of(world.root, 'data/campaign.yaml', 'envelope:')}: `dispatch.envelope` "
        "bounces+{key}@mail.test (the envelope sender, where bounces come back) is on .test, a reserved example domain: "
        "mail from it is refused or lost; use an address on your own domain, with SPF and DKIM set up for it"]


def test_the_organiser_s_contact_on_an_example_domain_blocks(world: World) -> None:
    text = (world.root / "data/campaign.yaml").read_text(encoding="utf-8")
    write(world.root, "data/campaign.yaml", text.replace("    email: 'contact@campaign-mail.net'", "    email: 'data@example.net'", 1))
    found = problems(world.run(), "sender")
    assert found == [
        f"data/campaign.yaml:{line_of(world.root, 'data/campaign.yaml', 'data@example.net')}: `organiser.controller.email` "
        "data@example.net (where signers write about their data) is on example.net, a reserved example domain: mail to it "
        "reaches nobody; use an address of yours that someone reads"]


@pytest.mark.parametrize(("domain", "expected"), [
    ("example.org", "example.org"), ("Mail.EXAMPLE.com.", "example.com"), ("x.invalid", ".invalid"),
    ("notexample.org", None), ("example.org.uk", None), ("campaign-mail.net", None)])
def test_reserved_domains(domain: str, expected: str | None) -> None:
    assert reserved(domain) == expected


def test_an_unreachable_site_and_an_unset_endpoint_block(world: World) -> None:
    closed = free_port()
    configure(world.root, site_url=f"'https://127.0.0.1:{closed}/'", endpoint="null")
    found = problems(world.run(), "urls")
    site, endpoint = (line_of(world.root, "data/campaign.yaml", key) for key in ("site_url:", "endpoint:"))
    assert len(found) == 2
    assert found[0].startswith(f"data/campaign.yaml:{site}: `site_url`: https://127.0.0.1:{closed}/ does not answer "
                               "(ConnectError")
    assert found[0].endswith('; publish the site (GUIDE.md, "Turn on GitHub Pages") or correct `site_url`')
    assert found[1].startswith(f"data/campaign.yaml:{endpoint}: `intake.endpoint` is not set: the sign form has nowhere")


def test_an_endpoint_that_is_not_the_intake_and_an_untrusted_certificate_block(world: World) -> None:
    configure(world.root, endpoint=f"'{world.url}/nothing-here'")
    (endpoint,) = problems(world.run(), "urls")
    assert f"`intake.endpoint`: {world.url}/nothing-here/api/health answers 404; start the intake" in endpoint
    world.env.pop("SSL_CERT_FILE")  # the system's authorities do not know the test CA
    found = problems(world.run(), "urls")
    assert len(found) == 2 and all("does not answer (ConnectError" in f and "CERTIFICATE_VERIFY_FAILED" in f for f in found)


def test_an_example_site_url_is_not_even_asked(world: World) -> None:
    configure(world.root, site_url="'https://campaign.example.org/'")
    (found,) = problems(world.run(), "urls")
    assert "`site_url` https://campaign.example.org/ is on example.org, a reserved example domain" in found


def test_smtp_wrong_password_blocks_and_nothing_is_sent(world: World) -> None:
    world.env["SMTP_PASSWORD"] = "not the password"
    (found,) = problems(world.run(), "smtp")
    assert re.fullmatch(r"SMTP_USERNAME: 127\.0\.0\.1:\d+ refused the login \(535 .+\); check SMTP_USERNAME and SMTP_PASSWORD",
                        found), found
    assert world.smtp.logins and set(world.smtp.logins) == {(LOGIN[0], False)}, "smtplib tries PLAIN, then LOGIN"
    assert world.smtp.messages == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"SMTP_HOST": ""}, r"SMTP_HOST: is unset: no letter and no confirmation mail can be sent; set SMTP_HOST, .*"),
    ({"SSL_CERT_FILE": ""}, r"SMTP_HOST: 127\.0\.0\.1:\d+: the server's certificate is not trusted \(.+\); check SMTP_HOST .*"),
    ({"SMTP_SECURITY": "none"}, r"SMTP_SECURITY: 127\.0\.0\.1:\d+: SMTP AUTH extension not supported by server\.; "
                                r"check SMTP_SECURITY"),
    ({"SMTP_SECURITY": "tls"}, r"SMTP_SECURITY: SMTP_SECURITY is 'tls'; use one of starttls, ssl, none"),
    ({"SMTP_PORT": "closed"}, r"SMTP_HOST: cannot open a session with 127\.0\.0\.1:\d+ \(ConnectionRefusedError: .+\); "
                              r"check SMTP_HOST, SMTP_PORT and SMTP_SECURITY"),
])
def test_smtp_problems_name_the_setting(world: World, change: dict[str, str], expected: str) -> None:
    world.env.update({k: str(free_port()) if v == "closed" else v for k, v in change.items()})
    (found,) = problems(world.run(), "smtp")
    assert re.fullmatch(expected, found), found
    assert world.smtp.messages == []


def test_smtp_backend_check_opens_and_closes_a_session(world: World) -> None:
    backend = SmtpBackend(env=world.env, ssl_context=None)
    with pytest.raises(BackendError, match="certificate is not trusted"):  # the default context: the system's CAs
        backend.check()
    backend = SmtpBackend(env=world.env, ssl_context=ssl.create_default_context(cafile=world.env["SSL_CERT_FILE"]))
    backend.check()
    assert backend.connection is None and world.smtp.logins == [(LOGIN[0], True)] and world.smtp.messages == []


@pytest.mark.parametrize(("key", "expected"), [
    ("", "CAMPAIGN_FINGERPRINT_KEY: is unset; set it from a secret of at least 32 characters"),
    ("short", "CAMPAIGN_FINGERPRINT_KEY: is 5 characters long; set it from a secret of at least 32 characters")])
def test_the_fingerprint_key_must_be_set(world: World, key: str, expected: str) -> None:
    world.env["CAMPAIGN_FINGERPRINT_KEY"] = key
    (found,) = problems(world.run(), "key")
    assert found.startswith(expected) and "(`openssl rand -hex 32`)" in found
    assert found == f"CAMPAIGN_FINGERPRINT_KEY: {key_problem(key)}", "the production intake's own rule"
    assert key_problem("x" * 32) is None


def test_the_repositorys_sample_followup_key_blocks(world: World) -> None:
    """Addresses sealed to a key whose private half nobody kept could never be opened."""
    campaign_yaml = world.root / "data" / "campaign.yaml"
    own = campaign_yaml.read_text(encoding="utf-8")
    (sample,) = SAMPLE_FOLLOWUP_KEYS
    write(world.root, "data/campaign.yaml", own.replace(OWN_KEY, sample))
    (found,) = problems(world.run(), "key")
    assert found.startswith(f"data/campaign.yaml:{line_of(world.root, 'data/campaign.yaml', 'public_key:')}: "
                            "`followup.public_key` is the repository's sample key")
    assert "`campaign followup keygen FILE`" in found
    without = re.sub(r"(?m)^followup:\n(?:  .*\n)+", "", own.replace(OWN_KEY, sample))
    assert "followup:" not in without and sample not in without
    write(world.root, "data/campaign.yaml", without)
    assert problems(world.run(), "key") == []  # no reports offered: no key to judge


def test_a_bad_github_token_blocks(world: World) -> None:
    world.env["CAMPAIGN_GITHUB_TOKEN"] = "revoked"
    (found,) = problems(world.run(), "github")
    assert found == (f"CAMPAIGN_GITHUB_TOKEN: GitHub answered GET /repos/{REPO} with 401: Bad credentials; check "
                     'CAMPAIGN_GITHUB_TOKEN and `intake.repository` (GUIDE.md, "The GitHub App")')
    world.env.pop("CAMPAIGN_GITHUB_TOKEN")
    (found,) = problems(world.run(), "github")
    assert found.startswith("CAMPAIGN_GITHUB_TOKEN: the github forge needs a token: set CAMPAIGN_GITHUB_TOKEN")


def test_a_default_branch_without_code_owner_review_blocks(world: World) -> None:
    world.gh.rulesets.clear()
    (found,) = problems(world.run(), "github")
    assert found.startswith(f"https://github.com/{REPO}/settings/rules: main does not require code-owner review (no active "
                            "ruleset and no branch protection rule), so a pull request can change the checks that judge it")
    world.gh.protection_readable = False
    (found,) = problems(world.run(), "github")
    assert found.startswith(f"warning: https://github.com/{REPO}/settings/rules: cannot tell whether main requires "
                            "code-owner review: no active ruleset requires it, and this token may not read branch protection")


@pytest.mark.parametrize(("how", "required", "source"), [
    ("ruleset", True, f"ruleset 42 ({REPO})"), ("protection", True, "branch protection"),
    ("ruleset", False, "no active ruleset and no branch protection rule"),
    ("protection", False, "the branch protection rule does not require review from Code Owners")])
def test_code_owner_review_from_rulesets_or_branch_protection(how: str, required: bool, source: str) -> None:
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.seed({"README.md": b"x\n"})
        gh.require_code_owner_review(how, required)
        forge = GitHubForge(REPO, TOKEN, api_url=gh.url)
        try:
            assert protection.code_owner_review(forge, "main") == protection.Review(required, source)
        finally:
            forge.close()


def test_a_post_that_cannot_take_its_letters_blocks_and_people_delivering_warns(world: World) -> None:
    text = (world.root / "data/campaign.yaml").read_text(encoding="utf-8")
    write(world.root, "data/campaign.yaml", text.replace(FALLBACK, ""))
    missions = (world.root / "data/missions.yaml").read_text(encoding="utf-8")
    write(world.root, "data/missions.yaml", missions.replace("    timezone: 'Pacific/Tongatapu'\n",
                                                             "    timezone: 'Pacific/Tongatapu'\n    status: 'closed'\n"))
    add_signatures(world.root, "to-nukualofa", 2, country="TO")
    found = problems(world.run(), "routes")
    tonga, oslo = (line_of(world.root, "data/missions.yaml", f"id: '{m}'") for m in ("to-nukualofa", "no-oslo"))
    assert found == [
        f"warning: data/missions.yaml:{oslo}: no-oslo: its letters go by form https://www.contact-embassy.service.gov.uk/"
        "?country=Norway, not by mail (no email address); plan who delivers them: through its contact form by hand, or "
        "printed (`campaign letters --pdf DIR`) by post or in person; or find a current email (`campaign missions check`)",
        f"data/missions.yaml:{tonga}: to-nukualofa: the post is closed but receives letters (2 letters so far); send its "
        "country's letters to another mission (`primary`, `also_covers`) or set `dispatch.fallback`"]


def test_stale_contact_data_of_a_receiving_mission_warns(world: World) -> None:
    report = world.run(today=TODAY + dt.timedelta(days=5 * 366))
    found = problems(report, "verified")
    lisbon = line_of(world.root, "data/missions.yaml", "id: 'pt-lisbon'")
    assert found[0].startswith(f"warning: data/missions.yaml:{lisbon}: pt-lisbon: details last verified {TODAY} (5 years "
                               "ago; the limit is 1095 days); check them against https://www.gov.uk/")
    assert [f.split(": ")[2] for f in found] == ["pt-lisbon", "no-oslo", "to-nukualofa", "us-washington"], \
        "us-chicago receives no letters"
    assert report.ready and report.status["verified"] == "warning"
    assert problems(world.run(today=TODAY + dt.timedelta(days=1095)), "verified") == []


def spoil(world: World, lang: str, country: str) -> int:
    """A branch of `lang`'s letter that only `country`'s mission takes, failing there; its line."""
    path = world.root / f"data/letter/{lang}.md"
    text = path.read_text(encoding="utf-8")
    branch = f'{{% if mission_country == "{country}" %}}{{{{ target[999] }}}}{{% endif %}}'
    write(world.root, f"data/letter/{lang}.md", f"{text}\n{branch}\n")
    return len(text.splitlines()) + 2


def test_a_letter_that_fails_for_one_mission_blocks(world: World) -> None:
    line = spoil(world, "en", "Norway")
    report = world.run()
    assert report.status["data"] == "ok", "validation renders the letter for one sample mission only"
    (found,) = problems(report, "letters")
    assert re.fullmatch(rf"data/letter/en\.md:{line}: the letter does not render for 1 of 5 missions \(no-oslo\): "
                        r"UndefinedError: .+; fix the template \(`campaign letter --mission no-oslo` previews that "
                        r"mission's letter\)", found), found


def test_the_letter_in_each_declared_language_is_rendered_for_every_mission(world: World) -> None:
    line = spoil(world, "fr", "Norvège")  # the French letter names the countries in French
    report = world.run()
    assert report.status["data"] == "ok"
    (found,) = problems(report, "letters")
    assert found.startswith(f"data/letter/fr.md:{line}: the letter does not render for 1 of 5 missions (no-oslo): UndefinedError")


def test_a_site_that_does_not_build_strictly_blocks(world: World) -> None:
    page = world.root / "docs" / "privacy.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[a link to nowhere](nowhere.md)\n", encoding="utf-8")
    report = world.run(skip=tuple(name for name in CHECKS if name != "site"))
    (found,) = problems(report, "site")
    assert found == ("mkdocs.yml: the site does not build: in en, ar: Doc file 'privacy.md' contains a link 'nowhere.md', "
                     "but the target is not found among documentation files.; fix it and check with `campaign build`"), \
        "one line for the languages a warning stopped (es, pt and fr have their own privacy page)"


def test_a_dispatch_plan_that_does_not_fit_in_the_day_blocks(world: World) -> None:
    configure(world.root, per_domain_delay="3600.0", per_domain_hourly="1")
    add_signatures(world.root, "pt-lisbon", 60)  # one an hour: 39 fit between 09:00 on the day and the deadline's end
    (found,) = problems(world.run(), "plan")
    throttle = line_of(world.root, "data/campaign.yaml", "per_domain_hourly:")
    assert re.fullmatch(rf"data/campaign\.yaml:{throttle}: the dispatch plan does not fit in the day: example\.org: 20 of 60 "
                        r"letters cannot go out before the deadline \(2026-12-11\) at the throttle's pace .+", found), found


def test_checks_that_cannot_finish_block_with_what_they_said(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_ctx: object) -> list[object]:
        raise CampaignError("the forecast could not be made")

    monkeypatch.setitem(doctor.CHECKERS, "plan", broken)
    report = world.run()
    assert problems(report, "plan") == ["the forecast could not be made"] and not report.ready

"""The production intake's parts called as a library: the App's installation tokens
(forge/app_token.py), the clone (intake/checkout.py), the settings from the environment
(intake/production.py), the healthcheck, the pull before each flush, and git's token handling."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from campaign.core.errors import CampaignError, ForgeError
from campaign.core.git import add_token
from campaign.forge.app_token import AppToken
from campaign.forge.github import GitHubForge
from campaign.intake import healthcheck, production
from campaign.intake.checkout import Checkout
from campaign.intake.server import open_intake
from support.builders import git, make_campaign
from support.deploy import APP_ID, FINGERPRINT_KEY, REPOSITORY, Production, app_keys, push_file

NAME = REPOSITORY.split("/")[1]


def token_source(p: Production, **kw: object) -> AppToken:
    return AppToken(APP_ID, p.key_file.read_text(), REPOSITORY, p.github.url, **kw)  # type: ignore[arg-type]


def test_an_installation_token_is_minted_for_the_one_repository_and_reused_while_fresh(production: Production) -> None:
    source = token_source(production)
    first = source.get()
    assert first.startswith("ghs_") and source.get() == first, "reused: an hour is far from the 10-minute margin"
    assert 3590 < source.expires - time.time() <= 3600
    (minted,) = production.github.installation_tokens.values()
    assert minted["repositories"] == [NAME] and minted["permissions"] == {"contents": "write", "pull_requests": "write"}
    assert source.installation == str(production.github.installation_id), "found through the repository"
    calls = [path for _m, path, _b in production.github.requests]
    assert calls == [f"/repos/{REPOSITORY}/installation", f"/app/installations/{production.github.installation_id}/access_tokens"]


def test_a_token_near_its_end_is_replaced_and_the_forge_uses_the_new_one(production: Production) -> None:
    production.github.token_lifetime = 300  # below the margin: stale as soon as it is minted
    source = token_source(production)
    forge = GitHubForge(REPOSITORY, source, api_url=production.github.url)
    assert forge.default_branch() == "main"
    first = source.get()
    production.github.revoke_tokens()  # GitHub no longer accepts any token minted so far
    assert forge.publish({"data/x.txt": b"x\n"}, branch="intake/signatures", message="m", title="t", body="b").opened
    assert source.get() != first and len(production.github.installation_tokens) >= 3


@pytest.mark.parametrize("env, message", [
    ({"CAMPAIGN_GITHUB_APP_ID": "twelve"}, "CAMPAIGN_GITHUB_APP_ID: is 'twelve'; use the App's numeric id"),
    ({"CAMPAIGN_GITHUB_APP_ID": "12"}, "CAMPAIGN_GITHUB_APP_KEY_FILE: is unset but CAMPAIGN_GITHUB_APP_ID is set"),
    ({"CAMPAIGN_GITHUB_APP_ID": "12", "CAMPAIGN_GITHUB_APP_KEY_FILE": "/nonexistent.pem"}, "cannot read the App's private key"),
    ({"CAMPAIGN_GITHUB_APP_ID": "12", "CAMPAIGN_GITHUB_APP_KEY_FILE": "KEY", "CAMPAIGN_GITHUB_APP_INSTALLATION": "x"},
     "CAMPAIGN_GITHUB_APP_INSTALLATION: is 'x'"),
])
def test_app_settings_are_checked_before_anything_is_asked(tmp_path: Path, env: dict[str, str], message: str) -> None:
    key = tmp_path / "key.pem"
    key.write_text(app_keys()[0])
    env = {k: str(key) if v == "KEY" else v for k, v in env.items()}
    with pytest.raises(ForgeError) as raised:
        AppToken.from_env(REPOSITORY, "http://127.0.0.1:9", env)
    assert message in str(raised.value)
    assert AppToken.from_env(REPOSITORY, "http://127.0.0.1:9", {}) is None, "no App: a plain token, as before"


def test_a_key_that_is_not_pem_or_cannot_sign_is_reported(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("ssh-rsa AAAA not a pem key\n")
    with pytest.raises(ForgeError, match="is not a PEM private key"):
        AppToken.from_env(REPOSITORY, "http://127.0.0.1:9", {"CAMPAIGN_GITHUB_APP_ID": "1",
                                                            "CAMPAIGN_GITHUB_APP_KEY_FILE": str(key)})
    broken = AppToken("1", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", REPOSITORY)
    with pytest.raises(ForgeError, match="cannot sign"):
        broken.app_jwt()


def test_github_unreachable_is_said_plainly() -> None:
    source = AppToken(APP_ID, app_keys()[0], REPOSITORY, "http://127.0.0.1:9", timeout=2)
    with pytest.raises(ForgeError, match="cannot reach http://127.0.0.1:9 to mint the App's token"):
        source.get()


# --- the clone --------------------------------------------------------------------------------


def test_the_clone_follows_the_remote_and_keeps_no_token(production: Production) -> None:
    source = token_source(production)
    checkout = Checkout(production.tmp / "state" / "repo", f"{production.github.url}/{REPOSITORY}.git", token=source.get)
    cloned = checkout.ensure()
    assert (checkout.path / "data" / "campaign.yaml").is_file()
    assert git(checkout.path, "rev-parse", "--is-shallow-repository").strip() == "true"
    newer = push_file(production.remote, production.tmp / "maintainer", "data/NOTE.md", "merged\n", "a note")
    assert checkout.pull() == newer != cloned
    (checkout.path / "data" / "NOTE.md").write_text("changed here by accident\n")
    assert checkout.ensure() == newer and (checkout.path / "data" / "NOTE.md").read_text() == "merged\n", "reset, not merged"
    config = (checkout.path / ".git" / "config").read_text()
    assert source.get() not in config and "extraheader" not in config
    assert all(token for _m, _p, token in production.github.git_requests), "every git request carried a token"


def test_the_clone_refuses_a_folder_that_is_not_one_and_git_errors_name_the_url(production: Production) -> None:
    taken = production.tmp / "state" / "repo"
    taken.mkdir(parents=True)
    (taken / "something.txt").write_text("an organiser's file\n")
    with pytest.raises(CampaignError, match="exists and is not a clone of the repository"):
        Checkout(taken, f"{production.github.url}/{REPOSITORY}.git").ensure()
    nobody = Checkout(production.tmp / "other" / "repo", f"{production.github.url}/{REPOSITORY}.git", token=lambda: "wrong")
    with pytest.raises(CampaignError) as raised:
        nobody.ensure()
    assert str(raised.value).startswith(f"{production.github.url}/{REPOSITORY}.git:1: git clone failed")
    assert not (production.tmp / "other" / "repo").exists() and not (production.tmp / "other" / "repo.partial").exists()


def test_git_gets_the_token_only_for_https_or_loopback() -> None:
    env: dict[str, str] = {"GIT_CONFIG_COUNT": "1"}
    add_token(env, "https://github.com/free-assange/letter.git", "ghs_abc")
    assert env["GIT_CONFIG_KEY_1"] == "http.https://github.com/.extraheader"
    assert env["GIT_CONFIG_VALUE_1"] == "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2FiYw=="  # x-access-token:ghs_abc
    assert env["GIT_CONFIG_COUNT"] == "2"
    for url in ("http://example.org/repo.git", "/srv/git/letter.git", "file:///srv/git/letter.git"):
        untouched: dict[str, str] = {}
        add_token(untouched, url, "ghs_abc")
        assert untouched == {}, url


# --- the settings, the pull before each flush, the healthcheck --------------------------------


def test_settings_have_production_defaults() -> None:
    config = production.Config.from_env({"CAMPAIGN_REPOSITORY": REPOSITORY, "CAMPAIGN_FINGERPRINT_KEY": FINGERPRINT_KEY})
    assert config.state == Path("/var/lib/campaign-intake") and config.checkout == Path("/var/lib/campaign-intake/repo")
    assert config.db == Path("/var/lib/campaign-intake/intake.sqlite3")
    assert config.clone_url == "https://github.com/free-assange/letter.git"
    assert (config.host, config.port, config.mail_backend, config.flush_every) == ("127.0.0.1", 8000, "smtp", 300.0)
    assert config.trusted_proxies == () and config.public_url is None and config.branch is None
    proxies = production.Config.from_env({"CAMPAIGN_REPOSITORY": REPOSITORY, "CAMPAIGN_FINGERPRINT_KEY": FINGERPRINT_KEY,
                                          "CAMPAIGN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8 ::1"})
    assert proxies.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(CampaignError) as raised:
        production.Config.from_env({"CAMPAIGN_STATE_DIR": "relative/path", "CAMPAIGN_PUBLIC_URL": "sign.example.org",
                                    "CAMPAIGN_FLUSH_EVERY": "0", "CAMPAIGN_PORT": "70000",
                                    "CAMPAIGN_TRUSTED_PROXIES": "127.0.0.1 caddy"})
    where = sorted(p.path for p in raised.value.problems)
    assert where == ["CAMPAIGN_FINGERPRINT_KEY", "CAMPAIGN_FLUSH_EVERY", "CAMPAIGN_PORT", "CAMPAIGN_PUBLIC_URL",
                     "CAMPAIGN_REPOSITORY", "CAMPAIGN_STATE_DIR", "CAMPAIGN_TRUSTED_PROXIES"]
    assert "'caddy' is not an address or network" in str(raised.value)


def test_a_failed_pull_fails_the_flush_and_loses_nothing(tmp_path: Path) -> None:
    root = make_campaign(tmp_path / "repo")
    calls: list[str] = []

    def sync() -> None:
        calls.append("pull")
        raise CampaignError("https://github.com/free-assange/letter.git:1: git fetch failed: could not resolve host")

    service = open_intake(root, db=tmp_path / "intake.sqlite3", forge_name="local", sync=sync)
    try:
        assert service.flush().describe() == "nothing to flush" and calls == [], "no pull without signatures"
        service.store.add(name_key="k", fingerprint="f", signature={"type": "individual", "name": "Ana Pereira",
                          "country": "PT", "mission": "pt-lisbon", "signed": "2026-11-28", "publish": True, "letter": True,
                          "source": "form", "consent": "2026-11"}, email="a@example.org", token="t" * 30, ttl=60)
        service.store.confirm("t" * 30)
        with pytest.raises(CampaignError, match="git fetch failed"):
            service.flush()
        assert calls == ["pull"] and service.store.counts()["confirmed"] == 1
    finally:
        service.close()


def test_the_healthcheck_says_why_a_service_is_unhealthy(production: Production) -> None:
    assert "127.0.0.1:9/api/health" in (healthcheck.probe({"CAMPAIGN_PORT": "9"}, timeout=2) or "")
    with production.start(production.tmp / "volume") as intake:
        assert healthcheck.probe({"CAMPAIGN_HOST": "0.0.0.0", "CAMPAIGN_PORT": str(intake.port)}) is None
        assert httpx.get(f"{intake.url}/api/health").json()["status"] == "ok"

"""`campaign serve` builds the site and serves it with the intake on one origin; a broken site
build still leaves the intake running: the operator is told why on the console, a visitor at `/`
is pointed to the campaign's site."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from campaign.forge.base import LocalForge
from campaign.intake import app as intake_app
from campaign.intake import server
from campaign.intake import sitebuild as site
from campaign.intake.app import create_app
from campaign.intake.service import Intake, Settings
from support.http import serve_in_thread

FORM = """# Sign

<form method="post" action="/api/signatures"><input name="name"></form>
"""


def serve(root: Path, tmp_path: Path, site_dir: Path | None) -> tuple[object, object, str, Intake]:
    intake = Intake(Settings(root=root, db=tmp_path / "db.sqlite3", public_url="http://x", key=b"k" * 32,
                             forge=LocalForge(root), mail_options={"outbox": tmp_path / "outbox"}))
    server, thread, url = serve_in_thread(create_app(intake, site_dir=site_dir, background=False))
    return server, thread, url, intake


def test_the_site_and_the_intake_share_one_origin(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "docs").mkdir()
    (git_repo / "docs" / "index.md").write_text(FORM)
    (git_repo / "mkdocs.yml").write_text("site_name: Test campaign\nhooks: [hook.py]\n")
    (git_repo / "hook.py").write_text(  # shows what the site's own hooks are told
        "import os\ndef on_page_markdown(markdown, **kw):\n"
        "    return markdown + '\\n\\nendpoint=[' + os.environ.get('CAMPAIGN_INTAKE_ENDPOINT', '') + ']'"
        " + ' site=[' + os.environ.get('CAMPAIGN_SITE_URL', '') + ']'\n")
    built, problem = site.build(git_repo, site_url="http://127.0.0.1:8000/")
    assert problem is None and built == git_repo / site.SITE_DIR
    server, thread, url, intake = serve(git_repo, tmp_path, built)
    try:
        home = httpx.get(url + "/")
        assert home.status_code == 200 and 'action="/api/signatures"' in home.text
        assert "endpoint=[/] site=[http://127.0.0.1:8000/]" in home.text, "the form posts to this origin"
        assert httpx.get(url + "/api/health").json()["status"] == "ok"
        assert httpx.post(url + "/api/signatures", json={}).status_code == 422
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(10)  # type: ignore[attr-defined]
        intake.close()


def test_a_failed_site_build_still_serves_the_intake(git_repo: Path, tmp_path: Path, monkeypatch) -> None:
    (git_repo / "docs").mkdir()
    (git_repo / "mkdocs.yml").write_text("site_name: Broken\nnav:\n  - Missing: missing.md\nstrict: true\nplugins: [nosuchplugin]\n")
    built, problem = site.build(git_repo)
    assert built is None and problem and "campaign build` failed" in problem
    said: list[str] = []
    monkeypatch.setattr(intake_app, "serve", lambda *a, **k: None)
    server.serve(git_repo, port=0, site=True, db=tmp_path / "serve.sqlite3", echo=said.append)
    assert any("nosuchplugin" in line for line in said), "the operator reads the whole problem on the console"
    http_server, thread, url, intake = serve(git_repo, tmp_path, None)
    try:
        home = httpx.get(url + "/", headers={"Accept-Language": "es"})
        assert home.status_code == 200 and home.headers["content-language"] == "es"
        text = home.text
        for developer in ("nosuchplugin", "openapi", "campaign serve", "could not be built", "<pre>", "<code>"):
            assert developer not in text, developer
        assert 'href="https://free-assange.github.io/letter/es/sign/"' in text  # to the campaign's own site
        assert '<html lang="es" dir="ltr">' in text
        assert httpx.get(url + "/api/health").status_code == 200
    finally:
        http_server.should_exit = True  # type: ignore[attr-defined]
        thread.join(10)  # type: ignore[attr-defined]
        intake.close()
    missing, why = site.build(tmp_path)
    assert missing is None and "no mkdocs.yml" in (why or "")



def test_overrides_are_never_inherited_and_a_warning_fails_the_build(git_repo: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`campaign doctor`'s build: without `endpoint` and `site_url` the campaign's own settings
    apply, whatever this environment says; and it is strict, as the deploy workflow's is."""
    (git_repo / "docs").mkdir()
    (git_repo / "docs" / "index.md").write_text("# Home\n")
    (git_repo / "mkdocs.yml").write_text("site_name: Test campaign\nhooks: [hook.py]\n")
    (git_repo / "hook.py").write_text(
        "import os\ndef on_page_markdown(markdown, **kw):\n"
        "    return markdown + '\\n\\nendpoint=[' + os.environ.get('CAMPAIGN_INTAKE_ENDPOINT', 'unset') + ']'\n")
    monkeypatch.setenv("CAMPAIGN_INTAKE_ENDPOINT", "https://inherited.invalid")
    built, problem = site.build(git_repo, tmp_path / "built", endpoint=None)
    assert problem is None and built is not None
    assert "endpoint=[unset]" in (built / "index.html").read_text(encoding="utf-8")
    (git_repo / "docs" / "index.md").write_text("# Home\n\n[gone](missing.md)\n")
    built, problem = site.build(git_repo, tmp_path / "broken", endpoint=None)
    assert built is None and problem is not None
    assert "[en] WARNING -  Doc file 'index.md' contains a link 'missing.md'" in problem

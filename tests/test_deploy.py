"""The production intake's deployment (deploy/; ARCHITECTURE.md, "Deployment"), tested without a
container engine: hadolint over the Containerfile, Caddy validating and running the Caddyfile,
systemd-analyze verifying the unit, and the image's own ENTRYPOINT started as a local process
against a bare repository served over git's HTTP and the GitHub App of the fake GitHub."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest

from campaign.cli import main
from campaign.data.models import IntakeLimits
from support.builders import ROOT, git, run
from support.deploy import DEPLOY, REPOSITORY, Production, confirmation_link, containerfile, instructions
from support.http import serve_in_thread

CONSENT = "2026-11"
CADDY = shutil.which("caddy")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


# --- the Containerfile ------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_containerfile() -> None:
    done = subprocess.run([tool("hadolint"), "--no-color", str(DEPLOY / "Containerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_does_report_a_careless_containerfile(tmp_path: Path) -> None:
    """The lint is real: the mistakes the Containerfile avoids are reported."""
    careless = tmp_path / "Containerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y git\nRUN pip install uv\n"
                        "ENTRYPOINT campaign intake run\n")
    done = subprocess.run([tool("hadolint"), "--no-color", str(careless)], capture_output=True, text=True)
    assert done.returncode != 0
    for rule in ("DL3007", "DL3015", "DL3009", "DL3013", "DL3042", "DL3025"):
        assert rule in done.stdout, (rule, done.stdout)


def test_the_image_runs_as_a_user_with_one_volume_a_healthcheck_and_the_production_entrypoint() -> None:
    image = containerfile()
    assert len(image.froms) == 2 and all(f.startswith("python:3.12-slim") for f in image.froms[-1:])
    uid = image.user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, "a numeric non-root user (Kubernetes' runAsNonRoot can check it)"
    assert image.volumes == [image.env["CAMPAIGN_STATE_DIR"]], "all state on one volume"
    assert image.env["CAMPAIGN_INTAKE_DB"].startswith(image.volumes[0] + "/")
    assert image.env["HOME"] == image.volumes[0]
    assert image.entrypoint == ["campaign", "intake", "run"]
    assert image.healthcheck == ["python", "-m", "campaign.intake.healthcheck"]
    assert float(image.healthcheck_options["start-period"].rstrip("s")) >= 60, "time to clone before the first probe"


def test_the_build_stage_installs_a_working_entrypoint_from_exactly_what_it_copies(tmp_path: Path) -> None:
    """The build stage's COPY and `uv sync` lines, run here: the files it copies are enough for the
    locked install, and the installed `campaign intake run` starts (and refuses an empty environment)."""
    steps = instructions()
    build = steps[:next(i for i, (word, _) in enumerate(steps) if word == "FROM" and i > 0)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "UV_", "VIRTUAL_ENV"))}
    context, target = tmp_path / "src", tmp_path / "opt-campaign"
    for word, rest in build:
        if word == "ENV":
            env.update({k: v.replace("/opt/campaign", str(target)) for k, v in (p.split("=", 1) for p in shlex.split(rest))})
        elif word == "COPY":
            *sources, dest = rest.split()
            for source in sources:
                there = context / dest.removeprefix("./") / (Path(source).name if dest.endswith("/") else "")
                there.parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, there)
        elif word == "RUN" and rest.startswith("pip install"):
            pinned = re.search(r"uv==(\S+)", rest).group(1)  # type: ignore[union-attr]
            assert f"UV_VERSION={pinned}\n" in (ROOT / "scripts" / "setup").read_text(), "the same uv as scripts/setup"
        elif word == "RUN":
            assert rest.startswith("uv sync --frozen --no-dev"), rest
            done = subprocess.run([tool("uv"), *shlex.split(rest)[1:]], cwd=context, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-3000:]
    installed = target / "bin" / "campaign"
    refused = subprocess.run([str(installed), *containerfile().entrypoint[1:]], env={"PATH": env["PATH"]},
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "CAMPAIGN_REPOSITORY: is ''; set it to" in refused.stderr, refused.stderr
    dev = subprocess.run([str(target / "bin" / "python"), "-c", "import pytest"], capture_output=True, timeout=60)
    assert dev.returncode != 0, "no development tools in the image"


# --- the Caddyfile ----------------------------------------------------------------------------


def caddy_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """Caddy with its own home (certificates, autosave) in a temporary folder."""
    home = tmp_path / "caddy-home"
    home.mkdir(exist_ok=True)
    return {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"), **values}


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (scripts/setup installs it)")
def test_caddy_validates_the_caddyfile_with_the_limits_and_timeouts(tmp_path: Path) -> None:
    env = caddy_env(tmp_path, CAMPAIGN_INTAKE_DOMAIN="sign.example.org")
    command = [str(CADDY), "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"]
    validated = subprocess.run([*command, "--validate"], env=env, capture_output=True, text=True, timeout=60)
    assert validated.returncode == 0, validated.stderr
    config = json.loads(validated.stdout)
    (server,) = config["apps"]["http"]["servers"].values()
    second = 1_000_000_000
    assert server["listen"] == [":443"], "a host name: automatic HTTPS (and the redirect from :80)"
    assert server["read_header_timeout"] == 10 * second and server["read_timeout"] == 30 * second
    assert server["idle_timeout"] == 120 * second and server["max_header_bytes"] == 16384
    assert server["routes"][0]["match"] == [{"host": ["sign.example.org"]}]
    handlers = {h["handler"]: h for h in server["routes"][0]["handle"][0]["routes"][0]["handle"]}
    assert handlers["request_body"]["max_size"] == IntakeLimits().max_body, "the proxy's cap is the service's"
    proxy = handlers["reverse_proxy"]
    assert proxy["upstreams"] == [{"dial": "127.0.0.1:8000"}]
    assert "trusted_proxies" not in proxy, "Caddy is the first hop: no client's X-Forwarded-For is believed"
    assert config["admin"]["listen"] == "localhost:2019"

    broken = tmp_path / "Caddyfile"
    broken.write_text((DEPLOY / "Caddyfile").read_text().replace("read_header 10s", "read_header soon"))
    refused = subprocess.run([str(CADDY), "adapt", "--config", str(broken), "--adapter", "caddyfile", "--validate"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "soon" in refused.stderr


def echo_app(bodies: list[int]) -> object:
    """An upstream that answers with the X-Forwarded-For it was sent; `bodies` gets each body's size."""
    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()  # type: ignore[operator]
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        bodies.append(len(body))
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        answer = json.dumps({"xff": headers.get("x-forwarded-for"), "received": len(body)}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": answer})  # type: ignore[operator]
    return app


@pytest.fixture
def caddy_front(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """deploy/Caddyfile run by Caddy on a free loopback port (plain http), in front of `echo_app`."""
    bodies: list[int] = []
    server, thread, upstream = serve_in_thread(echo_app(bodies))
    with __import__("socket").socket() as sock:  # Caddy takes a port number, not 0
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = caddy_env(tmp_path, CAMPAIGN_INTAKE_DOMAIN=f"http://127.0.0.1:{port}", CAMPAIGN_CADDY_ADMIN="off",
                    CAMPAIGN_INTAKE_UPSTREAM=upstream.removeprefix("http://"))
    log = open(tmp_path / "caddy.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(CADDY), "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "caddy.log").read_text()) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", bodies
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
        server.should_exit = True
        thread.join(10)


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (scripts/setup installs it)")
def test_caddy_replaces_a_forged_forwarded_for_and_refuses_a_large_body(caddy_front: tuple[str, list[int]]) -> None:
    caddy_front, bodies = caddy_front
    plain = httpx.get(f"{caddy_front}/api/health").json()
    assert plain["xff"] == "127.0.0.1", "the service is told the address Caddy saw"
    forged = httpx.get(f"{caddy_front}/api/health", headers={"X-Forwarded-For": "203.0.113.9"}).json()
    assert forged["xff"] == "127.0.0.1", "a client cannot pick the address its rate limit counts"
    small = httpx.post(f"{caddy_front}/api/signatures", content=b"x" * 1000)
    assert small.json()["received"] == 1000
    large = httpx.post(f"{caddy_front}/api/signatures", content=b"x" * (IntakeLimits().max_body + 1))
    assert large.status_code == 413, large.text
    assert max(bodies) <= IntakeLimits().max_body, "the service never gets more than the cap"
    assert "Server" not in small.headers, "no server banner"


# --- the systemd unit -------------------------------------------------------------------------


def unit_root(tmp_path: Path) -> Path:
    """A root for `systemd-analyze --root`: the system's own units, the unit, and an executable at
    the unit's ExecStart path (the package is installed in /opt/campaign on a real host)."""
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(DEPLOY / "campaign-intake.service", root / "etc/systemd/system")
    executable = root / "opt/campaign/bin/campaign"
    executable.parent.mkdir(parents=True)
    executable.write_text(f"#!/bin/sh\nexec {tool('campaign')} \"$@\"\n")
    executable.chmod(0o755)
    return root


@pytest.mark.skipif(SYSTEMD_ANALYZE is None or not Path("/usr/lib/systemd/system").is_dir(), reason="no systemd-analyze")
def test_systemd_analyze_verifies_the_unit_and_rates_its_exposure_low(tmp_path: Path) -> None:
    root = unit_root(tmp_path)
    verified = subprocess.run([str(SYSTEMD_ANALYZE), "verify", f"--root={root}", "campaign-intake.service"],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and not (verified.stdout + verified.stderr).strip(), verified.stdout + verified.stderr
    security = subprocess.run([str(SYSTEMD_ANALYZE), "security", "--offline=yes", f"--root={root}", "--threshold=15",
                               "campaign-intake.service"], capture_output=True, text=True, timeout=60)
    assert security.returncode == 0, security.stdout[-3000:]  # exposure at most 1.5 of 10 (measured: 1.1)
    assert "Overall exposure level for campaign-intake.service: 1." in security.stdout
    unit = (DEPLOY / "campaign-intake.service").read_text()
    for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=campaign-intake", "LimitNOFILE=65536",
                    "ExecStart=/opt/campaign/bin/campaign intake run", "User=campaign-intake"):
        assert f"\n{setting}\n" in unit, setting

    broken = root / "etc/systemd/system/broken.service"
    broken.write_text(unit.replace("NoNewPrivileges=yes", "NoNewPrivileges=maybe").replace("/opt/campaign/bin", "/nowhere"))
    refused = subprocess.run([str(SYSTEMD_ANALYZE), "verify", f"--root={root}", "broken.service"],
                             capture_output=True, text=True, timeout=60)
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "Failed to parse boolean value" in said and "/nowhere/campaign" in said


# --- the entrypoint ---------------------------------------------------------------------------


def sign(base: str, name: str, address: str) -> httpx.Response:
    return httpx.post(f"{base}/api/signatures", json={"name": name, "country": "PT", "email": address, "publish": True,
                                                      "letter": True, "consent": CONSENT, "website": ""}, timeout=30)


def wait_for(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_the_entrypoint_clones_serves_answers_its_healthcheck_pulls_and_flushes(production: Production) -> None:
    state = production.tmp / "volume"
    github = production.github
    github.token_lifetime = 601.0  # just over AppToken's margin: every use mints a fresh token, as an hour later would
    with production.start(state, CAMPAIGN_FLUSH_EVERY="1") as intake:
        health = httpx.get(f"{intake.url}/api/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        env = {**production.env(state), "CAMPAIGN_PORT": str(intake.port)}
        probe = subprocess.run(production.image.healthcheck, env=env, capture_output=True, text=True, timeout=30)
        assert probe.returncode == 0, probe.stderr
        assert httpx.get(f"{intake.url}/").status_code == 200, "its own page, not the site (--no-site)"
        assert "campaign intake run: free-assange/letter at" in intake.output()

        # A maintainer merges a signature by another route while the service runs ...
        scratch = production.tmp / "maintainer"
        git(production.tmp, "clone", "-q", str(production.remote), str(scratch))
        added = run(scratch, "sign", "--name", "Cy Twombly", "--country", "PT", "--publish", "--letter")
        assert added.exit_code == 0, added.output
        git(scratch, "add", "-A")
        git(scratch, "-c", "user.email=m@example.org", "-c", "user.name=M", "commit", "-qm", "Cy signs")
        git(scratch, "push", "-q", "origin", "HEAD:main")
        merged = git(scratch, "rev-parse", "HEAD").strip()

        # ... and the same name comes in through the form, with a newcomer: the service loaded
        # data/ at start, so both are taken and confirmed; the flush pulls first and sets Cy aside.
        for name, address in (("Ana Pereira", "ana.prod@example.org"), ("Cy Twombly", "cy.prod@example.org")):
            assert sign(intake.url, name, address).status_code == 202
            link = confirmation_link(production.smtp, address)
            assert httpx.post(intake.url + "/confirm/" + link.rsplit("/", 1)[1]).status_code == 200
        wait_for(lambda: httpx.get(f"{intake.url}/api/health").json()["confirmed"] == 0
                 and httpx.get(f"{intake.url}/api/health").json()["flushed"] == 1)
    assert git(state / "repo", "rev-parse", "HEAD").strip() == merged, "the clone was pulled before the flush"
    (pull,) = github.pulls
    assert pull["head"] == "intake/signatures" and pull["base"] == "main"
    added_files = {p: t for p, t in github.files("intake/signatures").items() if p.startswith("data/signatories/")}
    (text,) = added_files.values()
    assert b"name: 'Ana Pereira'" in text and b"Cy Twombly" not in text

    minted = github.installation_tokens
    assert len(minted) >= 2, "tokens are minted again as they age"
    assert all(t["repositories"] == ["letter"] and t["permissions"] == {"contents": "write", "pull_requests": "write"}
               for t in minted.values()), "narrowed to the one repository, contents and pull requests"
    used = {token for _method, _path, token in github.git_requests}
    assert used <= set(minted) and len(used) >= 2, "git fetched with a fresh token, not the one it cloned with"
    config = (state / "repo" / ".git" / "config").read_text()
    assert not any(token in config for token in minted) and "extraheader" not in config

    assert not os.listdir(production.tmp / f"cwd-{state.name}"), "nothing written outside the volume ..."
    assert not os.listdir(production.tmp / "tmp") and not (production.tmp / "no-home").exists(), "... nor in TMPDIR or HOME"
    assert set(os.listdir(state)) <= {"repo", "intake.sqlite3", "intake.sqlite3-wal", "intake.sqlite3-shm"}
    assert "ana.prod@example.org" not in intake.output() and "Uvicorn running" in intake.output()
    assert intake.proc.returncode in (0, -15), intake.output()[-3000:]
    # the maintenance commands as GUIDE.md gives them (`podman exec` starts in the volume)
    status = subprocess.run(["campaign", "--root", "repo", "intake", "status"], cwd=state, env=production.env(state),
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    counts = json.loads(status.stdout)
    assert (counts["flushed"], counts["rejected"], counts["pending"], counts["confirmed"]) == (1, 1, 0, 0)
    exported = subprocess.run(["campaign", "--root", "repo", "followup", "export", str(state / "followup.jsonl")], cwd=state,
                              env=production.env(state), capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0 and exported.stdout.startswith("wrote 0 sealed addresses"), exported.stderr


def test_a_second_start_updates_the_clone_it_finds(production: Production) -> None:
    state = production.tmp / "volume"
    with production.start(state):
        pass
    scratch = production.tmp / "maintainer"
    git(production.tmp, "clone", "-q", str(production.remote), str(scratch))
    (scratch / "NOTES.md").write_text("a change merged while the service was stopped\n")
    git(scratch, "add", "-A")
    git(scratch, "-c", "user.email=m@example.org", "-c", "user.name=M", "commit", "-qm", "notes")
    git(scratch, "push", "-q", "origin", "HEAD:main")
    with production.start(state):
        assert (state / "repo" / "NOTES.md").is_file()


def test_the_entrypoint_refuses_bad_settings_with_one_line_each(production: Production) -> None:
    state = production.tmp / "volume"
    env = production.env(state, CAMPAIGN_REPOSITORY="not a repository", CAMPAIGN_PORT="eighty",
                          CAMPAIGN_FINGERPRINT_KEY="short", CAMPAIGN_MAIL_BACKEND="pigeon")
    command = [shutil.which("campaign", path=env["PATH"]) or "campaign", *production.image.entrypoint[1:]]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 4, done.stderr
    assert any(line.startswith("CAMPAIGN_REPOSITORY: is 'not a repository'; set it to") for line in lines)
    assert any(line.startswith("CAMPAIGN_PORT: is 'eighty'; use a number from 0 to 65535") for line in lines)
    assert any(line.startswith("CAMPAIGN_FINGERPRINT_KEY: is 5 characters long") for line in lines)
    assert any(line.startswith("CAMPAIGN_MAIL_BACKEND: is 'pigeon'") for line in lines)
    assert not state.exists(), "nothing is created before the settings are right"


@pytest.mark.parametrize("change, expected", [
    ({"CAMPAIGN_REPOSITORY": "someone/else"}, "is not installed on someone/else"),
    ({"CAMPAIGN_GITHUB_APP_KEY_FILE": "/nonexistent/key.pem"}, "CAMPAIGN_GITHUB_APP_KEY_FILE: cannot read the App's private key"),
    ({"CAMPAIGN_GITHUB_APP_ID": "999"}, "CAMPAIGN_GITHUB_APP_ID: GitHub refused the App's JWT (401)"),
])
def test_the_entrypoint_says_what_is_wrong_with_the_app(production: Production, change: dict[str, str], expected: str) -> None:
    env = production.env(production.tmp / "volume", **change)
    command = [shutil.which("campaign", path=env["PATH"]) or "campaign", *production.image.entrypoint[1:]]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_clone_of_another_repository_is_refused(production: Production, tmp_path: Path) -> None:
    """intake.repository must name the repository served: pull requests go where the data came from."""
    scratch = tmp_path / "maintainer"
    git(tmp_path, "clone", "-q", str(production.remote), str(scratch))
    settings = scratch / "data" / "campaign.yaml"
    settings.write_text(settings.read_text().replace(f"repository: '{REPOSITORY}'", "repository: 'someone/fork'"))
    git(scratch, "-c", "user.email=m@example.org", "-c", "user.name=M", "commit", "-qam", "fork")
    git(scratch, "push", "-q", "origin", "HEAD:main")
    env = production.env(tmp_path / "volume")
    command = [shutil.which("campaign", path=env["PATH"]) or "campaign", *production.image.entrypoint[1:]]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert ("data/campaign.yaml: intake.repository is 'someone/fork' but CAMPAIGN_REPOSITORY is 'free-assange/letter'"
            in done.stderr)


# --- the configuration table ------------------------------------------------------------------

VARIABLE = re.compile(r"^(CAMPAIGN|SMTP|GITHUB|IMAP|PR)_[A-Z0-9_]+$")


def variables_read_by_the_code() -> dict[str, set[str]]:
    """Every environment variable the package names: string constants shaped like one (os.environ
    lookups, the `*_ENV` constants, the settings' readers) and every click option's envvar."""
    found: dict[str, set[str]] = {}
    package = ROOT / "scripts" / "campaign"
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and VARIABLE.match(node.value):
                found.setdefault(node.value, set()).add(path.relative_to(package).as_posix())

    def walk(command: click.Command, name: str) -> None:
        for param in command.params:
            for envvar in [param.envvar] if isinstance(param.envvar, str) else param.envvar or []:
                found.setdefault(envvar, set()).add(name)
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{name} {sub_name}")

    walk(main, "campaign")
    return found


def variables_in_the_guide() -> list[str]:
    """The first column of the table under GUIDE.md's "Configuration" heading."""
    section = (ROOT / "GUIDE.md").read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])]


def test_the_guide_lists_every_environment_variable_the_code_reads_and_no_other() -> None:
    code, guide = variables_read_by_the_code(), variables_in_the_guide()
    assert len(guide) == len(set(guide)), "each variable once"
    missing = {name: sorted(where) for name, where in code.items() if name not in guide}
    assert not missing, f"add these to GUIDE.md, Configuration: {missing}"
    assert not set(guide) - set(code), "the table names variables nothing reads"
    assert {"CAMPAIGN_FINGERPRINT_KEY", "CAMPAIGN_GITHUB_APP_ID", "SMTP_PASSWORD", "CAMPAIGN_TRUSTED_PROXIES"} <= set(code)

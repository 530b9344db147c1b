"""The deployment files as the tests use them: the Containerfile read back, and the production
intake started with the Containerfile's own command line and environment.

There is no container engine on the test machines, so `start_intake` runs the image's
ENTRYPOINT as a local process: the image's ENV, with the paths that only exist in the image
(the volume, the virtual environment) pointed at temporary folders, and the secrets an
organiser would set (tests/support/github.py stands in for GitHub, a bare repository served
by it for the repository, aiosmtpd for the mail server).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support.builders import ROOT, git
from support.github import FakeGitHub
from support.smtp import SmtpTestServer

DEPLOY = ROOT / "deploy"
APP_ID = "31337"
REPOSITORY = "free-assange/letter"
FINGERPRINT_KEY = "k" * 40


@dataclass
class Containerfile:
    """The final stage of deploy/Containerfile: what the image runs and with which settings."""

    froms: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    volumes: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    healthcheck_options: dict[str, str] = field(default_factory=dict)


def instructions(path: Path = DEPLOY / "Containerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, its arguments) in order, line continuations joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.lstrip().startswith("#"):
            continue
        pending += raw.rstrip().removesuffix("\\") + " "
        if not raw.rstrip().endswith("\\"):
            if pending.strip():
                lines.append(pending.strip())
            pending = ""
    return [(line.partition(" ")[0].upper(), " ".join(line.partition(" ")[2].split())) for line in lines]


def containerfile(path: Path = DEPLOY / "Containerfile") -> Containerfile:
    """What the final stage runs, and with which settings."""
    found = Containerfile()
    for word, rest in instructions(path):
        if word == "FROM":
            found = Containerfile(froms=[*found.froms, rest])  # a new stage starts afresh
        elif word == "ENV":
            found.env.update(dict(part.split("=", 1) for part in shlex.split(rest)))
        elif word == "USER":
            found.user = rest
        elif word == "VOLUME":
            found.volumes += json.loads(rest)
        elif word == "ENTRYPOINT":
            found.entrypoint = json.loads(rest)
        elif word == "HEALTHCHECK":
            options, _, command = rest.partition("CMD ")
            found.healthcheck = json.loads(command)
            found.healthcheck_options = dict(re.findall(r"--([a-z-]+)=(\S+)", options))
    return found


def app_keys() -> tuple[str, bytes]:
    """A fresh RSA key pair for a fake GitHub App: (private key PEM, public key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def bare_remote(source: Path, where: Path) -> Path:
    """A bare clone of the git repository `source` at `where` (the "GitHub" repository)."""
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(where)], check=True, capture_output=True)
    return where


def push_file(remote: Path, scratch: Path, rel: str, text: str, message: str) -> str:
    """Commit one file to the remote's main through a scratch clone (a maintainer merging); the commit."""
    if not scratch.exists():
        subprocess.run(["git", "clone", "-q", str(remote), str(scratch)], check=True, capture_output=True)
        git(scratch, "config", "user.email", "maintainer@example.org")
        git(scratch, "config", "user.name", "Maintainer")
    git(scratch, "pull", "-q", "--ff-only")
    target = scratch / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    git(scratch, "add", rel)
    git(scratch, "commit", "-qm", message)
    git(scratch, "push", "-q", "origin", "HEAD:main")
    return git(scratch, "rev-parse", "HEAD").strip()


def image_env(image: Containerfile, state: Path, **settings: str) -> dict[str, str]:
    """The image's ENV with its paths made local, plus `settings` (the organiser's variables).

    The volume's path becomes `state`, PATH starts with this virtual environment's bin/ (where
    the image has /opt/campaign/bin), and nothing of the caller's CAMPAIGN_* or SMTP_* leaks in.
    """
    volume = image.volumes[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "SMTP_", "GIT_"))}
    for name, value in image.env.items():
        if name == "PATH":
            value = value.replace("/opt/campaign/bin", str(Path(sys.executable).parent)).replace("$PATH", env.get("PATH", ""))
        env[name] = value.replace(volume, str(state))
    env.update(settings)
    return env


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def start_intake(command: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float = 120) -> Iterator[Running]:
    """Run the production intake's command until it listens (CAMPAIGN_PORT=0: a free port); stop it after."""
    command = [shutil.which(command[0], path=env["PATH"]) or command[0], *command[1:]]
    out = open(log, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(r"Uvicorn running on http://[^:]+:(\d+)", log.read_text(errors="replace"))
            if found:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the intake did not start:\n" + log.read_text(errors="replace")[-5000:])
            time.sleep(0.05)
        yield Running(proc, int(found.group(1)), log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()


@dataclass
class Production:
    """What an organiser sets up around the image: GitHub (fake) with the App and the repository,
    a mail server, the App's key as a secret file; `env(state)` is the container's environment."""

    tmp: Path
    remote: Path
    github: FakeGitHub
    smtp: SmtpTestServer
    key_file: Path
    image: Containerfile = field(default_factory=containerfile)

    def env(self, state: Path, **extra: str) -> dict[str, str]:
        gh = self.github
        settings = {"CAMPAIGN_HOST": "127.0.0.1", "CAMPAIGN_PORT": "0", "HOME": str(self.tmp / "no-home"),
                    "TMPDIR": str(self.tmp / "tmp"), "CAMPAIGN_REPOSITORY": REPOSITORY,
                    "CAMPAIGN_CLONE_URL": f"{gh.url}/{REPOSITORY}.git", "CAMPAIGN_GITHUB_API": gh.url,
                    "CAMPAIGN_GITHUB_APP_ID": APP_ID, "CAMPAIGN_GITHUB_APP_KEY_FILE": str(self.key_file),
                    "CAMPAIGN_FINGERPRINT_KEY": FINGERPRINT_KEY, "CAMPAIGN_PUBLIC_URL": "https://sign.example.org",
                    **self.smtp.env()}
        return image_env(self.image, state, **{**settings, **extra})

    @contextmanager
    def start(self, state: Path, **extra: str) -> Iterator[Running]:
        """The image's ENTRYPOINT on `state` as its volume, in an empty working folder."""
        cwd = self.tmp / f"cwd-{state.name}"
        cwd.mkdir(exist_ok=True)
        (self.tmp / "tmp").mkdir(exist_ok=True)
        log = self.tmp / f"{state.name}-{len(list(self.tmp.glob(state.name + '-*.log')))}.log"
        with start_intake(self.image.entrypoint, self.env(state, **extra), cwd, log) as running:
            yield running


def confirmation_link(smtp: SmtpTestServer, address: str) -> str:
    """The confirmation link in the last mail the SMTP server received for `address`."""
    for received in reversed(smtp.messages):
        message = received.message
        if str(message["To"]) == address:
            found = re.search(r"https?://\S+/confirm/[A-Za-z0-9_-]+", message.get_body(("plain",)).get_content())
            if found:
                return found.group(0)
    raise AssertionError(f"no confirmation mail for {address}")

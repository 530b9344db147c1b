"""Git, run as a subprocess: one wrapper for every git call of the package.

Failures are `CampaignError`s naming `where` (a file or folder the command was about) and git's
own last line, so a user sees what git said and where; git missing is said plainly.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import time
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from urllib.parse import urlsplit

from campaign.core.errors import CampaignError, Problem


def add_token(env: MutableMapping[str, str], url: str, token: str) -> None:
    """Hand `token` to git for the server of the https `url`, through `GIT_CONFIG_*` variables.

    An `http.<server>/.extraheader` set in the environment reaches git without appearing on a
    command line (which any local user can read) or in `.git/config`. GitHub takes an installation
    or workflow token as the password of the user `x-access-token`. Nothing is added for other
    URLs (a path or file:// needs no token, and plain http would send it in the clear); plain
    http is accepted on loopback only, where the tests serve git.
    """
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not token or not parts.netloc or (parts.scheme != "https" and not loopback):
        return
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    env[f"GIT_CONFIG_KEY_{count}"] = f"http.{parts.scheme}://{parts.netloc}/.extraheader"
    env[f"GIT_CONFIG_VALUE_{count}"] = f"AUTHORIZATION: basic {basic}"
    env["GIT_CONFIG_COUNT"] = str(count + 1)


def branch_name(value: str) -> str:
    """`value` if git takes it as a branch name (`git check-ref-format`'s rules for the characters
    of `models.BranchName`), else ValueError."""
    if ".." in value or any(not p or p.startswith(".") or p.endswith((".lock", ".")) for p in value.split("/")):
        raise ValueError(f"{value!r} is not a git branch name: no '..', no empty part or one that starts with '.' "
                         "or ends with '.' or '.lock'; e.g. 'ledger'")
    return value


class Git:
    """`git` in one work tree, with an environment of its own (identity, credentials)."""

    def __init__(self, root: Path, environ: Mapping[str, str] | None = None, where: str = ".",
                 error: type[CampaignError] = CampaignError, timeout: float | None = None) -> None:
        self.root = root
        self.env = dict(os.environ if environ is None else environ)
        self.where, self.error, self.timeout = where, error, timeout

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """The completed process (bytes); CampaignError when it fails and `check`."""
        try:
            done = subprocess.run(["git", *args], cwd=self.root, env=self.env, input=input, capture_output=True,
                                  timeout=self.timeout)
        except FileNotFoundError:
            raise self.error([Problem(self.where, 1, "git is not installed; install git")]) from None
        except subprocess.TimeoutExpired:
            raise self.error([Problem(self.where, 1, f"git {args[0]} took over {self.timeout:g} s; try again")]) from None
        if check and done.returncode != 0:
            said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
            raise self.error([Problem(self.where, 1, f"git {args[0]} failed: {said[-1] if said else done.returncode}")])
        return done

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return self.run(*args, check=check)

    def out(self, *args: str, input: bytes | None = None) -> str:
        """Standard output as text (file names kept byte for byte with surrogateescape), stripped."""
        return self.text(*args, input=input).strip()

    def text(self, *args: str, input: bytes | None = None) -> str:
        """Standard output as text, unstripped (for -z output)."""
        return self.run(*args, input=input).stdout.decode("utf-8", "surrogateescape")

    def ok(self, *args: str) -> bool:
        """Whether the command succeeds (e.g. `diff --quiet`)."""
        return self.run(*args, check=False).returncode == 0

    def rev(self, ref: str) -> str | None:
        """The commit `ref` names, or None when there is none."""
        done = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return done.stdout.decode().strip() or None if done.returncode == 0 else None

    def write_commit(self, files: Mapping[str, bytes], message: str, committer: str, parent: str | None = None,
                     scratch: str = "refs/campaign-scratch", removed: Iterable[str] = ()) -> str:
        """One commit of `files` (repository path -> content) on `parent`, without the paths in
        `removed`, or a root commit holding only them; return its id. Written with `git fast-import` to a scratch ref, deleted again:
        no work tree, index or branch is touched. `committer` is `Name <email>`."""
        ref = f"{scratch}/{os.getpid()}-{secrets.token_hex(6)}"
        msg = message.encode("utf-8")
        chunks = [f"commit {ref}\n".encode(), f"committer {committer} {int(time.time())} +0000\n".encode(),
                  f"data {len(msg)}\n".encode(), msg, b"\n"]
        if parent:
            chunks.append(f"from {parent}\n".encode())
        for path, content in sorted(files.items()):
            chunks += [f"M 100644 inline {path}\n".encode(), f"data {len(content)}\n".encode(), content, b"\n"]
        chunks += [f"D {path}\n".encode() for path in sorted(removed)]
        chunks.append(b"done\n")
        self.run("fast-import", "--quiet", "--done", input=b"".join(chunks))
        try:
            commit = self.rev(ref)
        finally:
            self.run("update-ref", "-d", ref, check=False)
        if commit is None:
            raise self.error([Problem(self.where, 1, "git fast-import wrote no commit")])
        return commit

"""Git, run as a subprocess: one wrapper for every git call of the package.

Failures are `CampaignError`s naming `where` (a file or folder the command was about) and git's
own last line, so a user sees what git said and where; git missing is said plainly.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from campaign.core.errors import CampaignError, Problem


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

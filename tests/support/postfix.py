"""A private Postfix instance on loopback for tests (Debian's `postfix`, started by
tests/support/postfix/start-postfix.sh, which documents what it sets up).

    with Postfix(["smtpd_helo_restrictions=reject_non_fqdn_helo_hostname"]) as mta:
        mta.port, mta.maildir                      # 127.0.0.1:port; bounces+...@campaign.test land here

Skips the test when Postfix is not installed or we are not root; fails when Postfix is
installed but does not start (the script prints the log's tail).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from support.smtp import free_port

SCRIPTS = Path(__file__).with_name("postfix")


class Postfix:
    def __init__(self, settings: list[str]) -> None:
        self.settings = settings
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="campaign-postfix-", dir="/var/tmp"))  # not tmp_path: see the script
        os.chmod(self.base, 0o755)

    @property
    def maildir(self) -> Path:
        return self.base / "spool/mail/campaign/Maildir"

    def wait_for_mail(self, count: int, timeout: float = 10.0) -> list[Path]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sorted((self.maildir / "new").glob("*")) if (self.maildir / "new").is_dir() else []
            if len(found) >= count:
                return found
            time.sleep(0.05)
        log = (self.base / "log/maillog").read_text(errors="replace")[-3000:]
        raise AssertionError(f"{count} mails expected in {self.maildir}; the log ends with:\n{log}")

    def __enter__(self) -> Postfix:
        if shutil.which("postconf", path="/usr/sbin:/usr/bin") is None or os.geteuid() != 0:
            pytest.skip("Postfix is not installed (scripts/setup installs it) or we are not root")
        done = subprocess.run([str(SCRIPTS / "start-postfix.sh"), str(self.base), str(self.port), *self.settings],
                              capture_output=True, text=True, timeout=60, check=False)
        if done.returncode == 3:
            pytest.skip(f"Postfix is not usable here: {done.stderr.strip()}")
        assert done.returncode == 0, done.stdout + done.stderr
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([str(SCRIPTS / "stop-postfix.sh"), str(self.base), "--purge"], capture_output=True, timeout=60)

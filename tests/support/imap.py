"""A private Dovecot IMAP server on loopback for tests (Debian's `dovecot-imapd`).

    with Dovecot("bounces", "secret") as imap:
        imap.deliver(raw_bytes)                  # into the user's INBOX (a Maildir)
        imap.url                                 # imap://bounces@127.0.0.1:PORT/

Runs `dovecot -F` with a configuration of its own in a temporary folder (plain-text login on
127.0.0.1 only, a passwd-file user, Maildir storage), never the system's. Skips the test when
Dovecot is not installed or we are not root.
"""

from __future__ import annotations

import mailbox
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from support.smtp import free_port

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={base}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password, self.port = user, password, free_port()
        self.base = Path(tempfile.mkdtemp(prefix="campaign-dovecot-", dir="/var/tmp"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imap://{self.user}@127.0.0.1:{self.port}/"

    @property
    def inbox(self) -> Path:
        return self.base / "home" / self.user / "Maildir"

    def deliver(self, raw: bytes | None) -> None:
        """Put one mail into the INBOX (None: only make the Maildir), owned by the mail user."""
        self.inbox.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.Maildir(self.inbox, create=True)
        if raw is not None:
            box.add(raw)
        for folder, _, files in os.walk(self.base / "home"):
            for name in [folder, *(os.path.join(folder, f) for f in files)]:
                os.chown(name, 65534, 65534)

    def __enter__(self) -> Dovecot:
        if shutil.which("dovecot", path="/usr/sbin:/usr/bin") is None or os.geteuid() != 0:
            pytest.skip("Dovecot is not installed (scripts/setup installs dovecot-imapd) or we are not root")
        os.chmod(self.base, 0o755)
        for sub in ("run", "state", "home"):
            (self.base / sub).mkdir()
        (self.base / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        (self.base / "dovecot.conf").write_text(CONFIG.format(base=self.base, port=self.port))
        self.deliver(None)
        self.process = subprocess.Popen(["/usr/sbin/dovecot", "-c", str(self.base / "dovecot.conf"), "-F"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.__exit__()
        raise AssertionError(f"dovecot did not start: {(self.base / 'dovecot.log').read_text(errors='replace')[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.base, ignore_errors=True)

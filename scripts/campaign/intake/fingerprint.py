"""The keyed email fingerprint and the rule that no email address is ever logged.

A committed signature carries at most `fingerprint(key, email)`: HMAC-SHA256 of the casefolded,
normalised address, under a key kept secret (ARCHITECTURE.md, "Privacy"). Without the key the
fingerprint cannot be tested against a guessed address, so it reveals nothing; with it the
intake refuses a second signature from the same address.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from campaign.core.errors import KeyConfigError
from campaign.data.models import Email

KEY_ENV = "CAMPAIGN_FINGERPRINT_KEY"
"""Environment variable holding the key (at least KEY_MIN characters; e.g. `openssl rand -hex 32`)."""
KEY_MIN = 32
LOCAL_KEY = ".cache/intake/fingerprint.key"
"""Where a key is generated for a local run without configuration (`.cache/` is git-ignored)."""
_EMAIL = TypeAdapter(Email)
_ADDRESS = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")


def normalise(email: str) -> str:
    """The address as the models validate it (the same code as every other Email field)."""
    return _EMAIL.validate_python(email)


def check_email(email: str) -> str | None:
    """Why `email` is not a usable address, or None."""
    try:
        normalise(email)
    except ValidationError as exc:
        return exc.errors()[0]["msg"].removeprefix("Value error, ")
    return None


def fingerprint(key: bytes, email: str) -> str:
    """HMAC-SHA256 (hex) of the normalised, casefolded address."""
    return hmac.new(key, normalise(email).casefold().encode("utf-8"), hashlib.sha256).hexdigest()


def key_problem(value: str) -> str | None:
    """Why `value` cannot be the key in CAMPAIGN_FINGERPRINT_KEY ("is unset; ..."), or None
    (the production intake's settings and `campaign doctor` say it so)."""
    if len(value) >= KEY_MIN:
        return None
    return (("is unset" if not value else f"is {len(value)} characters long") +
            f"; set it from a secret of at least {KEY_MIN} characters (`openssl rand -hex 32`), the same "
            "for every start: it recognises a second signature from the same address")


def load_key(root: Path, env: dict[str, str] | None = None) -> tuple[bytes, str]:
    """(key, where it came from): the environment variable, else a local key file (made once).

    The local file lives under the repository's git-ignored `.cache/`, readable by its owner
    only; a deployment sets CAMPAIGN_FINGERPRINT_KEY from a secret instead, so that every
    instance and every restart computes the same fingerprints.
    """
    value = (os.environ if env is None else env).get(KEY_ENV, "")
    if value:
        why = key_problem(value)
        if why:
            raise KeyConfigError(f"{KEY_ENV} {why}")
        return value.encode("utf-8"), f"${KEY_ENV}"
    path = root / LOCAL_KEY
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode("ascii"), str(path)


def redact(text: str) -> str:
    """`text` with anything shaped like an email address replaced (for logs and error details)."""
    return _ADDRESS.sub("<address>", text)

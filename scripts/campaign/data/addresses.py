"""The checks behind the models' address types (`models.HttpsUrl`, `WebUrl`, `Email`): one
https link, a provenance link, an email address (ARCHITECTURE.md, "Data rules")."""

from __future__ import annotations

from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email


def https_url(value: str) -> str:
    """One https:// address, without spaces or credentials."""
    if any(ch.isspace() or ord(ch) < 32 for ch in value) or len(value) > 500:
        raise ValueError("must be a single https:// address without spaces (at most 500 characters)")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https:// address; only https links are accepted")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password")
    return value


def web_url(value: str) -> str:
    """An http(s) address: for provenance links only, never for links shown to visitors."""
    if value.startswith("http://"):
        return https_url("https://" + value.removeprefix("http://")) and value
    return https_url(value)


def email_address(value: str) -> str:
    """The normalised address. The part before the @ must be ASCII: mail to an internationalised
    local part needs SMTPUTF8 at every hop, which many servers lack (a domain may be
    internationalised: headers carry it as punycode, `ascii_email`)."""
    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as exc:
        if "before the @-sign" in str(exc):
            raise ValueError(f"{value!r} has non-ASCII characters before the @, which many mail servers cannot "
                             "deliver to; use an address with only ASCII letters, digits and . _ - + before the @") from None
        raise ValueError(f"{value!r} is not a valid email address: {exc}") from None

"""GOV.UK organisation pages: the slug that names a mission's organisation (`campaign missions refresh`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

GOVUK_ORGANISATIONS = "/world/organisations/"
_GOVUK_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def govuk_slug(url: str | None) -> str | None:
    """'https://www.gov.uk/world/organisations/british-embassy-oslo' -> 'british-embassy-oslo'
    (also the older '/government/world/organisations/...' form). None for other addresses,
    including an office page inside an organisation ('.../british-embassy-vienna/office/...'):
    that page is not the organisation, and must not be refreshed from it."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.hostname not in ("www.gov.uk", "gov.uk"):
        return None
    path = parts.path.removeprefix("/government")
    if not path.startswith(GOVUK_ORGANISATIONS):
        return None
    candidate = path[len(GOVUK_ORGANISATIONS):].strip("/")
    return candidate if _GOVUK_SLUG.match(candidate) else None

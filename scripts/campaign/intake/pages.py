"""The few HTML pages the intake serves itself: confirmation, results, a missing site.

Signer text is data: every value is HTML-escaped, attributes are quoted, nothing external is
loaded (the confirmation URL carries a secret, so no Referer may leak it).
"""

from __future__ import annotations

from html import escape
from typing import Any

from campaign.data import countries

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

_STYLE = """body{font:1.05rem/1.5 system-ui,sans-serif;max-width:38rem;margin:3rem auto;padding:0 1rem;color:#222}
button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:.3rem;background:#1d4ed8;color:#fff;cursor:pointer}
.muted{color:#666;font-size:.9rem}ul.errors{color:#a40000}"""


def page(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n{body}\n</body></html>\n")


def _who(sig: dict[str, Any]) -> str:
    country = sig.get("country", "")
    try:
        where = countries.name(country)
    except Exception:  # noqa: BLE001 - a stored code is valid; be safe anyway
        where = country
    return f"<strong>{escape(str(sig.get('name', '')))}</strong> ({escape(where)})"


def confirm(campaign: str, token: str, sig: dict[str, Any]) -> str:
    publish = "listed on the campaign site" if sig.get("publish") else "not listed on the site"
    letter = "included in the letter" if sig.get("letter") else "counted, but not named in the letter"
    return page(f"Confirm your signature: {campaign}", (
        f"<p>Signature of {_who(sig)}. Your name will be {publish}, and {letter}.</p>\n"
        f'<form method="post" action="/confirm/{escape(token, quote=True)}">'
        f'<button type="submit">Confirm my signature</button></form>\n'
        '<p class="muted">Opening this page confirms nothing: only the button does. '
        "If you did not sign, close this page; the entry and your address are deleted when the link expires.</p>"))


def confirmed(campaign: str, sig: dict[str, Any] | None, already: bool) -> str:
    lead = "was already confirmed" if already else "is confirmed"
    who = _who(sig) if sig else "Your signature"
    return page(f"Thank you: {campaign}", (
        f"<p>{who} {lead}. It is added to the campaign's repository with the next batch and "
        "appears once the maintainers have merged it.</p>\n"
        '<p class="muted">Your email address has been deleted.</p>'))


def unknown(campaign: str) -> str:
    return page(f"Link not valid: {campaign}", (
        "<p>This confirmation link is unknown or has expired. Please sign again; "
        "you will receive a new link.</p>"))


def answer(campaign: str, status: int, body: dict[str, Any]) -> str:
    """A JSON answer of the signature endpoint as a page, for a form posted without JavaScript."""
    if status < 300:
        return page(f"Check your email: {campaign}", f"<p>{escape(body.get('message', ''))}</p>")
    items = "".join(f"<li><strong>{escape(field)}</strong> {escape(msg)}</li>"
                    for field, messages in (body.get("errors") or {}).items() for msg in messages)
    listing = f'<ul class="errors">{items}</ul>' if items else ""
    return page(f"Not signed yet: {campaign}", (
        f"<p>{escape(body.get('message', 'The submission was refused.'))}</p>{listing}"
        "<p>Go back, correct the form and send it again.</p>"))


def no_site(campaign: str, problem: str) -> str:
    return page(campaign, (
        f"<p>The site could not be built, so only the intake service is running.</p>"
        f"<pre>{escape(problem)}</pre>"
        '<p>The API is described at <a href="/api/openapi.json">/api/openapi.json</a>; '
        "fix the site and restart <code>campaign serve</code>.</p>"))

"""The few HTML pages the intake serves itself: confirmation, withdrawal, results, a missing site.

Signer text is data: every value is HTML-escaped, attributes are quoted, nothing external is
loaded (the confirmation URL carries a secret, so no Referer may leak it).
"""

from __future__ import annotations

from html import escape
from typing import Any

from campaign.data import locales
from campaign.data.locales import N_
from campaign.i18n.catalogues import Translator

FIELDS = {"name": N_("Full name"), "country": N_("Country of residence"), "email": N_("Email"),
          "mission": N_("Mission"), "consent": N_("Consent"), "publish": N_("Publish"), "letter": N_("Letter"),
          "followup": N_("Report"), "language": N_("Language")}
"""The form's fields as its labels name them (the page of errors after a form posted without JavaScript)."""

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


def page(words: Translator, title: str, body: str) -> str:
    """A page in the language of `words`: `<html lang dir>`, the title as its heading."""
    lang = escape(words.lang, quote=True)
    return (f'<!doctype html>\n<html lang="{lang}" dir="{locales.direction(words.lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n{body}\n</body></html>\n")


def _html(words: Translator, message: str, **html: str) -> str:
    """A message as HTML: its text escaped, then `html` (already HTML) put in its placeholders."""
    return escape(words.gettext(message)) % html


def _who(words: Translator, sig: dict[str, Any]) -> str:
    country = str(sig.get("country", ""))
    return f"<strong><bdi>{escape(str(sig.get('name', '')))}</bdi></strong> ({escape(locales.country_name(country, words.lang))})"


def consents(words: Translator, sig: dict[str, Any]) -> str:
    """What the signer's two consents mean, in two sentences (the page and the mail say the same)."""
    publish = N_("Your name will be listed on the campaign site.") if sig.get("publish") else N_("Your name will not be listed on the site.")
    letter = N_("It will appear in the letter.") if sig.get("letter") else N_("It will not appear in the letter (your signature is counted).")
    return f"{words.gettext(publish)} {words.gettext(letter)}"


def confirm(words: Translator, campaign: str, token: str, sig: dict[str, Any]) -> str:
    _ = words.format
    who = _html(words, N_("Signature of %(who)s."), who=_who(words, sig))
    button, note = _("Confirm my signature"), _("Opening this page confirms nothing: only the button does. If you did not "
                                                 "sign, close this page; the entry and your address are deleted when the link expires.")
    return page(words, _("Confirm your signature: %(campaign)s", campaign=campaign), (
        f"<p>{who} {escape(consents(words, sig))}</p>\n"
        f'<form method="post" action="/confirm/{escape(token, quote=True)}">'
        f'<button type="submit">{escape(button)}</button></form>\n<p class="muted">{escape(note)}</p>'))


def confirmed(words: Translator, campaign: str, sig: dict[str, Any] | None, already: bool, withdraw: str | None = None,
              closes: str = "") -> str:
    """The thank-you page; `withdraw` is the signature's withdrawal link, open until `closes`."""
    _ = words.format
    who = _who(words, sig) if sig else escape(_("Your signature"))
    lead = _html(words, N_("%(who)s was already confirmed.") if already else N_("%(who)s is confirmed."), who=who)
    then = _("It is added to the campaign repository with the next batch and appears once the maintainers have merged it.")
    deleted = _("Your email address has been deleted.")
    action = _("withdraw your signature")
    later = _html(words, N_("Changed your mind? You can %(link)s until %(date)s; the link is also in the confirmation mail."),
                  link=f'<a href="{escape(withdraw, quote=True)}">{escape(action)}</a>', date=escape(closes)) if withdraw else ""
    return page(words, _("Thank you: %(campaign)s", campaign=campaign),
                f'<p>{lead} {escape(then)}</p>\n<p class="muted">{escape(deleted)}</p>' + (f"\n<p>{later}</p>" if later else ""))


WITHDRAWN = {
    "withdrawn": N_("Your signature is withdrawn. It was not yet in the campaign repository, so it will never be "
                    "published or sent."),
    "requested": N_("Your signature is withdrawn. A pull request removes it from the campaign repository; a maintainer "
                    "merges it before the letters are sent, and your name then disappears from the site and from every "
                    "letter. Earlier versions of the repository keep it in their history."),
    "already": N_("This signature was already withdrawn."),
    "pending": N_("This signature is not confirmed, so there is nothing to withdraw: if you do not confirm it, it is "
                  "deleted with your address when its link expires."),
    "too_late": N_("The letters have been sent (or are being sent): a signature can no longer be withdrawn."),
    "unknown": N_("This withdrawal link is unknown. It works only for a signature that was confirmed."),
}
"""What a withdrawal link's page says, by the state `Intake.withdraw` or `withdrawal_state` returns."""


def withdraw(words: Translator, campaign: str, token: str, sig: dict[str, Any], closes: str) -> str:
    """The withdrawal page of a confirmed signature: what it means, and the button (a POST)."""
    _ = words.format
    who = _html(words, N_("Signature of %(who)s."), who=_who(words, sig))
    what = _("Withdrawing takes your name off the site and out of every letter, if a maintainer merges the removal "
             "before the letters are sent. This cannot be undone, but you can sign again.")
    until = _("Withdrawals close on %(date)s.", date=closes)
    button, note = _("Withdraw my signature"), _("Opening this page changes nothing: only the button does.")
    return page(words, _("Withdraw your signature: %(campaign)s", campaign=campaign), (
        f"<p>{who} {escape(what)}</p>\n<p>{escape(until)}</p>\n"
        f'<form method="post" action="/withdraw/{escape(token, quote=True)}">'
        f'<button type="submit">{escape(button)}</button></form>\n<p class="muted">{escape(note)}</p>'))


def withdrawn(words: Translator, campaign: str, state: str) -> str:
    """The answer of a withdrawal link in `state` (a key of WITHDRAWN)."""
    _ = words.format
    return page(words, _("Withdraw your signature: %(campaign)s", campaign=campaign), f"<p>{escape(_(WITHDRAWN[state]))}</p>")


def unknown(words: Translator, campaign: str) -> str:
    _ = words.format
    why = _("This confirmation link is unknown or has expired. Please sign again; you will receive a new link.")
    return page(words, _("Link not valid: %(campaign)s", campaign=campaign), f"<p>{escape(why)}</p>")


def answer(words: Translator, campaign: str, status: int, body: dict[str, Any]) -> str:
    """A JSON answer of the signature endpoint as a page, for a form posted without JavaScript."""
    _ = words.format
    if status < 300:
        return page(words, _("Check your email: %(campaign)s", campaign=campaign), f"<p>{escape(body.get('message', ''))}</p>")
    items = "".join(f"<li><strong>{escape(_(FIELDS[field]) if field in FIELDS else field)}</strong> {escape(msg)}</li>"
                    for field, messages in (body.get("errors") or {}).items() for msg in messages)
    listing = f'<ul class="errors">{items}</ul>' if items else ""
    why, again = body.get("message") or _("The submission was refused."), _("Go back, correct the form and send it again.")
    return page(words, _("Not signed yet: %(campaign)s", campaign=campaign),
                f"<p>{escape(why)}</p>{listing}<p>{escape(again)}</p>")


def no_site(campaign: str, problem: str) -> str:
    """For the person running `campaign serve`: in English, like the command line."""
    return page(Translator(locales.DEFAULT), campaign, (
        f"<p>The site could not be built, so only the intake service is running.</p>"
        f"<pre>{escape(problem)}</pre>"
        '<p>The API is described at <a href="/api/openapi.json">/api/openapi.json</a>; '
        "fix the site and restart <code>campaign serve</code>.</p>"))

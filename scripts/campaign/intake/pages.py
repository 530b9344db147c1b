"""The few HTML pages the intake serves itself: confirmation, thank-you, withdrawal, results, and
its front page when it serves no site (ARCHITECTURE.md, "Trust and accessibility").

They look like the site (`templates/page.html` and `page.css`: the theme's palette, type and
buttons, inline) and speak the signer's language. The thank-you page offers next steps: share
the letter, the signer's mission, register an action; and the withdrawal link. Signer text is data: the template
autoescapes every value, and nothing external is loaded (the confirmation URL carries a secret,
so no Referer may leak it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from campaign.data import locales
from campaign.data.locales import N_
from campaign.data.models import Campaign, Mission
from campaign.i18n import wording
from campaign.i18n.catalogues import Translator
from campaign.records import published

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

TEMPLATES = Path(__file__).parent / "templates"
_ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                   undefined=StrictUndefined, extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
_ENV.policies["ext.i18n.trimmed"] = True
_RENDERING = threading.Lock()
"""One page at a time: the language's gettext is installed into the shared environment for it."""
_CSS = Markup((TEMPLATES / "page.css").read_text(encoding="utf-8"))  # noqa: S704 - the package's own file


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


WITHDRAWN = {
    "withdrawn": N_("Your signature is withdrawn. It was not yet in the campaign repository, so it will never be "
                    "published or sent."),
    "requested": N_("Your signature is withdrawn. A pull request removes it from the campaign repository; a maintainer "
                    "merges it before the letters are sent, and your name then disappears from the site and from every "
                    "letter. Earlier versions of the repository keep it in their history."),
    "already": N_("This signature was already withdrawn."),
    "pending": N_("This signature is not confirmed, so there is nothing to withdraw: if you do not confirm it, it is "
                  "deleted when its link expires."),
    "too_late": N_("The letters have been sent (or are being sent): a signature can no longer be withdrawn."),
    "unknown": N_("This withdrawal link is unknown. It works only for a signature that was confirmed."),
}
"""What a withdrawal link's page says, by the state `Intake.withdraw` or `withdrawal_state` returns."""


@dataclass(frozen=True)
class Pages:
    """The intake's pages of one campaign; `site` is the root URL of the campaign's site (its own
    origin under `campaign serve`, else `site_url`)."""

    campaign: Campaign
    site: str

    def root(self, lang: str) -> str:
        """The site's root in `lang` (English at the root, the others under `<lang>/`)."""
        return published.site_root(self.site, lang)

    def title(self, words: Translator) -> str:
        return self.campaign.text(words.lang).title

    def page(self, words: Translator, title: str, body: str, *, steps: dict[str, Any] | None = None,
             kept: bool = False) -> str:
        """A page in the language of `words`: `<html lang dir>`, the title as its heading, `body` (HTML)."""
        root = self.root(words.lang)
        with _RENDERING:
            _ENV.install_gettext_callables(words.gettext, words.ngettext, newstyle=True)  # type: ignore[attr-defined]
            return _ENV.get_template("page.html").render(
                lang=words.lang, dir=locales.direction(words.lang), title=title, body=Markup(body),  # noqa: S704 - escaped by the callers
                css=_CSS, home=root, campaign_title=self.title(words), steps=steps, kept=wording.KEPT if kept else None,
                organiser=self.campaign.organiser, privacy=root + "privacy/") + "\n"

    def confirm(self, words: Translator, token: str, sig: dict[str, Any]) -> str:
        _ = words.format
        who = _html(words, N_("Signature of %(who)s."), who=_who(words, sig))
        button = _("Confirm my signature")
        note = _("Opening this page confirms nothing: only the button does. If you did not sign, close this page; "
                 "the entry is deleted when the link expires.")
        return self.page(words, _("Confirm your signature: %(campaign)s", campaign=self.title(words)), (
            f"<p>{who} {escape(consents(words, sig))}</p>\n"
            f'<form method="post" action="/confirm/{escape(token, quote=True)}">'
            f'<button class="button button--primary" type="submit">{escape(button)}</button></form>\n'
            f'<p class="muted">{escape(note)}</p>'), kept=True)

    def confirmed(self, words: Translator, sig: dict[str, Any] | None, already: bool, mission: Mission | None = None,
                  withdraw: str | None = None, closes: str = "") -> str:
        """The thank-you page, with the next steps; `withdraw` is the signature's withdrawal link, open until `closes`."""
        _ = words.format
        who = _who(words, sig) if sig else escape(_("Your signature"))
        lead = _html(words, N_("%(who)s was already confirmed.") if already else N_("%(who)s is confirmed."), who=who)
        then = _("It is added to the campaign repository with the next batch and appears once the maintainers have merged it.")
        action = _("withdraw your signature")
        later = _html(words, N_("Changed your mind? You can %(link)s until %(date)s; the link is also in the confirmation mail."),
                      link=f'<a href="{escape(withdraw, quote=True)}">{escape(action)}</a>', date=escape(closes)) if withdraw else ""
        return self.page(words, _("Thank you: %(campaign)s", campaign=self.title(words)),
                         f"<p>{lead} {escape(then)}</p>" + (f"\n<p>{later}</p>" if later else ""),
                         steps=self.steps(words, mission), kept=True)

    def steps(self, words: Translator, mission: Mission | None) -> dict[str, Any]:
        """What a signer can do next: share the letter, their mission's page, register an action."""
        root, title = self.root(words.lang), self.title(words)
        text = self.campaign.text(words.lang)
        return {
            "share": published.share(title, text.description, root + "letter/",
                                     words.format("%(title)s Sign the open letter:", title=title)),
            "mission": mission.name if mission else None,
            "mission_url": published.mission_url(root, mission.id) if mission else root + "missions/",
            "action_url": root + "take-part/#register-an-action",
            "date": locales.long_date(self.campaign.dispatch.date, words.lang),
        }

    def withdraw(self, words: Translator, token: str, sig: dict[str, Any], closes: str) -> str:
        """The withdrawal page of a confirmed signature: what it means, and the button (a POST)."""
        _ = words.format
        who = _html(words, N_("Signature of %(who)s."), who=_who(words, sig))
        what = _("Withdrawing takes your name off the site and out of every letter, if a maintainer merges the removal "
                 "before the letters are sent. This cannot be undone, but you can sign again.")
        until = _("Withdrawals close on %(date)s.", date=closes)
        button, note = _("Withdraw my signature"), _("Opening this page changes nothing: only the button does.")
        return self.page(words, _("Withdraw your signature: %(campaign)s", campaign=self.title(words)), (
            f"<p>{who} {escape(what)}</p>\n<p>{escape(until)}</p>\n"
            f'<form method="post" action="/withdraw/{escape(token, quote=True)}">'
            f'<button class="button button--primary" type="submit">{escape(button)}</button></form>\n'
            f'<p class="muted">{escape(note)}</p>'))

    def withdrawn(self, words: Translator, state: str) -> str:
        """The answer of a withdrawal link in `state` (a key of WITHDRAWN)."""
        _ = words.format
        return self.page(words, _("Withdraw your signature: %(campaign)s", campaign=self.title(words)),
                         f"<p>{escape(_(WITHDRAWN[state]))}</p>")

    def unknown(self, words: Translator) -> str:
        _ = words.format
        why = _("This confirmation link is unknown or has expired. Please sign again; you will receive a new link.")
        again, root = _("Sign the letter"), escape(self.root(words.lang))
        return self.page(words, _("Link not valid: %(campaign)s", campaign=self.title(words)),
                         f'<p>{escape(why)}</p>\n<p><a class="button button--primary" href="{root}sign/">{escape(again)}</a></p>')

    def answer(self, words: Translator, status: int, body: dict[str, Any]) -> str:
        """A JSON answer of the signature endpoint as a page, for a form posted without JavaScript."""
        _ = words.format
        if status < 300:
            return self.page(words, _("Check your email: %(campaign)s", campaign=self.title(words)),
                             f"<p>{escape(body.get('message', ''))}</p>", kept=True)
        items = "".join(f"<li><strong>{escape(_(FIELDS[field]) if field in FIELDS else field)}</strong> {escape(msg)}</li>"
                        for field, messages in (body.get("errors") or {}).items() for msg in messages)
        listing = f'<ul class="errors">{items}</ul>' if items else ""
        why, again = body.get("message") or _("The submission was refused."), _("Go back, correct the form and send it again.")
        return self.page(words, _("Not signed yet: %(campaign)s", campaign=self.title(words)),
                         f"<p>{escape(why)}</p>{listing}<p>{escape(again)}</p>")

    def home(self, words: Translator) -> str:
        """The front page when the intake serves no site: where the campaign is, for a visitor."""
        _ = words.format
        title, root = self.title(words), escape(self.root(words.lang))
        sign, go = _("Sign the letter"), _("Go to the campaign site")
        what = _("This address takes the signatures of the open letter \"%(campaign)s\". The letter, the form and "
                 "everything about the campaign are on its site.", campaign=title)
        return self.page(words, title, f"<p>{escape(what)}</p>\n<p>"
                                       f'<a class="button button--primary" href="{root}sign/">{escape(sign)}</a> '
                                       f'<a class="button" href="{root}">{escape(go)}</a></p>')

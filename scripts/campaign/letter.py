"""The letter template: data/letter/<lang>.md, Markdown with Jinja placeholders."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from . import countries
from .models import Mission

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class LetterContext:
    """The placeholders a letter may use; every value is plain text."""

    mission_name: str
    mission_city: str
    mission_country: str
    target: str
    date: str
    signer: str

    @classmethod
    def build(cls, mission: Mission, target: str, date: dt.date, signer: str) -> LetterContext:
        return cls(
            mission_name=mission.name,
            mission_city=mission.city,
            mission_country=countries.name(mission.country),
            target=target,
            date=f"{date.day} {date:%B %Y}",
            signer=signer,
        )


def render(template: str, ctx: LetterContext) -> str:
    """Render the letter text; raise TemplateError on syntax errors or unknown placeholders."""
    return _ENV.from_string(template).render(asdict(ctx))


def check(template: str, sample: LetterContext) -> tuple[int, str] | None:
    """(line, message) when the template does not render with the known placeholders."""
    try:
        render(template, sample)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None) or 1
        known = ", ".join(f"{{{{ {name} }}}}" for name in asdict(sample))
        return line, f"letter template error: {exc}; the placeholders are {known}"
    return None

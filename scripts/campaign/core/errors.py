"""The campaign's error family, and how problems are printed.

Every failure a user can cause or fix is a `CampaignError`: a list of `Problem`s, each
`path:line: what is wrong and how to fix it` (the path may be a file, an option such as
`--now`, or a setting such as `SMTP_HOST`; the line is 0 when there is none). The CLI maps the
whole family to its output and exit code in one place (`campaign.cli.Group`); nothing else
turns exceptions into messages. Anything outside the family is a bug.

    CampaignError            one or more problems; the command exits 1
     ├── DataError           one problem at a line of a file being read (the reader adds the path)
     ├── LetterError         a letter cannot be composed as it stands (an unsafe header, no address)
     ├── BackendError        mail settings or the mail server refuse every message alike: stop the run
     ├── ForgeError          the forge (a git branch, GitHub's API) refused or cannot be reached
     ├── KeyConfigError      the fingerprint key is missing or unusable
     └── ResponseError       a response from GOV.UK that cannot be used

See ARCHITECTURE.md, "Errors".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True, order=True)
class Problem:
    """`path:line: message`, where path is relative to the repository root (line 0: no line)."""

    path: str
    line: int
    message: str

    def text(self) -> str:
        """One line: control, bidi and line-breaking characters in the path are shown escaped."""
        path = visible(self.path)
        if self.line > 0:
            return f"{path}:{self.line}: {self.message}"
        return f"{path}: {self.message}" if path else self.message

    def github(self, level: str = "error") -> str:
        """A GitHub Actions workflow command (annotation) for this problem (`error` or `warning`)."""
        message = _escape(self.message)
        path = _escape(visible(self.path)).replace(",", "%2C").replace(":", "%3A")
        where = f"file={path}," + (f"line={self.line}," if self.line > 0 else "") if self.path else ""
        return f"::{level} {where.rstrip(',')}::{message}" if where else f"::{level}::{message}"


def visible(text: str) -> str:
    """`text` with control, bidi and line-breaking characters as `\\uXXXX` (file names in messages)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escape(text: str) -> str:
    """Workflow-command escaping: CR and LF can never start a command of their own."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render(problems: Iterable[Problem], fmt: str = "text", level: str = "error") -> str:
    """All problems, sorted, one per line, in `text` or `github` format; warnings (`level`
    "warning") start with `warning: ` in text."""
    lead = "warning: " if level == "warning" else ""
    return "\n".join(p.github(level) if fmt == "github" else lead + p.text() for p in sorted(problems))


class CampaignError(Exception):
    """A user-facing failure: problems (or one message at `where`); the CLI prints them."""

    def __init__(self, problems: list[Problem] | str, where: str = "") -> None:
        self.problems = [Problem(where, 0, problems)] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(p.text() for p in self.problems))

    @property
    def message(self) -> str:
        """The problems' messages without their places."""
        return "\n".join(p.message for p in self.problems)


class DataError(CampaignError):
    """One problem at a line of the file being read; the caller knows the path."""

    def __init__(self, line: int, message: str, path: str = "") -> None:
        super().__init__([Problem(path, line, message)])
        self.line = line


class LetterError(CampaignError):
    """A letter that cannot be sent as it stands (a header with a control character, no address)."""


class BackendError(CampaignError):
    """A mail problem that would hit every message alike (bad settings, login refused): stop the run."""


class ForgeError(CampaignError):
    """The forge refused or could not be reached; the message says what to do."""


class KeyConfigError(CampaignError):
    """The configured fingerprint key is unusable."""


class ResponseError(CampaignError):
    """A response that cannot be used: `url:line: message` like every other problem."""

    def __init__(self, url: str, message: str, line: int = 1) -> None:
        super().__init__([Problem(url, line, message)])
        self.url = url


def read_input(path: Path, what: str = "the file", hint: str = "") -> bytes:
    """The bytes of a file named on the command line; CampaignError `path:1:` if unreadable."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CampaignError([Problem(str(path), 1, f"cannot read {what} ({exc.strerror}){hint}")]) from None

"""Problems found in data files, and how they are printed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class DataError(Exception):
    """One problem at a line of the file being read; the caller knows the path."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class CampaignError(Exception):
    """A user-facing failure: one or more problems; the CLI prints them and exits 1."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.text() for p in problems))
        self.problems = problems


@dataclass(frozen=True, order=True)
class Problem:
    """`path:line: message`, where path is relative to the repository root."""

    path: str
    line: int
    message: str

    def text(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def github(self) -> str:
        """A GitHub Actions workflow command (annotation) for this problem."""
        message = self.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        path = self.path.replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
        return f"::error file={path},line={self.line}::{message}"


def render(problems: list[Problem], fmt: str = "text") -> str:
    """All problems, sorted, one per line, in `text` or `github` format."""
    lines = [p.github() if fmt == "github" else p.text() for p in sorted(problems)]
    return "\n".join(lines)


def read_input(path: Path, what: str = "the file", hint: str = "") -> bytes:
    """The bytes of a file named on the command line; CampaignError `path:1:` if unreadable."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CampaignError([Problem(str(path), 1, f"cannot read {what} ({exc.strerror}){hint}")]) from None

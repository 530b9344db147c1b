"""The summary of a validated base tree: its file, its checks, and where a fresh runner gets it.

A pull-request check that only adds files needs to know what the base already holds (names,
fingerprints, look-alike keys, mission ids; `incremental.py`). That summary is one JSON file,
`.cache/campaign/base-summary.json`, which says what it describes and proves it is whole:

    {"format": 1, "tree": <git tree id>, "code": <code version>, "checksum": <sha256>, "summary": {...}}

`checksum` is the SHA-256 of the canonical JSON of `summary`. A summary is used only when its
tree id is the base's, its code version the running tool's, and its checksum matches;
otherwise the check validates in full and says why (ARCHITECTURE.md, "Scale": why a bad summary
does no harm). On a developer's machine the check writes it; on an empty CI runner it is
restored from a `Source`: the artifact of the trusted `base-summary` workflow
(`ArtifactSource`), or a file (`FileSource`).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from campaign.core.errors import ForgeError
from campaign.core.files import write_atomic
from campaign.data import checks
from campaign.data.cache import FOLDER
from campaign.data.duplicates import Taken
from campaign.forge.artifacts import Artifacts

FORMAT = 1
NAME = "base-summary.json"
WORKFLOW = "base-summary.yml"
"""The trusted workflow that publishes the default branch's summary (push to it only)."""
ARTIFACT = "base-summary"
MAX_BYTES = 1024 * 1024 * 1024
"""A summary (or its zipped artifact) larger than this is refused: about 4 million signatures."""


@dataclass
class Summary:
    """What a validated base tree holds that an added file could clash with."""

    ok: bool
    missions: list[str] = field(default_factory=list)
    taken: Taken = field(default_factory=Taken)
    signatures: int = 0
    actions: int = 0

    @classmethod
    def of(cls, tree: checks.Reviewed, without: set[str] | None = None) -> Summary:
        """The summary of a reviewed tree; with `without`, of the tree without those files
        (`review_tree` must have been asked for that base)."""
        actions = len(tree.ds.actions)
        if without is None or tree.base is None:
            return cls(not tree.problems, sorted(tree.ds.mission_by_id), tree.taken, tree.signatures, actions)
        ok, taken, count = tree.base
        actions -= sum(1 for r in tree.ds.actions if r.path in without)
        return cls(ok, sorted(tree.ds.mission_by_id), taken, count, actions)

    def payload(self) -> dict[str, Any]:
        return {"ok": self.ok, "missions": self.missions, "names": self.taken.names,
                "fingerprints": self.taken.fingerprints, "skeletons": self.taken.skeletons,
                "signatures": self.signatures, "actions": self.actions}

    @classmethod
    def from_payload(cls, s: dict[str, Any]) -> Summary:
        taken = Taken(s["names"], s["fingerprints"], s["skeletons"])
        for part in (taken.names, taken.fingerprints, taken.skeletons):
            if not isinstance(part, dict):
                raise TypeError("not a mapping")
        return cls(bool(s["ok"]), list(s["missions"]), taken, int(s["signatures"]), int(s["actions"]))


def path(root: Path) -> Path:
    return root / FOLDER / NAME


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def encode(summary: Summary, tree: str, code: str) -> bytes:
    """The summary file's bytes for the base tree `tree`, read by the tool of version `code`."""
    body = _canonical(summary.payload())
    head = {"format": FORMAT, "tree": tree, "code": code, "checksum": hashlib.sha256(body).hexdigest()}
    return json.dumps(head, separators=(",", ":"))[:-1].encode() + b',"summary":' + body + b"}"


def write(target: Path, summary: Summary, tree: str, code: str) -> bool:
    """Write atomically; False (and nothing written) when it cannot be: a cache is rebuilt next time."""
    try:
        write_atomic(target, encode(summary, tree, code), durable=False)
    except (OSError, ValueError, UnicodeEncodeError):
        return False
    return True


@dataclass(frozen=True)
class Loaded:
    """A usable summary, or why there is none (`reason`, said in the check's output)."""

    summary: Summary | None
    reason: str = ""


def read(file: Path, tree: str, code: str) -> Loaded:
    """The summary in `file` if it describes base tree `tree` for code version `code` and is whole."""
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return Loaded(None, "missing (none made for this base yet)")
    except OSError as exc:
        return Loaded(None, f"missing (cannot read it: {exc.strerror})")
    try:
        stored = json.loads(raw)
        if stored["format"] != FORMAT:
            return Loaded(None, f"stale (format {stored['format']!r}; this tool reads {FORMAT})")
        if stored["tree"] != tree:
            return Loaded(None, f"stale (it is of tree {str(stored['tree'])[:12]}, the base is {tree[:12]})")
        if stored["code"] != code:
            return Loaded(None, "stale (made by another version of the tool)")
        if hashlib.sha256(_canonical(stored["summary"])).hexdigest() != stored["checksum"]:
            return Loaded(None, "tampered (its content does not match its checksum)")
        return Loaded(Summary.from_payload(stored["summary"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return Loaded(None, "tampered (not a summary file: damaged or truncated)")


class Source(Protocol):
    """Where a summary made elsewhere comes from."""

    def fetch(self) -> bytes | None:
        """The summary file's bytes, or None when there is none; raises ForgeError when the
        place cannot be asked."""
        ...


@dataclass(frozen=True)
class FileSource:
    """A summary file on disk (a downloaded artifact, a copy from another checkout)."""

    file: Path

    def __str__(self) -> str:
        return str(self.file)

    def fetch(self) -> bytes | None:
        try:
            return self.file.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ForgeError(f"cannot read {self.file} ({exc.strerror})") from None


@dataclass(frozen=True)
class ArtifactSource:
    """The `base-summary` artifact of the trusted workflow's successful push run at commit `sha`."""

    artifacts: Artifacts
    branch: str
    sha: str

    def fetch(self) -> bytes | None:
        archive = self.artifacts.latest(WORKFLOW, ARTIFACT, branch=self.branch, head_sha=self.sha, max_bytes=MAX_BYTES)
        return None if archive is None else unzip(archive)


def unzip(archive: bytes) -> bytes:
    """The summary file inside an artifact's zip archive (ForgeError when there is none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            info = zipped.getinfo(NAME)
            if info.file_size > MAX_BYTES:
                raise ForgeError(f"{NAME} in the artifact is larger than {MAX_BYTES} bytes")
            with zipped.open(info) as fh:
                return fh.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zipfile.LargeZipFile):
        raise ForgeError(f"the {ARTIFACT} artifact is not a zip archive holding {NAME}") from None


def restore(root: Path, source: Source) -> str:
    """Put the source's summary where the check reads it (a file copy); what happened, as words.

    Nothing is checked here: the check reads it like any summary (tree, code version, checksum)."""
    try:
        data = source.fetch()
    except ForgeError as exc:
        return f"not restored ({exc})"
    if data is None:
        return "not restored (none published for this base)"
    try:
        write_atomic(path(root), data, durable=False)
    except OSError as exc:
        return f"not restored (cannot write {FOLDER}: {exc.strerror})"
    return "restored from the workflow artifact" if isinstance(source, ArtifactSource) else f"restored from {source}"


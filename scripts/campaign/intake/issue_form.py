"""The issue-form route: an issue opened with one of `.github/ISSUE_TEMPLATE/*.yml` becomes a
signature (organisation or GitHub user) or an action file, then a pull request.

`.github/workflows/intake.yml` runs `campaign intake issue --event "$GITHUB_EVENT_PATH"`: the
event JSON is read here, never interpolated into a shell. Everything the issue says is data:
it is parsed by the template's headings, validated by the models and `signatures.Index` (as
`campaign validate`), and written as quoted YAML. The signer's identity is the issue author
(`issue.user.login`): it is named in the pull request; the form has no email field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset, photos, signatures, yamlio
from campaign.data.dataset import ACTIONS, Dataset, describe_error
from campaign.data.models import Action
from campaign.forge.base import get_forge

TEMPLATES = ".github/ISSUE_TEMPLATE"
LABELS = {"intake: signature", "intake: action"}
KINDS = {"sign-organisation": "organisation", "sign-github-user": "individual", "register-action": "action"}
"""Template file stem -> what it registers."""
NO_RESPONSE = "_No response_"
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")
PHOTO_URL = re.compile(r"https://(?:github\.com/user-attachments/assets/[0-9a-fA-F-]{36}"
                       r"|(?:private-)?user-images\.githubusercontent\.com/[0-9]+/[A-Za-z0-9._/-]+)")
ACTION_SCHEMA = "../../schemas/action.schema.json"

Fetch = Callable[[str], bytes]


@dataclass
class Issue:
    number: int
    title: str
    body: str
    author: str
    labels: set[str]
    state: str

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Issue:
        issue = event.get("issue")
        if not isinstance(issue, dict):
            raise CampaignError([Problem("event", 1, "the event has no `issue`; run this for `issues` events only")])
        labels = {str(lbl.get("name", "")) for lbl in issue.get("labels") or [] if isinstance(lbl, dict)}
        return cls(int(issue["number"]), str(issue.get("title") or ""), str(issue.get("body") or ""),
                   str((issue.get("user") or {}).get("login") or ""), labels, str(issue.get("state") or "open"))


@dataclass
class Outcome:
    """What to do with an issue: `files` and a pull request, or `problems` to comment."""

    issue: Issue
    kind: str
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    title: str = ""
    summary: str = ""
    review: str = ""
    """Why a maintainer must look before merging (a look-alike name), or empty."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def pull_body(self) -> str:
        held = f"**Held for review:** {self.review}\n\n" if self.review else ""
        return (f"{held}{self.summary}\n\nSubmitted through the issue form in #{self.issue.number} by "
                f"@{self.issue.author}, who is the signer of record.\n\n"
                "Checked with the same rules as `campaign validate`; the validation workflow checks it again.\n")

    def comment(self, pull_url: str | None) -> str:
        if self.ok:
            where = f"pull request {pull_url}" if pull_url else "a pull request"
            return (f"Thank you, @{self.issue.author}! {self.summary} is in {where}. A maintainer reviews and "
                    "merges it; this issue is closed and the pull request carries on.")
        items = "\n".join(f"- {p}" for p in self.problems)
        return (f"Thank you, @{self.issue.author}. This could not be added yet:\n\n{items}\n\n"
                "Edit the issue to correct it: it is checked again after every edit.")


def load_event(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
        if len(raw) > 25 * 1024 * 1024:
            raise ValueError("the event file is too large")
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise CampaignError([Problem(str(path), 1, f"cannot read the event JSON: {exc}")]) from None
    if not isinstance(data, dict):
        raise CampaignError([Problem(str(path), 1, "the event JSON is not an object")])
    return data


def templates(root: Path) -> dict[str, dict[str, Any]]:
    """The intake issue forms by file stem (repository files: trusted, from the default branch)."""
    found = {}
    for stem in KINDS:
        path = root / TEMPLATES / f"{stem}.yml"
        if path.is_file():
            found[stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return found


def _fields(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in template.get("body", []) if item.get("type") != "markdown" and item.get("id")]


def parse_body(body: str, template: dict[str, Any]) -> dict[str, Any] | None:
    """Field id -> value from an issue body rendered from `template` (None if it does not fit).

    GitHub renders each field as `### <label>`, a blank line and the value (`_No response_`
    when empty); checkboxes as `- [X] <option>` lines. The headings are looked up in the
    template's order, so text inside a field cannot reorder or replace the fields before it.
    """
    body = body.replace("\r\n", "\n")
    values: dict[str, Any] = {}
    position = 0
    spans: list[tuple[str, int, int]] = []
    for item in _fields(template):
        heading = f"### {item['attributes']['label']}\n"
        at = body.find(heading, position) if body.startswith(heading, position) else body.find("\n" + heading, position)
        if at < 0:
            if (item.get("validations") or {}).get("required"):
                return None
            continue
        start = at + (0 if body.startswith(heading, at) else 1) + len(heading)
        if spans:
            spans[-1] = (spans[-1][0], spans[-1][1], at)
        spans.append((item["id"], start, len(body)))
        position = start
    items = {item["id"]: item for item in _fields(template)}
    for ident, start, end in spans:
        text = body[start:end].strip()
        if text == NO_RESPONSE:
            text = ""
        if items[ident]["type"] == "checkboxes":
            options = [o["label"] for o in items[ident]["attributes"]["options"]]
            checked = {m.group(2).strip() for m in re.finditer(r"^- \[([xX])\] (.+)$", text, re.M)}
            values[ident] = [opt.strip() in checked for opt in options]
        else:
            values[ident] = text
    return values


def handle(root: Path, ds: Dataset, event: dict[str, Any], fetch: Fetch | None = None) -> Outcome | None:
    """The outcome for an issue event, or None when the issue is not an open intake issue."""
    issue = Issue.from_event(event)
    if not issue.labels & LABELS or issue.state != "open":
        return None
    if not LOGIN.match(issue.author):
        return Outcome(issue, "unknown", problems=["the issue author could not be identified"])
    forms = templates(root)
    parsed = None
    for stem, template in forms.items():
        wanted = set(template.get("labels") or [])
        if wanted & issue.labels and (values := parse_body(issue.body, template)) is not None:
            parsed = (stem, values)
            break
    if parsed is None:
        return Outcome(issue, "unknown", problems=[
            "the issue text does not follow the form; open a new issue from the form and keep its headings"])
    stem, values = parsed
    if KINDS[stem] == "action":
        return _action(ds, issue, values, fetch or fetch_photo)
    return _signature(ds, issue, values, KINDS[stem])


def _consent(values: dict[str, Any]) -> tuple[bool, bool]:
    checks = values.get("consent") or [False, False]
    return bool(checks[0]), bool(checks[1]) if len(checks) > 1 else False


def _signature(ds: Dataset, issue: Issue, values: dict[str, Any], kind: str) -> Outcome:
    assert ds.campaign is not None
    publish, letter = _consent(values)
    outcome = Outcome(issue, "signature")
    try:
        sig = signatures.build(ds, {
            "type": kind, "name": values.get("name", ""), "country": values.get("country", "").strip().upper(),
            "mission": values.get("mission") or None, "url": values.get("url") or None, "publish": publish,
            "letter": letter, "consent": ds.campaign.consent.version, "source": "issue",
            "signed": dt.datetime.now(dt.timezone.utc).date()})
    except ValidationError as exc:
        outcome.problems = [describe_error(e) for e in exc.errors()]
        return outcome
    index = signatures.Index(ds)
    reason = index.problem(sig)
    if reason:
        outcome.problems = [reason]
        return outcome
    if similar := index.taken.look_alike_holder(sig):
        outcome.review = (f"the name looks like the one in {similar}; check it is not the same person "
                          "(automerge leaves this to a maintainer)")
    outcome.files = {signatures.relative_path(sig): signatures.to_yaml(sig).encode("utf-8")}
    who = "organisation" if kind == "organisation" else "signature"
    outcome.title = f"Signature ({who}): {sig.name}"
    outcome.summary = f"The signature of {sig.name} ({sig.country})"
    return outcome


def _action(ds: Dataset, issue: Issue, values: dict[str, Any], fetch: Fetch) -> Outcome:
    outcome = Outcome(issue, "action")
    kind = (values.get("type") or "").strip().lower().split(" ")[0]
    date = (values.get("date") or "").strip()
    mission = (values.get("mission") or "").strip()
    urls = list(dict.fromkeys(PHOTO_URL.findall(values.get("photos") or "")))
    if len(urls) > 12:
        outcome.problems.append(f"{len(urls)} photos attached; at most 12 are accepted")
        return outcome
    folder = f"assets/actions/{re.sub(r'[^0-9-]', '', date)[:10] or 'undated'}-{re.sub(r'[^a-z0-9-]', '', mission)[:60] or 'mission'}-{issue.number}"
    fetched: dict[str, bytes] = {}
    for i, url in enumerate(urls, 1):
        try:
            data = fetch(url)
        except Exception as exc:  # noqa: BLE001 - any download problem is reported on the issue
            outcome.problems.append(f"photo {i} could not be downloaded ({type(exc).__name__}); attach it again")
            continue
        problem = photos.problem(data)
        if problem:
            outcome.problems.append(f"photo {i} {problem}")
            continue
        fetched[f"{folder}/{i}.{photos.kind(data)}"] = data
    try:
        action = Action.model_validate({
            "type": kind, "mission": mission, "date": date, "by": values.get("by", ""),
            "description": values.get("description", ""), "photos": sorted(fetched)})
    except ValidationError as exc:
        outcome.problems += [describe_error(e) for e in exc.errors()]
        return outcome
    if ds.missions and action.mission not in ds.mission_by_id:
        outcome.problems.append(f"unknown mission {action.mission!r}; use an id from the mission directory")
    if outcome.problems:
        return outcome
    rel = f"{ACTIONS}/{action.date.isoformat()}-{action.mission}-{action.type}-{issue.number}.yaml"
    text = yamlio.dumps(action.model_dump(mode="json", exclude_defaults=True), schema=ACTION_SCHEMA)
    outcome.files = {rel: text.encode("utf-8"), **{f"docs/{path}": data for path, data in fetched.items()}}
    outcome.title = f"Action ({action.type}): {action.mission} on {action.date.isoformat()}"
    outcome.summary = f"The {action.type} at {action.mission} on {action.date.isoformat()} by {action.by}"
    return outcome


def fetch_photo(url: str) -> bytes:
    """Download one attachment (only GitHub's attachment hosts; at most photos.MAX_BYTES)."""
    if not PHOTO_URL.fullmatch(url):
        raise ValueError("not a GitHub attachment address")
    request = urllib.request.Request(url, headers={"User-Agent": "campaign-intake"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - https only, fixed hosts
        data = response.read(photos.MAX_BYTES + 1)
    if len(data) > photos.MAX_BYTES:
        raise ValueError(f"the photo is larger than {photos.MAX_BYTES // 1048576} MiB")
    return data


def process(root: Path, event_path: Path, forge_name: str = "github", base: str | None = None) -> list[str]:
    """`campaign intake issue`: open a pull request for a valid submission (then comment on the
    issue and close it), or comment with the validator's messages; the lines to print."""
    ds = dataset.load_with_campaign(root)
    assert ds.campaign is not None
    outcome = handle(root, ds, load_event(event_path))
    if outcome is None:
        return ["not an open intake issue: nothing to do"]
    forge = get_forge(forge_name, root, base=base, repository=ds.campaign.intake.repository)
    number = outcome.issue.number
    if not outcome.ok:
        forge.comment(number, outcome.comment(None))
        said = f"issue #{number}: not added ({len(outcome.problems)} problems); commented"
    else:
        published = forge.publish(outcome.files, branch=f"intake/issue-{number}", message=f"{outcome.title}\n\nFrom issue #{number}.\n",
                                  title=outcome.title, body=outcome.pull_body(), fresh=True)
        forge.comment(number, outcome.comment(published.url))
        forge.close_issue(number)
        said = f"issue #{number}: {published.describe()}"
    return [said, *getattr(forge, "notes", [])]

"""The ledger's own branch: restored before the ledger is read, pushed in checkpoints.

The ledger (data/dispatch/*.jsonl) lives on a branch of its own (`dispatch.ledger_branch`,
`ledger` by default): a history of its own holding only those files, left unprotected and
written only by the dispatch workflow, so the default branch's protection (required pull
requests and code-owner review: ARCHITECTURE.md, "Trust") never refuses a checkpoint. Commits
are written with git plumbing (`Git.write_commit`), so the work tree, the index and the
checked-out branch are never touched; `refs/remotes/<remote>/<branch>` is the last tip known.

- `restore` fetches the branch and writes each of its files into data/dispatch/: the branch's
  lines, then the lines only the local copy has (`ledger.union`). So a ledger committed on the
  default branch by an older version keeps working (both are read, the branch first), and
  lines a failed push left here are kept.
- `push_ledger` commits the union of the tip's files and the local ones on the tip and pushes
  it (with `start`, a first run makes the branch before its first letter, so a push the server
  refuses shows before anything is sent). A push that is not a fast-forward (another push got there first) fetches the new tip and
  applies the lines again; a push the server refuses (a protected branch, a hook) stops at
  once (`Refused`); anything else (the network) is retried after a growing pause.
- `prepare` runs before a command reads the ledger: restore, and when the remote cannot be
  read, refuse to send (a run blind to the ledger could send again what it records as sent)
  unless told `local` (--local-ledger); commands that send nothing warn and use the local copy.
  A repository without the remote (a local campaign, a test) has nothing to restore.

Credentials: with `GITHUB_TOKEN` in the environment and an https remote, the token is handed
to git through `GIT_CONFIG_*` variables (`core.git.add_token`), never on a command line or in
.git/config, so the checkout can run with `persist-credentials: false`.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.core.files import write_atomic
from campaign.core.git import Git, add_token
from campaign.core.retry import backoff
from campaign.records.ledger import FOLDER, load_campaign, path_for, union

BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""A file of the ledger folder (no dot files: `write_atomic` makes those while it writes)."""

CREDENTIALS = ("could not read Username", "Authentication failed", "returned error: 403")
"""What git says when the server wants other credentials: trying again will not help."""

Files = dict[str, bytes]
Echo = Callable[[str], None]


class NoRemote(CampaignError):
    """Not a git repository, or no such remote: nothing to restore or push to."""


class Unreachable(CampaignError):
    """The remote did not answer, or would not be read."""


class Refused(CampaignError):
    """The remote refused the push (a protected branch, a hook, no permission): retrying will not help."""


class LedgerBranch:
    """The ledger branch of `remote`, seen from the repository at `root`."""

    def __init__(self, root: Path, remote: str = "origin", branch: str | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.root, self.remote = root, remote
        self.git = git = Git(root, environ, where=FOLDER, timeout=600)
        git.env["GIT_TERMINAL_PROMPT"] = "0"
        if not git.ok("rev-parse", "--git-dir"):
            raise NoRemote([Problem(FOLDER, 1, f"{root} is not a git repository: there is no ledger branch to use")])
        url = _said(git("remote", "get-url", remote, check=False))
        if not url:
            raise NoRemote([Problem(FOLDER, 1, f"no git remote {remote!r} in {root}; add it, or pass --remote")])
        add_token(git.env, url, git.env.get("GITHUB_TOKEN", ""))  # https only (and loopback http: tests)
        self.campaign = campaign = load_campaign(root)
        self.name = branch or campaign.dispatch.ledger_branch
        if self.name == campaign.intake.branch:
            raise CampaignError([Problem("data/campaign.yaml", 1, f"the ledger branch {self.name!r} is intake.branch: "
                                         "give dispatch.ledger_branch a branch of its own (default 'ledger')")])
        self.where = f"{remote}/{self.name}"
        self.ref = f"refs/remotes/{remote}/{self.name}"

    def known(self) -> str | None:
        """The last tip seen (fetched or pushed), if any."""
        return self.git.rev(self.ref)

    def fetch(self) -> str | None:
        """The remote's tip, fetched; None when the remote has no such branch yet."""
        head = f"refs/heads/{self.name}"
        listed = self.git("ls-remote", "--exit-code", self.remote, head, check=False)
        if listed.returncode not in (0, 2):
            raise Unreachable([Problem(FOLDER, 1, f"cannot read the ledger branch {self.where}: {_last(listed)}")])
        tip = next((line.split()[0] for line in _said(listed).splitlines() if line.split()[1:] == [head]), None)
        if tip is None:
            self.git("update-ref", "-d", self.ref, check=False)  # none there (or deleted): forget it here
            return None
        if tip != self.known():
            fetched = self.git("fetch", "-q", "--no-tags", self.remote, f"+{head}:{self.ref}", check=False)
            if fetched.returncode != 0:
                raise Unreachable([Problem(FOLDER, 1, f"cannot fetch the ledger branch {self.where}: {_last(fetched)}")])
        return self.known()

    def files(self, tip: str | None) -> Files:
        """The ledger files of commit `tip`; a branch holding anything else is not a ledger branch."""
        found: Files = {}
        if tip is None:
            return found
        for entry in filter(None, self.git.text("ls-tree", "-r", "-z", "--full-tree", tip).split("\0")):
            meta, path = entry.split("\t", 1)
            mode, kind, sha = meta.split()
            folder, _, name = path.rpartition("/")
            if folder != FOLDER or kind != "blob" or mode != "100644" or not NAME.fullmatch(name):
                raise CampaignError([Problem(FOLDER, 1, f"{self.where} holds {path!r}, so it is not a ledger branch (one "
                                             f"holds only {FOLDER}/ files): name a branch of its own in "
                                             "dispatch.ledger_branch (data/campaign.yaml) or --branch")])
            found[path] = self.git.run("cat-file", "blob", sha).stdout
        return found

    def push(self, commit: str) -> str | None:
        """Push `commit` as the branch's tip; None when done, else why not. A refusal raises `Refused`."""
        done = self.git("push", "--porcelain", "-q", self.remote, f"{commit}:refs/heads/{self.name}", check=False)
        if done.returncode == 0:
            self.git("update-ref", self.ref, commit)
            return None
        status = next((line for line in _said(done).splitlines() if line.startswith("!")), "")
        if any(sign in done.stderr.decode("utf-8", "replace") for sign in CREDENTIALS):
            raise Refused([Problem(FOLDER, 1, f"{self.where} refused the ledger push: {_last(done)}; the push needs a "
                                   "token that may write the repository's contents (GITHUB_TOKEN of a job with "
                                   "`contents: write`)")])
        if "[remote rejected]" in status:
            said = "; ".join(ln.removeprefix("remote:").strip() for ln in _lines(done.stderr) if ln.startswith("remote:"))
            raise Refused([Problem(FOLDER, 1, f"{self.where} refused the ledger push {status.split(chr(9))[-1]}"
                                   f"{': ' + said if said else ''}; the ledger branch must take the dispatch "
                                   "workflow's pushes: leave it out of branch protection and rulesets "
                                   "(GUIDE.md, \"The ledger branch\")")])
        return status.split("\t")[-1] if status else _last(done)


def local_files(root: Path) -> Files:
    """The ledger files in the work tree's data/dispatch/."""
    folder = root / FOLDER
    if not folder.is_dir():
        return {}
    return {f"{FOLDER}/{p.name}": p.read_bytes() for p in sorted(folder.iterdir())
            if NAME.fullmatch(p.name) and p.is_file() and not p.is_symlink()}


def _merge(theirs: Files, ours: Files) -> Files:
    return {path: union(theirs.get(path, b""), ours.get(path, b"")) for path in sorted(theirs.keys() | ours.keys())}


def _write_back(root: Path, merged: Files, ours: Files) -> int:
    """Write the merged files that differ from the local ones; how many were written."""
    changed = [path for path, content in merged.items() if ours.get(path) != content]
    for path in changed:
        write_atomic(root / path, merged[path])
    return len(changed)


def restore(root: Path, remote: str = "origin", branch: str | None = None,
            environ: Mapping[str, str] | None = None) -> str:
    """Bring the ledger branch's lines into data/dispatch/ (`campaign pull-ledger`); what happened."""
    ledger = LedgerBranch(root, remote, branch, environ)
    tip = ledger.fetch()
    if tip is None:
        return f"no ledger branch {ledger.where} yet: {FOLDER}/ is used as it is here"
    theirs, ours = ledger.files(tip), local_files(root)
    written = _write_back(root, _merge(theirs, ours), ours)
    only_here = sum(len(set(content.splitlines()) - set(theirs.get(path, b"").splitlines()) - {b""})
                    for path, content in ours.items())
    return (f"restored the ledger from {ledger.where} ({tip[:12]}): {len(theirs)} files, {written} updated here"
            + (f"; {only_here} line{'s' * (only_here != 1)} only here kept (`campaign push-ledger` pushes them)"
               if only_here else ""))


def prepare(root: Path, branch: str, *, send: bool, local: bool = False, warn: Echo = print) -> None:
    """Restore the ledger before a command reads it (see the module docstring for the rules)."""
    if local:
        warn(f"note: --local-ledger: {FOLDER}/ is used as it is here, without the ledger branch")
        return
    try:
        warn(restore(root, branch=branch))
    except NoRemote:
        return
    except Unreachable as exc:
        if send:
            raise CampaignError([Problem(FOLDER, 1, f"{exc.message}; a run that cannot see the ledger could send again "
                                         "what it records as sent: fix the connection and run again, or pass "
                                         f"--local-ledger if {FOLDER}/ here is known to be complete")]) from None
        warn(f"warning: {exc.message}; using {FOLDER}/ as it is here")


def push_ledger(
    root: Path,
    remote: str = "origin",
    branch: str | None = None,
    attempts: int = 5,
    message: str = "dispatch: ledger checkpoint",
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    pause: float = 2.0,
    start: bool = False,
) -> str:
    """Commit data/dispatch/ on the ledger branch and push it (see the module docstring); with
    `start`, a branch that does not exist yet is made (holding an empty ledger) even without lines."""
    ledger = LedgerBranch(root, remote, branch, environ)
    committer = _committer(ledger.git)
    tip, last = ledger.known() or ledger.fetch(), ""
    empty = {path_for(ledger.campaign): b""} if start else {}
    for attempt in range(1, attempts + 1):
        theirs, ours = ledger.files(tip), {**(empty if tip is None else {}), **local_files(root)}
        merged = _merge(theirs, ours)
        changed = {path: content for path, content in merged.items() if theirs.get(path) != content}
        if not changed:
            _write_back(root, merged, ours)
            return f"no new ledger lines for {ledger.where}"
        commit = ledger.git.write_commit(changed, message, committer, tip)
        why = ledger.push(commit)
        if why is None:
            _write_back(root, merged, ours)
            return f"pushed the ledger to {ledger.where}"
        last = why
        if attempt == attempts:
            break
        sleep(backoff(attempt, pause, jitter=True))
        try:
            tip = ledger.fetch()
        except Unreachable as exc:
            last = exc.message
    raise CampaignError([Problem(FOLDER, 1, f"could not push the ledger to {ledger.where} after {attempts} attempts: {last}")])


def _committer(git: Git) -> str:
    """`Name <email>` of the ledger's commits: git's configured identity, else the Actions bot."""
    if not _said(git("config", "user.email", check=False)):
        for who in ("AUTHOR", "COMMITTER"):
            git.env.setdefault(f"GIT_{who}_NAME", BOT_NAME)
            git.env.setdefault(f"GIT_{who}_EMAIL", BOT_EMAIL)
    return git.out("var", "GIT_COMMITTER_IDENT").rsplit(" ", 2)[0]


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    """What a git command printed on standard output, as stripped text."""
    return done.stdout.decode("utf-8", "replace").strip()


def _lines(raw: bytes) -> list[str]:
    return [line.strip() for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]


def _last(done: subprocess.CompletedProcess[bytes]) -> str:
    """What git and the server complained of (the first two such lines), or git's exit status."""
    said = _lines(done.stderr) or _lines(done.stdout)
    complaints = [line for line in said if line.lower().startswith(("fatal:", "error:", "remote:"))]
    return "; ".join(complaints[:2] or said[:1]) or f"git exited with {done.returncode}"

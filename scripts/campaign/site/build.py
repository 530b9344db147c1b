"""`campaign build`: the site in every language, one MkDocs build per language in parallel
processes (ARCHITECTURE.md, "Languages").

1. Load and validate `data/` and the catalogues once; group the data and render what every
   language shows alike (the lists of people, the printable letters) into `preload.PRELOADED`.
2. Fork one child per language, at most `jobs` at a time. A child inherits the loaded data, the
   rendered pieces and the imported MkDocs, Material and Markdown modules, sets `CAMPAIGN_LANG`
   and runs MkDocs' `build()` on the same mkdocs.yml into a staging folder; the hooks do the rest.
3. When every language built, English becomes `site/` and each other language `site/<lang>/`.
   One failed language fails the run and leaves `site/` as it was.

Strict by default: any MkDocs warning fails a language (the children log at WARNING, so the
strict counter sees every warning; `mkdocs build -q` would hide them). Where `fork` is missing,
the languages are built one after the other in this process.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.site import preload
from campaign.site.groups import Groups
from campaign.site.pages import Site

LANG_ENV = "CAMPAIGN_LANG"
JOBS_ENV = "CAMPAIGN_JOBS"
"""Languages built at once (also the validation's worker processes)."""
CONFIG = "mkdocs.yml"
SEQUENTIAL_FROM = 250_000
"""From this many signatures, the languages are built one at a time in the driver's process.
A forked child writes to every object it touches (reference counts), so the pages holding the
data it reads are copied: at a million signatures two children and the driver held 7 GB (the sum
of their PSS) against 3.4 GB for the driver alone (ARCHITECTURE.md, "Scale")."""


@dataclass
class Built:
    """One build: where each language went, and its wall and CPU seconds."""

    site_dir: Path
    languages: list[str]
    seconds: float = 0.0
    prepare_cpu: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    wall: dict[str, float] = field(default_factory=dict)
    shared: int = 0

    def summary(self) -> str:
        each = ", ".join(f"{lang} {self.wall.get(lang, 0):.1f} s" for lang in self.languages)
        return (f"built {len(self.languages)} language{'s' if len(self.languages) != 1 else ''} into {self.site_dir} "
                f"in {self.seconds:.1f} s ({each}; data loaded and {self.shared} shared pieces rendered "
                f"in {self.prepare_cpu:.1f} s CPU)")


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def _build_one(root: Path, lang: str, stage: Path, strict: bool) -> int:
    """Build one language into `stage` (in a forked child, or in this process); 0 on success."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    os.environ[LANG_ENV] = lang
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"[{lang}] %(levelname)-7s -  %(message)s"))
    mk = logging.getLogger("mkdocs")
    mk.handlers[:] = [handler]
    mk.setLevel(logging.WARNING)  # never above: the strict counter only sees what passes the level
    mk.propagate = False
    try:
        cfg = load_config(str(root / CONFIG), site_dir=str(stage), strict=strict)
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            build(cfg)
        finally:
            cfg.plugins.on_shutdown()
    except MkDocsException as exc:
        print(f"[{lang}] {exc}", file=sys.stderr)
        return 1
    return 0


def _fork(root: Path, lang: str, stage: Path, strict: bool) -> int:
    pid = os.fork()
    if pid == 0:  # the child: never return into the parent's code
        code = 1
        gc.disable()  # a short-lived child: cyclic collections would only rescan what the build keeps
        try:
            code = _build_one(root, lang, stage, strict)
        except BaseException:  # noqa: BLE001 - report and exit
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def prepare(root: Path) -> int:
    """Load, validate, group and pre-render once for every language (`preload.PRELOADED`);
    the number of shared pieces rendered."""
    from mkdocs.config import load_config  # also imports Material and the extensions: children inherit them
    from mkdocs.exceptions import MkDocsException

    try:
        cfg = load_config(str(root / CONFIG))
    except MkDocsException as exc:
        raise CampaignError([Problem(CONFIG, 0, f"{exc}".strip() or type(exc).__name__)]) from None
    pre = preload.load_checked(root)
    overrides = Path(cfg.theme.custom_dir or root / "docs" / "overrides") / "campaign"
    pre.groups = Groups(pre.ds, pre.letters_sent)
    site = Site(pre.ds, use_directory_urls=cfg.use_directory_urls, groups=pre.groups,
                overrides=overrides if overrides.is_dir() else None)
    count = site.prerender()
    preload.PRELOADED[root] = pre
    return count


def build_all(root: Path, site_dir: Path | str | None = None, languages: str | None = None, jobs: int | None = None,
              strict: bool = True) -> Built:
    """Build every language of `languages` (comma-separated; default: the campaign's) into
    `site_dir` (default `site/`): English at its root, the others in `<lang>/`; `jobs` at once
    (default: `CAMPAIGN_JOBS`, else one per CPU)."""
    started = time.perf_counter()
    root = root.resolve()
    if not (root / CONFIG).is_file():
        raise CampaignError([Problem(CONFIG, 0, "there is no mkdocs.yml in the repository")])
    site_dir = Path(site_dir or root / "site").resolve()
    count = prepare(root)
    campaign = preload.PRELOADED[root].ds.campaign
    assert campaign is not None
    wanted = [code.strip() for code in (languages or ",".join(campaign.languages)).split(",") if code.strip()]
    unknown = [code for code in wanted if code not in campaign.languages]
    if unknown or not wanted or wanted[0] != campaign.languages[0]:
        raise CampaignError([Problem("--languages", 0, f"give languages of data/campaign.yaml ({', '.join(campaign.languages)}), "
                                                       f"{campaign.languages[0]} first")])
    built = Built(site_dir, wanted, prepare_cpu=_cpu(), shared=count)
    staging = site_dir.parent / f".{site_dir.name}.languages"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    jobs = jobs or int(os.environ.get(JOBS_ENV, "0") or 0) or default_jobs(len(preload.PRELOADED[root].ds.signatures))
    failed = _run(root, wanted, staging, strict, max(1, jobs), built)
    if failed:
        raise CampaignError([Problem(f"[{lang}]", 0, f"the {lang} site did not build (its messages are above); "
                                                     f"{site_dir} is left as it was") for lang in failed])
    shutil.rmtree(site_dir, ignore_errors=True)
    os.replace(staging / wanted[0], site_dir)
    for lang in wanted[1:]:
        os.replace(staging / lang, site_dir / lang)
    staging.rmdir()
    built.seconds = time.perf_counter() - started
    return built


def default_jobs(signatures: int) -> int:
    """Languages built at once: one per CPU, forked; one at a time in this process from
    SEQUENTIAL_FROM signatures on, where forked children would copy the data they touch."""
    return 1 if signatures >= SEQUENTIAL_FROM else os.cpu_count() or 1


def _run(root: Path, wanted: list[str], staging: Path, strict: bool, jobs: int, built: Built) -> list[str]:
    """Build the languages, forked `jobs` at a time where the system forks, else (or with one
    job) one after the other in this process; the ones that failed."""
    failed: list[str] = []
    if jobs == 1 or not hasattr(os, "fork"):
        for lang in wanted:
            began, cpu = time.perf_counter(), _cpu()
            try:
                if _build_one(root, lang, staging / lang, strict):
                    failed.append(lang)
            except Exception:  # noqa: BLE001 - as a forked child would: report, fail this language
                traceback.print_exc()
                failed.append(lang)
            built.wall[lang], built.cpu[lang] = time.perf_counter() - began, _cpu() - cpu
            gc.collect()  # this language's pages go before the next one's come
        os.environ.pop(LANG_ENV, None)
        return failed
    gc.collect()
    gc.freeze()  # the loaded data stays shared with the children: no collection touches its pages
    todo, running = list(wanted), {}
    try:
        while todo or running:
            while todo and len(running) < jobs:
                lang = todo.pop(0)
                running[_fork(root, lang, staging / lang, strict)] = (lang, time.perf_counter())
            pid, status, usage = os.wait4(-1, 0)
            lang, began = running.pop(pid)
            built.wall[lang], built.cpu[lang] = time.perf_counter() - began, usage.ru_utime + usage.ru_stime
            if os.waitstatus_to_exitcode(status) != 0:
                failed.append(lang)
    finally:
        gc.unfreeze()
    return failed

"""Scale benchmark (ARCHITECTURE.md, "Scale"): validation, PR check, site build and dispatch planning
at 1k, 10k and 100k synthetic signatures, each in a temporary copy of the repository.

    python benchmarks/run.py [--sizes 1000,10000,100000] [--runs 3] [--steps validate,pr,site,dispatch] [--json results.json]
    python benchmarks/run.py --once 100000,1000000 [--before ../main] [--json results.json]

Every measurement runs the real command in a child process; the table shows the median wall
time of the runs and the child's peak resident memory. Nothing is written under `data/`.

`--once` measures every step once (a million signatures take minutes a step): generating the
files, `git add` and `git commit`, a fresh clone and checkout, validation cold (the fresh clone)
and warm, the site build, the dispatch plan, and the pull-request job on an empty runner in its
parts (the trusted workflow's `validate --summary`; `uv sync --frozen` from a warm cache into a
new environment; the summary's restore, a file copy; the one-file check on the fresh clone).
`--before DIR` also validates with the tool of another checkout (e.g. main's), for before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import synthetic  # noqa: E402
from measure import child  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FLOOR = """
import os, sys, yaml
for dirpath, _, files in os.walk(sys.argv[1]):
    for name in files:
        with open(os.path.join(dirpath, name), "rb") as fh:
            yaml.load(fh.read(), Loader=yaml.CSafeLoader)
"""


def measure(cmd: list[str], cwd: Path, runs: int, before: list[str] | None = None,
            env: dict[str, str] | None = None) -> dict[str, float]:
    """Median wall and CPU seconds and max peak memory (MiB: RSS, or its process tree's PSS) of `cmd` over `runs` runs.

    `before` (a command) runs ahead of every run, untimed: e.g. deleting a cache.
    """
    rows = []
    for _ in range(runs):
        if before:
            subprocess.run(before, cwd=cwd, check=True)
        rows.append(child(cmd, cwd, env))
    return {"seconds": statistics.median(r["seconds"] for r in rows),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rows),  # with the worker processes
            "peak_mib": max(max(r["peak_mib"], r["tree_peak_mib"]) for r in rows), "load": os.getloadavg()[0]}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def prepare(base: Path, size: int) -> Path:
    """A copy of the repository with `size` synthetic signatures, committed on `main`."""
    root = synthetic.copy_repo(REPO, base / f"repo-{size}")
    synthetic.generate(root, size)
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=bench", "-c", "user.email=bench@example.org", "add", "-A")
    git(root, "-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-qm", "bench")
    return root


def site_build(repo: Path, dest: str) -> list[str]:
    """`campaign build` of the English site, strict (never `mkdocs build -q`: -q hides the warnings strict
    mode counts); benchmarks/site_build.py measures the other languages."""
    return [sys.executable, "-m", "campaign", "--root", str(repo), "build", "--languages", "en", "-d", dest]


STEPS = ("validate", "pr", "site", "dispatch")
DRY_RUN = ["dispatch", "--dry-run", "--force", "--now", "2026-12-10T23:00:00+00:00"]
"""Every letter due (--force), each composed, none sent: the issue's measure of planning at scale."""
DRY_RUN_ROW = "dispatch --dry-run --force (plan + render all)"


def bench_size(base: Path, size: int, runs: int, baseline: Path, steps: tuple[str, ...] = STEPS) -> dict[str, dict[str, float]]:
    root = prepare(base, size)
    campaign = [sys.executable, "-m", "campaign", "--root", str(root)]
    drop_cache = ["rm", "-rf", ".cache"]
    site = str(base / f"site-{size}")
    rows = {"yaml C loader (floor)": measure([sys.executable, "-c", FLOOR, "data/signatories"], root, runs)}
    if "validate" in steps:
        rows["validate, cold"] = measure([*campaign, "validate"], root, runs, before=drop_cache)
    rows["validate, warm cache"] = measure([*campaign, "validate"], root, runs)  # also fills the cache the others read
    if "pr" in steps:
        git(root, "checkout", "-qb", "pr")
        subprocess.run([*campaign, "sign", "--name", "Benchmark Pull Request", "--country", "PT",
                        "--publish", "--letter"], check=True, capture_output=True)
        pr_check = [*campaign, "validate", "--base", "main"]
        rows["validate --base (1-file PR), new base"] = measure(
            pr_check, root, runs, before=["sh", "-c", "rm -f .cache/campaign/pr-base-*.json"])
        subprocess.run(pr_check, cwd=root, check=True, capture_output=True)  # the base summary, untimed
        rows["validate --base (1-file PR), warm"] = measure(pr_check, root, runs)
        git(root, "checkout", "-q", "-f", "main")
        git(root, "clean", "-qfd", "data")
    if "site" in steps:
        rows["site build, English"] = measure(site_build(root, site), root, runs)
        rows["site build, no signatures (baseline)"] = measure(site_build(baseline, site + "-base"), baseline, runs)
    if "dispatch" in steps:
        rows[DRY_RUN_ROW] = measure([*campaign, *DRY_RUN], root, runs)
        rows["dispatch --dry-run --force, one process (CAMPAIGN_JOBS=1)"] = measure(
            [*campaign, *DRY_RUN], root, runs, env={**os.environ, "CAMPAIGN_JOBS": "1"})
    shutil.rmtree(root, ignore_errors=True)
    return rows


def ratios(rows: dict[str, dict[str, float]]) -> dict[str, float]:
    floor = rows["yaml C loader (floor)"]["seconds"]
    found = {"max peak MiB (target < 1024)": max(r["peak_mib"] for r in rows.values())}
    if "validate, cold" in rows:
        found["validate cold / floor (target <= 2)"] = rows["validate, cold"]["seconds"] / floor
    if "validate --base (1-file PR), warm" in rows:
        found["PR check warm, seconds (target < 2)"] = rows["validate --base (1-file PR), warm"]["seconds"]
    if "site build, English" in rows:
        base = rows["site build, no signatures (baseline)"]["seconds"]
        found["build / (baseline + floor) (target <= 3)"] = rows["site build, English"]["seconds"] / (base + floor)
    if DRY_RUN_ROW in rows:
        found["dispatch dry run, seconds (target < 6 at 100k)"] = rows[DRY_RUN_ROW]["seconds"]
    return found


def once(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    row = child(cmd, cwd, env)
    print(f"  {' '.join(cmd)[-70:]:70} {row['seconds']:8.2f} s {row['peak_mib']:8.0f} MiB (load {os.getloadavg()[0]:.2f})",
          file=sys.stderr, flush=True)  # progress: a million signatures take a while
    return {"seconds": row["seconds"], "peak_mib": max(row["peak_mib"], row["tree_peak_mib"])}


def bench_once(base: Path, size: int, baseline: Path, before: Path | None) -> dict[str, dict[str, float]]:
    """Every step once at `size` signatures (see the module's docstring)."""
    rows: dict[str, dict[str, float]] = {}
    root = synthetic.copy_repo(REPO, base / f"repo-{size}")
    start = time.perf_counter()
    synthetic.generate(root, size)
    rows["generate the files (no pydantic)"] = {"seconds": time.perf_counter() - start, "peak_mib": 0.0}
    print(f"  generated {size} files in {rows['generate the files (no pydantic)']['seconds']:.1f} s", file=sys.stderr, flush=True)
    git(root, "init", "-q", "-b", "main")
    who = ["-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    rows["git add -A"] = once(["git", *who, "add", "-A"], root)
    rows["git commit"] = once(["git", *who, "commit", "-qm", "bench"], root)
    clone = base / f"clone-{size}"
    rows["git clone (fresh, with checkout)"] = once(["git", "clone", "-q", "--no-local", str(root), str(clone)], base)
    campaign = [sys.executable, "-m", "campaign", "--root", str(clone)]
    rows["yaml C loader (floor)"] = once([sys.executable, "-c", FLOOR, "data/signatories"], clone)
    rows["validate, cold (fresh clone)"] = once([*campaign, "validate"], clone)
    rows["validate, warm"] = once([*campaign, "validate"], clone)
    if before:
        old = {**os.environ, "PYTHONPATH": str(before / "scripts")}
        shutil.rmtree(clone / ".cache", ignore_errors=True)
        rows["before: validate, cold"] = once([*campaign, "validate"], clone, old)
        rows["before: validate, warm"] = once([*campaign, "validate"], clone, old)
        shutil.rmtree(clone / ".cache", ignore_errors=True)
        once([*campaign, "validate"], clone)  # this tool's cache again, untimed
    site = str(base / f"site-{size}")
    every = [sys.executable, "-m", "campaign", "build", "-d"]  # every language, strict; memory: the tree's PSS
    rows["campaign build (every language)"] = once([*every, site], clone)
    shutil.rmtree(site, ignore_errors=True)
    rows["campaign build, no signatures (floor)"] = once([*every, site + "-0"], baseline)
    shutil.rmtree(site + "-0", ignore_errors=True)
    rows[DRY_RUN_ROW] = once([*campaign, *DRY_RUN], clone)
    rows.update(pr_job(base, root, clone, size))
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(clone, ignore_errors=True)
    return rows


def pr_job(base: Path, root: Path, clone: Path, size: int) -> dict[str, dict[str, float]]:
    """The validate workflow's data job on an empty runner, in its parts (the checkout is the clone above)."""
    rows: dict[str, dict[str, float]] = {}
    published = base / f"summary-{size}" / "base-summary.json"
    rows["trusted workflow: validate --summary"] = once(
        [sys.executable, "-m", "campaign", "--root", str(root), "validate", "--summary", str(published)], root)
    venv = base / f"venv-{size}"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    rows["uv sync --frozen (warm cache, new venv)"] = once(
        [sys.executable, "-m", "uv", "sync", "--frozen", "--quiet", "--project", str(REPO)], base, env)
    shutil.rmtree(clone / ".cache", ignore_errors=True)  # nothing of this machine's but the summary
    git(clone, "checkout", "-qb", "pr")
    sign = [str(venv / "bin/python"), "-m", "campaign", "--root", str(clone)]
    subprocess.run([*sign, "sign", "--name", "Benchmark Pull Request", "--country", "PT", "--publish", "--letter"],
                   check=True, capture_output=True)
    shutil.rmtree(clone / ".cache", ignore_errors=True)
    start = time.perf_counter()
    (clone / ".cache/campaign").mkdir(parents=True)
    shutil.copy(published, clone / ".cache/campaign/base-summary.json")
    rows["restore the summary (a file copy)"] = {"seconds": time.perf_counter() - start,
                                                 "peak_mib": published.stat().st_size / 2**20}
    checked = child([*sign, "validate", "--base", "origin/main"], clone, capture=True)
    rows["PR check, fresh clone + restored summary"] = {"seconds": checked["seconds"], "peak_mib": checked["peak_mib"]}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/latest.json")
    parser.add_argument("--once", help="Sizes to measure every step of once, e.g. 100000,1000000.")
    parser.add_argument("--before", type=Path, help="With --once: also validate with this checkout's tool.")
    parser.add_argument("--tmp", type=Path, help="Where the temporary repositories go (default: the system's).")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"Without --once: which of {', '.join(STEPS)} to measure.")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    with tempfile.TemporaryDirectory(prefix="campaign-bench-", dir=args.tmp) as tmp:
        base = Path(tmp)
        baseline = synthetic.copy_repo(REPO, base / "baseline")
        for size in [int(s) for s in (args.once or "").split(",") if s]:
            load = os.getloadavg()
            rows = bench_once(base, size, baseline, args.before)
            results[f"once-{size}"] = {"rows": rows, "load_before": load, "load_after": os.getloadavg()}
            print(f"\n== {size:,} signatures (one run each; load {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after) ==")
            for name, row in rows.items():
                print(f"{name:45} {row['seconds']:8.2f} s {row['peak_mib']:8.0f} MiB", flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        for size in [int(s) for s in args.sizes.split(",")] if not args.once else []:
            rows = bench_size(base, size, args.runs, baseline, tuple(args.steps.split(",")))
            results[str(size)] = {"rows": rows, "ratios": ratios(rows)}
            print(f"\n== {size:,} signatures (median of {args.runs} runs) ==")
            for name, row in rows.items():
                print(f"{name:45} {row['seconds']:8.2f} s {row['peak_mib']:8.0f} MiB")
            for name, value in results[str(size)]["ratios"].items():  # type: ignore[index]
                print(f"{name:45} {value:8.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()

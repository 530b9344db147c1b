"""The site at scale, in every language: `campaign build` (one MkDocs build per language, forked
from one loaded dataset; strict) on the repository and on a temporary copy holding N synthetic
signatures (default 100,000), English only against four and five languages, with wall and CPU
times, peak memory and page sizes (ARCHITECTURE.md, "Languages").

    python benchmarks/site_build.py [--signatures 100000] [--runs 1] [--jobs N] [--json benchmarks/results/site.json]

Signatures are written with `campaign.signatures.to_yaml`/`relative_path` into the copy
(`synthetic.generate`, a share of them signed in es, pt, fr and ar), never into `data/`. Each
build runs in a child process with the record cache (`.cache/`) warm: one untimed build first.
The budget: four languages within 2x English only. CPU seconds are the build's own and its
children's (the machine may be shared: wall time then measures the neighbours too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import synthetic  # noqa: E402
from measure import child  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUILDS = {"English only": "en", "4 languages (en, es, pt, fr)": "en,es,pt,fr", "5 languages (+ ar)": None}
PAGE_LIMIT_MIB = 5


def campaign_build(root: Path, dest: Path, languages: str | None, jobs: int | None) -> dict[str, float]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if jobs:
        env["CAMPAIGN_JOBS"] = str(jobs)
    cmd = [sys.executable, "-m", "campaign", "--root", str(root), "build", "-d", str(dest), *(["--languages", languages] if languages else [])]
    row = child(cmd, root, env)
    return {"seconds": round(row["seconds"], 2), "cpu_seconds": round(row["cpu_seconds"], 2), "peak_mib": round(row["peak_mib"]),
            "tree_peak_mib": round(row["tree_peak_mib"])}


def measure(root: Path, dest: Path, runs: int, jobs: int | None) -> dict[str, dict[str, float]]:
    campaign_build(root, dest, "en", jobs)  # the record cache, warm for every timed build
    rows = {}
    for name, languages in BUILDS.items():
        found = [campaign_build(root, dest, languages, jobs) for _ in range(runs)]
        rows[name] = {key: statistics.median(r[key] for r in found) for key in ("seconds", "cpu_seconds")}
        for key in ("peak_mib", "tree_peak_mib"):  # the driver's own RSS; its process tree's PSS (measure.py)
            rows[name][key] = max(r[key] for r in found)
    english = rows["English only"]
    for name in list(BUILDS)[1:]:
        rows[name]["x English (wall)"] = round(rows[name]["seconds"] / english["seconds"], 2)
        rows[name]["x English (CPU)"] = round(rows[name]["cpu_seconds"] / english["cpu_seconds"], 2)
    return rows


def sizes(site: Path) -> dict[str, object]:
    pages = sorted(site.rglob("*.html"), key=lambda p: p.stat().st_size)
    def group(pattern: str) -> dict[str, object]:
        found = [p.stat().st_size for p in site.glob(pattern)]
        if not found:
            return {"pages": 0}
        return {"pages": len(found), "max_kib": round(max(found) / 1024, 1),
                "median_kib": round(statistics.median(found) / 1024, 1)}
    biggest = pages[-1]
    return {
        "html_pages": len(pages),
        "html_total_mib": round(sum(p.stat().st_size for p in pages) / 2**20, 1),
        "site_total_mib": round(sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 2**20, 1),
        "largest_page": f"{biggest.relative_to(site)} ({biggest.stat().st_size / 1024:.1f} KiB)",
        f"pages over {PAGE_LIMIT_MIB} MiB": sum(p.stat().st_size > PAGE_LIMIT_MIB * 2**20 for p in pages),
        "search_index_kib": round((site / "search" / "search_index.json").stat().st_size / 1024, 1),
        **{f"{lang} {kind}": group(f"{lang}/{pattern}") for lang in ("es", "ar")
           for kind, pattern in (("mission pages", "missions/*/index.html"), ("printable letters", "missions/*/letter*/index.html"))},
        "home": group("index.html"),
        "mission pages": group("missions/*/index.html"),
        "printable letters": group("missions/*/letter*/index.html"),
        "signatories pages": group("signatories/*/index.html"),
        "directory index": group("missions/index.html"),
        "signatories index": group("signatories/index.html"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=None, help="languages at once (CAMPAIGN_JOBS; default: one per CPU)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/site.json")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                              "load_before": os.getloadavg()}}
    with tempfile.TemporaryDirectory(prefix="campaign-site-") as tmp:
        base = Path(tmp)
        repo_copy = synthetic.copy_repo(REPO, base / "repo", with_signatures=True)
        results["repository"] = {"builds": measure(repo_copy, base / "site-repo", args.runs, args.jobs),
                                 "sizes": sizes(base / "site-repo")}
        root = synthetic.copy_repo(REPO, base / f"repo-{args.signatures}")
        start = time.perf_counter()
        synthetic.generate(root, args.signatures)
        generated = time.perf_counter() - start
        results[str(args.signatures)] = {"generate_seconds": round(generated, 1),
                                         "builds": measure(root, base / "site-big", args.runs, args.jobs),
                                         "sizes": sizes(base / "site-big")}
    results["machine"]["load_after"] = os.getloadavg()  # type: ignore[index]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

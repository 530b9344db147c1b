"""The site at scale: `mkdocs build --strict` on the repository and on a temporary copy holding N
synthetic signatures (default 100,000), with build times, peak memory and page sizes.

    python benchmarks/site_build.py [--signatures 100000] [--runs 1] [--json benchmarks/results/site.json]

Signatures are written with `campaign.signatures.to_yaml`/`relative_path` into the copy
(`synthetic.generate`), never into `data/`. Each build runs in a child process: "cold" without
the record cache (`.cache/`), "warm" with the cache the cold build left.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import synthetic  # noqa: E402
from measure import child  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def mkdocs_build(root: Path, dest: Path) -> dict[str, float]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    row = child([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(dest)], root, env)
    return {"seconds": round(row["seconds"], 2), "peak_mib": round(row["peak_mib"])}


def measure(root: Path, dest: Path, runs: int) -> dict[str, dict[str, float]]:
    cold, warm = [], []
    for _ in range(runs):
        shutil.rmtree(root / ".cache", ignore_errors=True)
        cold.append(mkdocs_build(root, dest))
        warm.append(mkdocs_build(root, dest))
    pick = lambda rows: {"seconds": statistics.median(r["seconds"] for r in rows),  # noqa: E731
                         "peak_mib": max(r["peak_mib"] for r in rows)}
    return {"cold": pick(cold), "warm": pick(warm)}


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
        "search_index_kib": round((site / "search" / "search_index.json").stat().st_size / 1024, 1),
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
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/site.json")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    with tempfile.TemporaryDirectory(prefix="campaign-site-") as tmp:
        base = Path(tmp)
        repo_copy = synthetic.copy_repo(REPO, base / "repo", with_signatures=True)
        results["repository"] = {"builds": measure(repo_copy, base / "site-repo", args.runs),
                                 "sizes": sizes(base / "site-repo")}
        root = synthetic.copy_repo(REPO, base / f"repo-{args.signatures}")
        start = time.perf_counter()
        synthetic.generate(root, args.signatures)
        generated = time.perf_counter() - start
        results[str(args.signatures)] = {"generate_seconds": round(generated, 1),
                                         "builds": measure(root, base / "site-big", args.runs),
                                         "sizes": sizes(base / "site-big")}
    print(json.dumps(results, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

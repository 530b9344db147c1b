"""PDF letters (ARCHITECTURE.md, "Paper"): one mission with 1, 100 and 10,000 signatories, and
every mission of the directory without any (what the deploy workflow renders besides).

    python benchmarks/paper.py [--sizes 1,100,10000] [--no-directory] [--json results.json]

Each case runs the real command (`campaign letter --mission fr-paris --pdf ...`, or
`campaign letters --pdf DIR`) in a child process, in a temporary copy of the repository with
synthetic signatures of many scripts (benchmarks/synthetic.py), 90 % of them named. It reports
the command's wall and CPU time and peak memory, the render's own time (from its output),
pages and file size, and checks with pdftotext that every named signatory is in the PDF.
Needs the Debian packages of scripts/setup (WeasyPrint's libraries, the Noto fonts, poppler-utils).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import synthetic  # noqa: E402
from campaign.data import countries, signatures  # noqa: E402
from campaign.data.letter import printed  # noqa: E402
from campaign.data.models import Signature  # noqa: E402
from measure import child  # noqa: E402
from support import pdf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MISSION = "fr-paris"
COUNTRIES = ["FR", "MC", "DE", "EG", "CN", "RU", "GR", "JP", "KR", "IN", "TH", "IL"]


def add(root: Path, count: int, seed: int = 7) -> list[tuple[str, str]]:
    """`count` signatures to MISSION, 90 % named; the named ones as (name, rest of the entry),
    in the order of the printed list."""
    rng = random.Random(seed)
    named = []
    for i, name in enumerate(synthetic.names(count, seed)):
        org = i % 50 == 0
        shown = rng.random() < 0.9
        sig = Signature.model_validate({
            "type": "organisation" if org else "individual", "name": name, "country": rng.choice(COUNTRIES),
            "mission": MISSION, "signed": "2026-11-20", "publish": shown, "letter": shown or rng.random() < 0.5,
            "source": "form"})
        signatures.write(root, sig)
        if shown:
            named.append(sig)
    ordered, _ = printed(named)
    return [(s.name, (" (organisation)" if s.type == "organisation" else "") + ", " + countries.name(s.country))
            for s in ordered]


def one(base: Path, size: int) -> dict[str, object]:
    root = synthetic.copy_repo(REPO, base / f"repo-{size}")
    names = add(root, size)
    out = base / f"{MISSION}-{size}.pdf"
    cmd = [sys.executable, "-m", "campaign", "--root", str(root), "letter", "--mission", MISSION, "--pdf", str(out)]
    run = child(cmd, root, capture=True)
    render = float(re.search(r", ([\d.]+) s$", str(run["stdout"]).strip()).group(1))  # type: ignore[union-attr]
    check = pdf.check_names(out, names)
    return {"case": f"{size:,} signatories", "signatories": size, "named": len(names),
            "seconds": round(run["seconds"], 2), "cpu_seconds": round(run["cpu_seconds"], 2), "render_seconds": render,
            "peak_mib": round(run["peak_mib"]), "pages": int(pdf.info(out)["Pages"]), "kib": round(out.stat().st_size / 1024),
            "names_ok": check.ok, "indic_unreadable": len(check.indic), "missing": check.exact[:5] + check.loose[:5]}


def directory(base: Path) -> dict[str, object]:
    root = synthetic.copy_repo(REPO, base / "repo-directory")
    out = base / "letters"
    run = child([sys.executable, "-m", "campaign", "--root", str(root), "letters", "--pdf", str(out)], root)
    files = list(out.glob("*.pdf"))
    return {"case": f"{len(files)} missions, no signatory", "seconds": round(run["seconds"], 2),
            "cpu_seconds": round(run["cpu_seconds"], 2),
            "peak_mib": round(run["peak_mib"]), "pages": sum(int(pdf.info(f)["Pages"]) for f in files),
            "kib": round(sum(f.stat().st_size for f in files) / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,10000", help="signatories of the mission, comma-separated")
    parser.add_argument("--no-directory", action="store_true", help="skip `campaign letters` over the whole directory")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-paper-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(one(Path(tmp), size))
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
        if not args.no_directory:
            rows.append(directory(Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    print("\n| case | wall s | CPU s | render s | peak MiB | pages | KiB | every name read back |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ok = "" if "names_ok" not in r else ("yes" if r["names_ok"] else "NO") + (
            f" ({r['indic_unreadable']} Indic not checkable)" if r.get("indic_unreadable") else "")
        cells = [r["case"], r["seconds"], r["cpu_seconds"], r.get("render_seconds", ""), r["peak_mib"], r["pages"],
                 f"{r['kib']:,}", ok]
        print("| " + " | ".join(map(str, cells)) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

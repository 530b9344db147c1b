"""Synthetic signatures for benchmarks and scale tests: varied names in many scripts.

Writes into a copy of the repository, never into the real `data/`.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

from campaign.data import dataset
from campaign.data.models import Signature
from campaign.data.signatures import relative_path, to_yaml

GIVEN = [
    "Ana", "José", "Zoë", "Siobhán", "Łukasz", "Björk", "Çağla", "Đorđe", "Nguyễn", "Ngozi",
    "Олена", "Дмитрий", "Γιώργος", "Αθηνά", "محمد", "فاطمة", "דוד", "שרה", "अनन्या", "राहुल",
    "আমিনা", "தமிழ்செல்வி", "สมชาย", "明", "美咲", "翔太", "지민", "서연", "Jean-Pierre",
    "Mary Ann", "O'Brien", "Kwame", "Aroha", "Tūhoe", "Ōta", "Მარიამ", "Արամ", "Ülle",
]
FAMILY = [
    "Pereira", "Müller", "Smith", "García Márquez", "van der Berg", "Nowak", "Kowalczyk",
    "Иванова", "Παπαδόπουλος", "الخطيب", "כהן", "शर्मा", "দাস", "முருகன்", "ใจดี", "田中",
    "佐藤", "김", "이", "Nkemelu", "Okonkwo", "Te Rangi", "Ólafsdóttir", "Øster", "Ørsted",
    "Ahmed-Smith", "de la Cruz", "Mac Giolla Phádraig", "Wałęsa", "Şahin",
]


def names(count: int, seed: int = 10) -> list[str]:
    """`count` distinct names of varied scripts and lengths (deterministic)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        parts = [rng.choice(GIVEN)]
        if rng.random() < 0.3:
            parts.append(rng.choice(GIVEN))
        parts.append(rng.choice(FAMILY))
        name = f"{' '.join(parts)} {len(out):x}" if rng.random() < 0.9 else " ".join(parts) + f" {len(out)}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def copy_repo(source: Path, target: Path, with_signatures: bool = False) -> Path:
    """Copy the campaign repository's data and site sources (not .git) to `target`."""
    ignore = shutil.ignore_patterns(".git", ".venv", "site", "outbox", ".cache", "__pycache__", "*.egg-info",
                                    *(() if with_signatures else ("signatories",)))
    shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
    (target / "data" / "signatories").mkdir(parents=True, exist_ok=True)
    return target


def generate(root: Path, count: int, seed: int = 10) -> list[Path]:
    """Write `count` valid signatures into root/data/signatories; return their paths."""
    ds = dataset.load(root)
    rng = random.Random(seed)
    codes = sorted({r.model.country for r in ds.missions if r.model.primary})
    missions = {code: ds.mission_for(code) for code in codes}
    start = dt.date(2026, 9, 1)
    written = []
    for i, name in enumerate(names(count, seed)):
        country = rng.choice(codes)
        org = i % 50 == 0
        sig = Signature(
            type="organisation" if org else "individual",
            name=name,
            country=country,
            mission=missions[country].id,
            signed=start + dt.timedelta(days=rng.randrange(90)),
            publish=rng.random() < 0.85,
            letter=rng.random() < 0.95,
            url=f"https://example.org/org/{i}" if org else None,
            fingerprint=f"{rng.getrandbits(256):064x}",
            source="form",
        )
        path = root / relative_path(sig)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(sig), encoding="utf-8")
        written.append(path)
    return written

"""Synthetic signatures for benchmarks and scale tests: varied names in many scripts.

Writes into a copy of the repository, never into the real `data/`.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from campaign.data import dataset
from campaign.data.models import Signature
from campaign.data.signatures import SCHEMA_FROM_SHARD, relative_path, to_yaml

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
    patterns = shutil.ignore_patterns(".git", ".venv", "outbox", ".cache", "__pycache__", "*.egg-info",
                                      *(() if with_signatures else ("signatories",)))

    def ignore(folder: str, names: list[str]) -> set[str]:  # the built site/ at the top, not scripts/campaign/site
        return set(patterns(folder, names)) | ({"site"} if Path(folder) == source else set())

    shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
    (target / "data" / "signatories").mkdir(parents=True, exist_ok=True)
    return target


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text(fields: dict[str, object]) -> str:
    """A signature file's text as `signatures.to_yaml` writes it, without building a model."""
    lines = [f"# yaml-language-server: $schema={SCHEMA_FROM_SHARD}"]
    for key, value in fields.items():
        if value is not None:
            lines.append(f"{key}: {str(value).lower() if isinstance(value, bool) else _quoted(str(value))}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Key:
    """What `relative_path` reads of a signature (its duplicate key's name and country)."""

    name: str
    country: str


LANGUAGE_SHARE = {"es": 0.15, "pt": 0.1, "fr": 0.1, "ar": 0.05}
"""Of the synthetic signers, who signed in another language than English (the rest: no language)."""


def _language(rng: random.Random, known: list[str]) -> str | None:
    draw = rng.random()
    for lang, share in LANGUAGE_SHARE.items():
        if draw < share:
            return lang if lang in known else None
        draw -= share
    return None


def generate(root: Path, count: int, seed: int = 10) -> list[Path]:
    """Write `count` valid signatures into root/data/signatories; return their paths.

    Files are written as text (a million pydantic round-trips would take minutes); the first
    hundred are compared with what the model writes, so the two cannot drift apart."""
    ds = dataset.load(root)
    rng = random.Random(seed)
    codes = sorted({r.model.country for r in ds.missions if r.model.primary})
    missions = {code: ds.mission_for(code).id for code in codes}  # type: ignore[union-attr]
    languages = ds.campaign.languages if ds.campaign else []
    start = dt.date(2026, 9, 1)
    written = []
    folders: set[Path] = set()
    for i, name in enumerate(names(count, seed)):
        country = rng.choice(codes)
        org = i % 50 == 0
        fields: dict[str, object] = {
            "type": "organisation" if org else "individual", "name": name, "country": country,
            "mission": missions[country], "signed": (start + dt.timedelta(days=rng.randrange(90))).isoformat(),
            "publish": rng.random() < 0.85, "letter": rng.random() < 0.95,
            "url": f"https://example.org/org/{i}" if org else None,
            "fingerprint": f"{rng.getrandbits(256):064x}", "source": "form", "language": _language(rng, languages),
        }
        text = _text(fields)
        if i < 100:
            assert text == to_yaml(Signature.model_validate(fields)), f"synthetic file {i} differs from to_yaml"
        path = root / relative_path(_Key(name, country))  # type: ignore[arg-type]
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    return written

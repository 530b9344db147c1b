"""The package's shape (ARCHITECTURE.md, "Packages"): layering, module sizes, a runtime-only
install, no pointers outside the repository, every command documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click

from campaign.cli import main
from support.builders import ROOT

PACKAGE = ROOT / "scripts" / "campaign"
MODULE_MAX = 400
CLI_MAX = 450  # the issue asks for "about 350"; every capability added commands since (see ARCHITECTURE.md)


def test_the_layering_contract_holds() -> None:
    """import-linter's contract in pyproject.toml: lower layers never import higher ones."""
    tool = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(tool), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_contract_names_every_package() -> None:
    """A new package must be placed in a layer, or the contract would not see it."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    layered = set(re.findall(r"campaign\.([a-z0-9_]+)", text.split("[tool.importlinter]", 1)[1]))
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == layered


def test_modules_stay_small() -> None:
    sizes = {p.relative_to(PACKAGE).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in PACKAGE.rglob("*.py")}
    assert not {name: n for name, n in sizes.items() if n > MODULE_MAX}
    assert sum(n for name, n in sizes.items() if name.startswith("cli/")) <= CLI_MAX


def test_every_module_has_a_docstring() -> None:
    missing = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
               if not re.match(r'\s*"""', p.read_text(encoding="utf-8"))]
    assert not missing


def test_nothing_points_outside_the_repository() -> None:
    """The design lives in ARCHITECTURE.md; no file refers to documents that are not here."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    outside = re.compile(r"DESIGN\.md|\.\./shared|DEVELOPERS\.md")
    found = []
    for rel in tracked:
        if not rel or rel.startswith("data/signatories/") or not (ROOT / rel).is_file():
            continue
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found += [f"{rel}: {m.group()}" for m in outside.finditer(text)]
    assert not found


def _commands(group: click.Group, prefix: str = "campaign") -> list[str]:
    found = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        found.append(full)
        if isinstance(command, click.Group):
            found += _commands(command, full)
    return found


def test_every_command_is_documented_in_the_readme() -> None:
    """After sqlite-utils' test_docs: each command appears in the README's command table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(main) if f"`{c}`" not in readme]
    assert not missing


def test_every_command_and_option_has_help() -> None:
    def walk(command: click.Command, path: str) -> list[str]:
        bad = [] if (command.help or "").strip() else [path]
        bad += [f"{path} {p.opts[0]}" for p in command.params if isinstance(p, click.Option) and not p.help]
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                bad += walk(sub, f"{path} {name}")
        return bad

    assert not walk(main, "campaign")


def test_every_module_imports_with_only_the_runtime_dependencies(tmp_path: Path) -> None:
    """The installed package in a virtual environment without the development tools: no test
    server or fake ships inside it, and nothing imports a development dependency."""
    uv = str(Path(sys.executable).with_name("uv"))  # a development dependency
    requirements = tmp_path / "requirements.txt"
    exported = subprocess.run([uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet",
                               "-o", str(requirements)], cwd=ROOT, capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    pinned = {line.split("==")[0] for line in requirements.read_text().splitlines() if "==" in line}
    assert not pinned & {"aiosmtpd", "pytest", "playwright", "schemathesis"}
    venv = tmp_path / "venv"
    for step in ([uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                 [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r", str(requirements)],
                 [uv, "pip", "install", "--quiet", "--no-deps", "--python", str(venv / "bin" / "python"), str(ROOT)]):
        done = subprocess.run(step, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    probe = (
        "import importlib, pkgutil, campaign\n"
        "names = [m.name for m in pkgutil.walk_packages(campaign.__path__, 'campaign.') if m.name != 'campaign.__main__']\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "import importlib.util\n"
        "assert importlib.util.find_spec('aiosmtpd') is None, 'a development dependency is installed'\n"
        "print(len(names))\n"
    )
    done = subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.strip()) >= 60

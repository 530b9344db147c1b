"""The intake, validate and deploy workflows follow ARCHITECTURE.md, "Trust" (actionlint and zizmor
run over every workflow in test_workflows.py; these are the rules they do not check)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaign.review import summary

ROOT = Path(__file__).resolve().parents[1]
MINE = ["intake.yml", "validate.yml", "deploy.yml", "dispatch.yml", "base-summary.yml"]


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("name", MINE)
def test_least_privilege_pinned_and_no_expressions_in_shell(name: str) -> None:
    workflow = load(name)
    text = (ROOT / ".github" / "workflows" / name).read_text()
    assert workflow["permissions"] == {}, "permissions: {} at the top"
    for job_name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{job_name}: every job states its permissions"
        assert "write-all" not in str(job["permissions"])
    for step in steps(workflow):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            line = next(ln for ln in text.splitlines() if step["uses"] in ln)
            assert re.search(r"# v\d+\.\d+\.\d+$", line), f"version comment for {step['uses']}"
            if step["uses"].startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        if "run" in step:
            assert "${{" not in step["run"], f"expression inside run: {step['run']!r}"


def test_validate_runs_on_pull_request_with_a_read_only_token() -> None:
    workflow = load("validate.yml")
    assert set(workflow["on"]) == {"pull_request"}
    for name in ("tests", "site"):
        assert workflow["jobs"][name]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["data"]["permissions"] == {"contents": "read", "actions": "read"}  # the artifact
    runs = [s["run"] for s in steps(workflow) if "run" in s]
    assert 'campaign validate --base "origin/$BASE_REF" --restore github --format github' in runs
    assert any(r.startswith("campaign build --site-dir") for r in runs) and ".ci/run" in runs
    automerge = workflow["jobs"]["automerge"]
    assert set(automerge["needs"]) == {"data", "tests", "site"}
    assert "head.repo.full_name == github.repository" in automerge["if"]
    assert "secrets." not in str({k: v for k, v in workflow["jobs"].items() if k != "automerge"})


def test_intake_runs_for_the_form_labels_and_parses_the_event_in_python() -> None:
    workflow = load("intake.yml")
    assert workflow["on"] == {"issues": {"types": ["opened", "edited", "reopened"]}}
    job = workflow["jobs"]["intake"]
    assert "'intake: signature'" in job["if"] and "'intake: action'" in job["if"]
    assert [s["run"] for s in job["steps"] if "run" in s][-1] == 'campaign intake issue --event "$GITHUB_EVENT_PATH"'
    assert job["environment"] == "intake" and job["permissions"] == {"contents": "read"}
    text = (ROOT / ".github" / "workflows" / "intake.yml").read_text()
    assert "github.event.issue.title" not in text and "github.event.issue.body" not in text


def test_deploy_publishes_pages_from_the_default_branch() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["jobs"]["deploy"]["environment"]["name"] == "github-pages"


def test_the_path_rules_run_with_the_target_branch_s_tool() -> None:
    """A pull request that edits the checker must not pass its own check: the data job installs
    the tool from a checkout of the base commit in a folder of its own, and runs it on the pull
    request's checkout (whose code is never installed there)."""
    job = load("validate.yml")["jobs"]["data"]
    checkouts = {s["with"]["path"]: s["with"] for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")}
    assert checkouts["tool"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert "ref" not in checkouts["pr"] and checkouts["pr"]["fetch-depth"] == 0
    runs = [s for s in job["steps"] if "run" in s]
    installs = [s["run"] for s in runs if "setup" in s["run"]]
    assert installs == ["tool/scripts/setup --runtime"]
    assert checkouts["tool"]["sparse-checkout"] == "scripts"  # the code, not 100,000 signature files
    (validate,) = [s for s in runs if "campaign validate" in s["run"]]
    assert validate["working-directory"] == "pr"
    assert not any(s.get("working-directory") == "pr" and "setup" in s["run"] for s in runs)


@pytest.mark.parametrize("name", MINE)
def test_workflows_install_from_the_lock_with_a_cache_of_uv_s_downloads(name: str) -> None:
    """`scripts/setup --runtime` (uv sync --frozen), never `pip install` of whatever is newest."""
    workflow = load(name)
    text = (ROOT / ".github" / "workflows" / name).read_text()
    assert "pip install" not in text
    for job_name, job in workflow["jobs"].items():
        runs = [s["run"] for s in job.get("steps", []) if "run" in s]
        if not any("campaign " in r for r in runs):
            continue  # e.g. the Pages deploy job
        assert any(r.endswith("scripts/setup --runtime") for r in runs), job_name
        (cache,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/cache@")]
        assert cache["with"]["path"] == "~/.cache/uv" and "uv.lock" in cache["with"]["key"], job_name


def test_the_base_summary_is_published_by_a_trusted_push_to_the_default_branch() -> None:
    """The one writer of the artifact the pull-request check restores (review/summary.py)."""
    workflow = load(summary.WORKFLOW)
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert 'campaign validate --format github --summary "$RUNNER_TEMP/base-summary/base-summary.json"' in runs
    (upload,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == summary.ARTIFACT
    assert upload["with"]["path"].endswith(f"/{summary.NAME}") and upload["with"]["if-no-files-found"] == "error"

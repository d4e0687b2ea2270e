"""The README's CI and pre-commit recipes work as written.

Each recipe is read out of README.md (the fenced block after `<!-- recipe: NAME -->`), so
the README and these tests cannot drift apart. The CI recipes' `authlint` commands run on
a copy of the demo API; pre-commit and Ruff run for real where the test extra installed them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from test_diff_base import git

README = (REPO / "README.md").read_text(encoding="utf-8")
DEMO = REPO / "examples" / "vulnerable_api"
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def recipe(name: str) -> str:
    match = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```\w*\n(.*?)\n```", README, re.DOTALL)
    assert match, f"README.md has no recipe {name!r}"
    return match.group(1) + "\n"


def authlint_commands(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("authlint ")]


def run_authlint(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    assert argv[0] == "authlint"
    return subprocess.run([sys.executable, "-m", "authlint", *argv[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def output_file(command: str) -> str:
    argv = shlex.split(command)
    return argv[argv.index("-o") + 1]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo API, as a repository's checkout would have it."""
    return Path(shutil.copytree(DEMO, tmp_path / "checkout"))


# --- GitHub Actions ----------------------------------------------------------------------


def github_workflow() -> dict[str, Any]:
    return yaml.safe_load(recipe("github-actions"))


def github_steps() -> tuple[dict[str, Any], dict[str, Any]]:
    """The workflow's scan step and its upload step, checking that the upload comes after the scan."""
    steps = github_workflow()["jobs"]["authlint"]["steps"]
    (scan_index,) = [i for i, step in enumerate(steps) if step.get("run", "").startswith("authlint ")]
    (upload_index,) = [i for i, step in enumerate(steps)
                       if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")]  # fmt: skip
    assert upload_index > scan_index
    return steps[scan_index], steps[upload_index]


def test_github_workflow_may_upload_to_code_scanning() -> None:
    workflow = github_workflow()
    # YAML 1.1 reads the key `on` as True.
    assert workflow[True] == ["push", "pull_request"]
    assert workflow["permissions"] == {"contents": "read", "security-events": "write"}


def test_github_workflow_uploads_the_sarif_its_scan_wrote_even_when_the_scan_fails() -> None:
    scan, upload = github_steps()
    assert scan["run"] == "authlint check . --format sarif -o authlint.sarif"
    assert upload["with"] == {"sarif_file": output_file(scan["run"]), "category": "authlint"}
    # Findings make the scan exit 1; the upload must still run then, and only if the scan ran.
    assert upload["if"] == f"success() || steps.{scan['id']}.outcome == 'failure'"


def test_github_workflow_scan_writes_valid_sarif_with_the_demo_findings(demo: Path, sarif_validator) -> None:
    scan, _ = github_steps()
    run = run_authlint(scan["run"], demo)
    assert run.returncode == 1, run.stderr
    log = json.loads((demo / output_file(scan["run"])).read_text(encoding="utf-8"))
    sarif_validator.validate(log)
    results = log["runs"][0]["results"]
    assert {"AL101", "AL301"} <= {result["ruleId"] for result in results}
    uris = {result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in results}
    assert all((demo / uri).is_file() for uri in uris), uris


# --- GitLab CI ---------------------------------------------------------------------------


def gitlab_job() -> dict[str, Any]:
    return yaml.safe_load(recipe("gitlab-ci"))["authlint"]


def test_gitlab_job_publishes_its_report_as_code_quality_even_when_it_fails() -> None:
    job = gitlab_job()
    (scan,) = authlint_commands(job["script"])
    assert scan == "authlint check . --format gitlab -o gl-code-quality-report.json"
    assert job["artifacts"] == {"when": "always", "reports": {"codequality": output_file(scan)}}


def test_gitlab_job_scan_writes_a_code_quality_report_of_the_demo(demo: Path) -> None:
    (scan,) = authlint_commands(gitlab_job()["script"])
    run = run_authlint(scan, demo)
    assert run.returncode == 1, run.stderr
    report_text = (demo / output_file(scan)).read_text(encoding="utf-8")
    issues = json.loads(report_text)
    assert issues and isinstance(issues, list)
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert re.fullmatch(r"AL\d{3}", issue["check_name"]) and issue["description"].startswith(issue["check_name"])
        assert issue["severity"] in GITLAB_SEVERITIES
        lines = issue["location"]["lines"]
        assert 1 <= lines["begin"] <= lines["end"]
        assert (demo / issue["location"]["path"]).is_file(), issue["location"]["path"]
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    # A second run of the same code gives GitLab the same fingerprints: nothing looks new or fixed.
    assert run_authlint(scan, demo).returncode == 1
    assert (demo / output_file(scan)).read_text(encoding="utf-8") == report_text


# --- pre-commit --------------------------------------------------------------------------


def manifest_hook() -> dict[str, Any]:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return hook


def test_pre_commit_recipe_names_the_hook_this_repository_defines() -> None:
    (repo,) = yaml.safe_load(recipe("pre-commit"))["repos"]
    assert repo["repo"] == "https://github.com/authlint/authlint"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"])
    assert repo["hooks"] == [{"id": manifest_hook()["id"]}]


def test_pre_commit_accepts_the_hook_definition() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib", reason="pre-commit is in the test extra")
    (hook,) = clientlib.load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert (hook["id"], hook["language"], hook["pass_filenames"], hook["require_serial"]) == (
        "authlint", "python", True, True)  # fmt: skip


def test_pre_commit_runs_the_hook_on_the_files_it_names(tmp_path: Path) -> None:
    """pre-commit itself runs the hook on a repository: it picks the Python files, names them, reads exit codes.

    The hook is this repository's definition with one change, `language: system`: a
    `python` hook would make pre-commit build a virtualenv and install authlint's
    dependencies from the network, which a test must not need. So this checks
    everything but that install step.
    """
    pytest.importorskip("pre_commit", reason="pre-commit is in the test extra")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    project = tmp_path / "project"
    shutil.copytree(DEMO, project)
    (project / "notes.txt").write_text("not python\n", encoding="utf-8")
    hook = {**manifest_hook(), "language": "system"}
    config = {"repos": [{"repo": "local", "hooks": [hook]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    git(project, "init", "-q")
    git(project, "add", "-A")
    environment = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1",
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip

    def pre_commit(*files: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "run", "--color", "never", "--files", *files]
        return subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=300)

    vulnerable = pre_commit("auth.py", "notes.txt")
    assert vulnerable.returncode == 1, vulnerable.stdout + vulnerable.stderr
    assert "auth.py:" in vulnerable.stdout and "AL101" in vulnerable.stdout
    # orders.py is protected where main.py mounts it: the hook links the whole project, so it
    # reports the order lookup of an authenticated route (AL302), not an open route (AL301).
    linked = pre_commit("routers/orders.py")
    assert linked.returncode == 1, linked.stdout + linked.stderr
    assert "routers/orders.py:" in linked.stdout and "AL302" in linked.stdout and "AL301" not in linked.stdout
    skipped = pre_commit("notes.txt")
    assert skipped.returncode == 0 and "(no files to check)Skipped" in skipped.stdout, skipped.stdout


# --- Ruff --------------------------------------------------------------------------------

NOQA_LINE = 'token = jwt.encode({}, None, algorithm="none")  # noqa: AL101\n'


def ruff_fix_unused_noqa(project: Path) -> str:
    """What `ruff check --fix` leaves of a line suppressed for authlint, with `project`'s configuration."""
    pytest.importorskip("ruff", reason="ruff is in the test extra")
    source = project / "app.py"
    source.write_text("import jwt\n\n" + NOQA_LINE, encoding="utf-8")
    # RUF100 (unused noqa) and RUF102 (invalid noqa code) are the rules that remove codes.
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "RUF100,RUF102", "--fix", "app.py"]
    subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120)
    return source.read_text(encoding="utf-8").splitlines()[-1] + "\n"


def test_ruff_keeps_authlint_noqa_codes_with_the_recipe(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(recipe("ruff"), encoding="utf-8")
    assert ruff_fix_unused_noqa(tmp_path) == NOQA_LINE


def test_ruff_removes_authlint_noqa_codes_without_the_recipe(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff.lint]\n", encoding="utf-8")
    assert ruff_fix_unused_noqa(tmp_path) == NOQA_LINE.replace("  # noqa: AL101", "")

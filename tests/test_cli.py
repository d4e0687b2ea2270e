"""The `authlint` command line: exit codes, formats, selection, configuration, discovery,
suppressions, parallelism, colors and the `rules` / `explain` commands.

Most tests run the command in-process through click's CliRunner in a temporary project;
those where the process boundary matters (environment variables, `python -m`, the
process pool) run it in a subprocess. Where counts or exit codes matter the tests
`--select AL101`, so that adding rules does not change them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import authlint
from authlint.cli import main
from authlint.rules.jwt_alg_none import JwtAlgNone

from conftest import REPO, check_json, invoke, write

# AL101 at line 5, column 47 (the "none").
VULNERABLE = 'import jwt\n\n\ndef issue(claims):\n    return jwt.encode(claims, None, algorithm="none")\n'
VULNERABLE_LINE = 5
SAFE = (
    "import jwt\n\n\ndef verify(token, key):\n"
    '    return jwt.decode(token, key, algorithms=["RS256"], audience="api", issuer="auth")\n'
)
ANSI = "\x1b["
MEDIUM_AL101 = '[tool.authlint]\nselect = ["AL101"]\n\n[tool.authlint.rules.AL101]\nseverity = "medium"\n'
LEGACY_IGNORED = '[tool.authlint]\nselect = ["AL101"]\nper-file-ignores = {"legacy/*" = ["AL101"]}\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory that is also the working directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    for name in ("NO_COLOR", "FORCE_COLOR", "AUTHLINT_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return root


def finding_keys(document: dict) -> set[tuple[str, int, str]]:
    return {(f["path"], f["line"], f["code"]) for f in document["findings"]}


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "authlint", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


# Exit codes -------------------------------------------------------------------------


def test_clean_scan_exits_0(project: Path) -> None:
    write(project / "app.py", SAFE)
    result = invoke("check", ".", "--select", "AL101")
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.stdout


def test_findings_exit_1(project: Path) -> None:
    write(project / "app.py", VULNERABLE)
    result = invoke("check", ".", "--select", "AL101")
    assert result.exit_code == 1, result.output
    assert f"app.py:{VULNERABLE_LINE}:" in result.stdout


def test_unknown_option_exits_2(project: Path) -> None:
    result = invoke("check", "--frobnicate")
    assert result.exit_code == 2
    assert "--frobnicate" in result.stderr


def test_nonexistent_path_exits_2_with_one_error_line(project: Path) -> None:
    result = invoke("check", "missing.py")
    assert result.exit_code == 2
    assert result.stderr == "authlint: error: path 'missing.py' does not exist\n"


def test_clean_scan_of_an_empty_directory_exits_0(project: Path) -> None:
    result = invoke("check", ".")
    assert result.exit_code == 0, result.output


# --fail-on and --exit-zero -----------------------------------------------------------


@pytest.fixture
def medium_finding(project: Path) -> Path:
    """One AL101 finding, configured down to severity medium."""
    write(project / "pyproject.toml", MEDIUM_AL101)
    write(project / "app.py", VULNERABLE)
    return project


@pytest.mark.parametrize(("fail_on", "code"), [("low", 1), ("medium", 1), ("high", 0), ("critical", 0)])
def test_fail_on_sets_the_threshold_for_exit_1(medium_finding: Path, fail_on: str, code: int) -> None:
    assert invoke("check", ".", "--fail-on", fail_on).exit_code == code


def test_fail_on_changes_only_the_exit_code(medium_finding: Path) -> None:
    failing = invoke("check", ".", "--fail-on", "medium")
    passing = invoke("check", ".", "--fail-on", "high")
    assert (failing.exit_code, passing.exit_code) == (1, 0)
    assert failing.stdout == passing.stdout
    assert "AL101" in passing.stdout


def test_fail_on_from_config(medium_finding: Path) -> None:
    write(
        medium_finding / "pyproject.toml",
        '[tool.authlint]\nselect = ["AL101"]\nfail-on = "high"\n\n[tool.authlint.rules.AL101]\nseverity = "medium"\n',
    )
    assert invoke("check", ".").exit_code == 0


def test_fail_on_rejects_an_unknown_severity(project: Path) -> None:
    result = invoke("check", ".", "--fail-on", "severe")
    assert result.exit_code == 2
    assert "severe" in result.stderr


def test_exit_zero_reports_findings_but_exits_0(project: Path) -> None:
    write(project / "app.py", VULNERABLE)
    result = invoke("check", ".", "--select", "AL101", "--exit-zero")
    assert result.exit_code == 0
    assert f"app.py:{VULNERABLE_LINE}:" in result.stdout


# Formats and outputs -------------------------------------------------------------------


@pytest.fixture
def one_finding(project: Path) -> Path:
    write(project / "app.py", VULNERABLE)
    return project


def test_full_format_shows_the_source_line(one_finding: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--format", "full")
    assert f"app.py:{VULNERABLE_LINE}:47  AL101  critical" in result.stdout
    assert 'algorithm="none"' in result.stdout


def test_concise_format_is_one_line_per_finding(one_finding: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--format", "concise")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"app.py:{VULNERABLE_LINE}:47: AL101 [critical] ")
    assert len(lines) == 2  # the finding and the summary


def test_json_format_parses(one_finding: Path) -> None:
    result, document = check_json(".", "--select", "AL101")
    assert result.exit_code == 1
    assert finding_keys(document) == {("app.py", VULNERABLE_LINE, "AL101")}
    assert document["errors"] == []


def test_sarif_format_parses(one_finding: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--format", "sarif")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["AL101"]
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_github_format_writes_workflow_commands(one_finding: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--format", "github")
    assert re.fullmatch(
        rf"::error file=app\.py,line={VULNERABLE_LINE},col=47,[^:]*title=AL101 jwt-alg-none::.+\n", result.stdout
    ), result.stdout


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "sarif", "github"])
def test_output_writes_the_report_to_the_file_only(one_finding: Path, fmt: str) -> None:
    to_stdout = invoke("check", ".", "--select", "AL101", "--format", fmt)
    to_file = invoke("check", ".", "--select", "AL101", "--format", fmt, "--output", "report.txt")
    assert to_file.exit_code == 1
    assert to_file.stdout == ""
    assert (one_finding / "report.txt").read_text(encoding="utf-8") == to_stdout.stdout


def test_sarif_output_is_written_alongside_the_console_report(one_finding: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--format", "concise", "--sarif-output", "out.sarif")
    assert result.stdout.startswith(f"app.py:{VULNERABLE_LINE}:47: AL101")
    log = json.loads((one_finding / "out.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["AL101"]


def test_output_to_a_missing_directory_exits_2_naming_the_report(one_finding: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--output", "missing/report.json")
    assert result.exit_code == 2
    assert result.stderr == "authlint: error: cannot write 'missing/report.json': No such file or directory\n"


# Rule selection ---------------------------------------------------------------------


def test_select_by_prefix(one_finding: Path) -> None:
    _, document = check_json(".", "--select", "AL1")
    assert ("app.py", VULNERABLE_LINE, "AL101") in finding_keys(document)


def test_select_all(one_finding: Path) -> None:
    _, document = check_json(".", "--select", "ALL")
    assert ("app.py", VULNERABLE_LINE, "AL101") in finding_keys(document)


def test_select_by_rule_name(one_finding: Path) -> None:
    _, document = check_json(".", "--select", "jwt-alg-none")
    assert finding_keys(document) == {("app.py", VULNERABLE_LINE, "AL101")}


def test_ignore_removes_the_rule(one_finding: Path) -> None:
    _, document = check_json(".", "--ignore", "AL101")
    assert "AL101" not in {f["code"] for f in document["findings"]}


def test_ignore_wins_over_select(one_finding: Path) -> None:
    result, document = check_json(".", "--select", "AL101", "--ignore", "AL101")
    assert result.exit_code == 0
    assert document["findings"] == []


def test_unknown_code_in_select_exits_2(project: Path) -> None:
    result = invoke("check", ".", "--select", "AL999")
    assert result.exit_code == 2
    assert result.stderr.startswith("authlint: error: unknown rule code 'AL999' in --select")


def test_unknown_code_in_ignore_names_the_flag(project: Path) -> None:
    result = invoke("check", ".", "--ignore", "AL999")
    assert result.exit_code == 2
    assert "unknown rule code 'AL999' in --ignore" in result.stderr


# Configuration errors -----------------------------------------------------------------

CONFIG_ERRORS = {
    "unknown-key": ('[tool.authlint]\nselct = ["AL101"]\n', ["'selct'", "did you mean 'select'"]),
    "wrong-type": ('[tool.authlint]\nselect = "AL101"\n', ["'select'", "list of strings"]),
    "unknown-severity": ('[tool.authlint]\nfail-on = "severe"\n', ["fail-on", "'severe'"]),
    "unknown-rule": ("[tool.authlint.rules.AL999]\nseverity = \"low\"\n", ["AL999"]),
    "unknown-rule-option": ("[tool.authlint.rules.AL101]\ncolour = 1\n", ["'colour'", "AL101"]),
    "unknown-code-in-select": ('[tool.authlint]\nselect = ["AL999"]\n', ["AL999", "'select'"]),
    "invalid-toml": ("[tool.authlint]\nselect = [\n", ["invalid TOML"]),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_config_error_exits_2_naming_the_file(project: Path, case: str) -> None:
    toml, fragments = CONFIG_ERRORS[case]
    write(project / "pyproject.toml", toml)
    write(project / "app.py", VULNERABLE)
    result = invoke("check", ".")
    assert result.exit_code == 2
    message = result.stderr
    assert message.startswith("authlint: error: "), message
    assert message.count("\n") == 1, message
    assert "pyproject.toml" in message
    for fragment in fragments:
        assert fragment in message


def test_config_error_in_authlint_toml_names_that_file(project: Path) -> None:
    write(project / "authlint.toml", 'selct = ["AL101"]\n')
    result = invoke("check", ".")
    assert result.exit_code == 2
    assert result.stderr.startswith("authlint: error: authlint.toml: unknown key 'selct'")


def test_explicit_config_that_does_not_exist_exits_2(project: Path) -> None:
    result = invoke("check", ".", "--config", "nope.toml")
    assert result.exit_code == 2
    assert "nope.toml" in result.stderr


# Configuration that works -------------------------------------------------------------


def test_authlint_toml_with_top_level_keys_is_read(one_finding: Path) -> None:
    write(one_finding / "authlint.toml", 'select = ["AL101"]\n\n[rules.AL101]\nseverity = "low"\n')
    _, document = check_json(".")
    assert [(f["code"], f["severity"]) for f in document["findings"]] == [("AL101", "low")]


def test_pyproject_without_an_authlint_table_is_skipped(one_finding: Path, tmp_path: Path) -> None:
    write(one_finding / "pyproject.toml", '[project]\nname = "demo"\n')
    write(tmp_path / "pyproject.toml", '[tool.authlint]\nignore = ["AL101"]\n')  # the parent's applies
    _, document = check_json(".")
    assert "AL101" not in {f["code"] for f in document["findings"]}


def test_per_file_ignores_silence_only_the_matching_folder(project: Path) -> None:
    write(project / "pyproject.toml", LEGACY_IGNORED)
    write(project / "legacy" / "old.py", VULNERABLE)
    write(project / "app" / "new.py", VULNERABLE)
    _, document = check_json(".")
    assert finding_keys(document) == {("app/new.py", VULNERABLE_LINE, "AL101")}


def test_config_is_found_by_walking_up_from_the_scanned_path(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    write(project / "pyproject.toml", LEGACY_IGNORED)
    write(project / "legacy" / "old.py", VULNERABLE)
    write(project / "src" / "pkg" / "new.py", VULNERABLE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _, document = check_json(str(project / "src"), str(project / "legacy"))
    assert {(Path(p).name, line, code) for p, line, code in finding_keys(document)} == {
        ("new.py", VULNERABLE_LINE, "AL101")
    }


def test_exclude_skips_matching_files(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.authlint]\nselect = ["AL101"]\nexclude = ["generated/"]\n')
    write(project / "generated" / "client.py", VULNERABLE)
    write(project / "app.py", VULNERABLE)
    _, document = check_json(".")
    assert finding_keys(document) == {("app.py", VULNERABLE_LINE, "AL101")}


def test_exclude_replaces_the_default_exclusions(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.authlint]\nselect = ["AL101"]\nexclude = ["generated/"]\n')
    write(project / "build" / "app.py", VULNERABLE)
    _, document = check_json(".")
    assert finding_keys(document) == {("build/app.py", VULNERABLE_LINE, "AL101")}


def test_extend_exclude_keeps_the_default_exclusions(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.authlint]\nselect = ["AL101"]\nextend-exclude = ["generated/"]\n')
    write(project / "generated" / "client.py", VULNERABLE)
    write(project / "build" / "app.py", VULNERABLE)
    write(project / "app.py", VULNERABLE)
    _, document = check_json(".")
    assert finding_keys(document) == {("app.py", VULNERABLE_LINE, "AL101")}


def test_extend_exclude_on_the_command_line(project: Path) -> None:
    write(project / "generated" / "client.py", VULNERABLE)
    write(project / "app.py", VULNERABLE)
    _, document = check_json(".", "--select", "AL101", "--extend-exclude", "generated/")
    assert finding_keys(document) == {("app.py", VULNERABLE_LINE, "AL101")}


def test_gitignore_is_honoured(project: Path) -> None:
    write(project / ".gitignore", "ignored/\nscratch.py\n")
    write(project / "ignored" / "old.py", VULNERABLE)
    write(project / "scratch.py", VULNERABLE)
    write(project / "app.py", VULNERABLE)
    _, document = check_json(".", "--select", "AL101")
    assert finding_keys(document) == {("app.py", VULNERABLE_LINE, "AL101")}


def test_no_respect_gitignore_scans_ignored_files(project: Path) -> None:
    write(project / ".gitignore", "scratch.py\n")
    write(project / "scratch.py", VULNERABLE)
    _, document = check_json(".", "--select", "AL101", "--no-respect-gitignore")
    assert finding_keys(document) == {("scratch.py", VULNERABLE_LINE, "AL101")}


@pytest.fixture
def excluded_file(project: Path) -> Path:
    write(project / "pyproject.toml", '[tool.authlint]\nselect = ["AL101"]\nextend-exclude = ["generated/"]\n')
    return write(project / "generated" / "client.py", VULNERABLE)


def test_file_named_explicitly_is_scanned_even_when_excluded(excluded_file: Path) -> None:
    _, document = check_json("generated/client.py")
    assert finding_keys(document) == {("generated/client.py", VULNERABLE_LINE, "AL101")}


def test_force_exclude_applies_exclusions_to_files_named_explicitly(excluded_file: Path) -> None:
    result, document = check_json("generated/client.py", "--force-exclude")
    assert result.exit_code == 0
    assert document["findings"] == []
    assert document["summary"]["files_scanned"] == 0


# Suppressions -----------------------------------------------------------------------

SUPPRESSION_CASES = {
    "authlint-ignore-at-line-end": (
        '    return jwt.encode(claims, None, algorithm="none")  # authlint: ignore[AL101] test fixture\n',
        0,
    ),
    "authlint-ignore-on-the-line-above": (
        '    # authlint: ignore[AL101]\n    return jwt.encode(claims, None, algorithm="none")\n',
        0,
    ),
    "noqa-with-code": ('    return jwt.encode(claims, None, algorithm="none")  # noqa: AL101\n', 0),
    "bare-noqa-does-not-silence": ('    return jwt.encode(claims, None, algorithm="none")  # noqa\n', 1),
    "bare-authlint-ignore-does-not-silence": (
        '    return jwt.encode(claims, None, algorithm="none")  # authlint: ignore\n',
        1,
    ),
    "other-code-does-not-silence": (
        '    return jwt.encode(claims, None, algorithm="none")  # authlint: ignore[AL102]\n',
        1,
    ),
    "noqa-other-code-does-not-silence": (
        '    return jwt.encode(claims, None, algorithm="none")  # noqa: AL102\n',
        1,
    ),
    "multi-line-statement-without-comment": (
        '    return jwt.encode(\n        claims,\n        None,\n        algorithm="none",\n    )\n',
        1,
    ),
    "first-line-of-multi-line-statement": (
        '    return jwt.encode(  # authlint: ignore[AL101]\n'
        '        claims,\n        None,\n        algorithm="none",\n    )\n',
        0,
    ),
    "comment-two-lines-above-does-not-silence": (
        '    # authlint: ignore[AL101]\n'
        '    claims = dict(claims)\n    return jwt.encode(claims, None, algorithm="none")\n',
        1,
    ),
}


@pytest.mark.parametrize("case", list(SUPPRESSION_CASES))
def test_suppression_comments(project: Path, case: str) -> None:
    body, expected = SUPPRESSION_CASES[case]
    write(project / "app.py", "import jwt\n\n\ndef issue(claims):\n" + body)
    _, document = check_json("app.py", "--select", "AL101")
    assert len(document["findings"]) == expected, document["findings"]


def test_multi_line_finding_is_on_a_later_line_than_the_statement(project: Path) -> None:
    """What makes the multi-line suppression case meaningful: the finding is not on line 5."""
    body = SUPPRESSION_CASES["multi-line-statement-without-comment"][0]
    write(project / "app.py", "import jwt\n\n\ndef issue(claims):\n" + body)
    _, document = check_json("app.py", "--select", "AL101")
    assert finding_keys(document) == {("app.py", 8, "AL101")}


# Parallelism ---------------------------------------------------------------------------


def test_jobs_1_and_jobs_2_give_byte_identical_json(tmp_path: Path) -> None:
    for index in range(48):
        body = VULNERABLE if index % 3 else SAFE
        write(tmp_path / f"pkg{index % 4}" / f"module_{index:02}.py", f"# module {index}\n{body}")
    write(tmp_path / "pkg0" / "broken.py", "import jwt\ndef broken(:\n")
    # --no-cache: the second run would otherwise be answered by the first one's cached scan
    one = run_cli("check", ".", "--select", "AL101", "--format", "json", "-o", "one.json", "--jobs", "1", "--no-cache",
                  cwd=tmp_path)  # fmt: skip
    two = run_cli("check", ".", "--select", "AL101", "--format", "json", "-o", "two.json", "--jobs", "2", "--no-cache",
                  cwd=tmp_path)  # fmt: skip
    assert (one.returncode, two.returncode) == (1, 1), one.stderr + two.stderr
    first, second = (tmp_path / "one.json").read_bytes(), (tmp_path / "two.json").read_bytes()
    assert first == second
    assert json.loads(first)["summary"]["findings"] == 32
    assert one.stderr == two.stderr


def test_every_rule_on_every_fixture_gives_the_same_report_for_any_job_count(tmp_path: Path) -> None:
    # Cross-file projects included (fixtures/apps): the link phase must not depend on which worker saw a file.
    reports = []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"jobs{jobs}.json"
        done = run_cli("check", "fixtures", "--format", "json", "-o", str(out), "--jobs", jobs, "--no-cache",
                       "--exit-zero", cwd=REPO)  # fmt: skip
        assert done.returncode == 0, done.stderr
        reports.append(out.read_bytes())
    assert reports[0] == reports[1] == reports[2]
    assert json.loads(reports[0])["summary"]["findings"] > 500


# Colors ---------------------------------------------------------------------------------


def test_color_always_writes_ansi_codes(one_finding: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--color", "always")
    assert ANSI in result.stdout


def test_color_never_writes_no_ansi_codes(one_finding: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = invoke("check", ".", "--select", "AL101", "--color", "never")
    assert ANSI not in result.stdout


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_machine_formats_never_contain_color(one_finding: Path, fmt: str) -> None:
    result = invoke("check", ".", "--select", "AL101", "--format", fmt, "--color", "always")
    assert ANSI not in result.stdout


def test_no_color_environment_disables_color(one_finding: Path) -> None:
    proc = run_cli("check", ".", "--select", "AL101", cwd=one_finding, env={"NO_COLOR": "1"})
    assert proc.returncode == 1
    assert ANSI not in proc.stdout


def test_force_color_environment_enables_color_on_a_pipe(one_finding: Path) -> None:
    proc = run_cli("check", ".", "--select", "AL101", cwd=one_finding, env={"FORCE_COLOR": "1"})
    assert proc.returncode == 1
    assert ANSI in proc.stdout


def test_no_color_by_default_on_a_pipe(one_finding: Path) -> None:
    proc = run_cli("check", ".", "--select", "AL101", cwd=one_finding)
    assert ANSI not in proc.stdout
    assert "AL101" in proc.stdout


# rules, explain, --version, --help ----------------------------------------------------


def test_rules_lists_al101(project: Path) -> None:
    result = invoke("rules")
    assert result.exit_code == 0
    assert "AL101" in result.stdout and "jwt-alg-none" in result.stdout


def test_rules_json_parses(project: Path) -> None:
    result = invoke("rules", "--format", "json")
    records = {record["code"]: record for record in json.loads(result.stdout)}
    assert records["AL101"]["name"] == "jwt-alg-none"
    assert records["AL101"]["severity"] == "critical"


@pytest.mark.parametrize("name", ["AL101", "al101", "jwt-alg-none"])
def test_explain_prints_the_rule_documentation(project: Path, name: str) -> None:
    result = invoke("explain", name)
    assert result.exit_code == 0
    assert "AL101 jwt-alg-none" in result.stdout
    for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "References"):
        assert heading in result.stdout


def test_explain_unknown_code_exits_2(project: Path) -> None:
    result = invoke("explain", "AL999")
    assert result.exit_code == 2
    assert result.stderr.startswith("authlint: error: unknown rule code 'AL999'")


def test_version(project: Path) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"authlint, version {authlint.__version__}\n"


def test_python_m_authlint_help(tmp_path: Path) -> None:
    proc = run_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert "Usage:" in proc.stdout
    for command in ("check", "rules", "explain"):
        assert command in proc.stdout


# A rule that crashes ---------------------------------------------------------------------


@pytest.fixture
def crashing_rule(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AL101 raises on crash.py and works everywhere else."""
    original = JwtAlgNone.visit_Call

    def boom(self: JwtAlgNone, node) -> None:
        if self.ctx.path.endswith("crash.py"):
            raise RuntimeError("boom in a rule")
        original(self, node)

    monkeypatch.setattr(JwtAlgNone, "visit_Call", boom)
    write(project / "crash.py", VULNERABLE)
    write(project / "other.py", VULNERABLE)
    return project


def test_crashing_rule_exits_2(crashing_rule: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--jobs", "1")
    assert result.exit_code == 2


def test_crashing_rule_is_reported_with_its_code_and_a_short_traceback(crashing_rule: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--jobs", "1")
    assert "authlint: internal error: crash.py: rule AL101 (jwt-alg-none) failed" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom in a rule" in result.stderr
    assert len(result.stderr.splitlines()) < 20


def test_crashing_rule_does_not_stop_other_files(crashing_rule: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--jobs", "1", "--format", "concise")
    assert f"other.py:{VULNERABLE_LINE}:47: AL101" in result.stdout
    assert "crash.py:" not in result.stdout


def test_crashing_rule_is_an_internal_error_in_json(crashing_rule: Path) -> None:
    _, document = check_json(".", "--select", "AL101", "--jobs", "1")
    assert [(e["path"], e["kind"], e["code"]) for e in document["errors"]] == [("crash.py", "internal", "AL101")]


def test_exit_zero_does_not_hide_a_crashing_rule(crashing_rule: Path) -> None:
    result = invoke("check", ".", "--select", "AL101", "--jobs", "1", "--exit-zero")
    assert result.exit_code == 2


def test_summary_counts_suppressed_findings(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.py").write_text(
        'import jwt\njwt.encode({}, None, algorithm="none")  # authlint: ignore[AL101] demo\n'
    )
    result = CliRunner().invoke(main, ["check", ".", "--select", "AL101", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["summary"]["suppressed"] == 1

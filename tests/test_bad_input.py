"""Files authlint cannot analyse are warnings, never tracebacks, and never stop the scan.

Everything here runs the real CLI in a subprocess (`python -m authlint check`), because
a crash in the native parser or a worker is only visible from outside the process.
The inputs are `fixtures/bad_input/` (see its README) plus files generated at run time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO

BAD_INPUT = FIXTURES / "bad_input"
BAD_INPUT_DISPLAY = "fixtures/bad_input"

# File -> what its warning must say about it.
BAD_FILES = {
    "syntax_error.py": r"syntax error at line 8\b",
    "python2_print.py": r"syntax error at line [78]\b",
    "null_byte.py": r"null byte",
    "invalid_utf8.py": r"cannot decode as utf-8",
    "wrong_coding_cookie.py": r"unknown encoding: klingon",
    "binary_junk.py": r"decode|encoding",
    "deeply_nested.py": r"too deeply nested",
}
# Files in the folder that are valid and must be analysed without a warning.
GOOD_FILES = ("latin1_ok.py", "bom_utf8.py", "empty.py")

WARNING = re.compile(r"^authlint: warning: (?P<path>.+?): (?P<reason>.+)$", re.M)


def run_check(*args: str, cwd: Path = REPO, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "AUTHLINT_DEBUG")}
    env.update(NO_COLOR="1", **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "authlint", "check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )


def warnings_by_path(stderr: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for match in WARNING.finditer(stderr):
        found.setdefault(match["path"], []).append(match["reason"])
    return found


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}\n{proc.stderr}"


@pytest.fixture(scope="module")
def json_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path_factory.mktemp("json") / "out.json"
    proc = run_check(BAD_INPUT_DISPLAY, "--select", "AL101", "--format", "json", "-o", str(out))
    return proc, json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sarif_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path_factory.mktemp("sarif") / "out.sarif"
    proc = run_check(BAD_INPUT_DISPLAY, "--select", "AL101", "--format", "sarif", "-o", str(out))
    return proc, json.loads(out.read_text(encoding="utf-8"))


# The fixtures folder ---------------------------------------------------------------


def test_bad_input_folder_holds_the_documented_files() -> None:
    present = {path.name for path in BAD_INPUT.glob("*.py")}
    assert present == set(BAD_FILES) | set(GOOD_FILES)


def test_scanning_bad_input_prints_no_traceback(json_run) -> None:
    proc, _ = json_run
    assert_no_traceback(proc)


def test_bad_input_is_not_an_error_exit(json_run) -> None:
    proc, _ = json_run
    # 1, not 2: latin1_ok.py has a finding; unreadable files are warnings, not errors.
    assert proc.returncode == 1, proc.stderr


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_warned_about_once_with_its_reason(json_run, name: str) -> None:
    proc, _ = json_run
    reasons = warnings_by_path(proc.stderr).get(f"{BAD_INPUT_DISPLAY}/{name}", [])
    assert len(reasons) == 1, proc.stderr
    assert re.search(BAD_FILES[name], reasons[0], re.I), reasons[0]


def test_valid_files_are_not_warned_about(json_run) -> None:
    proc, _ = json_run
    warned = set(warnings_by_path(proc.stderr))
    assert warned == {f"{BAD_INPUT_DISPLAY}/{name}" for name in BAD_FILES}, proc.stderr


def test_scan_continues_past_bad_files_and_reports_latin1_finding(json_run) -> None:
    _, document = json_run
    found = {(f["path"], f["line"], f["code"]) for f in document["findings"]}
    assert found == {(f"{BAD_INPUT_DISPLAY}/latin1_ok.py", 9, "AL101")}


def test_json_lists_each_bad_file_under_errors(json_run) -> None:
    _, document = json_run
    errors = {e["path"]: e for e in document["errors"]}
    assert set(errors) == {f"{BAD_INPUT_DISPLAY}/{name}" for name in BAD_FILES}
    assert {e["kind"] for e in errors.values()} <= {"read", "decode", "parse"}
    assert document["summary"]["files_scanned"] == len(BAD_FILES) + len(GOOD_FILES)


def test_json_error_kinds_name_the_stage_that_failed(json_run) -> None:
    _, document = json_run
    kinds = {e["path"].rsplit("/", 1)[-1]: e["kind"] for e in document["errors"]}
    assert kinds["invalid_utf8.py"] == "decode"
    assert kinds["wrong_coding_cookie.py"] == "decode"
    assert kinds["syntax_error.py"] == "parse"
    assert kinds["null_byte.py"] == "parse"


def test_sarif_marks_the_run_unsuccessful(sarif_run) -> None:
    proc, log = sarif_run
    assert_no_traceback(proc)
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_sarif_has_one_notification_per_bad_file(sarif_run) -> None:
    _, log = sarif_run
    notifications = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    uris = [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notifications]
    assert sorted(uris) == sorted(f"{BAD_INPUT_DISPLAY}/{name}" for name in BAD_FILES)
    assert {n["level"] for n in notifications} == {"warning"}


def test_sarif_still_reports_the_latin1_finding(sarif_run) -> None:
    _, log = sarif_run
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("AL101", 9)
    ]


def test_quiet_hides_file_warnings_but_keeps_the_finding() -> None:
    proc = run_check(BAD_INPUT_DISPLAY, "--select", "AL101", "--format", "concise", "-q")
    assert_no_traceback(proc)
    assert "authlint: warning:" not in proc.stderr
    assert "latin1_ok.py:9:" in proc.stdout


# Generated inputs ----------------------------------------------------------------


def big_source(target_bytes: int = 5_000_000) -> tuple[str, int]:
    """~5 MB of valid Python: thousands of documented functions, some decoding JWTs.

    Long docstrings keep the parse to a few seconds (libcst costs far more per token than
    per byte of string). Returns the text and the line of the one AL101 finding, at the end.
    """
    doc = "Returns the record. " + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 45
    parts = ['"""A generated module of about 5 MB."""\nimport jwt\n']
    size, index = len(parts[0]), 0
    while size < target_bytes:
        if index % 25 == 0:
            chunk = (
                f'\n\ndef verify_{index}(token, key):\n    """{doc}"""\n'
                '    return jwt.decode(token, key, algorithms=["RS256"], audience="api", issuer="auth")\n'
            )
        else:
            chunk = (
                f'\n\ndef handler_{index}(request, values=None):\n    """{doc}"""\n'
                f"    total = sum(v * {index} for v in (values or [1, 2, 3]))\n"
                f'    return {{"id": {index}, "total": total}}\n'
            )
        parts.append(chunk)
        size += len(chunk)
        index += 1
    parts.append('\n\ndef forged(claims):\n    return jwt.encode(claims, None, algorithm="none")\n')
    text = "".join(parts)
    return text, text.count("\n")


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of bad_input plus the generated big.py, in a fresh directory."""
    root = tmp_path_factory.mktemp("big")
    shutil.copytree(BAD_INPUT, root / "bad_input")
    text, finding_line = big_source()
    (root / "bad_input" / "big.py").write_text(text, encoding="utf-8")
    return root, finding_line


@pytest.fixture(scope="module")
def big_run(big_tree) -> tuple[subprocess.CompletedProcess[str], dict, int]:
    root, finding_line = big_tree
    proc = run_check("bad_input", "--select", "AL101", "--format", "json", "-o", "out.json", cwd=root)
    return proc, json.loads((root / "out.json").read_text(encoding="utf-8")), finding_line


def test_generated_file_is_about_5_mb(big_tree) -> None:
    root, _ = big_tree
    assert 4_900_000 < (root / "bad_input" / "big.py").stat().st_size < 5_200_000


def test_big_file_scan_has_no_traceback_and_exits_with_findings(big_run) -> None:
    proc, _, _ = big_run
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stderr


def test_big_file_is_parsed_and_its_finding_reported(big_run) -> None:
    _, document, finding_line = big_run
    found = {(f["path"], f["line"], f["code"]) for f in document["findings"]}
    assert ("bad_input/big.py", finding_line, "AL101") in found
    assert ("bad_input/latin1_ok.py", 9, "AL101") in found


def test_big_file_scan_warns_about_exactly_the_bad_files(big_run) -> None:
    proc, document, _ = big_run
    assert set(warnings_by_path(proc.stderr)) == {f"bad_input/{name}" for name in BAD_FILES}
    assert {e["path"] for e in document["errors"]} == {f"bad_input/{name}" for name in BAD_FILES}


def test_nonexistent_path_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_check("does/not/exist.py", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.startswith("authlint: error:")
    assert "does/not/exist.py" in proc.stderr


def test_directory_named_like_a_python_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "x.py").mkdir()
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    proc = run_check(".", "--format", "json", "-o", "out.json", cwd=tmp_path)
    assert_no_traceback(proc)
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert proc.returncode == 0, proc.stderr
    assert document["errors"] == []
    assert document["summary"]["files_scanned"] == 1


def test_unreadable_file_is_a_warning(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read a file without read permission")
    secret = tmp_path / "secret.py"
    secret.write_text("import jwt\n", encoding="utf-8")
    (tmp_path / "ok.py").write_text('import jwt\njwt.encode({}, None, algorithm="none")\n', encoding="utf-8")
    secret.chmod(0)
    try:
        proc = run_check(".", "--select", "AL101", "--format", "concise", cwd=tmp_path)
    finally:
        secret.chmod(0o644)
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    reasons = warnings_by_path(proc.stderr).get("secret.py", [])
    assert len(reasons) == 1 and re.search(r"cannot read|permission", reasons[0], re.I), proc.stderr
    assert "ok.py:2:" in proc.stdout


def test_python_warnings_about_scanned_code_are_not_printed(tmp_path: Path) -> None:
    """An invalid escape in the scanned file is its own business (SyntaxWarning on 3.12+)."""
    (tmp_path / "patterns.py").write_text('import jwt\nimport re\n\nDIGITS = re.compile("\\d+")\n', encoding="utf-8")
    proc = run_check(".", "--select", "AL101", cwd=tmp_path, PYTHONWARNINGS="default")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


# Hostile file systems --------------------------------------------------------------

OK_SOURCE = 'import jwt\njwt.encode({}, None, algorithm="none")\n'


def json_check(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = run_check(*args, "--select", "AL101", "--format", "json", "-o", "out.json", cwd=root)
    assert_no_traceback(proc)
    return proc, json.loads((root / "out.json").read_text(encoding="utf-8"))


def scanned_project(root: Path) -> Path:
    """A project with one file that has a finding, beside whatever the test adds."""
    (root / "ok.py").write_text(OK_SOURCE, encoding="utf-8")
    return root


def test_fifo_in_the_tree_is_reported_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(scanned_project(tmp_path) / "pipe.py")
    proc, document = json_check(tmp_path, ".")
    assert proc.returncode == 1, proc.stderr
    assert document["errors"] == [{"path": "pipe.py", "kind": "read", "message": "not a regular file (a FIFO)",
                                   "code": None}]  # fmt: skip
    assert [f["path"] for f in document["findings"]] == ["ok.py"]


def test_fifo_named_on_the_command_line_is_reported_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(scanned_project(tmp_path) / "pipe.py")
    proc, document = json_check(tmp_path, "pipe.py", "ok.py")
    assert proc.returncode == 1, proc.stderr
    assert [(e["path"], e["message"]) for e in document["errors"]] == [("pipe.py", "not a regular file (a FIFO)")]


def test_endless_device_named_on_the_command_line_is_refused(tmp_path: Path) -> None:
    proc, document = json_check(scanned_project(tmp_path), "/dev/zero", "ok.py")
    assert proc.returncode == 1, proc.stderr
    assert [(e["path"], e["message"]) for e in document["errors"]] == [
        ("/dev/zero", "not a regular file (a character device)")
    ]


def test_symlink_loop_is_reported_for_each_link(tmp_path: Path) -> None:
    os.symlink("loop_b.py", scanned_project(tmp_path) / "loop_a.py")
    os.symlink("loop_a.py", tmp_path / "loop_b.py")
    proc, document = json_check(tmp_path, ".")
    assert proc.returncode == 1, proc.stderr
    assert [(e["path"], e["kind"]) for e in document["errors"]] == [("loop_a.py", "read"), ("loop_b.py", "read")]
    assert all("Too many levels of symbolic links" in e["message"] for e in document["errors"])


def test_symlinks_leaving_the_project_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(OK_SOURCE, encoding="utf-8")
    (tmp_path / "project").mkdir()
    project = scanned_project(tmp_path / "project")
    os.symlink(outside / "secret.py", project / "linked_file.py")
    os.symlink(outside, project / "linked_dir")
    os.symlink("/dev/zero", project / "zero.py")
    proc, document = json_check(project, ".")
    assert proc.returncode == 1, proc.stderr
    assert document["errors"] == []
    assert [f["path"] for f in document["findings"]] == ["ok.py"]
    assert document["summary"]["files_scanned"] == 1


def test_symlink_inside_the_project_is_scanned_once(tmp_path: Path) -> None:
    os.symlink("ok.py", scanned_project(tmp_path) / "alias.py")
    proc, document = json_check(tmp_path, ".")
    assert proc.returncode == 1, proc.stderr
    assert [f["path"] for f in document["findings"]] == ["ok.py"]
    assert document["summary"]["files_scanned"] == 1


def test_non_utf8_file_name_is_reported_escaped_in_every_format(tmp_path: Path, sarif_validator) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9.py")).write_text(OK_SOURCE, encoding="utf-8")
    proc, document = json_check(tmp_path, ".")
    assert proc.returncode == 1, proc.stderr
    assert [f["path"] for f in document["findings"]] == ["caf\\xe9.py"]
    concise = run_check(".", "--select", "AL101", "--format", "concise", cwd=tmp_path)
    assert concise.stdout.startswith("caf\\xe9.py:2:"), concise.stderr
    sarif = run_check(".", "--select", "AL101", "--format", "sarif", "-o", "out.sarif", cwd=tmp_path)
    assert_no_traceback(sarif)
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    sarif_validator.validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("caf") and uri.endswith(".py")


def test_20_mb_generated_file_is_reported_as_timed_out_and_the_rest_scanned(tmp_path: Path) -> None:
    line = "row_{0} = [({0} + a) * b for a, b in zip(range(3), range(4))]\n"
    text = "import jwt\n" + "".join(line.format(index) for index in range(400_000))
    (scanned_project(tmp_path) / "generated.py").write_text(text, encoding="utf-8")
    assert (tmp_path / "generated.py").stat().st_size > 20_000_000
    proc, document = json_check(tmp_path, ".", "--file-timeout", "1")
    assert proc.returncode == 1, proc.stderr
    assert document["errors"] == [{"path": "generated.py", "kind": "timeout", "message": "took longer than 1 s",
                                   "code": None}]  # fmt: skip
    assert [f["path"] for f in document["findings"]] == ["ok.py"]

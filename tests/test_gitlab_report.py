"""`--format gitlab`: GitLab Code Quality issues, with fingerprints that identify a finding across runs."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from authlint.cli import main
from authlint.model import Severity
from authlint.reporters import render
from test_reporters import ROOT, HardcodedSecret, make_finding, make_result


def issues(*findings) -> list[dict]:
    return json.loads(render("gitlab", make_result(findings)))


def test_an_issue_is_the_code_quality_subset_gitlab_reads() -> None:
    finding = make_finding(path=f"{ROOT}/app/auth.py", line=3, end_line=4)
    (issue,) = issues(finding)
    assert issue == {
        "description": "AL101 (jwt-alg-none): token decoded without verifying its signature",
        "check_name": "AL101",
        "fingerprint": issue["fingerprint"],
        "severity": "blocker",
        "location": {"path": "app/auth.py", "lines": {"begin": 3, "end": 4}},
    }
    assert render("gitlab", make_result()) == "[]\n"


def test_severities_map_onto_gitlabs_scale() -> None:
    levels = {severity: issues(make_finding(severity=severity))[0]["severity"] for severity in Severity}
    assert levels == {Severity.LOW: "minor", Severity.MEDIUM: "major", Severity.HIGH: "critical",
                      Severity.CRITICAL: "blocker"}  # fmt: skip


def fingerprints(*findings) -> dict[tuple[str, str, int], str]:
    return {(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]): i["fingerprint"]
            for i in issues(*findings)}  # fmt: skip


def test_fingerprints_survive_code_moving_and_tell_findings_apart() -> None:
    # Two findings on identical line text, another rule on the same line, the same line in another file.
    before = fingerprints(make_finding(line=3), make_finding(line=9), make_finding(HardcodedSecret, line=3),
                          make_finding(path="app/other.py", line=3))  # fmt: skip
    assert len(set(before.values())) == 4
    # Ten lines inserted above both findings: GitLab must see the same two findings, not two new ones.
    after = fingerprints(make_finding(line=13), make_finding(line=19))
    assert after == {("AL101", "app/auth.py", 13): before["AL101", "app/auth.py", 3],
                     ("AL101", "app/auth.py", 19): before["AL101", "app/auth.py", 9]}  # fmt: skip


def test_the_command_writes_the_report_to_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text('import jwt\n\nTOKEN = jwt.encode({}, None, algorithm="none")\n', encoding="utf-8")
    args = ["check", ".", "--select", "AL101", "--format", "gitlab", "-o", "gl-code-quality-report.json"]
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stdout) == (1, "")
    (issue,) = json.loads((tmp_path / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    assert (issue["check_name"], issue["location"]) == ("AL101", {"path": "app.py", "lines": {"begin": 3, "end": 3}})

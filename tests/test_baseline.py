"""Baselines: `--write-baseline` records today's findings, `--baseline` reports only new ones.

Every test runs the command in a temporary project whose configuration selects AL101
(and AL301 for routes), so that adding rules does not change the counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from authlint.fingerprints import normalized_source, statement_digest

from conftest import check_json, invoke, write

CONFIG = '[tool.authlint]\nselect = ["AL101"]\n'
ENCODE = '    return jwt.encode(claims, None, algorithm="none")\n'
ISSUE = f"import jwt\n\n\ndef issue(claims):\n{ENCODE}"  # AL101 at line 5
BASELINE = ".authlint-baseline.json"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one AL101 finding in app/auth.py; also the working directory."""
    root = tmp_path / "project"
    write(root / "pyproject.toml", CONFIG)
    write(root / "app" / "auth.py", ISSUE)
    monkeypatch.chdir(root)
    for name in ("NO_COLOR", "FORCE_COLOR", "AUTHLINT_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return root


def reported(document: dict) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["code"]) for f in document["findings"]]


def entries(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["entries"]


def write_baseline(*args: str) -> Result:
    result = invoke("check", *args, "--write-baseline", BASELINE)
    assert result.exit_code == 0, result.output
    return result


# Writing and checking -----------------------------------------------------------------


def test_write_then_check_reports_nothing_and_exits_0(project: Path) -> None:
    written = write_baseline()
    assert written.stdout == f"authlint: recorded 1 finding in {BASELINE} (0 stale entries pruned)\n"
    result, document = check_json("--baseline", BASELINE)
    assert result.exit_code == 0
    assert document["findings"] == []
    assert document["summary"]["suppressed"] == 1
    assert document["summary"]["baselined"] == 1
    assert document["summary"]["stale_baseline_entries"] == 0


def test_the_file_is_sorted_plain_json_without_lines_or_times(project: Path) -> None:
    write(project / "app" / "zeta.py", ISSUE)
    write_baseline()
    text = (project / BASELINE).read_text(encoding="utf-8")

    def entry(path: str) -> str:
        return f'    {{\n      "code": "AL101",\n      "count": 1,\n      "path": "{path}",\n' \
               f'      "statement": "{statement_digest(ENCODE)}"\n    }}'  # fmt: skip

    assert text == f'{{\n  "entries": [\n{entry("app/auth.py")},\n{entry("app/zeta.py")}\n  ],\n  "version": 1\n}}\n'


def test_rewriting_with_nothing_changed_gives_the_same_bytes(project: Path) -> None:
    write(project / "app" / "more.py", ISSUE + "\n\n" + ISSUE.replace("issue", "issue_again"))
    write_baseline()
    first = (project / BASELINE).read_bytes()
    write_baseline()
    assert (project / BASELINE).read_bytes() == first


def test_a_second_identical_finding_in_the_same_file_is_still_reported(project: Path) -> None:
    write_baseline()
    write(project / "app" / "auth.py", ISSUE + f"\n\ndef issue_again(claims):\n{ENCODE}")
    result, document = check_json("--baseline", BASELINE)
    assert result.exit_code == 1
    assert reported(document) == [("app/auth.py", 9, "AL101")]
    assert document["summary"]["baselined"] == 1


def test_moving_and_reformatting_the_code_keeps_it_hidden(project: Path) -> None:
    write_baseline()
    moved = (
        "import jwt\n\n# a new comment\nTIMEOUT = 30\n\n\nclass Tokens:\n"
        "    def issue(self, claims):\n"
        "        return jwt.encode(  # now wrapped\n            claims, None, algorithm=\"none\"\n        )\n"
    )
    write(project / "app" / "auth.py", moved)
    result, document = check_json("--baseline", BASELINE)
    assert (result.exit_code, document["findings"], document["summary"]["baselined"]) == (0, [], 1)


def test_editing_the_flagged_statement_reports_it_again_and_the_entry_goes_stale(project: Path) -> None:
    write_baseline()
    write(project / "app" / "auth.py", ISSUE.replace("(claims, None", "(dict(claims), None"))
    result, document = check_json("--baseline", BASELINE)
    assert result.exit_code == 1
    assert reported(document) == [("app/auth.py", 5, "AL101")]
    assert document["summary"]["stale_baseline_entries"] == 1

    summary = invoke("check", "--baseline", BASELINE, "--format", "concise").stdout.splitlines()[-1]
    assert summary.endswith("1 baseline entry matches nothing (--statistics lists them).")
    listed = invoke("check", "--baseline", BASELINE, "--statistics", "--format", "concise").stdout
    stale = listed[listed.index("Stale baseline entries") :].splitlines()
    assert stale[2].split() == ["1", "AL101", "app/auth.py", "statement", statement_digest(ENCODE)]


def test_write_baseline_prunes_stale_entries(project: Path) -> None:
    write_baseline()
    write(project / "app" / "auth.py", ISSUE.replace("(claims, None", "(dict(claims), None"))
    written = write_baseline()
    assert written.stdout == f"authlint: recorded 1 finding in {BASELINE} (1 stale entry pruned)\n"
    edited = ENCODE.replace("(claims, None", "(dict(claims), None")
    assert [e["statement"] for e in entries(project / BASELINE)] == [statement_digest(edited)]


def test_fixed_findings_leave_stale_entries_that_write_baseline_removes(project: Path) -> None:
    write_baseline()
    write(project / "app" / "auth.py", ISSUE.replace('"none"', '"RS256"'))
    _, document = check_json("--baseline", BASELINE)
    assert (document["findings"], document["summary"]["stale_baseline_entries"]) == ([], 1)
    assert write_baseline().stdout == f"authlint: recorded 0 findings in {BASELINE} (1 stale entry pruned)\n"
    assert entries(project / BASELINE) == []


def test_inline_suppressed_findings_are_not_recorded(project: Path) -> None:
    write(project / "app" / "auth.py", ISSUE.rstrip("\n") + "  # authlint: ignore[AL101] test tokens\n")
    write_baseline()
    assert entries(project / BASELINE) == []


# What a scan may judge ------------------------------------------------------------------


def test_a_scan_of_some_files_neither_reports_nor_prunes_the_others_entries(project: Path) -> None:
    write(project / "app" / "other.py", ISSUE)
    write_baseline()
    _, document = check_json("app/other.py", "--baseline", BASELINE)
    assert (document["findings"], document["summary"]["stale_baseline_entries"]) == ([], 0)
    write(project / "app" / "other.py", "import jwt\n")
    write_baseline("app/other.py")
    assert [e["path"] for e in entries(project / BASELINE)] == ["app/auth.py"]


def test_entries_of_rules_not_selected_are_neither_stale_nor_pruned(project: Path) -> None:
    write_baseline()
    _, document = check_json("--select", "AL102", "--baseline", BASELINE)
    assert document["summary"]["stale_baseline_entries"] == 0
    write_baseline("--select", "AL102")
    assert [e["code"] for e in entries(project / BASELINE)] == ["AL101"]


def test_entries_of_a_file_that_no_longer_parses_are_kept(project: Path) -> None:
    write_baseline()
    write(project / "app" / "auth.py", ISSUE + "def broken(:\n")
    result, document = check_json("--baseline", BASELINE)
    assert (document["summary"]["stale_baseline_entries"], result.exit_code) == (0, 0)
    write_baseline()
    assert [e["path"] for e in entries(project / BASELINE)] == ["app/auth.py"]


def test_paths_are_relative_to_the_configuration_file_wherever_authlint_runs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_baseline()
    monkeypatch.chdir(project / "app")
    result = invoke("check", "--baseline", f"../{BASELINE}", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["summary"]["baselined"]) == (0, 1)
    write_baseline_from_app = invoke("check", "--write-baseline", "here.json")
    assert write_baseline_from_app.exit_code == 0
    assert [e["path"] for e in entries(project / "app" / "here.json")] == ["app/auth.py"]


# Routes ----------------------------------------------------------------------------------

ROUTES = (
    "from fastapi import FastAPI\n"
    "app = FastAPI()\n"
    "@app.post('/orders')\n"
    "@app.put('/orders')\n"
    "def orders():\n"
    "    return {}\n"
)


def test_route_findings_are_keyed_by_method_and_path(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.authlint]\nselect = ["AL301"]\n')
    write(project / "app" / "main.py", ROUTES)
    write_baseline()
    assert entries(project / BASELINE) == [
        {"code": "AL301", "count": 1, "path": "app/main.py", "route": "POST /orders"},
        {"code": "AL301", "count": 1, "path": "app/main.py", "route": "PUT /orders"},
    ]
    # Moved down, the handler renamed: the same routes, still hidden; a new method on it is reported.
    renamed = ROUTES.replace("def orders", "def order_list")
    grown = "\n\n" + renamed.replace("@app.put", "@app.delete('/orders')\n@app.put")
    write(project / "app" / "main.py", grown)
    _, document = check_json("--baseline", BASELINE)
    assert reported(document) == [("app/main.py", 8, "AL301")]
    assert "DELETE /orders" in document["findings"][0]["message"]
    assert document["summary"]["baselined"] == 2


# Configuration and errors ------------------------------------------------------------------


def test_baseline_from_the_configuration_is_relative_to_its_file(project: Path, monkeypatch) -> None:
    write_baseline()
    write(project / "pyproject.toml", CONFIG + f'baseline = "{BASELINE}"\n')
    monkeypatch.chdir(project / "app")
    result, document = check_json()
    assert (result.exit_code, document["summary"]["baselined"]) == (0, 1)


@pytest.mark.parametrize("value", ["3", '""', '["b.json"]'])
def test_baseline_key_must_be_a_path(project: Path, value: str) -> None:
    write(project / "pyproject.toml", CONFIG + f"baseline = {value}\n")
    result = invoke("check")
    assert result.exit_code == 2
    assert result.stderr == (
        "authlint: error: pyproject.toml [tool.authlint]: 'baseline' must be the path of a baseline file, "
        f'like ".authlint-baseline.json"; got {json.loads(value)!r}\n'
    )


def test_a_missing_baseline_file_is_one_line_naming_it(project: Path) -> None:
    result = invoke("check", "--baseline", "nope.json")
    assert (result.exit_code, result.stdout) == (2, "")
    expected = "authlint: error: baseline file 'nope.json' does not exist; create it with --write-baseline\n"
    assert result.stderr == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ('{"version": 2, "entries": []}', ": expected an authlint baseline of version 1, got version 2"),
        ("[]", ": expected an authlint baseline of version 1, got version None"),
        ('{"version": 1}', ": 'entries' must be a list"),
        ('{"version": 1, "entries": [{"code": "AL101", "count": 1}]}',
         ": entry 1 needs a 'path' and a 'code' (strings)"),
        ('{"version": 1, "entries": [{"code": "AL101", "path": "a.py", "count": 1}]}',
         ": entry 1 needs exactly one of 'route' and 'statement'"),
        ('{"version": 1, "entries": [{"code": "AL101", "path": "a.py", "statement": "ab", "count": 0}]}',
         ": entry 1: 'count' must be a positive integer, not 0"),
    ],
)  # fmt: skip
def test_a_malformed_baseline_file_is_one_line_naming_it(project: Path, content: str, problem: str) -> None:
    write(project / "bad.json", content)
    result = invoke("check", "--baseline", "bad.json")
    assert (result.exit_code, result.stdout) == (2, "")
    separator = " " if problem[0] != ":" else ""
    assert result.stderr == f"authlint: error: baseline file 'bad.json'{separator}{problem}\n"


def test_write_baseline_replaces_a_malformed_file(project: Path) -> None:
    write(project / BASELINE, "{")
    assert write_baseline().stdout == f"authlint: recorded 1 finding in {BASELINE} (0 stale entries pruned)\n"
    assert [e["path"] for e in entries(project / BASELINE)] == ["app/auth.py"]


# Fingerprints ------------------------------------------------------------------------------


def test_normalized_source_ignores_layout_and_comments_but_not_strings() -> None:
    assert normalized_source('x = f(a,  # why\n      b="c  d")') == 'x = f ( a , b = "c  d" )'
    assert statement_digest("    x = f(a, b)\n") == statement_digest("x = f(\n    a,\n    b)  # note")
    assert statement_digest('x = "a b"') != statement_digest('x = "a  b"')


def test_normalized_source_of_a_header_cut_inside_brackets() -> None:
    assert normalized_source("@app.route(\n    '/x',") == "@ app . route ( '/x' ,"


# SARIF ---------------------------------------------------------------------------------------

THREE = (
    "import jwt\n\n\n"
    f"def old(claims):\n{ENCODE}\n\n"
    f"def silenced(claims):\n{ENCODE.rstrip()}  # authlint: ignore[AL101] test tokens\n\n\n"
    "def new(claims):\n"
    '    return jwt.encode(dict(claims), None, algorithm="none")\n'
)


@pytest.fixture
def three_kinds(project: Path) -> Path:
    """A baselined finding (line 5), an inline-suppressed one (line 9) and a new one (line 13)."""
    write_baseline()
    write(project / "app" / "auth.py", THREE)
    return project


def sarif_results(log: dict) -> list[tuple[int, object]]:
    return [
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r.get("suppressions", "absent"))
        for r in log["runs"][0]["results"]
    ]


def test_sarif_leaves_suppressed_and_baselined_findings_out_by_default(three_kinds: Path, sarif_validator) -> None:
    result = invoke("check", "--baseline", BASELINE, "--format", "sarif")
    log = json.loads(result.stdout)
    assert not list(sarif_validator.iter_errors(log))
    assert sarif_results(log) == [(13, "absent")]
    assert result.exit_code == 1


def test_showing_suppressed_findings_changes_no_fingerprint(project: Path) -> None:
    write_baseline()
    write(project / "app" / "auth.py", ISSUE + f"\n\ndef again(claims):\n{ENCODE}")  # the same line, new

    def fingerprints(*flags: str) -> dict[int, str]:
        log = json.loads(invoke("check", "--baseline", BASELINE, "--format", "sarif", *flags).stdout)
        return {r["locations"][0]["physicalLocation"]["region"]["startLine"]: r["partialFingerprints"]["primaryLocationLineHash"]
                for r in log["runs"][0]["results"]}  # fmt: skip

    shown, hidden = fingerprints("--sarif-include-suppressed"), fingerprints()
    assert set(shown) == {5, 9} and hidden == {9: shown[9]}


def test_sarif_include_suppressed_marks_every_result(three_kinds: Path, sarif_validator) -> None:
    result = invoke("check", "--baseline", BASELINE, "--format", "sarif", "--sarif-include-suppressed")
    log = json.loads(result.stdout)
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0].message
    assert sarif_results(log) == [(5, [{"kind": "external"}]), (9, [{"kind": "inSource"}]), (13, [])]
    assert result.exit_code == 1  # suppressed results in the report do not fail the run


def test_sarif_output_file_follows_include_suppressed(three_kinds: Path, sarif_validator) -> None:
    invoke("check", "--baseline", BASELINE, "--sarif-output", "out.sarif", "--sarif-include-suppressed")
    log = json.loads((three_kinds / "out.sarif").read_text(encoding="utf-8"))
    assert not list(sarif_validator.iter_errors(log))
    kinds = [suppressions for _, suppressions in sarif_results(log)]
    assert kinds == [[{"kind": "external"}], [{"kind": "inSource"}], []]


def test_sarif_include_suppressed_without_suppressions_writes_empty_arrays(project: Path) -> None:
    log = json.loads(invoke("check", "--format", "sarif", "--sarif-include-suppressed").stdout)
    assert sarif_results(log) == [(5, [])]


def test_console_and_json_count_baselined_findings(three_kinds: Path) -> None:
    concise = invoke("check", "--baseline", BASELINE, "--format", "concise").stdout.splitlines()
    assert concise[-1] == "Found 1 finding (1 critical) in 1 file. 2 suppressed (1 by the baseline)."
    _, document = check_json("--baseline", BASELINE)
    assert reported(document) == [("app/auth.py", 13, "AL101")]
    assert (document["summary"]["suppressed"], document["summary"]["baselined"]) == (2, 1)


def test_entries_of_a_project_rule_that_failed_are_kept(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from authlint.rules.unauthenticated_route import UnauthenticatedRoute

    write(project / "pyproject.toml", '[tool.authlint]\nselect = ["AL301"]\n')
    write(project / "app" / "main.py", ROUTES)
    write_baseline()

    def boom(self) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(UnauthenticatedRoute, "check", boom)
    result, document = check_json("--baseline", BASELINE, "--no-cache")
    assert (result.exit_code, document["summary"]["stale_baseline_entries"]) == (2, 0)
    invoke("check", "--write-baseline", BASELINE, "--no-cache")
    assert [entry["route"] for entry in entries(project / BASELINE)] == ["POST /orders", "PUT /orders"]


def test_a_missing_baseline_stops_the_run_before_fix_writes_anything(project: Path) -> None:
    source = "import requests\n\n\ndef ping(url):\n    return requests.get(url)\n"
    write(project / "app" / "ping.py", source)
    write(project / "pyproject.toml", CONFIG.replace('"AL101"', '"AL503"') + 'baseline = "missing.json"\n')
    result = invoke("check", "--fix")
    assert result.exit_code == 2 and "missing.json" in result.output
    assert (project / "app" / "ping.py").read_text(encoding="utf-8") == source


@pytest.mark.parametrize("flag", ["--fix", "--diff"])
def test_write_baseline_refuses_to_fix(project: Path, flag: str) -> None:
    result = invoke("check", "--write-baseline", BASELINE, flag)
    assert result.exit_code == 2 and "--write-baseline" in result.output
    assert not (project / BASELINE).exists()

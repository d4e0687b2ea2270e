from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import authlint
from authlint.model import FileError, Finding, Precision, ScanResult, Severity, Span
from authlint.reporters import FORMATS, render, write_atomic
from authlint.reporters.sarif import build_log
from authlint.rule import FileRule

ROOT = "/project"


class JwtAlgNone(FileRule):
    """Reports JWTs decoded without verifying their signature.

    ## What it does
    Flags `jwt.decode` calls that accept the `none` algorithm.

    ## Why is this bad?
    Anyone can forge a token that the server then trusts.

    ## Example
    ```python
    jwt.decode(token, algorithms=["none"])
    ```

    ## Use instead
    ```python
    jwt.decode(token, key, algorithms=["HS256"])
    ```

    ## References
    - [RFC 8725](https://www.rfc-editor.org/rfc/rfc8725)
    """

    code = "AL101"
    name = "jwt-alg-none"
    severity = Severity.CRITICAL
    precision = Precision.VERY_HIGH
    owasp = ("API2:2023",)
    cwe = (347,)


class HardcodedSecret(FileRule):
    """Reports signing secrets written in the source.

    ## What it does
    Flags string literals passed as the key of `jwt.encode`.

    ## Why is this bad?
    Everyone with the source can mint tokens.

    ## Example
    ```python
    jwt.encode(claims, "s3cret")
    ```

    ## Use instead
    ```python
    jwt.encode(claims, settings.JWT_KEY)
    ```

    ## References
    - [CWE-798](https://cwe.mitre.org/data/definitions/798.html)
    """

    code = "AL201"
    name = "hardcoded-jwt-secret"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API2:2023", "API8:2023")
    cwe = (798, 321)


def make_finding(
    rule: type[FileRule] = JwtAlgNone,
    *,
    path: str = "app/auth.py",
    line: int = 3,
    column: int = 5,
    end_line: int | None = None,
    end_column: int = 15,
    message: str = "token decoded without verifying its signature",
    source: str = "    jwt.decode(token, algorithms=['none'])",
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        code=rule.code,
        name=rule.name,
        message=message,
        severity=severity or rule.severity,
        path=path,
        span=Span(line, column, end_line or line, end_column),
        statement_line=line,
        source_line=source,
    )


def make_result(findings=(), errors=(), *, files_scanned: int = 4, suppressed: int = 0) -> ScanResult:
    return ScanResult(
        root=ROOT,
        findings=list(findings),
        errors=list(errors),
        files_scanned=files_scanned,
        rules=(JwtAlgNone, HardcodedSecret),
        suppressed=suppressed,
    )


def two_findings() -> ScanResult:
    return make_result(
        [
            make_finding(HardcodedSecret, path="app/tokens.py", line=7, column=20, end_column=28,
                         message="hard-coded key", source='TOKEN = jwt.encode(claims, "s3cret")'),
            make_finding(),
        ]
    )


FILE_ERRORS = [
    FileError(path="app/broken.py", kind="parse", message="invalid syntax at line 2"),
    FileError(path="app/latin.py", kind="decode", message="not valid UTF-8"),
    FileError(
        path="app/auth.py", kind="internal", message="rule crashed: KeyError", code="AL101", detail="Traceback..."
    ),
]


def sarif(result: ScanResult, **kwargs) -> dict:
    return json.loads(render("sarif", result, **kwargs))


# --- SARIF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [two_findings(), make_result(), make_result([make_finding()], FILE_ERRORS)],
    ids=["findings", "clean", "file-errors"],
)
def test_sarif_is_valid_against_the_schema(result: ScanResult, sarif_validator) -> None:
    errors = sorted(sarif_validator.iter_errors(sarif(result)), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_log_header_and_driver() -> None:
    log = sarif(two_findings())
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "authlint"
    assert driver["version"] == driver["semanticVersion"] == authlint.__version__
    assert driver["informationUri"].startswith("https://")
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": Path(ROOT).resolve().as_uri() + "/"}}
    assert "automationDetails" not in run


def test_sarif_rules_carry_what_code_scanning_reads() -> None:
    rules = sarif(two_findings())["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["AL101", "AL201"]
    secret = rules[1]
    assert secret["name"] == "hardcoded-jwt-secret"
    assert secret["shortDescription"]["text"] == "Reports signing secrets written in the source."
    assert secret["fullDescription"]["text"] == "Flags string literals passed as the key of `jwt.encode`."
    assert secret["help"]["text"] == HardcodedSecret.docs()
    assert secret["help"]["markdown"] == HardcodedSecret.docs()
    assert "## Use instead" in secret["help"]["markdown"]
    assert secret["helpUri"].endswith("#al201")
    assert secret["defaultConfiguration"] == {"level": "warning"}
    assert secret["properties"]["tags"] == [
        "security", "external/cwe/cwe-798", "external/cwe/cwe-321", "API2:2023", "API8:2023",
    ]
    assert secret["properties"]["precision"] == "high"
    for rule in rules:
        score = rule["properties"]["security-severity"]
        assert isinstance(score, str) and 0.0 < float(score) <= 10.0
    assert rules[0]["defaultConfiguration"] == {"level": "error"}


def test_sarif_results_are_explicit_and_relative() -> None:
    run = sarif(two_findings())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 2
    for result in run["results"]:
        assert result["level"] in {"error", "warning", "note"}
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not artifact["uri"].startswith("/") and "\\" not in artifact["uri"]
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert "primaryLocationLineHash" in result["partialFingerprints"]
    first = run["results"][0]
    assert first["ruleId"] == "AL101" and first["level"] == "error"
    assert first["message"]["text"] == "token decoded without verifying its signature"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/auth.py"
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 15,
        "snippet": {"text": "    jwt.decode(token, algorithms=['none'])"},
    }
    assert first["properties"] == {"security-severity": "9.5", "severity": "critical"}


def test_sarif_level_is_written_even_when_it_is_the_default() -> None:
    # "warning" is sarif-om's default level; GitHub must still see it on the result.
    (result,) = sarif(make_result([make_finding(HardcodedSecret)]))["runs"][0]["results"]
    assert result["level"] == "warning"


def test_sarif_level_follows_the_finding_not_the_rule() -> None:
    (result,) = sarif(make_result([make_finding(severity=Severity.LOW)]))["runs"][0]["results"]
    assert result["level"] == "note"
    assert result["properties"]["security-severity"] == "3.0"


def test_sarif_clean_run_has_empty_results_and_succeeds() -> None:
    run = sarif(make_result())["runs"][0]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert len(run["tool"]["driver"]["rules"]) == 2


def test_sarif_file_errors_become_notifications() -> None:
    run = sarif(make_result([], FILE_ERRORS))["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notifications = invocation["toolExecutionNotifications"]
    assert [n["level"] for n in notifications] == ["warning", "warning", "error"]
    assert notifications[0]["message"]["text"] == "app/broken.py: invalid syntax at line 2"
    assert notifications[0]["descriptor"]["id"] == "authlint/parse"
    assert notifications[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "app/broken.py", "uriBaseId": "%SRCROOT%",
    }
    assert notifications[2]["descriptor"]["id"] == "AL101"
    assert notifications[2]["associatedRule"] == {"id": "AL101", "index": 0}


def test_sarif_adds_a_rule_for_a_finding_whose_rule_is_not_enabled(sarif_validator) -> None:
    result = ScanResult(
        root=ROOT, findings=[make_finding(HardcodedSecret)], errors=[], files_scanned=1, rules=(JwtAlgNone,)
    )
    log = sarif(result)
    assert not list(sarif_validator.iter_errors(log))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["AL101", "AL201"]
    assert run["results"][0]["ruleIndex"] == 1


def test_sarif_category_sets_automation_details() -> None:
    run = sarif(make_result(), category="authlint/api")["runs"][0]
    assert run["automationDetails"] == {"id": "authlint/api"}


def test_sarif_paths_are_relative_posix_even_when_absolute_under_root() -> None:
    log = sarif(make_result([make_finding(path=f"{ROOT}/app/my views.py")]))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "app/my%20views.py", "uriBaseId": "%SRCROOT%"}


def fingerprints(result: ScanResult) -> list[str]:
    return [r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif(result)["runs"][0]["results"]]


def test_fingerprints_survive_code_moving_to_another_line() -> None:
    before = fingerprints(make_result([make_finding(line=3)]))
    moved = make_finding(line=40, column=9, end_column=19, source="jwt.decode(token,   algorithms=['none'])")
    after = fingerprints(make_result([moved]))
    assert before == after
    assert before[0].endswith(":1")


def test_fingerprints_differ_for_identical_lines_in_one_file() -> None:
    first, second = fingerprints(make_result([make_finding(line=3), make_finding(line=9)]))
    assert first != second
    assert first.split(":")[0] == second.split(":")[0]
    assert (first[-2:], second[-2:]) == (":1", ":2")


def test_fingerprints_differ_between_files_and_rules() -> None:
    base = fingerprints(make_result([make_finding()]))
    other_file = fingerprints(make_result([make_finding(path="app/other.py")]))
    other_rule = fingerprints(make_result([make_finding(HardcodedSecret)]))
    assert len({base[0], other_file[0], other_rule[0]}) == 3


def test_sarif_serializer_omits_unset_and_default_fields() -> None:
    log = sarif(two_findings())
    result = log["runs"][0]["results"][0]
    for absent in ("kind", "rank", "baselineState", "suppressions"):
        assert absent not in result
    run = log["runs"][0]
    assert "newlineSequences" not in run and "language" not in run
    assert build_log(make_result()).runs[0].results == []


# --- JSON ------------------------------------------------------------------------------


def test_json_matches_the_documented_schema() -> None:
    document = json.loads(render("json", make_result(two_findings().findings, FILE_ERRORS[:1], suppressed=2)))
    assert list(document) == ["schema_version", "tool", "summary", "findings", "errors"]
    assert document["schema_version"] == 1
    assert document["tool"] == {"name": "authlint", "version": authlint.__version__}
    assert document["summary"] == {
        "files_scanned": 4,
        "findings": 2,
        "by_severity": {"critical": 1, "high": 0, "medium": 1, "low": 0},
        "suppressed": 2,
        "baselined": 0,
        "stale_baseline_entries": 0,
    }
    first = document["findings"][0]
    assert first == {
        "code": "AL101",
        "name": "jwt-alg-none",
        "severity": "critical",
        "message": "token decoded without verifying its signature",
        "path": "app/auth.py",
        "line": 3,
        "column": 5,
        "end_line": 3,
        "end_column": 15,
        "source": "    jwt.decode(token, algorithms=['none'])",
    }
    assert document["errors"] == [
        {"path": "app/broken.py", "kind": "parse", "message": "invalid syntax at line 2", "code": None}
    ]


def test_json_round_trips() -> None:
    text = render("json", make_result(two_findings().findings, FILE_ERRORS))
    assert text.endswith("\n")
    assert json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n" == text


def test_json_keeps_non_ascii_text() -> None:
    text = render("json", make_result([make_finding(message="clé codée en dur")]))
    assert "clé codée en dur" in text


# --- GitHub ----------------------------------------------------------------------------


def test_github_one_command_per_finding() -> None:
    lines = render("github", two_findings()).splitlines()
    assert lines == [
        "::error file=app/auth.py,line=3,col=5,endLine=3,endColumn=15,title=AL101 jwt-alg-none"
        "::token decoded without verifying its signature",
        "::warning file=app/tokens.py,line=7,col=20,endLine=7,endColumn=28,title=AL201 hardcoded-jwt-secret"
        "::hard-coded key",
    ]


def test_github_severity_maps_to_command() -> None:
    commands = [
        render("github", make_result([make_finding(severity=severity)])).split(" ", 1)[0]
        for severity in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    ]
    assert commands == ["::error", "::error", "::warning", "::notice"]


def test_github_escapes_data_and_properties() -> None:
    finding = make_finding(path="app/a,b:c%.py", message="100% bad:\r\nsecond, line")
    (line,) = render("github", make_result([finding])).splitlines()
    assert "file=app/a%2Cb%3Ac%25.py," in line
    assert line.endswith("::100%25 bad:%0D%0Asecond, line")


def test_github_file_warnings() -> None:
    lines = render("github", make_result([], FILE_ERRORS)).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("::warning file=app/broken.py")
    assert lines[0].endswith("::invalid syntax at line 2")


# --- console ---------------------------------------------------------------------------


def test_console_full_output() -> None:
    text = render("full", two_findings())
    assert "app/auth.py:3:5" in text
    assert "AL101" in text and "critical" in text
    assert "token decoded without verifying its signature" in text
    assert "jwt.decode(token, algorithms=['none'])" in text
    assert "Found 2 findings" in text and "4 files" in text
    assert "hardcoded-jwt-secret" in text
    assert "\x1b[" not in text


def test_console_carets_sit_under_the_span() -> None:
    text = render("full", make_result([make_finding()]))
    lines = text.splitlines()
    source_index = next(i for i, line in enumerate(lines) if "jwt.decode" in line)
    source, carets = lines[source_index], lines[source_index + 1]
    start = carets.index("^")
    assert carets.count("^") == 10
    assert source[start:start + 10] == "jwt.decode"


def test_console_multi_line_span_marks_to_the_end_of_the_line() -> None:
    finding = make_finding(line=3, end_line=5, column=5, end_column=2, source="    jwt.decode(  ")
    lines = render("full", make_result([finding])).splitlines()
    carets = next(line for line in lines if "^" in line)
    assert carets.count("^") == len("jwt.decode(")


def test_console_carets_account_for_tabs_and_wide_characters() -> None:
    finding = make_finding(column=5, end_column=8, source="\t日本 bad()")
    lines = render("full", make_result([finding])).splitlines()
    source_index = next(i for i, line in enumerate(lines) if "bad()" in line)
    source, carets = lines[source_index], lines[source_index + 1]
    # "日本" is two cells each, so the caret column is the display column of "bad".
    assert source.index("bad") + 2 == carets.index("^")
    assert carets.count("^") == 3


def test_console_colour_only_when_asked() -> None:
    assert "\x1b[" not in render("full", two_findings(), color=False)
    assert "\x1b[" in render("full", two_findings(), color=True)
    assert "\x1b[" not in render("concise", two_findings(), color=False, statistics=True)
    assert "\x1b[" in render("concise", two_findings(), color=True)


def test_console_colour_ignores_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI decides from NO_COLOR / FORCE_COLOR; the reporter must do what it is told.
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert "\x1b[" not in render("full", two_findings(), color=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert "\x1b[" in render("full", two_findings(), color=True)


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_console_prints_markup_in_user_text_literally(fmt: str) -> None:
    finding = make_finding(message="uses [bold]not bold[/bold] and [/] here \\[x]", source="x = d['[red]']")
    text = render(fmt, make_result([finding]), color=True)
    assert "[bold]not bold[/bold] and [/] here \\[x]" in text
    if fmt == "full":
        assert "x = d['[red]']" in text


def test_console_concise_output() -> None:
    lines = render("concise", two_findings()).splitlines()
    assert lines == [
        "app/auth.py:3:5: AL101 [critical] token decoded without verifying its signature",
        "app/tokens.py:7:20: AL201 [medium] hard-coded key",
        "Found 2 findings (1 critical, 1 medium) in 4 files.",
    ]


def test_console_clean_result() -> None:
    for fmt in ("full", "concise"):
        text = render(fmt, make_result(files_scanned=7))
        assert text.strip() == "All checks passed: 0 findings in 7 files."


def test_console_summary_counts_unanalysed_files_and_suppressions() -> None:
    text = render("concise", make_result([], FILE_ERRORS, suppressed=3))
    assert "3 suppressed." in text
    assert "2 files could not be analysed." in text
    assert "1 internal error." in text
    # The CLI prints the file warnings themselves on stderr.
    assert "invalid syntax" not in text


def test_console_statistics_table() -> None:
    findings = [make_finding(line=n) for n in (1, 2, 3)] + [make_finding(HardcodedSecret)]
    text = render("concise", make_result(findings), statistics=True)
    table = text.splitlines()[-3:]
    assert "3" in table[1] and "AL101" in table[1] and "jwt-alg-none" in table[1] and "critical" in table[1]
    assert "1" in table[2] and "AL201" in table[2] and "medium" in table[2]
    assert "AL101" not in render("concise", make_result(findings), statistics=False).splitlines()[-1]


def test_every_format_renders() -> None:
    for fmt in FORMATS:
        assert render(fmt, two_findings())
    with pytest.raises(ValueError, match="unknown format"):
        render("xml", two_findings())


# --- write_atomic ----------------------------------------------------------------------


def test_write_atomic_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    write_atomic(target, "first\n")
    write_atomic(str(target), "second\n")
    assert target.read_text(encoding="utf-8") == "second\n"
    assert os.listdir(tmp_path) == ["report.sarif"]


def test_write_atomic_keeps_the_old_file_when_the_replace_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n", encoding="utf-8")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new\n" * 1000)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_write_atomic_gives_a_new_file_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_atomic(target, "{}\n")
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_atomic_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    write_atomic(target, "new\n")
    assert target.stat().st_mode & 0o777 == 0o640


def test_write_atomic_writes_special_files_in_place(tmp_path) -> None:
    """`-o /dev/null` must not replace the device with a regular file."""
    import os
    import stat

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomic(fifo, "report\n")
        assert os.read(reader, 100) == b"report\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)

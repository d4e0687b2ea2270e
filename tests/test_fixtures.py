"""Every rule over every fixture: the `# expect:` annotations are the exact findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from authlint.cli import scan
from authlint.config import Config
from authlint.registry import all_rules
from authlint.rule import FileRule
from authlint.testing import FIX_OUTPUT_SUFFIX, check_fixture, describe_mismatch, expected_findings, is_fix_output

from conftest import FIXTURES, REPO

# Files authlint must survive but cannot analyse; tests/test_bad_input.py covers them.
BAD_INPUT = FIXTURES / "bad_input"
# Multi-file apps are scanned one project at a time by tests/test_apps.py.
APPS = FIXTURES / "apps"


def fixture_files() -> list[Path]:
    """Annotated fixtures; expected `--fix` outputs are checked by tests/test_fix.py instead."""
    return sorted(
        p for p in FIXTURES.rglob("*.py") if BAD_INPUT not in p.parents and APPS not in p.parents and not is_fix_output(p)
    )


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_annotations(path: Path) -> None:
    _, mismatch = check_fixture(path)
    assert not mismatch, "\n" + mismatch


def test_scanning_the_fixtures_folder_reports_exactly_the_annotated_lines(monkeypatch) -> None:
    """The same check through discovery and the process pool, as `authlint check fixtures/` does.

    Project rules run too (their facts cross the process boundary), but only file-rule
    findings are compared: scanned together, the single-file fixtures form one project in
    which one file's app-wide settings (DRF defaults, a global rate limiter) would reach
    the others' routes. Each fixture is its own project in the per-file test above.
    """
    monkeypatch.chdir(REPO)
    excluded = ["fixtures/apps/", f"*{FIX_OUTPUT_SUFFIX}"]
    result = scan([Path("fixtures")], Config(root=REPO, extend_exclude=excluded), jobs=2)
    file_rules = {rule.code for rule in all_rules() if issubclass(rule, FileRule)}
    actual = {(f.path, f.span.line, f.code) for f in result.findings if f.code in file_rules}
    expected = set()
    for path in fixture_files() + sorted(BAD_INPUT.rglob("*.py")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            text = path.read_bytes().decode("latin-1")
        try:
            lines = expected_findings(text)
        except Exception:  # bad input fixtures are not tokenizable; they expect nothing
            continue
        relative = path.relative_to(REPO).as_posix()
        expected |= {(relative, line, code) for line, code in lines if code in file_rules}
    mismatch = describe_mismatch("", expected, actual)
    assert not mismatch, "\n" + mismatch
    assert not result.internal_errors

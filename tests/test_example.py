"""The demo app in examples/vulnerable_api: its README's table of mistakes and the scan agree.

The demo carries no `# expect:` annotations (it must read like real code), so its README is
the expectation: each row of the "What is wrong" table names a rule and, in backticks, the
files where it is reported. The scan must report exactly those (file, rule) pairs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from authlint.cli import scan
from authlint.config import Config
from authlint.registry import rules_by_code

from conftest import REPO

EXAMPLE = REPO / "examples" / "vulnerable_api"
TABLE_HEADING = "## What is wrong"

_ROW = re.compile(r"^\|\s*(?P<code>AL\d{3}) `(?P<name>[a-z0-9-]+)`\s*\|(?P<where>[^|]*)\|")
_FILE = re.compile(r"`([\w./-]+\.py)`")


def _table_rows() -> list[tuple[str, str, set[str]]]:
    """(code, name, files) for each row of the README's table."""
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert TABLE_HEADING in readme, f"examples/vulnerable_api/README.md has no {TABLE_HEADING!r} section"
    section = readme.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            rows.append((match["code"], match["name"], set(_FILE.findall(match["where"]))))
    return rows


def _table_pairs() -> set[tuple[str, str]]:
    return {(path, code) for code, _, files in _table_rows() for path in files}


@pytest.fixture(scope="module")
def scanned():
    """The example scanned as a project, from inside its folder (like tests/test_apps.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(EXAMPLE)
        return scan([Path(".")], Config(root=EXAMPLE), jobs=1)


def _describe(missing: set[tuple[str, str]], unexpected: set[tuple[str, str]]) -> str:
    lines = [f"in the README table but not reported: {code} in {path}" for path, code in sorted(missing)]
    lines += [f"reported but not in the README table: {code} in {path}" for path, code in sorted(unexpected)]
    return "\n".join(lines)


def test_readme_table_is_well_formed() -> None:
    rows = _table_rows()
    assert rows, "the README table has no rows"
    codes = [code for code, _, _ in rows]
    assert len(codes) == len(set(codes)), f"a rule has two rows: {sorted(c for c in codes if codes.count(c) > 1)}"
    known = rules_by_code()
    for code, name, files in rows:
        assert code in known, f"{code} is in the README table but `authlint rules` does not know it"
        assert name == known[code].name, f"{code} is `{known[code].name}`, the README says `{name}`"
        assert files, f"{code}: the Where column names no file in backticks"
        for path in files:
            assert (EXAMPLE / path).is_file(), f"{code}: {path} does not exist"


def test_scan_has_no_errors(scanned) -> None:
    assert not scanned.errors, scanned.errors


def test_every_rule_in_the_table_is_reported(scanned) -> None:
    reported = {f.code for f in scanned.findings}
    listed = {code for code, _, _ in _table_rows()}
    assert not listed - reported, f"listed in the README table but never reported: {sorted(listed - reported)}"


def test_findings_match_the_readme_table(scanned) -> None:
    expected = _table_pairs()
    actual = {(f.path, f.code) for f in scanned.findings}
    assert actual == expected, "\n" + _describe(expected - actual, actual - expected)


def test_quick_start_scan_from_the_repo_root_finds_the_same(scanned, monkeypatch) -> None:
    # README.md's quick start runs `authlint check examples/vulnerable_api` from the clone's root.
    monkeypatch.chdir(REPO)
    from_root = scan([Path("examples/vulnerable_api")], Config(root=REPO), jobs=1)
    assert not from_root.errors, from_root.errors
    prefix = "examples/vulnerable_api/"
    assert {(f.path.removeprefix(prefix), f.span.line, f.code) for f in from_root.findings} == {
        (f.path, f.span.line, f.code) for f in scanned.findings
    }

"""Multi-file fixture apps, each scanned as a project: the route inventory and the findings.

Each folder of fixtures/apps/ is a small application. `expected_routes.csv` beside it is
the inventory `authlint routes --format csv` must print (reviewed by hand when written),
and the `# expect:` annotations across its files are the exact findings of all rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from authlint.cli import main, scan
from authlint.config import Config
from authlint.testing import describe_mismatch, expected_findings

from conftest import FIXTURES

APPS = sorted(p for p in (FIXTURES / "apps").iterdir() if p.is_dir())


def _expected(app: Path) -> set[tuple[str, int, str]]:
    expected = set()
    for path in app.rglob("*.py"):
        relative = path.relative_to(app).as_posix()
        expected |= {(relative, line, code) for line, code in expected_findings(path.read_text(encoding="utf-8"))}
    return expected


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_app_findings_match_annotations(app: Path, monkeypatch) -> None:
    monkeypatch.chdir(app)
    result = scan([Path(".")], Config(root=app), jobs=1)
    assert not result.errors, result.errors
    actual = {(f.path, f.span.line, f.code) for f in result.findings}
    mismatch = describe_mismatch("", _expected(app), actual)
    assert not mismatch, "\n" + mismatch


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_app_route_inventory(app: Path, monkeypatch) -> None:
    monkeypatch.chdir(app)
    outcome = CliRunner().invoke(main, ["routes", ".", "--format", "csv"])
    assert outcome.exit_code == 0, outcome.output
    expected = (app / "expected_routes.csv").read_text(encoding="utf-8")
    assert outcome.output == expected


def test_every_app_has_an_inventory_and_vulnerable_and_safe_variants() -> None:
    for app in APPS:
        assert (app / "expected_routes.csv").is_file(), app.name
    names = [app.name for app in APPS]
    frameworks = {name.split("_", 1)[0] for name in names}
    for framework in frameworks:
        variants = {name.split("_", 2)[1] for name in names if name.startswith(framework + "_")}
        assert {"safe", "vulnerable"} <= variants, f"{framework}: {sorted(variants)}"

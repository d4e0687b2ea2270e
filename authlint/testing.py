"""The fixture harness: `# expect: AL101` annotations are the expected findings.

Every line that must be flagged carries `# expect: CODE[, CODE...]`; every other line
must produce nothing from any rule. `check_fixture` compares the two exactly and
explains the difference line by line.

`vulnerable_x.fixed.py` beside `vulnerable_x.py` is what `--fix` makes of it with only the
folder's rule selected. It is an expected output, not an annotated fixture: fixing keeps
the `# expect:` comments of the lines it fixed, so the annotation harness skips it
(`is_fix_output`) and tests/test_fix.py compares it byte for byte instead.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

from authlint.cli import scan
from authlint.config import Config, file_settings, link_settings, project_rule_settings
from authlint.engine import FileSettings, analyze_path, analyze_text
from authlint.facts.file_facts import FileFacts
from authlint.frameworks import Framework, LinkSettings
from authlint.link import link
from authlint.model import FileResult, Finding, Route
from authlint.project import Project

FIX_OUTPUT_SUFFIX = ".fixed.py"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")

Expectation = set[tuple[int, str]]


def expected_findings(text: str) -> Expectation:
    expected: Expectation = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = _EXPECT.search(token.string)
        if match:
            expected |= {(token.start[0], code.strip()) for code in match.group(1).split(",") if code.strip()}
    return expected


def actual_findings(result: FileResult) -> Expectation:
    return {(finding.span.line, finding.code) for finding in result.findings}


def describe_mismatch(path: str, expected: set[tuple], actual: set[tuple]) -> str:
    """`missing AL101 at app.py:12` / `unexpected AL203 at app.py:15`, one line each.

    Items are (line, code) pairs, or (path, line, code) triples when `path` is empty.
    """

    def where(item: tuple) -> str:
        return f"{path}:{item[0]}" if path else ":".join(str(part) for part in item[:-1])

    lines = [f"missing {item[-1]} at {where(item)}" for item in sorted(expected - actual)]
    lines += [f"unexpected {item[-1]} at {where(item)}" for item in sorted(actual - expected)]
    return "\n".join(lines)


def is_fix_output(path: Path) -> bool:
    """An expected `--fix` output (`vulnerable_x.fixed.py`), not a fixture to annotate."""
    return path.name.endswith(FIX_OUTPUT_SUFFIX)


def fix_input(fixed: Path) -> Path:
    """The fixture a `.fixed.py` file is the expected output of."""
    return fixed.with_name(fixed.name.removesuffix(FIX_OUTPUT_SUFFIX) + ".py")


def fix_file(path: Path, *codes: str) -> FileResult:
    """`--fix` with only the rules `codes` selected, on one file; nothing is written."""
    settings = dataclasses.replace(file_settings(Config(select=list(codes))), fix=True)
    return analyze_path(path, str(path), path.name, settings)


def all_rules_settings() -> FileSettings:
    """Every rule with its default options: what fixtures are checked against."""
    return file_settings(Config(), collect_facts=True)


def check_fixture(path: Path, settings: FileSettings | None = None) -> tuple[FileResult, str]:
    """Scan one fixture file as a one-file project (file and project rules); the second
    item is empty when it matches its annotations."""
    config = Config()
    result = analyze_path(path, str(path), path.name, settings or all_rules_settings())
    if result.facts is not None:
        linked = link([result.facts], link_settings(config), project_rule_settings(config))
        result.findings = sorted(result.findings + linked.findings, key=lambda f: f.sort_key)
        result.errors += linked.errors
    if result.errors:
        return result, "\n".join(f"{e.kind} error in {path}: {e.message}\n{e.detail}" for e in result.errors)
    expected = expected_findings(path.read_text(encoding="utf-8"))
    return result, describe_mismatch(str(path), expected, actual_findings(result))


# Projects from source text, for tests of the facts layer, adapters and project rules ----


def file_facts(path: str, source: str) -> FileFacts:
    """The facts of one file written inline (dedented); `path` also names its module."""
    result = analyze_text(dedent(source), path, FileSettings((), (), collect_facts=True), module_path=path)
    assert result.facts is not None, result.errors
    return result.facts


def project_of(files: dict[str, str]) -> Project:
    return Project(file_facts(path, source) for path, source in files.items())


def routes_by_label(framework: Framework, files: dict[str, str], settings: LinkSettings | None = None) -> dict[str, Route]:
    """`{"POST /users": route}` for a project made of `files`; a label may appear once."""
    found = framework.routes(project_of(files), settings or LinkSettings())
    table = {route.label.replace("|", ","): route for route in found}
    assert len(table) == len(found), [route.label for route in found]
    return table


def auth_labels(route: Route) -> list[str]:
    return [f"{e.mechanism} [{e.level}]" for e in route.auth]


# Gating on and off, for tests/test_gating.py and bench/gate_check.py -------------------


@dataclass
class GatingComparison:
    """One project scanned with the gates and without: what each parsed and found."""

    files: int
    parsed_gated: int
    parsed_ungated: int
    lost_findings: list[Finding]  # found without gating only: a gate hid them
    extra_findings: list[Finding]  # found with gating only
    lost_routes: list[Route]
    extra_routes: list[Route]

    @property
    def equal(self) -> bool:
        return not (self.lost_findings or self.extra_findings or self.lost_routes or self.extra_routes)

    def describe(self) -> str:
        lines = [f"lost {f.code} at {f.path}:{f.span.line}: {f.message}" for f in self.lost_findings]
        lines += [f"extra {f.code} at {f.path}:{f.span.line}: {f.message}" for f in self.extra_findings]
        lines += [f"lost route {r.label} ({r.handler}): {r}" for r in self.lost_routes]
        lines += [f"extra route {r.label} ({r.handler}): {r}" for r in self.extra_routes]
        return "\n".join(lines)


def compare_gating(root: Path, jobs: int = 1, exclude: list[str] | None = None) -> GatingComparison:
    """Scan `root` as one project (all rules, file and project, and the Route table) with and without gating."""
    config = Config(root=root, exclude=exclude, respect_gitignore=False)
    gated = scan([root], config, jobs, want_routes=True, gating=True)
    ungated = scan([root], config, jobs, want_routes=True, gating=False)
    return GatingComparison(
        files=gated.files_scanned,
        parsed_gated=gated.files_parsed,
        parsed_ungated=ungated.files_parsed,
        lost_findings=_missing_from(ungated.findings, gated.findings),
        extra_findings=_missing_from(gated.findings, ungated.findings),
        lost_routes=_missing_from(ungated.routes, gated.routes),
        extra_routes=_missing_from(gated.routes, ungated.routes),
    )


def _missing_from(items: list, others: list) -> list:
    """Items (with repetition) that `others` lacks."""
    remaining = Counter(others)
    missing = []
    for item in items:
        if remaining[item]:
            remaining[item] -= 1
        else:
            missing.append(item)
    return missing

"""Every rule carries complete metadata and docs, has fixtures, and is in the README."""

from __future__ import annotations

import re

import pytest

from authlint.cli import rules_markdown
from authlint.model import Precision, Severity
from authlint.registry import all_rules, rule_module_name
from authlint.rule import CODE_PATTERN, DOC_HEADINGS, NAME_PATTERN, FileRule, ProjectRule
from authlint.testing import expected_findings, is_fix_output

from conftest import FIXTURES, REPO

RULES = all_rules()


def by_code(rule):
    return rule.code


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=by_code)
def test_metadata_is_complete(rule) -> None:
    assert CODE_PATTERN.match(rule.code), rule.code
    assert NAME_PATTERN.match(rule.name), rule.name
    assert isinstance(rule.severity, Severity)
    assert isinstance(rule.precision, Precision)
    assert rule.owasp and all(re.fullmatch(r"API(10|[1-9]):2023", item) for item in rule.owasp)
    assert rule.cwe and all(isinstance(n, int) and n > 0 for n in rule.cwe)
    assert issubclass(rule, (FileRule, ProjectRule))


@pytest.mark.parametrize("rule", RULES, ids=by_code)
def test_module_is_named_after_the_rule(rule) -> None:
    assert rule_module_name(rule) == rule.name.replace("-", "_")


@pytest.mark.parametrize("rule", RULES, ids=by_code)
def test_docstring_has_the_fixed_headings(rule) -> None:
    docs = rule.docs()
    summary = rule.summary()
    assert summary.endswith(".") and len(summary) < 120, summary
    headings = list(DOC_HEADINGS)
    found = [line.strip() for line in docs.splitlines() if line.startswith("## ")]
    # `## Options` is required for rules with options and allowed for any rule, since
    # every rule takes a `severity` override.
    if rule.option_fields() or "## Options" in found:
        headings.insert(headings.index("## References"), "## Options")
    # `## Fix` says what `--fix` changes: required of fixable rules, wrong on the others.
    if rule.fixable:
        headings.insert(headings.index("## Use instead") + 1, "## Fix")
    assert found == headings
    for heading in headings:
        assert rule.doc_section(heading[3:]), f"{rule.code}: {heading} is empty"


@pytest.mark.parametrize("rule", RULES, ids=by_code)
def test_options_are_documented(rule) -> None:
    options_doc = rule.doc_section("Options")
    for key in rule.option_fields():
        assert key in options_doc, f"{rule.code}: option {key!r} is not documented under ## Options"


@pytest.mark.parametrize("rule", RULES, ids=by_code)
def test_rule_has_vulnerable_and_safe_fixtures(rule) -> None:
    folder = FIXTURES / rule_module_name(rule)
    vulnerable = sorted(p for p in folder.glob("vulnerable_*.py") if not is_fix_output(p))
    safe = sorted(folder.glob("safe_*.py"))
    assert vulnerable, f"no fixtures/{folder.name}/vulnerable_*.py"
    assert safe, f"no fixtures/{folder.name}/safe_*.py"
    for path in vulnerable:
        codes = {code for _, code in expected_findings(path.read_text(encoding="utf-8"))}
        assert rule.code in codes, f"{path.name} expects no {rule.code}"


@pytest.mark.parametrize("rule", RULES, ids=by_code)
def test_fixable_rules_and_only_they_have_expected_fix_outputs(rule) -> None:
    outputs = sorted((FIXTURES / rule_module_name(rule)).glob("vulnerable_*.fixed.py"))
    assert bool(outputs) == rule.fixable, f"{rule.code}: fixable={rule.fixable} but {len(outputs)} .fixed.py files"


def test_readme_rules_table_is_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- rules-table:start -->\n(.*?)<!-- rules-table:end -->", readme, re.S)
    assert match, "README.md lacks the <!-- rules-table:start/end --> markers"
    assert match.group(1) == rules_markdown(), "README rules table is stale: run `authlint rules --format markdown`"


GATED = [rule for rule in RULES if rule.requires_words is not None and rule.requires_text is not None]


@pytest.mark.parametrize("rule", GATED, ids=by_code)
def test_word_prefilter_never_rejects_what_the_text_gate_accepts(rule) -> None:
    """`requires_words` is an optimization only: any text `requires_text` matches contains a word."""
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in FIXTURES.rglob("*.py")]
    texts += [match for text in texts for match in (m.group(0) for m in rule.requires_text.finditer(text))]
    for text in texts:
        if rule.requires_text.search(text):
            assert any(word in text.lower() for word in rule.requires_words), text[:200]

"""The link phase: all files' facts -> Project -> Route table -> project-rule findings.

Runs in the main process after the per-file phase. A project rule that raises is an
internal error naming the rule, like a file rule's; the other rules carry on.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Iterable

from authlint.fingerprints import statement_digest
from authlint.facts.file_facts import FileFacts
from authlint.frameworks import LinkSettings, build_routes
from authlint.model import PROJECT, SUPPRESSED_BY_COMMENT, FileError, Finding, Route, Severity, Span
from authlint.project import Project
from authlint.rule import ProjectRule


@dataclass(frozen=True)
class ProjectRuleSetting:
    rule: type[ProjectRule]
    options: object
    severity: Severity


@dataclass
class LinkResult:
    routes: list[Route] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    suppressed_findings: list[Finding] = field(default_factory=list)  # silenced by comments
    read_outside: set[str] = field(default_factory=set)  # see Project.read_outside


def link(
    facts: Iterable[FileFacts],
    settings: LinkSettings,
    rules: Iterable[ProjectRuleSetting] = (),
    ignored: dict[str, frozenset[str]] | None = None,
) -> LinkResult:
    """Build the Route table and run the project rules; `ignored` maps path -> per-file-ignored codes."""
    project = Project(facts)
    result = LinkResult()
    result.routes = build_routes(project, settings, result.errors)
    result.errors += project.warnings  # specs an adapter could not read: reported, never fatal
    result.read_outside = project.read_outside
    by_path = {f.path: f for f in project.files}
    for setting in rules:
        rule = setting.rule(project, result.routes, setting.options, setting.severity)
        try:
            rule.check()
        except Exception as exc:  # a rule bug must not take the other rules down
            result.errors.append(_internal_error(rule, exc))
            continue
        for path, line, column, source_line, message, severity, related, route in rule.reported:
            if rule.code in (ignored or {}).get(path, frozenset()):
                continue
            file = by_path.get(path)
            table = file.suppressions if file is not None else None
            silenced = table is not None and table.is_suppressed(rule.code, (line,))
            span = Span(line, column, line, column + len(source_line.strip()))
            suppressed_by = SUPPRESSED_BY_COMMENT if silenced else ""
            finding = Finding(rule.code, rule.name, message, severity, path, span, line, source_line, related,
                              statement_digest(source_line), route, suppressed_by)  # fmt: skip
            (result.suppressed_findings if silenced else result.findings).append(finding)
    result.findings = sorted(set(result.findings), key=lambda f: f.sort_key)
    result.suppressed_findings = sorted(set(result.suppressed_findings), key=lambda f: f.sort_key)
    return result


def _internal_error(rule: ProjectRule, exc: Exception) -> FileError:
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3))
    message = f"rule {rule.code} ({rule.name}) failed: {type(exc).__name__}: {exc}"
    return FileError(PROJECT, "internal", message, code=rule.code, detail=detail)

"""SARIF 2.1.0, shaped for GitHub code scanning.

The log is built from `sarif_om` objects. sarif-om has no JSON writer, so `to_json`
walks its attrs classes by their `schema_property_name` metadata, leaving out what is
unset or at its schema default, except `level`: GitHub treats a missing level as
"warning" whatever the rule says, so it is always written.

Suppressed findings are left out by default: GitHub code scanning opens an alert for
every result it is sent, suppressions or not. `include_suppressed` keeps them, and then
every result carries `suppressions` (SARIF 2.1.0 §3.27.23): `[]` when reported,
`inSource` when a `# authlint: ignore[...]` / `# noqa: AL...` comment silenced it,
`external` when the baseline hid it. Per-file-ignores are configuration, like `ignore`:
the rule does not run on those files, so there is nothing to include.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import attr
from sarif_om import (
    ArtifactContent,
    ArtifactLocation,
    Invocation,
    Location,
    Message,
    MultiformatMessageString,
    Notification,
    PhysicalLocation,
    Region,
    ReportingConfiguration,
    ReportingDescriptor,
    ReportingDescriptorReference,
    Result,
    Run,
    RunAutomationDetails,
    SarifLog,
    Suppression,
    Tool,
    ToolComponent,
)

import authlint
from authlint.fingerprints import line_hashes
from authlint.model import SUPPRESSED_BY_BASELINE, SUPPRESSED_BY_COMMENT, FileError, Finding, ScanResult
from authlint.reporters import posix_path, rule_description, rule_help_markdown, rule_help_uri
from authlint.rule import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
INFORMATION_URI = "https://github.com/authlint/authlint"
ALWAYS_WRITTEN = frozenset({"level"})
SUPPRESSION_KINDS = {SUPPRESSED_BY_COMMENT: "inSource", SUPPRESSED_BY_BASELINE: "external"}


def render_sarif(result: ScanResult, *, category: str | None = None, include_suppressed: bool = False) -> str:
    log = to_json(build_log(result, category=category, include_suppressed=include_suppressed))
    # sarif-om declares `runs` first; readers expect the header keys at the top.
    ordered = {"$schema": log.pop("$schema"), "version": log.pop("version"), **log}
    return json.dumps(ordered, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def build_log(result: ScanResult, *, category: str | None = None, include_suppressed: bool = False) -> SarifLog:
    reported = [*result.findings, *result.suppressed_findings] if include_suppressed else result.findings
    findings = sorted(reported, key=lambda finding: finding.sort_key)
    descriptors = rule_descriptors(result.rules, findings)
    rule_index = {descriptor.id: index for index, descriptor in enumerate(descriptors)}
    run = Run(
        tool=Tool(
            driver=ToolComponent(
                name="authlint",
                version=authlint.__version__,
                semantic_version=authlint.__version__,
                information_uri=INFORMATION_URI,
                rules=descriptors,
            )
        ),
        results=sarif_results(findings, rule_index, result.root, line_hashes(result), include_suppressed),
        column_kind="unicodeCodePoints",
        original_uri_base_ids={SRCROOT: ArtifactLocation(uri=root_uri(result.root))},
        invocations=[invocation(result, rule_index)],
    )
    if category:
        run.automation_details = RunAutomationDetails(id=category)
    return SarifLog(runs=[run], version=SARIF_VERSION, schema_uri=SCHEMA_URI)


def rule_descriptors(rules: tuple, findings: list[Finding]) -> list[ReportingDescriptor]:
    """One descriptor per enabled rule, plus a bare one for any reported code not among them."""
    by_code = {rule.code: rule for rule in rules}
    descriptors = [rule_descriptor(by_code[code]) for code in sorted(by_code)]
    known = set(by_code)
    for finding in findings:
        if finding.code not in known:
            known.add(finding.code)
            descriptors.append(bare_descriptor(finding))
    return descriptors


def rule_descriptor(rule: type[Rule]) -> ReportingDescriptor:
    help_markdown = rule_help_markdown(rule)
    return ReportingDescriptor(
        id=rule.code,
        name=rule.name,
        short_description=MultiformatMessageString(text=rule.summary() or rule.name),
        full_description=MultiformatMessageString(text=rule_description(rule)),
        help=MultiformatMessageString(text=help_markdown or rule.name, markdown=help_markdown or None),
        help_uri=rule_help_uri(rule.code),
        default_configuration=ReportingConfiguration(level=rule.severity.sarif_level),
        properties={
            "tags": ["security", *[f"external/cwe/cwe-{number}" for number in rule.cwe], *rule.owasp],
            "precision": rule.precision.value,
            "security-severity": rule.severity.security_severity,
        },
    )


def bare_descriptor(finding: Finding) -> ReportingDescriptor:
    # A finding whose rule is not in ScanResult.rules: all we know is on the finding.
    return ReportingDescriptor(
        id=finding.code,
        name=finding.name,
        short_description=MultiformatMessageString(text=finding.name),
        help_uri=rule_help_uri(finding.code),
        default_configuration=ReportingConfiguration(level=finding.severity.sarif_level),
        properties={"tags": ["security"], "security-severity": finding.severity.security_severity},
    )


def sarif_results(
    findings: list[Finding], rule_index: dict[str, int], root: str, fingerprints: dict[int, str],
    with_suppressions: bool = False,
) -> list[Result]:  # fmt: skip
    results = [sarif_result(finding, rule_index[finding.code], root, fingerprints[id(finding)]) for finding in findings]
    if with_suppressions:
        for result, finding in zip(results, findings):
            result.suppressions = suppressions(finding)
    return results


def suppressions(finding: Finding) -> list[Suppression]:
    """Why the finding is not reported; `[]` says it is (and that suppressions were looked for)."""
    if not finding.suppressed_by:
        return []
    return [Suppression(kind=SUPPRESSION_KINDS[finding.suppressed_by])]


def sarif_result(finding: Finding, index: int, root: str, fingerprint: str) -> Result:
    return Result(
        rule_id=finding.code,
        rule_index=index,
        level=finding.severity.sarif_level,
        message=Message(text=finding.message),
        locations=[Location(physical_location=physical_location(finding, root))],
        partial_fingerprints={"primaryLocationLineHash": fingerprint},
        related_locations=related_locations(finding, root),
        properties={
            "security-severity": finding.severity.security_severity,
            "severity": finding.severity.label,
        },
    )


def related_locations(finding: Finding, root: str) -> list[Location] | None:
    """Where else to look: for a route finding, the router, include and app it was mounted through."""
    if not finding.related:
        return None
    return [
        Location(
            id=number,
            physical_location=PhysicalLocation(
                artifact_location=artifact_location(place.path, root), region=Region(start_line=max(place.line, 1))
            ),
            message=Message(text=place.message) if place.message else None,
        )
        for number, place in enumerate(finding.related)
    ]


def physical_location(finding: Finding, root: str) -> PhysicalLocation:
    span = finding.span
    source = finding.source_line.rstrip("\r\n")
    region = Region(
        start_line=span.line,
        start_column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        snippet=ArtifactContent(text=source) if source.strip() else None,
    )
    return PhysicalLocation(artifact_location=artifact_location(finding.path, root), region=region)


def artifact_location(path: str, root: str) -> ArtifactLocation:
    relative = posix_path(path, root)
    if PurePath(relative).is_absolute():
        # Outside the scanned root: no base to be relative to, so name the file itself.
        return ArtifactLocation(uri=Path(path).as_uri())
    return ArtifactLocation(uri=quote(relative, safe="/"), uri_base_id=SRCROOT)


def root_uri(root: str) -> str:
    uri = Path(root).resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def invocation(result: ScanResult, rule_index: dict[str, int]) -> Invocation:
    notifications = [notification(error, result.root, rule_index) for error in result.errors]
    return Invocation(
        execution_successful=not result.errors,
        tool_execution_notifications=notifications or None,
    )


def notification(error: FileError, root: str, rule_index: dict[str, int]) -> Notification:
    artifact = artifact_location(error.path, root)
    location = Location(physical_location=PhysicalLocation(artifact_location=artifact))
    return Notification(
        level="error" if error.is_internal else "warning",
        message=Message(text=f"{error.path}: {error.message}"),
        locations=[location],
        descriptor=ReportingDescriptorReference(id=notification_id(error)),
        associated_rule=associated_rule(error, rule_index),
    )


def notification_id(error: FileError) -> str:
    if error.is_internal and error.code:
        return error.code
    return f"authlint/{error.kind}"


def associated_rule(error: FileError, rule_index: dict[str, int]) -> ReportingDescriptorReference | None:
    if not (error.is_internal and error.code):
        return None
    return ReportingDescriptorReference(id=error.code, index=rule_index.get(error.code, -1))


def to_json(value: Any) -> Any:
    """Plain JSON data for a sarif-om object, list, dict or scalar."""
    if attr.has(type(value)):
        return _attrs_to_json(value)
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def _attrs_to_json(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in attr.fields(type(obj)):
        value = getattr(obj, field.name)
        if value is None:
            continue
        if field.name not in ALWAYS_WRITTEN and value == _default_of(field, obj):
            continue
        data[field.metadata.get("schema_property_name", field.name)] = to_json(value)
    return data


def _default_of(field: attr.Attribute, obj: Any) -> Any:
    default = field.default
    if isinstance(default, attr.Factory):  # type: ignore[arg-type]
        return default.factory(obj) if default.takes_self else default.factory()
    return default

"""GitHub Actions workflow commands: one annotation per finding and per unreadable file.

The runner parses `::command key=value,key=value::data`, so data escapes `%` and line
breaks, and property values also escape the `:` and `,` that delimit them.
"""

from __future__ import annotations

from authlint.model import FileError, Finding, ScanResult, Severity
from authlint.reporters import posix_path

COMMANDS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
}


def render_github(result: ScanResult) -> str:
    findings = sorted(result.findings, key=lambda finding: finding.sort_key)
    lines = [finding_command(finding, result.root) for finding in findings]
    lines += [file_warning_command(warning, result.root) for warning in result.file_warnings]
    return "".join(line + "\n" for line in lines)


def finding_command(finding: Finding, root: str) -> str:
    span = finding.span
    properties = {
        "file": posix_path(finding.path, root),
        "line": span.line,
        "col": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
        "title": f"{finding.code} {finding.name}",
    }
    return workflow_command(COMMANDS[finding.severity], properties, finding.message)


def file_warning_command(warning: FileError, root: str) -> str:
    properties = {
        "file": posix_path(warning.path, root),
        "title": f"authlint could not analyse this file ({warning.kind})",
    }
    return workflow_command("warning", properties, warning.message)


def workflow_command(command: str, properties: dict[str, object], message: str) -> str:
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{command} {rendered}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")

"""The JSON format: a stable, documented schema for scripts and dashboards.

`schema_version` changes only when a key is removed or changes meaning; new keys may
appear without a bump. The document is one object::

    {
      "schema_version": 1,
      "tool": {"name": "authlint", "version": "0.1.0"},
      "summary": {
        "files_scanned": 12,          # files discovered and attempted
        "findings": 3,                # len(findings)
        "by_severity": {"critical": 1, "high": 1, "medium": 1, "low": 0},
        "suppressed": 2,              # findings silenced by comments or the baseline
        "baselined": 1,               # of those, hidden by the baseline
        "stale_baseline_entries": 0   # baseline entries that matched nothing (see --statistics)
      },
      "findings": [                   # sorted by path, line, column, code
        {
          "code": "AL101",            # rule code
          "name": "jwt-alg-none",     # rule name
          "severity": "critical",     # effective severity: critical, high, medium or low
          "message": "...",
          "path": "app/auth.py",      # POSIX path, relative to the scanned root
          "line": 12, "column": 5,    # 1-based start, columns in code points
          "end_line": 12, "end_column": 40,  # 1-based, end column exclusive
          "source": "..."             # the text of the start line, "" if unknown
        }
      ],
      "errors": [                     # files that could not be analysed, rules that failed
        {
          "path": "app/broken.py",
          "kind": "parse",            # read, decode, parse or internal
          "message": "...",
          "code": null                # the failing rule's code when kind is "internal"
        }
      ]
    }
"""

from __future__ import annotations

import json
from typing import Any

import authlint
from authlint.model import FileError, Finding, ScanResult, Severity
from authlint.reporters import posix_path

SCHEMA_VERSION = 1


def render_json(result: ScanResult) -> str:
    return json.dumps(build_document(result), indent=2, ensure_ascii=False) + "\n"


def build_document(result: ScanResult) -> dict[str, Any]:
    findings = sorted(result.findings, key=lambda finding: finding.sort_key)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "authlint", "version": authlint.__version__},
        "summary": summary(result, findings),
        "findings": [finding_entry(finding, result.root) for finding in findings],
        "errors": [error_entry(error, result.root) for error in result.errors],
    }


def summary(result: ScanResult, findings: list[Finding]) -> dict[str, Any]:
    by_severity = {severity.label: 0 for severity in sorted(Severity, reverse=True)}
    for finding in findings:
        by_severity[finding.severity.label] += 1
    return {
        "files_scanned": result.files_scanned,
        "findings": len(findings),
        "by_severity": by_severity,
        "suppressed": result.suppressed,
        "baselined": result.baselined,
        "stale_baseline_entries": sum(count for _, count in result.stale_baseline),
    }


def finding_entry(finding: Finding, root: str) -> dict[str, Any]:
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.label,
        "message": finding.message,
        "path": posix_path(finding.path, root),
        "line": finding.span.line,
        "column": finding.span.column,
        "end_line": finding.span.end_line,
        "end_column": finding.span.end_column,
        "source": finding.source_line.rstrip("\r\n"),
    }


def error_entry(error: FileError, root: str) -> dict[str, Any]:
    return {
        "path": posix_path(error.path, root),
        "kind": error.kind,
        "message": error.message,
        "code": error.code,
    }

"""GitLab Code Quality: the subset of the Code Climate format that GitLab's merge request widget reads.

GitLab shows no SARIF without its paid scanners, but any job can publish a Code Quality
report (`artifacts: reports: codequality:`): a JSON array with one object per finding::

    [
      {
        "description": "AL101 (jwt-alg-none): jwt.encode() signs the token with ...",
        "check_name": "AL101",
        "fingerprint": "1f0e...c2:1",
        "severity": "blocker",
        "location": {"path": "app/auth.py", "lines": {"begin": 12, "end": 12}}
      }
    ]

GitLab compares fingerprints between the base and the merge request to tell new findings
from fixed ones, so they must survive unrelated edits and differ between findings: they
are SARIF's `primaryLocationLineHash` (rule, file, line text and an occurrence counter),
so both systems agree on which finding is which.
"""

from __future__ import annotations

import json
from typing import Any

from authlint.model import Finding, ScanResult, Severity
from authlint.reporters import posix_path
from authlint.fingerprints import line_hashes

# GitLab's scale is info, minor, major, critical, blocker; "info" is for what is not a problem.
SEVERITIES = {
    Severity.LOW: "minor",
    Severity.MEDIUM: "major",
    Severity.HIGH: "critical",
    Severity.CRITICAL: "blocker",
}


def render_gitlab(result: ScanResult) -> str:
    findings = sorted(result.findings, key=lambda finding: finding.sort_key)
    fingerprints = line_hashes(result)
    issues = [code_quality_issue(finding, fingerprints[id(finding)], result.root) for finding in findings]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def code_quality_issue(finding: Finding, fingerprint: str, root: str) -> dict[str, Any]:
    return {
        "description": f"{finding.code} ({finding.name}): {finding.message}",
        "check_name": finding.code,
        "fingerprint": fingerprint,
        "severity": SEVERITIES[finding.severity],
        "location": {
            "path": posix_path(finding.path, root),
            "lines": {"begin": finding.span.line, "end": finding.span.end_line},
        },
    }

"""Baselines: adopt authlint on an existing codebase by hiding today's findings, reporting only new ones.

`authlint check --write-baseline FILE` records every finding of the scan; `--baseline
FILE` (or `baseline = "..."` in the configuration) hides the findings it records. The
file is JSON meant to be committed and reviewed, so it holds no timestamps and no line
numbers, and its keys and entries are sorted::

    {
      "entries": [
        {"code": "AL101", "count": 1, "path": "app/auth.py", "statement": "9c1e0f5a3b7d2e41"},
        {"code": "AL301", "count": 1, "path": "app/routes.py", "route": "GET /users/{id}"}
      ],
      "version": 1
    }

An entry names a finding by its rule, its file (POSIX, relative to the project root: the
configuration file's directory, else the working directory) and what it is about: for a
finding about a route the route's methods and path, otherwise a digest of the flagged
statement's source with layout and comments left out. Moving code up or down, reindenting
it or rewording a comment keeps a finding hidden; editing the statement reports it again.
`count` entries hide at most that many identical findings, so a second copy of a
baselined statement added to the same file is reported.

An entry that matches nothing is *stale*. Only a scan that could have reproduced an entry
judges it: one that ran its rule over its file and analysed that file without error.
Entries outside that scope (other files, rules not selected) are neither stale nor
pruned: `--write-baseline` keeps them and replaces the rest with today's findings.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authlint.model import PROJECT, SUPPRESSED_BY_BASELINE, Finding, ScanResult
from authlint.rule import ProjectRule
from authlint.reporters import write_atomic

VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names the file."""


@dataclass(frozen=True, order=True)
class Key:
    """What a baseline entry matches: a rule's finding in a file about a route or a statement."""

    path: str
    code: str
    route: str = ""
    statement: str = ""

    @property
    def subject(self) -> str:
        return self.route or f"statement {self.statement}"


def finding_key(finding: Finding, root: Path, cwd: Path) -> Key:
    if finding.route:
        return Key(project_path(finding.path, root, cwd), finding.code, route=finding.route)
    return Key(project_path(finding.path, root, cwd), finding.code, statement=finding.statement_digest)


def project_path(path: str, root: Path, cwd: Path) -> str:
    """A reported path (relative to `cwd` or absolute) as a POSIX path relative to the project root."""
    return Path(os.path.relpath(cwd / path, root)).as_posix()


# The file ----------------------------------------------------------------------------


def load(path: Path) -> Counter[Key]:
    """The entries of the baseline file at `path` and their counts."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline file {str(path)!r} does not exist; create it with --write-baseline") from None
    except OSError as exc:
        raise BaselineError(f"cannot read baseline file {str(path)!r}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline file {str(path)!r} is not valid JSON: {exc}") from None
    try:
        return _entries(data)
    except ValueError as exc:
        raise BaselineError(f"baseline file {str(path)!r}: {exc}") from None


def _entries(data: Any) -> Counter[Key]:
    if not isinstance(data, dict) or data.get("version") != VERSION:
        version = data.get("version") if isinstance(data, dict) else None
        raise ValueError(f"expected an authlint baseline of version {VERSION}, got version {version!r}")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise ValueError("'entries' must be a list")
    counts: Counter[Key] = Counter()
    for number, entry in enumerate(entries, 1):
        key, count = _entry(entry, number)
        counts[key] += count
    return counts


def _entry(entry: Any, number: int) -> tuple[Key, int]:
    where = f"entry {number}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be an object")
    fields = {name: entry.get(name, "") for name in ("path", "code", "route", "statement")}
    if not all(isinstance(value, str) for value in fields.values()) or not (fields["path"] and fields["code"]):
        raise ValueError(f"{where} needs a 'path' and a 'code' (strings)")
    if bool(fields["route"]) == bool(fields["statement"]):
        raise ValueError(f"{where} needs exactly one of 'route' and 'statement'")
    count = entry.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"{where}: 'count' must be a positive integer, not {count!r}")
    return Key(**fields), count


def dumps(counts: Counter[Key]) -> str:
    """The file's text: sorted keys and entries, 2-space indent, a trailing newline."""
    entries = []
    for key in sorted(counts):
        entry = {name: value for name, value in dataclasses.asdict(key).items() if value}
        entries.append({**entry, "count": counts[key]})
    return json.dumps({"version": VERSION, "entries": entries}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# Matching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The entries a scan can judge: its rules over the files it analysed without error."""

    paths: frozenset[str]
    codes: frozenset[str]

    def __contains__(self, key: Key) -> bool:
        return key.path in self.paths and key.code in self.codes


def scan_scope(result: ScanResult, root: Path, cwd: Path) -> Scope:
    failed = {error.path for error in result.errors}
    paths = frozenset(project_path(path, root, cwd) for path in result.files if path not in failed)
    return Scope(paths, frozenset(rule.code for rule in result.rules) - _failed_in_link(result))


def _failed_in_link(result: ScanResult) -> set[str]:
    """Codes whose findings this scan cannot vouch for: a project rule that failed, or every
    project rule when a framework adapter failed (its routes are missing)."""
    failed: set[str] = set()
    for error in result.errors:
        if error.path == PROJECT and error.is_internal:
            project_rules = {rule.code for rule in result.rules if issubclass(rule, ProjectRule)}
            failed |= {error.code} if error.code else project_rules
    return failed


def apply(result: ScanResult, baseline: Counter[Key], root: Path) -> ScanResult:
    """`result` with the findings `baseline` records moved to the suppressed ones, and its stale entries."""
    cwd = Path(result.root).resolve()
    root = root.resolve()
    remaining = Counter(baseline)
    reported, hidden = [], []
    for finding in sorted(result.findings, key=lambda f: f.sort_key):
        key = finding_key(finding, root, cwd)
        if remaining[key] > 0:
            remaining[key] -= 1
            hidden.append(dataclasses.replace(finding, suppressed_by=SUPPRESSED_BY_BASELINE))
        else:
            reported.append(finding)
    scope = scan_scope(result, root, cwd)
    stale = [(key, count) for key, count in sorted(remaining.items()) if count > 0 and key in scope]
    return dataclasses.replace(
        result,
        findings=reported,
        suppressed=result.suppressed + len(hidden),
        suppressed_findings=[*result.suppressed_findings, *hidden],
        stale_baseline=stale,
    )


def rewrite(result: ScanResult, previous: Counter[Key], root: Path) -> tuple[Counter[Key], int]:
    """The baseline of `result`'s findings, keeping `previous` entries outside its scope; and how many it pruned."""
    cwd = Path(result.root).resolve()
    root = root.resolve()
    scope = scan_scope(result, root, cwd)
    current = Counter(finding_key(finding, root, cwd) for finding in result.findings)
    judged = Counter({key: count for key, count in previous.items() if key in scope})
    kept = previous - judged
    # A file with a failed rule is out of scope, yet its other rules' findings are current.
    return current | kept, sum((judged - current).values())


def write(path: Path, counts: Counter[Key]) -> None:
    try:
        write_atomic(path, dumps(counts))
    except OSError as exc:
        raise BaselineError(f"cannot write baseline file {str(path)!r}: {exc.strerror or exc}") from None


def read_previous(path: Path) -> Counter[Key]:
    """What `--write-baseline` is about to replace: nothing when the file is missing or unreadable."""
    try:
        return load(path)
    except BaselineError:
        return Counter()

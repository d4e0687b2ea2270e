"""`--diff-base REF`: which lines changed since the merge base with REF, and which findings sit on them.

The scan itself is unchanged (every file is read and linked, so a route is judged by
where it is mounted); only the report is narrowed to what a pull request touched. The
comparison is the working tree against `git merge-base REF HEAD`, so commits on the
branch, staged and unstaged edits all count, and files git does not track yet (but does
not ignore) count as changed on every line. Deleted files have no lines left to report.

git runs as a subprocess with argument lists (never a shell), never fetches, and its
failures become one-line `GitDiffError`s.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from authlint.model import Finding

HUNK_HEADER = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
# git C-quotes a path with unusual characters: "b/caf\303\251 \"x\".py"
QUOTED_ESCAPES = re.compile(rb'\\([0-7]{3}|[abtnvfr"\\])')
ESCAPED_CHARACTERS = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13, b'"': 34, b"\\": 92}

LineRanges = tuple[tuple[int, int], ...]  # inclusive (first, last) line numbers, 1-based


class GitDiffError(Exception):
    """git is missing, the path is not in a repository, or the revision is unknown."""


@dataclass(frozen=True)
class ChangedLines:
    """Changed lines per file (resolved absolute paths); `None` means every line of the file is new."""

    files: dict[Path, LineRanges | None]

    def touches(self, path: Path, first: int, last: int) -> bool:
        if path not in self.files:
            return False
        ranges = self.files[path]
        return ranges is None or any(start <= last and first <= end for start, end in ranges)


def changed_lines(project: Path, ref: str) -> ChangedLines:
    """What changed in the git repository holding `project` since its merge base with `ref`."""
    directory = project if project.is_dir() else project.parent
    toplevel = _git(directory, "rev-parse", "--show-toplevel", failure=f"{str(project)!r} is not in a git repository")
    top = Path(os.fsdecode(toplevel.rstrip(b"\n")))
    base = merge_base(top, ref)
    diff = _git(top, "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
                "--src-prefix=a/", "--dst-prefix=b/", base, "--")  # fmt: skip
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
    files: dict[Path, LineRanges | None] = {(top / path).resolve(): ranges for path, ranges in parse_diff(diff)}
    for name in filter(None, untracked.split(b"\0")):
        files[(top / os.fsdecode(name)).resolve()] = None
    return ChangedLines(files)


def merge_base(top: Path, ref: str) -> str:
    revision = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
                    failure=f"unknown git revision {ref!r}")  # fmt: skip
    _git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", failure="the git repository has no commit yet")
    base = _git(top, "merge-base", revision.decode().strip(), "HEAD",
                failure=f"{ref!r} and HEAD have no common ancestor")  # fmt: skip
    return base.decode().strip()


def parse_diff(diff: bytes) -> Iterator[tuple[str, LineRanges]]:
    """(new path, changed line ranges) per file of a `git diff --unified=0` patch; deleted files are left out.

    A hunk that only deletes lines marks the lines on both sides of the gap: removing an
    argument from a multi-line call changes the statement around it.
    """
    path: str | None = None
    ranges: list[tuple[int, int]] = []
    lines = iter(diff.split(b"\n"))
    for line in lines:
        if line.startswith(b"+++ "):
            if path is not None:
                yield path, tuple(ranges)
            path, ranges = _new_path(line[4:]), []
        elif hunk := HUNK_HEADER.match(line):
            removed, start, added = (int(group) if group is not None else 1 for group in hunk.groups())
            ranges.append((start, start + added - 1) if added else (max(start, 1), start + 1))
            _skip_hunk_body(lines, removed + added)
    if path is not None:
        yield path, tuple(ranges)


def _skip_hunk_body(lines: Iterator[bytes], count: int) -> None:
    # Hunk lines are skipped by count: an added line may itself start with "+++ ".
    while count > 0:
        line = next(lines, None)
        if line is None:
            return
        if not line.startswith(b"\\"):  # "\ No newline at end of file" is not a line of the file
            count -= 1


def _new_path(name: bytes) -> str | None:
    if name.startswith(b'"'):
        name = QUOTED_ESCAPES.sub(_unescape, name.rstrip(b"\t")[1:-1])
    name = name.rstrip(b"\t")  # git ends a name holding a space with a tab
    if name == b"/dev/null":
        return None
    return os.fsdecode(name[2:] if name.startswith(b"b/") else name)


def _unescape(match: re.Match[bytes]) -> bytes:
    escape = match.group(1)
    return bytes([int(escape, 8) if len(escape) == 3 else ESCAPED_CHARACTERS[escape]])


def keep_changed(findings: Iterable[Finding], changes: ChangedLines, cwd: Path | None = None) -> list[Finding]:
    """The findings whose statement, or a place they relate to (a route's router or include), changed."""
    cwd = cwd or Path.cwd()
    return [finding for finding in findings if _on_changed_line(finding, changes, cwd)]


def _on_changed_line(finding: Finding, changes: ChangedLines, cwd: Path) -> bool:
    first = min(finding.statement_line, finding.span.line)
    if changes.touches((cwd / finding.path).resolve(), first, finding.span.end_line):
        return True
    return any(changes.touches((cwd / place.path).resolve(), place.line, place.line) for place in finding.related)


def _git(directory: Path, *args: str, failure: str | None = None) -> bytes:
    command = ["git", "-c", "core.quotePath=false", *args]
    try:
        run = subprocess.run(command, cwd=directory, capture_output=True, stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise GitDiffError("--diff-base needs git, and no `git` command was found") from None
    if run.returncode != 0:
        detail = run.stderr.decode(errors="replace").strip().splitlines()
        raise GitDiffError(f"--diff-base: {failure or (detail[-1] if detail else 'git ' + args[0] + ' failed')}")
    return run.stdout

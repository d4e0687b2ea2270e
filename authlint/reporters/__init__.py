"""Output formats: console (full, concise), JSON, SARIF, GitHub Actions annotations and GitLab Code Quality.

Every reporter is a pure function from a `ScanResult` to text; writing it anywhere is the
caller's business (`write_atomic` for files). Helpers that more than one format needs
live here so that, say, the help link of a rule is spelled once.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePath

from authlint.model import ScanResult
from authlint.rule import Rule

FORMATS = ("full", "concise", "json", "sarif", "github", "gitlab")
CONSOLE_FORMATS = ("full", "concise")
DOCS_URL = "https://github.com/authlint/authlint/blob/main/docs/rules.md"


def render(
    format: str,
    result: ScanResult,
    *,
    color: bool = False,
    statistics: bool = False,
    width: int | None = None,
    category: str | None = None,
    quiet: bool = False,
    include_suppressed: bool = False,
) -> str:
    """The report of `result` in `format`; `color`, `statistics` and `quiet` only affect console formats,
    `category` and `include_suppressed` only SARIF."""
    # Imported here so that importing the package (for `FORMATS`) stays cheap and the
    # format modules can import the helpers below without a cycle.
    if format in CONSOLE_FORMATS:
        from authlint.reporters.console import render_console

        return render_console(result, format, color=color, statistics=statistics, width=width, quiet=quiet)
    if format == "json":
        from authlint.reporters.json import render_json

        return render_json(result)
    if format == "sarif":
        from authlint.reporters.sarif import render_sarif

        return render_sarif(result, category=category, include_suppressed=include_suppressed)
    if format == "github":
        from authlint.reporters.github import render_github

        return render_github(result)
    if format == "gitlab":
        from authlint.reporters.gitlab import render_gitlab

        return render_gitlab(result)
    raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")


def write_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Replace the file at `path` with `text`: readers see the old file or the new one, never half of one.

    A target that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is
    written in place: renaming over it would replace the device itself.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with target.open("w", encoding=encoding, newline="") as handle:
            handle.write(text)
        return
    handle = tempfile.NamedTemporaryFile(
        mode="w",
        encoding=encoding,
        newline="",
        delete=False,
        dir=target.parent,
        prefix=f".{target.name}.",
        suffix=".tmp",
    )
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # NamedTemporaryFile creates the file 0600; a report should keep the usual mode.
        os.chmod(handle.name, _mode_for(target))
        os.replace(handle.name, target)
    except BaseException:
        _remove_quietly(handle.name)
        raise


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def rule_help_uri(code: str) -> str:
    return f"{DOCS_URL}#{code.lower()}"


def rule_help_markdown(rule: type[Rule]) -> str:
    """The rule's documentation, which is markdown under fixed headings."""
    return rule.docs()


def rule_description(rule: type[Rule]) -> str:
    """What the rule does, in a paragraph; the one-line summary when that section is missing."""
    return rule.doc_section("What it does") or rule.summary() or rule.name


def posix_path(path: str, root: str | None = None) -> str:
    """`path` with forward slashes, relative to `root` when it is an absolute path under it."""
    pure = PurePath(path)
    if root and pure.is_absolute():
        try:
            pure = pure.relative_to(root)
        except ValueError:
            pass
    return pure.as_posix()

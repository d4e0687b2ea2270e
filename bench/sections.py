"""Sections of bench/RESULTS.md that other scripts own, kept when bench/run.py rewrites the file.

bench/robustness.py and bench/profile_phases.py each write one section between HTML comment
markers (`<!-- NAME:start -->` ... `<!-- NAME:end -->`), and `analysis` is written by hand
(what the numbers mean, dated); run.py writes everything else.
"""
from __future__ import annotations

from pathlib import Path

OWNED = ("analysis", "profile", "robustness")  # in the order run.py puts them back


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_section(text: str, name: str, section: str) -> str:
    """`text` with section `name` replaced by `section` (which includes its markers), or with it appended."""
    start, end = markers(name)
    if start in text and end in text:
        head, rest = text.split(start, 1)
        return head + section + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def existing_section(path: Path, name: str) -> str | None:
    """Section `name` of the file at `path`, markers included, if it has one."""
    start, end = markers(name)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        return start + text.split(start, 1)[1].split(end, 1)[0] + end
    return None


def write_keeping_owned(path: Path, text: str) -> None:
    """Write `text` (run.py's part) to `path`, followed by the owned sections the file already has."""
    kept = [section for name in OWNED if (section := existing_section(path, name))]
    path.write_text(text.rstrip("\n") + "\n" + "".join(f"\n{section}\n" for section in kept), encoding="utf-8")

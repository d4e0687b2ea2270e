"""The pre-commit hook definition stays what pre-commit and users expect."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

HOOKS = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")


def field(name: str) -> str:
    match = re.search(rf"^\s*{name}:\s*(.+)$", HOOKS, re.M)
    assert match, f".pre-commit-hooks.yaml has no {name!r}"
    return match.group(1).strip()


def test_hook_is_a_serial_python_hook_for_python_files() -> None:
    assert field("- id") == "authlint"
    assert field("language") == "python"
    assert field("types_or") == "[python, pyi]"
    assert field("require_serial") == "true"


def test_hook_entry_is_a_working_command_that_honours_excludes(tmp_path) -> None:
    entry = field("entry").split()
    assert entry[:2] == ["authlint", "check"] and "--force-exclude" in entry
    (tmp_path / "pyproject.toml").write_text('[tool.authlint]\nextend-exclude = ["legacy/"]\n')
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_text('import jwt\njwt.encode({}, None, algorithm="none")\n')
    # pre-commit passes every changed file by name; an excluded one must stay excluded.
    command = [sys.executable, "-m", *entry, "legacy/old.py"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr

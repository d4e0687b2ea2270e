"""`pip install .` into a fresh virtual environment gives a working `authlint` outside the source tree."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

from conftest import REPO


@pytest.mark.slow
def test_wheel_install_works_outside_the_source_tree(tmp_path: Path) -> None:
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(REPO)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr

    project = tmp_path / "project"
    project.mkdir()
    (project / "tokens.py").write_text('import jwt\n\njwt.encode({}, None, algorithm="none")\n')
    run = subprocess.run(
        [str(environment / "bin" / "authlint"), "check", ".", "--format", "concise", "--select", "AL101"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "tokens.py:3:" in run.stdout and "AL101" in run.stdout

    rules = subprocess.run([str(environment / "bin" / "authlint"), "rules", "--format", "json"],
                           cwd=project, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert '"AL101"' in rules.stdout

    where = subprocess.run([str(python), "-c", "import authlint.rules; print(authlint.rules.__file__)"],
                           cwd=project, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(environment), "rules were not installed with the wheel"

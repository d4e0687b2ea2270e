from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from authlint.registry import rules_package

# Tests import rule modules directly; make `authlint.rules` importable from a checkout too.
rules_package()

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


@pytest.fixture
def repo() -> Path:
    return REPO


# shared/ sits beside the repository, or beside the folder of worktrees holding it.
SARIF_SCHEMA = next(
    (schema for base in REPO.parents if (schema := base / "shared" / "schemas" / "sarif-schema-2.1.0.json").is_file()),
    REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json",
)


@pytest.fixture(scope="session")
def sarif_validator():
    """The official SARIF 2.1.0 schema, from shared/ beside the repository."""
    import jsonschema

    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA} (expected shared/ beside the repository)")
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test starts with an empty cache of its own, never one inside the repository."""
    directory = tmp_path_factory.mktemp("authlint-cache")
    monkeypatch.setenv("AUTHLINT_CACHE_DIR", str(directory))
    return directory


# CLI helpers shared by the test modules ---------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> Result:
    """`authlint ARGS` in this process; exceptions propagate, so a traceback fails the test."""
    # Imported here: authlint.cli defers libcst (authlint/lazy.py), and a module importing
    # libcst itself at collection time (hypothesmith) must not meet it half loaded.
    from authlint.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def check_json(*args: str) -> tuple[Result, dict]:
    """`authlint check ARGS --format json`, and the parsed document."""
    result = invoke("check", *args, "--format", "json")
    return result, json.loads(result.stdout)

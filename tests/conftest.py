from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from authlint.registry import rules_package

# Tests import rule modules directly; make `authlint.rules` importable from a checkout too.
rules_package()

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


@pytest.fixture
def repo() -> Path:
    return REPO


# shared/ sits beside the main checkout; a git worktree elsewhere names it with AUTHLINT_SARIF_SCHEMA.
SARIF_SCHEMA = Path(os.environ.get("AUTHLINT_SARIF_SCHEMA", REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"))


@pytest.fixture(scope="session")
def sarif_validator():
    """The official SARIF 2.1.0 schema, from shared/ beside the repository."""
    import jsonschema

    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA} (expected shared/ beside the repository)")
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))

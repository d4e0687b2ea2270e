from __future__ import annotations

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

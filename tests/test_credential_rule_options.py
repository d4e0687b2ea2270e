"""Options of the credential rules really reach them (fixtures run with defaults only)."""

from __future__ import annotations

import pytest

from authlint.config import Config, ConfigError, file_settings, validate_rule_options
from authlint.engine import analyze_text

SHORT_TOKENS = """\
import secrets


def tokens():
    token = secrets.token_hex(20)
    api_key = secrets.token_urlsafe(32)[:40]
    otp_code = secrets.token_hex(3)
    return token, api_key, otp_code
"""

HARDCODED = """\
DATABASE_PASSWORD = "s3cr3t-db-password"


class StagingConfig:
    SECRET_KEY = "staging-only-secret"
"""


def findings(source: str, path: str, config: Config, code: str) -> list[tuple[int, str]]:
    result = analyze_text(source, path, file_settings(config))
    assert not result.errors
    return [(f.span.line, f.message) for f in result.findings if f.code == code]


def test_min_bytes_default_accepts_20_bytes_and_a_40_character_cut() -> None:
    assert findings(SHORT_TOKENS, "tokens.py", Config(), "AL203") == []


def test_a_higher_min_bytes_flags_short_tokens_but_not_one_time_codes() -> None:
    found = findings(SHORT_TOKENS, "tokens.py", Config(rules={"AL203": {"min-bytes": 32}}), "AL203")
    assert [line for line, _ in found] == [5, 6]
    assert "20 random bytes (160 bits) are fewer than the 32 needed" in found[0][1]
    assert "cutting it to 40 characters" in found[1][1]


def test_min_bytes_must_be_an_integer() -> None:
    with pytest.raises(ConfigError, match="min-bytes"):
        validate_rule_options("pyproject.toml", "AL203", {"min-bytes": "16"})


@pytest.mark.parametrize("path", ["app/settings.py", "app/config.py"])
def test_hardcoded_credentials_in_production_code_are_flagged(path) -> None:
    found = findings(HARDCODED, path, Config(), "AL205")
    assert [line for line, _ in found] == [1, 5]
    assert 'os.environ["DATABASE_PASSWORD"]' in found[0][1]


@pytest.mark.parametrize(
    "path", ["tests/app_settings.py", "app/test_settings.py", "app/settings_test.py", "conftest.py", "settings/dev.py"]
)
def test_test_and_dev_files_are_skipped_by_default(path) -> None:
    assert findings(HARDCODED, path, Config(), "AL205") == []


def test_non_production_patterns_are_configurable() -> None:
    config = Config(rules={"AL205": {"non-production-patterns": ["staging"]}})
    assert [line for line, _ in findings(HARDCODED, "tests/app_settings.py", config, "AL205")] == [1]
    assert [line for line, _ in findings(HARDCODED, "app/settings.py", config, "AL205")] == [1]


def test_non_production_patterns_must_be_a_list_of_strings() -> None:
    with pytest.raises(ConfigError, match="non-production-patterns"):
        validate_rule_options("pyproject.toml", "AL205", {"non-production-patterns": "tests"})

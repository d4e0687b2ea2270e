"""AL107's `max-lifetime-minutes` really reaches the rule (fixtures run with defaults only)."""

from __future__ import annotations

import pytest

from authlint.config import Config, ConfigError, file_settings, validate_rule_options
from authlint.engine import analyze_text

THIRTY_MINUTE_TOKEN = """\
from datetime import datetime, timedelta, timezone

import jwt


def issue(user_id, private_key):
    claims = {"sub": str(user_id), "exp": datetime.now(timezone.utc) + timedelta(minutes=30)}
    return jwt.encode(claims, private_key, algorithm="RS256")
"""


def al107_findings(config: Config) -> list:
    result = analyze_text(THIRTY_MINUTE_TOKEN, "x.py", file_settings(config))
    assert not result.errors
    return [f for f in result.findings if f.code == "AL107"]


def test_a_lower_limit_flags_a_30_minute_token() -> None:
    findings = al107_findings(Config(rules={"AL107": {"max-lifetime-minutes": 10}}))
    assert [(f.span.line, f.code) for f in findings] == [(7, "AL107")]
    assert "30 minutes" in findings[0].message and "10-minute limit" in findings[0].message


def test_the_default_limit_allows_a_30_minute_token() -> None:
    assert al107_findings(Config()) == []


def test_a_limit_equal_to_the_lifetime_allows_it() -> None:
    assert al107_findings(Config(rules={"AL107": {"max-lifetime-minutes": 30}})) == []


def test_the_option_must_be_an_integer() -> None:
    with pytest.raises(ConfigError, match="max-lifetime-minutes"):
        validate_rule_options("pyproject.toml", "AL107", {"max-lifetime-minutes": "10"})

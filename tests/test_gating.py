"""Gating is an optimization only: with the gates and without, the same findings and routes.

`FileSettings.gating = False` parses every file, runs every enabled rule on it and keeps
every file's facts. Each project below is scanned both ways (all rules, file and project,
and the Route table) and must come out the same.
"""

from __future__ import annotations

import ast
from pathlib import Path
from textwrap import dedent

import pytest

from authlint.config import Config, file_settings
from authlint.engine import FileSettings, analyze_text
from authlint.gate import DICT_UNPACK, KWARGS_PARAMETER, KWARGS_UNPACK, code_signals
from authlint.registry import rules_by_code
from authlint.testing import compare_gating

from conftest import FIXTURES, REPO

PROJECTS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "apps")
PROJECTS += sorted(p for p in (FIXTURES / "apps").iterdir() if p.is_dir())
PROJECTS.append(REPO / "examples" / "vulnerable_api")
CORPUS_SMALL = REPO / "bench" / ".corpus-small"


# Every fixture project, including the connexion app whose handlers call into a helper module
# that imports nothing a gate asks for (authlint/reach.py gives that module its full facts).
@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: str(p.relative_to(REPO)))
def test_gating_changes_no_finding_and_no_route(project: Path, monkeypatch) -> None:
    monkeypatch.chdir(project)
    comparison = compare_gating(project)
    assert comparison.equal, "\n" + comparison.describe()
    assert comparison.parsed_gated <= comparison.parsed_ungated


@pytest.mark.skipif(not CORPUS_SMALL.is_dir(), reason="bench/.corpus-small is not built (bench/build_corpus.py)")
def test_gating_changes_nothing_on_the_small_corpus(monkeypatch) -> None:
    monkeypatch.chdir(CORPUS_SMALL)
    comparison = compare_gating(CORPUS_SMALL, jobs=2, exclude=["__pycache__"])
    assert comparison.equal, "\n" + comparison.describe()


# The signals -----------------------------------------------------------------------


def _signals(source: str):
    return code_signals(ast.parse(dedent(source)))


def test_comments_and_docstrings_are_no_signal() -> None:
    code = _signals('''
        """Compare the password with hmac.compare_digest; see `import jwt`."""
        # the api_key is read below
        class Settings:
            """A secret docstring."""
            def load(self):
                """token"""
                return "plain text"
    ''')
    assert set(code.words.split("\n")) == {"Settings", "load", "self", "plain text"}
    assert code.modules == frozenset()


def test_names_literals_and_imports_are_signals() -> None:
    code = _signals('''
        import os.path, jwt as pyjwt
        from fastapi.security import APIKeyHeader
        from . import sibling
        def check(request, *, api_key=None, **extra):
            global COUNT
            if request.headers["X-Api-Key"] != api_key:
                raise ValueError
            try:
                pass
            except KeyError as missing:
                return User(**extra, name={**extra}), b"sk_live"
    ''')
    words = set(code.words.split("\n"))
    assert {"os.path", "pyjwt", "APIKeyHeader", "fastapi.security", "sibling", "api_key", "extra"} <= words
    assert {"COUNT", "X-Api-Key", "headers", "missing", "sk_live"} <= words
    assert code.modules == frozenset({"os", "jwt", "fastapi"})
    assert {"Compare", "NotEq", "ExceptHandler", KWARGS_UNPACK, DICT_UNPACK, KWARGS_PARAMETER} <= code.kinds
    assert code.mentions(("x-api-key",)) and not code.mentions(("password",))


# The engine's second gate -----------------------------------------------------------


def _settings(*codes: str, gating: bool = True) -> FileSettings:
    rules = rules_by_code()
    settings = file_settings(Config(select=list(codes)))
    assert {s.rule for s in settings.rules} == {rules[code] for code in codes}
    return FileSettings(settings.rules, gating=gating)


COMMENTED = '''
"""Helpers. Never compare a password or a token with ==."""

def same(a, b):
    # api_key comparisons belong in hmac.compare_digest
    return a == b
'''


def test_a_credential_word_in_comments_only_is_not_parsed() -> None:
    assert not analyze_text(COMMENTED, "helpers.py", _settings("AL202")).parsed
    assert analyze_text(COMMENTED, "helpers.py", _settings("AL202", gating=False)).parsed


def test_the_code_gate_needs_what_every_finding_needs() -> None:
    no_comparison = "def load(api_key):\n    return api_key.strip()\n"
    comparison = "def check(api_key, expected):\n    return api_key == expected\n"
    assert not analyze_text(no_comparison, "a.py", _settings("AL202")).parsed
    result = analyze_text(comparison, "a.py", _settings("AL202"))
    assert result.parsed and [f.code for f in result.findings] == ["AL202"]


def test_a_requires_module_named_in_a_docstring_only_does_not_open_the_gate() -> None:
    source = '"""Usage:\n\nimport jwt\njwt.decode(token, options={"verify_signature": False})\n"""\n'
    assert not analyze_text(source, "doc.py", _settings("AL102")).parsed
    assert analyze_text(source, "doc.py", _settings("AL102", gating=False)).parsed

"""`--fix` and `--diff`: expected outputs, idempotence, safety, imports, comments, the CLI."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import libcst
import pytest
from click.testing import CliRunner, Result

from authlint.cli import main
from authlint.fix import Fix, Replace, apply_fixes, with_keywords
from authlint.registry import all_rules, rule_module_name
from authlint.testing import fix_file, fix_input

from conftest import FIXTURES

FIX_OUTPUTS = sorted(FIXTURES.rglob("*.fixed.py"))
RULE_BY_FOLDER = {rule_module_name(rule): rule for rule in all_rules()}


def fixed_text(path: Path, code: str) -> str:
    """What `--fix` with only `code` selected makes of the file (its own text when nothing changes)."""
    result = fix_file(path, code)
    assert not result.errors, result.errors
    return result.fixed.text if result.fixed is not None else path.read_text(encoding="utf-8")


def fix_source(tmp_path: Path, source: str, code: str, name: str = "app.py") -> str:
    path = tmp_path / name
    path.write_text(dedent(source), encoding="utf-8")
    return fixed_text(path, code)


def by_name(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


# The expected outputs -------------------------------------------------------------------


@pytest.mark.parametrize("expected", FIX_OUTPUTS, ids=by_name)
def test_fixing_the_fixture_gives_the_expected_output_exactly(expected: Path) -> None:
    rule = RULE_BY_FOLDER[expected.parent.name]
    assert fixed_text(fix_input(expected), rule.code) == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("expected", FIX_OUTPUTS, ids=by_name)
def test_fixing_is_idempotent(expected: Path) -> None:
    rule = RULE_BY_FOLDER[expected.parent.name]
    result = fix_file(expected, rule.code)
    assert result.fixed is None and not result.errors


@pytest.mark.parametrize("expected", FIX_OUTPUTS, ids=by_name)
def test_the_fixed_file_has_no_finding_of_the_rule(expected: Path) -> None:
    rule = RULE_BY_FOLDER[expected.parent.name]
    result = fix_file(fix_input(expected), rule.code)
    assert result.fixed is not None and result.fixed.applied == len(
        [line for line in fix_input(expected).read_text(encoding="utf-8").splitlines() if f"expect: {rule.code}" in line]
    )
    assert [f for f in result.findings if f.code == rule.code] == []


# What is fixed, and what is left alone -----------------------------------------------------


def test_hmac_import_is_added_once_after_the_docstring_and_imports(tmp_path: Path) -> None:
    fixed = fix_source(tmp_path, '''\
        """Webhooks."""
        from __future__ import annotations

        import hashlib


        def check(body: bytes, signature: str, key: bytes) -> bool:
            expected = hashlib.sha256(key + body).hexdigest()
            if signature == expected:
                return True
            return signature != expected
        ''', "AL202")
    assert fixed == dedent('''\
        """Webhooks."""
        from __future__ import annotations

        import hashlib
        import hmac


        def check(body: bytes, signature: str, key: bytes) -> bool:
            expected = hashlib.sha256(key + body).hexdigest()
            if hmac.compare_digest(signature.encode(), expected.encode()):
                return True
            return not hmac.compare_digest(signature.encode(), expected.encode())
        ''')


def test_a_fixed_str_comparison_means_what_it_meant_for_any_text(tmp_path: Path) -> None:
    fixed = fix_source(tmp_path, '''\
        def same(signature: str, expected: str) -> bool:
            return signature == expected


        def differs(signature: str, secret: str) -> bool:
            return "v1=" + secret != signature
        ''', "AL202")
    assert "hmac.compare_digest(signature.encode(), expected.encode())" in fixed
    assert 'not hmac.compare_digest(("v1=" + secret).encode(), signature.encode())' in fixed
    namespace: dict = {}
    exec(compile(fixed, "fixed.py", "exec"), namespace)  # the test's own output, not scanned code
    for a, b in [("abc", "abc"), ("abc", "abd"), ("clé", "clé"), ("clé", "cle"), ("", ""), ("日本", "日本語")]:
        assert namespace["same"](a, b) is (a == b)
        assert namespace["differs"](b, a) is ("v1=" + b != a)


def test_an_existing_import_is_not_duplicated(tmp_path: Path) -> None:
    source = '''\
        import random
        import secrets
        import string


        def make_reset_token():
            return "".join(random.choices(string.ascii_letters, k=32))
        '''
    fixed = fix_source(tmp_path, source, "AL203")
    assert fixed.count("import secrets") == 1
    assert "    return secrets.token_urlsafe(32)\n" in fixed


def test_comments_inside_a_fixed_call_are_kept(tmp_path: Path) -> None:
    fixed = fix_source(tmp_path, '''\
        import requests


        def notify(url, payload):
            # the billing service is slow
            return requests.post(  # outbound
                url,  # where
                json=payload,  # what
            )
        ''', "AL503")
    assert fixed == dedent('''\
        import requests


        def notify(url, payload):
            # the billing service is slow
            return requests.post(  # outbound
                url,  # where
                json=payload,  # what
                timeout=10,
            )
        ''')


@pytest.mark.parametrize(
    ("code", "source"),
    [
        # Unknown types: compare_digest would raise TypeError for None, or for str against bytes.
        ("AL202", "def check(request, user):\n    return request.form['token'] == user.reset_token\n"),
        ("AL202", "def check(signature: str, expected_signature: bytes):\n    return signature == expected_signature\n"),
        # Assigned on one path only: `key` may still be None, which compare_digest would refuse.
        ("AL202", "import hashlib\nimport hmac\n\n\ndef verify(body: bytes, signature: str, key: bytes, c):\n"
                  "    expected = None\n    if c:\n"
                  "        expected = 'sha256=' + hmac.new(key, body, hashlib.sha256).hexdigest()\n"
                  "    return signature == expected\n"),
        # A chained comparison has no one-call equivalent.
        ("AL202", "def check(a_token: str, b_token: str, c: str):\n    return a_token == b_token == c\n"),
        # A `hmac` that is not the module.
        ("AL202", "def check(hmac: str, signature: str):\n    return hmac == signature\n"),
        # Not requests or httpx, or not literally False.
        ("AL604", "import ssl\n\nctx = ssl.create_default_context()\nctx.verify_mode = ssl.CERT_NONE\n"),
        ("AL604", "import requests\n\nVERIFY = False\n\n\ndef f(url):\n    return requests.get(url, verify=VERIFY, timeout=5)\n"),
        # A comment on the argument would be lost.
        ("AL604", "import requests\n\n\ndef f(url):\n    return requests.get(\n        url,\n        timeout=5,\n"
                  "        verify=False,  # internal CA\n    )\n"),
        # `timeout=None` through a name may be used elsewhere.
        ("AL503", "import requests\n\nNO_LIMIT = None\n\n\ndef f(url):\n    return requests.get(url, timeout=NO_LIMIT)\n"),
        # The module signs with two algorithms, or none literally.
        ("AL103", "import jwt\n\n\ndef f(t, k, c):\n    jwt.encode(c, k, algorithm='HS256')\n"
                  "    jwt.encode(c, k, algorithm='RS256')\n    return jwt.decode(t, k)\n"),
        ("AL103", "import jwt\n\n\ndef f(t, k, c, alg):\n    jwt.encode(c, k, algorithm=alg)\n    return jwt.decode(t, k)\n"),
        # An explicit `secure=False` is a choice.
        ("AL405", "from flask import Response\n\n\ndef f(r: Response, sid):\n    r.set_cookie('session', sid, secure=False)\n"),
        # One-time codes and passwords are not token strings.
        ("AL203", "import random\n\n\ndef f():\n    otp = ''.join(random.choices('0123456789', k=6))\n    return otp\n"),
        ("AL203", "import random\nimport uuid\n\n\ndef f():\n    token = uuid.uuid1().hex\n    return token\n"),
    ],
)
def test_uncertain_cases_are_reported_but_not_fixed(tmp_path: Path, code: str, source: str) -> None:
    path = tmp_path / "app.py"
    path.write_text(source, encoding="utf-8")
    result = fix_file(path, code)
    assert [f.code for f in result.findings] and {f.code for f in result.findings} == {code}
    assert result.fixed is None


def test_fixes_of_one_call_by_two_rules_both_land(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("import requests\n\n\ndef f(url):\n    return requests.get(url, verify=False)\n", encoding="utf-8")
    result = fix_file(path, "AL503", "AL604")
    assert result.fixed.text == "import requests\n\n\ndef f(url):\n    return requests.get(url, timeout=10)\n"
    assert result.fixed.applied == 2 and result.findings == []


def test_suppressed_findings_are_not_fixed(tmp_path: Path) -> None:
    source = "import requests\n\n\ndef f(url):\n    return requests.get(url)  # authlint: ignore[AL503] streaming\n"
    path = tmp_path / "app.py"
    path.write_text(source, encoding="utf-8")
    result = fix_file(path, "AL503")
    assert result.fixed is None and result.findings == []


def test_overlapping_fixes_wait_for_the_next_round() -> None:
    module = libcst.parse_module("f(g(x))\n")
    outer = module.body[0].body[0].value
    inner = outer.args[0].value
    fixes = [
        Fix((Replace(outer, with_keywords(outer, add=[("a", libcst.Integer("1"))])),)),
        Fix((Replace(inner, with_keywords(inner, add=[("b", libcst.Integer("2"))])),)),
    ]
    assert apply_fixes(module, fixes) == ("f(g(x), a=1)\n", 1)


def test_the_timeout_comes_from_the_rule_options(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.authlint.rules.AL503]\ntimeout = 2.5\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("import requests\n\nrequests.get('https://x.example')\n", encoding="utf-8")
    result = _invoke(tmp_path, "check", "app.py", "--select", "AL503", "--diff")
    assert "+requests.get('https://x.example', timeout=2.5)\n" in result.stdout


# The command line ------------------------------------------------------------------------

VULNERABLE = "import requests\n\n\ndef f(url):\n    return requests.get(url)\n"
FIXED = "import requests\n\n\ndef f(url):\n    return requests.get(url, timeout=10)\n"


def _invoke(cwd: Path, *args: str) -> Result:
    import os

    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)


def test_diff_prints_a_unified_diff_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    result = _invoke(tmp_path, "check", "app.py", "--select", "AL503", "--diff")
    assert result.exit_code == 1
    assert result.stdout == (
        "--- app.py\n+++ app.py\n@@ -2,4 +2,4 @@\n \n \n def f(url):\n"
        "-    return requests.get(url)\n+    return requests.get(url, timeout=10)\n"
    )
    assert result.stderr == "Would fix 1 finding in 1 file.\n"
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == VULNERABLE


def test_diff_with_nothing_to_fix_exits_0(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(FIXED, encoding="utf-8")
    result = _invoke(tmp_path, "check", "app.py", "--select", "AL503", "--diff")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_fix_writes_the_file_and_reports_what_remains(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(VULNERABLE + "\n\ndef g(t, k):\n    import jwt\n    return jwt.decode(t, k)\n",
                                     encoding="utf-8")  # fmt: skip
    result = _invoke(tmp_path, "check", ".", "--select", "AL503,AL103", "--fix", "--format", "concise")
    assert (tmp_path / "app.py").read_text(encoding="utf-8").startswith(FIXED)
    assert "Fixed 1 finding in 1 file.\n" in result.stderr
    assert "AL503" not in result.stdout and "AL103" in result.stdout  # no literal algorithm to pin to
    assert result.exit_code == 1


def test_fix_rewrites_the_file_a_symbolic_link_points_to_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text(VULNERABLE, encoding="utf-8")
    (tmp_path / "app.py").symlink_to("real.py")
    assert _invoke(tmp_path, "check", "app.py", "--select", "AL503", "--fix").exit_code == 0
    assert (tmp_path / "app.py").is_symlink()
    assert (tmp_path / "real.py").read_text(encoding="utf-8") == FIXED


def test_fix_with_everything_fixed_exits_0(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    result = _invoke(tmp_path, "check", "app.py", "--select", "AL503", "--fix")
    assert result.exit_code == 0
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == FIXED
    assert list(tmp_path.iterdir()) == [tmp_path / "app.py"]  # no temporary file left behind


def test_fix_leaves_files_with_syntax_errors_untouched(tmp_path: Path) -> None:
    broken = "import requests\n\nrequests.get(url\n"
    (tmp_path / "broken.py").write_text(broken, encoding="utf-8")
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    result = _invoke(tmp_path, "check", ".", "--select", "AL503", "--fix")
    assert (tmp_path / "broken.py").read_text(encoding="utf-8") == broken
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == FIXED
    assert "authlint: warning: broken.py: syntax error" in result.stderr


def test_fix_keeps_the_file_encoding_and_line_endings(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\r\nimport requests\r\n\r\nOWNER = 'Zoë'\r\nrequests.get(OWNER)\r\n"
    (tmp_path / "app.py").write_bytes(source.encode("latin-1"))
    _invoke(tmp_path, "check", "app.py", "--select", "AL503", "--fix")
    expected = source.replace("requests.get(OWNER)", "requests.get(OWNER, timeout=10)")
    assert (tmp_path / "app.py").read_bytes() == expected.encode("latin-1")


def test_rules_lists_which_rules_can_fix() -> None:
    import json

    records = json.loads(CliRunner().invoke(main, ["rules", "--format", "json"]).stdout)
    assert {r["code"] for r in records if r["fixable"]} == {"AL103", "AL202", "AL203", "AL405", "AL503", "AL604"}


def test_a_fix_that_breaks_the_code_is_abandoned_and_reported() -> None:
    from authlint.fix import FixedText, fix_until_stable
    from authlint.model import FileError, FileResult

    def analyze(text: str, fixing: bool) -> FileResult:
        if text == "broken(":
            return FileResult("app.py", errors=[FileError("app.py", "parse", "syntax error")])
        result = FileResult("app.py", parsed=True)
        result.fixed = FixedText(text, "broken(", "utf-8", 1) if fixing else None
        return result

    result = fix_until_stable("ok()\n", "utf-8", analyze)
    assert result.fixed is None
    assert [(e.kind, e.message) for e in result.errors] == [
        ("fix", "not fixed: a fix produced code that does not parse; the file is left unchanged")
    ]


def test_fixing_stops_after_a_bounded_number_of_rounds() -> None:
    from authlint.fix import MAX_ROUNDS, FixedText, fix_until_stable
    from authlint.model import FileResult

    rounds = []

    def analyze(text: str, fixing: bool) -> FileResult:  # a fix that never converges
        rounds.append(fixing)
        result = FileResult("app.py", parsed=True)
        result.fixed = FixedText(text, text + "#\n", "utf-8", 1) if fixing else None
        return result

    result = fix_until_stable("x = 1\n", "utf-8", analyze)
    assert rounds == [True] * MAX_ROUNDS + [False]
    assert result.fixed.text == "x = 1\n" + "#\n" * MAX_ROUNDS and result.fixed.applied == MAX_ROUNDS

"""The shared facts layer: names through imports and scopes, constant values, arguments."""

from __future__ import annotations

import libcst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authlint.context import FileContext
from authlint.engine import FileSettings, analyze_text, imported_modules
from authlint.facts.literals import UNKNOWN
from authlint.testing import all_rules_settings
from authlint.walk import Dispatch, walk


def calls_seen(source: str, probe) -> list:
    """Walk `source` and apply `probe(ctx, call)` to every call, as a rule would."""
    module = libcst.parse_module(source)
    ctx = FileContext("t.py", module, imported_modules(source))
    seen = []

    class Recorder:
        def visit_Call(self, node):
            seen.append(probe(ctx, node))

    walk(module, Dispatch([ctx.tracker, Recorder()]))
    return seen


def qualified(source: str) -> list:
    return calls_seen(source, lambda ctx, call: ctx.qualified_name(call.func))


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import jwt\njwt.decode(t)", "jwt.decode"),
        ("import jwt as pyjwt\npyjwt.decode(t)", "jwt.decode"),
        ("from jwt import decode\ndecode(t)", "jwt.decode"),
        ("from jose import jwt\njwt.decode(t)", "jose.jwt.decode"),
        ("import os.path\nos.path.join(a)", "os.path.join"),
        ("from authlib.jose import JsonWebToken\nj = JsonWebToken(['RS256'])\nj.decode(t)", "authlib.jose.JsonWebToken().decode"),
        ("from .deps import current_user\ncurrent_user()", ".deps.current_user"),
        ("def f():\n    from jose import jwt\n    jwt.decode(t)", "jose.jwt.decode"),
        ("import jwt\nd = jwt.decode\nd(t)", "jwt.decode"),
    ],
)
def test_qualified_names_follow_imports_and_aliases(source, expected) -> None:
    assert qualified(source)[-1] == expected


@pytest.mark.parametrize(
    "source",
    [
        "def decode(t):\n    return t\ndecode(t)",  # a local function, not a library's
        "import jwt\ndef f(jwt):\n    jwt.decode(t)",  # a parameter shadows the import
        "unknown.decode(t)",  # never imported
        "import jwt\ndef f():\n    for jwt in x:\n        jwt.decode(t)",
    ],
)
def test_local_names_never_resolve_to_library_names(source) -> None:
    assert qualified(source)[-1] is None


def test_methods_do_not_see_class_attributes() -> None:
    source = "import jwt\nclass A:\n    jwt = None\n    def m(self):\n        jwt.decode(t)\n"
    assert qualified(source) == ["jwt.decode"]


def literal_of_first_argument(source: str):
    values = calls_seen(source, lambda ctx, call: ctx.literal(call.args[0].value) if is_f(call) else "not f")
    return [v for v in values if v != "not f"][-1]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("f('a' 'b')", "ab"),
        ("X = 60 * 24\nf(X * 30)", 43200),
        ("A = ['HS256']\nB = A\nf(B)", ["HS256"]),
        ("f({'alg': 'none', 'n': -1})", {"alg": "none", "n": -1}),
        ("def g():\n    k = b'key'\n    f(k)", b"key"),
        ("f(None)", None),
        ("f(10 ** 100000)", UNKNOWN),  # never computed
        ("f('x' * 10 ** 9)", UNKNOWN),
        ("f(y)", UNKNOWN),
        ("f(f'{y}')", UNKNOWN),
    ],
)
def test_literal_evaluation(source, expected) -> None:
    assert literal_of_first_argument(source) == expected


def dict_keys_of_first_argument(source: str):
    def keys(ctx, call):
        entries = ctx.dict_entries(call.args[0].value)
        return None if entries is None else sorted(entries)

    return [keys for keys in calls_seen(source, lambda ctx, call: is_f(call) and keys(ctx, call)) if keys is not False]


def is_f(call: libcst.Call) -> bool:
    return isinstance(call.func, libcst.Name) and call.func.value == "f"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("f({'sub': u.id, 'exp': later()})", ["exp", "sub"]),
        ("def g(u):\n    p = {'sub': u}\n    p['exp'] = 1\n    f(p)", ["exp", "sub"]),
        ("def g(u):\n    p = {'sub': u}\n    p.update(exp=1, iat=2)\n    f(p)", ["exp", "iat", "sub"]),
        ("BASE = {'iss': 'x'}\nf({**BASE, 'sub': 1})", ["iss", "sub"]),
        ("f(dict(sub=1, aud='a'))", ["aud", "sub"]),
        ("def g(p):\n    f(p)", None),  # a parameter: unknowable
        ("def g(o):\n    f({**o, 'sub': 1})", None),
        # keys nobody can read: the dict becomes unknowable from then on
        ("def g(extra):\n    p = {'sub': 1}\n    p.update(extra)\n    f(p)", None),
        ("def g(k):\n    p = {'sub': 1}\n    p[k] = 2\n    f(p)", None),
        ("def g():\n    p = {'sub': 1}\n    add_expiry(p)\n    f(p)", None),
        ("def g():\n    p = {'sub': 1}\n    print(len(p))\n    f(p)", ["sub"]),  # builtins add nothing
        ("def g():\n    p = {'sub': 1}\n    p.setdefault('exp', 2)\n    f(p)", ["exp", "sub"]),
    ],
)
def test_dict_entries(source, expected) -> None:
    assert dict_keys_of_first_argument(source)[-1] == expected


def test_rebinding_a_name_forgets_keys_added_to_the_old_value() -> None:
    source = "def g():\n    p = {}\n    p['exp'] = 1\n    p = {'sub': 2}\n    f(p)"
    assert dict_keys_of_first_argument(source)[-1] == ["sub"]


def test_arguments_behind_double_star_are_unknowable() -> None:
    source = "def g(kw):\n    f(1, **kw)\n    f(1, **{'audience': 'a'})"
    has_audience = calls_seen(source, lambda ctx, call: ctx.arguments(call).has("audience"))
    assert has_audience[-2:] == [None, True]


def test_import_gate_reads_every_import_form() -> None:
    source = "import a.b as c, d\nfrom e.f import g\nx = 1; import h\ndef k():\n    from i import j\nfrom . import l\n"
    assert imported_modules(source) == {"a", "d", "e", "h", "i"}


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("import jwt\n()[]{}'\"#:=,.ab01 \tdefclass\\")), max_size=200))
def test_the_engine_never_raises_on_arbitrary_text(text: str) -> None:
    settings_ = all_rules_settings()
    first = analyze_text("import jwt\n" + text, "t.py", settings_)
    second = analyze_text("import jwt\n" + text, "t.py", settings_)
    assert first == second
    assert not [e for e in first.errors if e.is_internal]


def test_a_function_redefined_in_a_file_only_libcst_parses_keeps_its_return_lines() -> None:
    # `"\N"` is an escape Python 3 refuses, so positions come from libcst for every statement;
    # the two `f` share a qualname and must not share a list of returns.
    source = (
        'import sys\nBAD = "\\N"\n'
        "if sys.platform == 'win32':\n    def f(a):\n        return a\nelse:\n"
        "    def f(a):\n        if a:\n            return 1\n        return 2\n"
    )
    ungated = FileSettings((), collect_facts=True, gating=False)
    result = analyze_text(source, "t.py", ungated, module_path="t.py")
    assert not result.errors
    assert [site.line for site in result.facts.functions["f"].returns] == [9, 10]

"""The second, precise gate: what a file's code (not its comments) can matter to.

The first gate (`Rule.applies_to`) reads the raw text before anything is parsed, so a
credential word in a comment or a docstring, or `from flask import Flask` in a usage
example, opens it. On real code that lets most files through to libcst, which costs
~18 ms per file and our walk ~20 ms more. CPython's `ast.parse` costs ~2 ms and
`authlint.parse` runs it anyway (it screens nesting that would crash libcst), so its tree
is read once more here, in one pass, for `CodeSignals`: the identifiers and string
literals the code really contains, the modules its import statements import, and which
node kinds occur. A rule whose every finding needs, say, an `==` comparison between
values named like credentials states that (`Rule.applies_to_code`), and the files
without one are never handed to libcst.

The signals only ever over-approximate what the libcst walk sees: the same source, every
name and literal but docstrings (no rule reports a docstring). `FileSettings.gating =
False` turns both gates off; tests/test_gating.py and bench/gate_check.py prove that
gating changes no finding and no route.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable

# Node kinds that are no AST class of their own: `f(**kwargs)`, `{**mapping}`, `def f(**kwargs)`.
KWARGS_UNPACK = "KwargsUnpack"
DICT_UNPACK = "DictUnpack"
KWARGS_PARAMETER = "KwargsParameter"

_DEFINITIONS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class CodeSignals:
    """What one file's CPython tree contains, for the gates of rules and adapters."""

    # Every identifier (names, attributes, keyword and parameter names, definitions,
    # imports) and every string or bytes literal except docstrings, one per line.
    words: str
    lowered: str
    # Top-level modules named by the file's import statements (absolute imports only).
    modules: frozenset[str]
    # AST class names that occur (`Compare`, `Eq`, `ExceptHandler`, `Pow`...), plus
    # KWARGS_UNPACK, DICT_UNPACK and KWARGS_PARAMETER.
    kinds: frozenset[str]

    def mentions(self, words: Iterable[str] | None = None, pattern: re.Pattern[str] | None = None) -> bool:
        """Whether a name or literal contains one of the lowercase `words` and matches `pattern`
        (each test skipped when None): a text gate applied to the code alone."""
        if words is not None and not any(word in self.lowered for word in words):
            return False
        return pattern is None or pattern.search(self.words) is not None

    def has_any(self, kinds: Iterable[str]) -> bool:
        return not self.kinds.isdisjoint(kinds)


def code_signals(tree: ast.Module) -> CodeSignals:
    """The signals of a module's tree, in one pass over it."""
    texts: set[str] = set()
    modules: set[str] = set()
    kinds: set[type] = set()
    extra_kinds: set[str] = set()
    docstrings = _docstring_nodes(tree)
    for node in ast.walk(tree):
        kind = type(node)
        kinds.add(kind)
        if kind is ast.Name:
            texts.add(node.id)
        elif kind is ast.Attribute:
            texts.add(node.attr)
        elif kind is ast.Constant:
            value = node.value
            if isinstance(value, str):
                if id(node) not in docstrings:
                    texts.add(value)
            elif isinstance(value, bytes):
                texts.add(value.decode("latin-1"))
        elif kind is ast.keyword:
            if node.arg is None:
                extra_kinds.add(KWARGS_UNPACK)
            else:
                texts.add(node.arg)
        elif kind is ast.Dict:
            if None in node.keys:
                extra_kinds.add(DICT_UNPACK)
        elif kind is ast.arg:
            texts.add(node.arg)
        elif kind is ast.arguments:
            if node.kwarg is not None:
                extra_kinds.add(KWARGS_PARAMETER)
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            texts.add(node.name)
        elif kind is ast.alias:
            texts.add(node.name)
            if node.asname:
                texts.add(node.asname)
        elif kind is ast.Import:
            modules.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif kind is ast.ImportFrom:
            if node.module:
                texts.add(node.module)
                if not node.level:
                    modules.add(node.module.split(".", 1)[0])
        else:
            texts.update(_other_identifiers(node))
    words = "\n".join(texts)
    return CodeSignals(words, words.lower(), frozenset(modules), frozenset(k.__name__ for k in kinds) | extra_kinds)


def _docstring_nodes(tree: ast.Module) -> set[int]:
    """The ids of the docstring constants of the module and every class and function."""
    found: set[int] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        if isinstance(node, _DEFINITIONS) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
        for statement in body:
            stack.append(statement)
            for name in ("orelse", "finalbody", "handlers"):  # definitions nest in any block
                stack.extend(getattr(statement, name, ()) or ())
            stack.extend(getattr(statement, "cases", ()) or ())
    return found


def _other_identifiers(node: ast.AST) -> list[str]:
    """Identifiers of the rarer nodes: `global x`, `except E as e`, `case {**rest}`, `case P(x=1)`."""
    kind = type(node)
    if kind in (ast.Global, ast.Nonlocal):
        return list(node.names)
    if kind is ast.ExceptHandler:
        return [node.name] if node.name else []
    if kind in (ast.MatchAs, ast.MatchStar):
        return [node.name] if node.name else []
    if kind is ast.MatchMapping:
        return [node.rest] if node.rest else []
    if kind is ast.MatchClass:
        return list(node.kwd_attrs)
    return []

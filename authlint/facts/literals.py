"""Static evaluation of constant expressions: what a value is, without running anything.

Follows names to the constants and local values they were assigned, folds simple
arithmetic and string concatenation, and answers UNKNOWN for anything else. Dicts get a
second, partial view (`dict_entries`): keys known even where their values are not, which
is what claim checks need (`{"sub": user.id, "exp": now + delta}`).
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import libcst

from authlint.facts.names import Resolver


class _Unknown:
    _instance = None

    def __new__(cls):  # a singleton that is falsy and prints as UNKNOWN
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

_MAX_DEPTH = 16

# Keyed by libcst class name, so that importing this module does not load libcst (authlint/lazy.py).
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add,
    "Subtract": operator.sub,
    "Multiply": operator.mul,
    "FloorDivide": operator.floordiv,
    "Divide": operator.truediv,
    "Power": operator.pow,
    "BitOr": operator.or_,
}

_NAMED_CONSTANTS = {"True": True, "False": False, "None": None}


class Evaluator:
    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def value(self, expr: libcst.CSTNode | None, _depth: int = 0) -> Any:
        """The constant `expr` evaluates to, or UNKNOWN."""
        if expr is None or _depth > _MAX_DEPTH:
            return UNKNOWN
        handler = _HANDLERS.get(type(expr).__name__)
        if handler is None:
            return UNKNOWN
        try:
            return handler(self, expr, _depth + 1)
        except (ArithmeticError, TypeError, ValueError, OverflowError, MemoryError):
            return UNKNOWN

    def resolve(self, expr: libcst.CSTNode | None, _depth: int = 0) -> libcst.CSTNode | None:
        """Follow a name to the expression last assigned to it (or the expr itself)."""
        while isinstance(expr, libcst.Name) and _depth < _MAX_DEPTH:
            assigned = self._resolver.value_of(expr.value)
            if assigned is None:
                return expr
            expr, _depth = assigned, _depth + 1
        return expr

    def dict_entries(self, expr: libcst.CSTNode | None) -> dict[str, libcst.BaseExpression | None] | None:
        """Keys (and value expressions) of a dict built here, or None when not knowable.

        Counts `{...}` literals, `dict(k=v)`, `{**other}` when `other` is knowable, and keys
        added to a local name afterwards (`d["k"] = v`, `d.update(...)`).
        """
        return self._dict_entries(expr, 0)

    def _dict_entries(self, expr, depth):
        if depth > _MAX_DEPTH:
            return None
        added: dict | None = {}
        if isinstance(expr, libcst.Name):
            added = self._resolver.added_keys(expr.value)
            expr = self._resolver.value_of(expr.value)
        if added is None:
            return None
        if isinstance(expr, libcst.Dict):
            entries = self._literal_dict_entries(expr, depth)
        elif isinstance(expr, libcst.Call) and self._resolver.qualified_name(expr.func) == "dict":
            entries = self._dict_call_entries(expr, depth)
        else:
            return None
        if entries is None:
            return None
        return {**entries, **added}

    def _literal_dict_entries(self, node: libcst.Dict, depth: int):
        entries: dict = {}
        for element in node.elements:
            if isinstance(element, libcst.StarredDictElement):
                inner = self._dict_entries(element.value, depth + 1)
                if inner is None:
                    return None
                entries.update(inner)
                continue
            key = self.value(element.key)
            if not isinstance(key, str):
                return None
            entries[key] = element.value
        return entries

    def _dict_call_entries(self, call: libcst.Call, depth: int):
        entries: dict = {}
        for arg in call.args:
            if arg.keyword is not None:
                entries[arg.keyword.value] = arg.value
                continue
            inner = self._dict_entries(arg.value, depth + 1)
            if inner is None:
                return None
            entries.update(inner)
        return entries


def _string(ev: Evaluator, node, depth):
    return string_value(node)


def subscript_key(node: libcst.Subscript) -> str | None:
    """`"password"` for `form["password"]`, `"DEBUG"` for `app.config["DEBUG"]`; None for any other index."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, libcst.Index):
        return None
    key = node.slice[0].slice.value
    value = string_value(key) if isinstance(key, libcst.SimpleString) else None
    return value if isinstance(value, str) else None


def string_value(node: libcst.SimpleString) -> str | bytes:
    """`node.evaluated_value` without its cost: libcst runs `ast.literal_eval` (a full
    CPython parse) per string, and a file holds thousands; most need only their quotes cut."""
    raw = node.value
    prefix = node.prefix.lower()
    if "b" in prefix or ("\\" in raw and "r" not in prefix):
        try:
            return node.evaluated_value
        except (SyntaxError, ValueError):  # an escape Python 3 refuses (`"\\u12"` in Python 2 code): keep it as written
            pass
    quote = node.quote
    return raw[len(prefix) + len(quote) : len(raw) - len(quote)]


def _concatenated(ev: Evaluator, node: libcst.ConcatenatedString, depth):
    left, right = ev.value(node.left, depth), ev.value(node.right, depth)
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    return left + right


def _number(ev: Evaluator, node, depth):
    return node.evaluated_value


def _name(ev: Evaluator, node: libcst.Name, depth):
    if node.value in _NAMED_CONSTANTS and ev._resolver.lookup(node.value) is None:
        return _NAMED_CONSTANTS[node.value]
    assigned = ev._resolver.value_of(node.value)
    return ev.value(assigned, depth) if assigned is not None else UNKNOWN


def _unary(ev: Evaluator, node: libcst.UnaryOperation, depth):
    operand = ev.value(node.expression, depth)
    if operand is UNKNOWN:
        return UNKNOWN
    if isinstance(node.operator, libcst.Minus):
        return -operand
    if isinstance(node.operator, libcst.Plus):
        return +operand
    if isinstance(node.operator, libcst.Not):
        return not operand
    return UNKNOWN


def _binary(ev: Evaluator, node: libcst.BinaryOperation, depth):
    apply = _BINARY.get(type(node.operator).__name__)
    if apply is None:
        return UNKNOWN
    left, right = ev.value(node.left, depth), ev.value(node.right, depth)
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if _too_large(node.operator, left, right):
        return UNKNOWN
    return apply(left, right)


def _too_large(op: libcst.BaseBinaryOp, left, right) -> bool:
    """Never let a scanned file make authlint compute 10**10**10 or "x" * 10**9."""
    if isinstance(op, libcst.Power):
        return not isinstance(right, (int, float)) or abs(right) > 64
    if isinstance(op, libcst.Multiply):
        sizes = [len(v) for v in (left, right) if isinstance(v, (str, bytes, list, tuple))]
        counts = [v for v in (left, right) if isinstance(v, int)]
        return bool(sizes and counts) and sizes[0] * abs(counts[0]) > 1_000_000
    return False


def _sequence(ev: Evaluator, node, depth):
    items = []
    for element in node.elements:
        if not isinstance(element, libcst.Element):
            return UNKNOWN
        item = ev.value(element.value, depth)
        if item is UNKNOWN:
            return UNKNOWN
        items.append(item)
    if isinstance(node, libcst.Tuple):
        return tuple(items)
    if isinstance(node, libcst.Set):
        return frozenset(items)
    return items


def _dict(ev: Evaluator, node: libcst.Dict, depth):
    entries = ev.dict_entries(node)
    if entries is None:
        return UNKNOWN
    result = {}
    for key, value_expr in entries.items():
        value = ev.value(value_expr, depth)
        if value is UNKNOWN:
            return UNKNOWN
        result[key] = value
    return result


_HANDLERS: dict[str, Callable[[Evaluator, Any, int], Any]] = {
    "SimpleString": _string,
    "ConcatenatedString": _concatenated,
    "Integer": _number,
    "Float": _number,
    "Name": _name,
    "UnaryOperation": _unary,
    "BinaryOperation": _binary,
    "List": _sequence,
    "Tuple": _sequence,
    "Set": _sequence,
    "Dict": _dict,
}

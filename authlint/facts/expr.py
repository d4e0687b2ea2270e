"""Plain-data snapshots of expressions: what outlives a file's libcst tree.

The link phase reasons about decorators, call arguments and assignments of many files at
once, long after their trees are gone (and maybe in another process, or from the cache).
So the per-file phase keeps a small snapshot of each expression it records: names stay
names, tagged with the scope that binds them, so the Project can resolve them across
modules later; anything authlint does not model becomes `Opaque` with its source text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import libcst

from authlint.facts.literals import string_value
from authlint.facts.names import dotted_name


class _Snapshot:
    """Pickled as a constructor call. For frozen slotted dataclasses Python pickles through
    `fields()` on every object, and snapshots are most of what workers send back."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return type(self), tuple(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class Ref(_Snapshot):
    """An imported name: `fastapi.Depends`, or `.deps.get_user` (relative, resolved later)."""

    target: str


@dataclass(frozen=True, slots=True)
class Name(_Snapshot):
    """A name bound in this module; `scope` is the qualified name of the binding function or class ("" = module)."""

    id: str
    scope: str = ""

    @property
    def key(self) -> str:
        return f"{self.scope}.{self.id}" if self.scope else self.id


@dataclass(frozen=True, slots=True)
class Attr(_Snapshot):
    value: Expr
    attr: str


@dataclass(frozen=True, slots=True)
class Call(_Snapshot):
    func: Expr
    args: tuple[Expr, ...] = ()
    kwargs: tuple[tuple[str, Expr], ...] = ()
    # `f(*a)` / `f(**kw)`: arguments authlint cannot see, so "missing" is unknowable
    has_star: bool = False

    def arg(self, keyword: str | None, position: int | None = None) -> Expr | None:
        for name, value in self.kwargs:
            if name == keyword:
                return value
        if position is not None and position < len(self.args):
            return self.args[position]
        return None


@dataclass(frozen=True, slots=True)
class Const(_Snapshot):
    value: str | bytes | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Seq(_Snapshot):
    """A list, tuple or set display."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Mapping(_Snapshot):
    """A dict display; a key of None is a `**spread`."""

    items: tuple[tuple[Expr | None, Expr], ...]

    def get(self, key: str) -> Expr | None:
        for item_key, value in self.items:
            if isinstance(item_key, Const) and item_key.value == key:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Index(_Snapshot):
    """A subscript: `Annotated[User, Depends(get_user)]`."""

    value: Expr
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Opaque(_Snapshot):
    """An expression authlint does not model, as written (shortened)."""

    text: str


Expr = Union[Ref, Name, Attr, Call, Const, Seq, Mapping, Index, Opaque]

# A snapshot is bounded: a 10,000-item literal list is no route table.
_MAX_DEPTH = 10
_MAX_ITEMS = 200
_MAX_TEXT = 80

NameLookup = Callable[[str], "Ref | Name"]


# Expressions whose text is worth generating for an inventory or a message (a path built
# with an f-string); for the rest, code generation cost more than the rest of the facts.
# by libcst class name, so that importing the module does not load libcst (authlint/lazy.py)
_SHOWN_AS_WRITTEN = frozenset({"FormattedString", "BinaryOperation", "ConcatenatedString"})


def opaque_text(node: libcst.CSTNode) -> str:
    """How a snapshot shows an expression it does not model: cheap unless it is worth reading."""
    if type(node).__name__ in _SHOWN_AS_WRITTEN or dotted_name(node) is not None:
        return source_text(node)
    return f"<{type(node).__name__}>"


def source_text(node: libcst.CSTNode) -> str:
    dotted = dotted_name(node)
    if dotted is not None:
        return dotted
    text = libcst.Module(body=[]).code_for_node(node)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


class Snapshotter:
    """Turns libcst expressions into `Expr`, naming each free name through `lookup`."""

    def __init__(self, lookup: NameLookup) -> None:
        self._lookup = lookup

    def __call__(self, node: libcst.CSTNode | None, depth: int = 0) -> Expr | None:
        if node is None:
            return None
        if depth > _MAX_DEPTH:
            return Opaque(opaque_text(node))
        method = getattr(self, "_" + type(node).__name__, None)
        return method(node, depth + 1) if method else Opaque(opaque_text(node))

    def _items(self, nodes, depth: int) -> tuple[Expr, ...]:
        return tuple(self(n, depth) or Opaque("") for n in list(nodes)[:_MAX_ITEMS])

    def _Name(self, node: libcst.Name, depth: int) -> Expr:
        if node.value in ("True", "False", "None"):
            return Const({"True": True, "False": False, "None": None}[node.value])
        return self._lookup(node.value)

    def _Attribute(self, node: libcst.Attribute, depth: int) -> Expr:
        return Attr(self(node.value, depth), node.attr.value)  # type: ignore[arg-type]

    def _Call(self, node: libcst.Call, depth: int) -> Expr:
        args, kwargs, has_star = [], [], False
        for arg in node.args[:_MAX_ITEMS]:
            if arg.star:
                has_star = True
            elif arg.keyword is not None:
                kwargs.append((arg.keyword.value, self(arg.value, depth) or Opaque("")))
            else:
                args.append(self(arg.value, depth) or Opaque(""))
        return Call(self(node.func, depth), tuple(args), tuple(kwargs), has_star)  # type: ignore[arg-type]

    def _SimpleString(self, node: libcst.SimpleString, depth: int) -> Expr:
        return Const(string_value(node))

    def _ConcatenatedString(self, node: libcst.ConcatenatedString, depth: int) -> Expr:
        try:
            value = node.evaluated_value
        except (SyntaxError, ValueError):  # an escape Python 3 refuses, in code only libcst accepts
            value = None
        return Const(value) if value is not None else Opaque(opaque_text(node))

    def _Integer(self, node: libcst.Integer, depth: int) -> Expr:
        return Const(node.evaluated_value)

    def _Float(self, node: libcst.Float, depth: int) -> Expr:
        return Const(node.evaluated_value)

    def _List(self, node, depth: int) -> Expr:
        return Seq(self._items((e.value for e in node.elements if not isinstance(e, libcst.StarredElement)), depth))

    _Tuple = _Set = _List

    def _Dict(self, node: libcst.Dict, depth: int) -> Expr:
        items = []
        for element in node.elements[:_MAX_ITEMS]:
            if isinstance(element, libcst.StarredDictElement):
                items.append((None, self(element.value, depth) or Opaque("")))
            else:
                items.append((self(element.key, depth), self(element.value, depth) or Opaque("")))
        return Mapping(tuple(items))

    def _Subscript(self, node: libcst.Subscript, depth: int) -> Expr:
        items = [e.slice.value for e in node.slice if isinstance(e.slice, libcst.Index)]
        return Index(self(node.value, depth), self._items(items, depth))  # type: ignore[arg-type]


def dotted_expr(dotted: str) -> Expr | None:
    """The snapshot of a dotted name written as text: `crud.get_order` -> Attr(Name("crud"), "get_order")."""
    parts = dotted.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    expr: Expr = Name(parts[0])
    for part in parts[1:]:
        expr = Attr(expr, part)
    return expr


def const_str(expr: Expr | None) -> str | None:
    return expr.value if isinstance(expr, Const) and isinstance(expr.value, str) else None


def written(expr: Expr | None) -> str:
    """How an expression reads in a message: `Depends(get_current_user)`, `users.router`."""
    if isinstance(expr, Ref):  # the imported name, as the code spells it after `from x import name`
        return expr.target.rsplit(".", 1)[-1]
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Attr):
        return f"{written(expr.value)}.{expr.attr}"
    if isinstance(expr, Call):
        inner = ", ".join([written(a) for a in expr.args] + [f"{k}={written(v)}" for k, v in expr.kwargs])
        return f"{written(expr.func)}({inner})"
    if isinstance(expr, Const):
        return repr(expr.value)
    if isinstance(expr, Seq):
        return "[" + ", ".join(written(i) for i in expr.items) + "]"
    if isinstance(expr, Index):
        return f"{written(expr.value)}[{', '.join(written(i) for i in expr.items)}]"
    if isinstance(expr, Opaque):
        return expr.text
    return "..."

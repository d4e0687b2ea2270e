"""One pass over a libcst tree that feeds every visitor at once.

libcst's own `visit` rebuilds every node it passes, which costs most of a second parse.
authlint only reads the tree, so this walks the node dataclasses' fields directly, in
source order, skips whitespace and punctuation, and dispatches `visit_<Node>` /
`leave_<Node>` methods of all visitors from a per-type table built once.

The walk is iterative: a deeply nested expression cannot exhaust Python's stack here.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Iterator, Sequence

import libcst

Handler = Callable[["libcst.CSTNode"], object]

_FORMATTING_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket",
        "leading_lines", "lines_after_decorators", "empty_lines", "header", "footer",
        "trailing_whitespace", "leading_whitespace", "newline", "comma", "semicolon",
        "equal", "colon", "first_colon", "second_colon", "dot", "asynchronous",
        "operator", "trailing_comma", "separator", "star", "posonly_ind",
    }
)  # fmt: skip

# Fields whose dataclass order is not source order.
_SOURCE_ORDER_FIRST = ("decorators",)

_child_fields_by_type: dict[type, tuple[str, ...]] = {}


def _child_fields(node_type: type) -> tuple[str, ...]:
    names = _child_fields_by_type.get(node_type)
    if names is None:
        names = [
            f.name
            for f in dataclasses.fields(node_type)
            if f.name not in _FORMATTING_FIELDS and not f.name.startswith("whitespace")
        ]
        names.sort(key=lambda name: name not in _SOURCE_ORDER_FIRST)
        names = _child_fields_by_type[node_type] = tuple(names)
    return names


def iter_children(node: libcst.CSTNode) -> Iterator[libcst.CSTNode]:
    """The node's code-bearing children in source order."""
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, libcst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, libcst.CSTNode):
                    yield item


class Dispatch:
    """`visit_X` / `leave_X` handlers of a list of visitors, looked up once per node type."""

    def __init__(self, visitors: Sequence[object]) -> None:
        self._visitors = visitors
        self._table: dict[type, tuple[tuple[Handler, ...], tuple[Handler, ...]]] = {}

    def handlers(self, node_type: type) -> tuple[tuple[Handler, ...], tuple[Handler, ...]]:
        entry = self._table.get(node_type)
        if entry is None:
            name = node_type.__name__
            entry = (self._bound(f"visit_{name}"), self._bound(f"leave_{name}"))
            self._table[node_type] = entry
        return entry

    def _bound(self, method: str) -> tuple[Handler, ...]:
        return tuple(h for v in self._visitors if (h := getattr(v, method, None)) is not None)


class _Leave:
    __slots__ = ("node", "handlers")

    def __init__(self, node: libcst.CSTNode, handlers: tuple[Handler, ...]) -> None:
        self.node = node
        self.handlers = handlers


def walk(root: libcst.CSTNode, dispatch: Dispatch) -> None:
    stack: list[object] = [root]
    while stack:
        item = stack.pop()
        if type(item) is _Leave:
            for handler in item.handlers:
                handler(item.node)
            continue
        visits, leaves = dispatch.handlers(type(item))
        for handler in visits:
            handler(item)
        if leaves:
            stack.append(_Leave(item, leaves))
        children = list(iter_children(item))
        children.reverse()
        stack.extend(children)


def walk_nodes(roots: Iterable[libcst.CSTNode]) -> Iterator[libcst.CSTNode]:
    """Every node below `roots` (pre-order), for the facts layer's small local searches."""
    stack = list(roots)
    stack.reverse()
    while stack:
        node = stack.pop()
        yield node
        children = list(iter_children(node))
        children.reverse()
        stack.extend(children)

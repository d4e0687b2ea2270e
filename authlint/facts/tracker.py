"""Keeps the name scopes and the current statement up to date during the walk.

It is the first visitor of every walk (and the last to leave a node), so when a rule's
`visit_Call` runs, the resolver already knows every binding made before that call.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import libcst

from authlint.facts.literals import string_value
from authlint.facts.names import (
    BUILTIN_NAMES,
    UNKNOWN_BINDING,
    Binding,
    Resolver,
    Scope,
    assigned_names,
    bind_statement,
)


class ScopeTracker:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.statements: list[libcst.CSTNode] = []
        self.functions: list[libcst.CSTNode] = []

    # Scopes -----------------------------------------------------------------

    def _push(self, kind: str, node: libcst.CSTNode) -> Scope:
        scope = Scope(kind, node)
        self.resolver.scopes.append(scope)
        return scope

    def _pop(self) -> None:
        self.resolver.scopes.pop()

    def _enter_function(self, node: libcst.FunctionDef | libcst.Lambda) -> None:
        scope = self._push("function", node)
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope.bind(param.name.value, UNKNOWN_BINDING)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, libcst.Param):
                scope.bind(star.name.value, UNKNOWN_BINDING)
        self.functions.append(node)

    def _leave_function(self) -> None:
        self.functions.pop()
        self._pop()

    def visit_FunctionDef(self, node: libcst.FunctionDef) -> None:
        self._enter_statement(node)
        if self.resolver.current.kind != "module":
            self.resolver.current.bind(node.name.value, Binding("definition"))
        self._enter_function(node)

    def leave_FunctionDef(self, node: libcst.FunctionDef) -> None:
        self._leave_function()
        self._leave_statement(node)

    def visit_Lambda(self, node: libcst.Lambda) -> None:
        self._enter_function(node)

    def leave_Lambda(self, node: libcst.Lambda) -> None:
        self._leave_function()

    def visit_ClassDef(self, node: libcst.ClassDef) -> None:
        self._enter_statement(node)
        if self.resolver.current.kind != "module":
            self.resolver.current.bind(node.name.value, Binding("definition"))
        self._push("class", node)

    def leave_ClassDef(self, node: libcst.ClassDef) -> None:
        self._pop()
        self._leave_statement(node)

    # Bindings inside functions and classes (module-level ones are pre-collected) --

    def _bind_locally(self, node: libcst.CSTNode) -> None:
        if self.resolver.current.kind != "module":
            bind_statement(self.resolver.current, node)

    visit_Import = visit_ImportFrom = visit_AugAssign = visit_AnnAssign = _bind_locally

    def visit_Assign(self, node: libcst.Assign) -> None:
        self._bind_locally(node)
        for target in node.targets:
            self._record_subscript_key(target.target, node.value)

    def _bind_unknown(self, target: libcst.CSTNode | None) -> None:
        if target is None or self.resolver.current.kind == "module":
            return
        for name in assigned_names(target):  # type: ignore[arg-type]
            self.resolver.current.bind(name, UNKNOWN_BINDING)

    def visit_For(self, node: libcst.For) -> None:
        self._enter_statement(node)
        self._bind_unknown(node.target)

    def visit_CompFor(self, node: libcst.CompFor) -> None:
        self._bind_unknown(node.target)

    def visit_WithItem(self, node: libcst.WithItem) -> None:
        if node.asname is not None:
            self._bind_unknown(node.asname.name)

    def visit_NamedExpr(self, node: libcst.NamedExpr) -> None:
        if isinstance(node.target, libcst.Name) and self.resolver.current.kind != "module":
            self.resolver.current.bind(node.target.value, Binding("value", value=node.value))

    def visit_ExceptHandler(self, node: libcst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_unknown(node.name.name)

    # Keys added to dicts after they were built ------------------------------
    # A dict that may have gained keys nobody can read becomes opaque, so no rule
    # claims a key is missing from it.

    def _record_subscript_key(self, target: libcst.BaseExpression, value: libcst.BaseExpression) -> None:
        if not (isinstance(target, libcst.Subscript) and isinstance(target.value, libcst.Name)):
            return
        index = target.slice[0].slice if len(target.slice) == 1 else None
        key = _literal_key(index.value) if isinstance(index, libcst.Index) else None
        self._add_key(target.value.value, key, value)

    def _add_key(self, name: str, key: str | None, value: libcst.BaseExpression | None) -> None:
        scope = self.resolver.binding_scope(name)
        if scope is None:
            return
        if key is None:
            scope.opaque.add(name)
        else:
            scope.added_keys.setdefault(name, {})[key] = value

    def visit_Call(self, node: libcst.Call) -> None:
        func = node.func
        if isinstance(func, libcst.Attribute) and isinstance(func.value, libcst.Name):
            self._record_method_keys(func.value.value, func.attr.value, node.args)

    def _record_method_keys(self, name: str, method: str, args: Sequence[libcst.Arg]) -> None:
        if method == "setdefault":
            key = _literal_key(args[0].value) if args else None
            self._add_key(name, key, args[1].value if len(args) > 1 else None)
        elif method == "update":
            for arg in args:
                for key, value in _update_entries(arg):
                    self._add_key(name, key, value)

    def leave_Call(self, node: libcst.Call) -> None:
        """A dict handed to a function may come back with keys added (`add_expiry(payload)`).

        On leaving, so the rules looking at this very call still see the dict as it was.
        """
        handed_on = [arg.value.value for arg in node.args if not arg.star and isinstance(arg.value, libcst.Name)]
        if not handed_on or self.resolver.qualified_name(node.func) in BUILTIN_NAMES:
            return  # len(d), print(d), dict(d) do not add keys
        for name in handed_on:
            self._add_key(name, None, None)

    # The statement each finding belongs to (for suppression comments) -------

    def _enter_statement(self, node: libcst.CSTNode) -> None:
        self.statements.append(node)

    def _leave_statement(self, node: libcst.CSTNode) -> None:
        self.statements.pop()

    visit_SimpleStatementLine = visit_If = visit_While = visit_With = _enter_statement
    visit_Try = visit_TryStar = visit_Match = _enter_statement
    leave_SimpleStatementLine = leave_If = leave_While = leave_With = _leave_statement
    leave_Try = leave_TryStar = leave_Match = leave_For = _leave_statement


def _literal_key(node: libcst.CSTNode) -> str | None:
    value = string_value(node) if isinstance(node, libcst.SimpleString) else None
    return value if isinstance(value, str) else None


def _update_entries(arg: libcst.Arg) -> Iterator[tuple[str | None, libcst.BaseExpression | None]]:
    """(key, value) pairs `d.update(arg)` adds; a None key where they cannot be read."""
    if arg.keyword is not None:
        yield arg.keyword.value, arg.value
    elif arg.star or not isinstance(arg.value, libcst.Dict):
        yield None, None
    else:
        for element in arg.value.elements:
            key = _literal_key(element.key) if isinstance(element, libcst.DictElement) else None
            yield key, element.value

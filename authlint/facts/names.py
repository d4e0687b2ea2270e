"""Name resolution from a module's own statements: imports, assignments, definitions.

This replaces libcst's ScopeProvider + QualifiedNameProvider (7x the cost of a parse)
with what a linter actually needs: which import, constant or local value a name refers
to at the point the walk has reached. Module-level bindings are collected up front from
the module's top-level statements (so a function may use a constant defined below it);
function and class scopes are pushed and filled in source order during the walk.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import libcst

BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class Binding:
    """What a name refers to. `kind` is "import", "value", "definition" or "unknown"."""

    kind: str
    qualified: str | None = None  # for imports: the dotted name imported
    value: libcst.BaseExpression | None = None  # for values: the expression assigned


UNKNOWN_BINDING = Binding("unknown")


@dataclass
class Scope:
    kind: str  # "module", "function", "class"
    node: libcst.CSTNode | None = None
    bindings: dict[str, Binding] = field(default_factory=dict)
    # name -> {key: value expression} for `d["k"] = v`, `d.update(k=v)`, ...
    added_keys: dict[str, dict[str, libcst.BaseExpression | None]] = field(default_factory=dict)
    # names whose dict may have gained keys nobody can read (`d.update(other)`, `helper(d)`)
    opaque: set[str] = field(default_factory=set)
    # names bound more than once so far (parameters included): which binding holds depends on the path taken
    rebound: set[str] = field(default_factory=set)

    def bind(self, name: str, binding: Binding) -> None:
        if name in self.bindings:
            self.rebound.add(name)
        self.bindings[name] = binding
        self.added_keys.pop(name, None)
        self.opaque.discard(name)


def dotted_name(expr: libcst.CSTNode) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(expr, libcst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, libcst.Name):
        return None
    parts.append(expr.value)
    return ".".join(reversed(parts))


def call_label(call: libcst.Call) -> str:
    """How a message names a call: `requests.get()`, `app.run()`."""
    return f"{dotted_name(call.func) or 'the call'}()"


def _module_name(node: libcst.BaseExpression | None) -> str:
    return dotted_name(node) or "" if node is not None else ""


def import_bindings(node: libcst.Import | libcst.ImportFrom) -> Iterator[tuple[str, Binding]]:
    """The names an import statement binds, with the dotted names they refer to."""
    if isinstance(node, libcst.Import):
        for alias in node.names:
            full = _module_name(alias.name)
            if alias.asname is not None:
                yield _asname(alias), Binding("import", full)
            else:
                head = full.split(".", 1)[0]
                yield head, Binding("import", head)
        return
    if isinstance(node.names, libcst.ImportStar):
        return
    module = "." * len(node.relative) + _module_name(node.module)
    for alias in node.names:
        name = _module_name(alias.name)
        target = f"{module}.{name}" if not module.endswith(".") else f"{module}{name}"
        yield (_asname(alias) if alias.asname is not None else name), Binding("import", target)


def _asname(alias: libcst.ImportAlias) -> str:
    assert alias.asname is not None
    return _module_name(alias.asname.name)  # type: ignore[arg-type]


def assigned_names(target: libcst.BaseExpression) -> Iterator[str]:
    """Plain names bound by an assignment target (through tuples and starred targets)."""
    if isinstance(target, libcst.Name):
        yield target.value
    elif isinstance(target, (libcst.Tuple, libcst.List)):
        for element in target.elements:
            yield from assigned_names(element.value)
    elif isinstance(target, libcst.StarredElement):
        yield from assigned_names(target.value)


def bind_statement(scope: Scope, stmt: libcst.CSTNode) -> None:
    """Record what one small or compound statement binds in `scope`."""
    if isinstance(stmt, (libcst.Import, libcst.ImportFrom)):
        for name, binding in import_bindings(stmt):
            scope.bind(name, binding)
    elif isinstance(stmt, libcst.Assign):
        single = len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, libcst.Name)
        for target in stmt.targets:
            for name in assigned_names(target.target):
                scope.bind(name, Binding("value", value=stmt.value) if single else UNKNOWN_BINDING)
    elif isinstance(stmt, libcst.AnnAssign) and isinstance(stmt.target, libcst.Name):
        value = stmt.value
        scope.bind(stmt.target.value, Binding("value", value=value) if value else UNKNOWN_BINDING)
    elif isinstance(stmt, libcst.AugAssign) and isinstance(stmt.target, libcst.Name):
        scope.bind(stmt.target.value, UNKNOWN_BINDING)
    elif isinstance(stmt, (libcst.FunctionDef, libcst.ClassDef)):
        scope.bind(stmt.name.value, Binding("definition"))


def _top_level_statements(body: Iterable[libcst.CSTNode]) -> Iterator[libcst.CSTNode]:
    """Module-level statements, looking inside `if`/`try`/`with` blocks but not defs."""
    for stmt in body:
        if isinstance(stmt, libcst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, (libcst.If, libcst.Try, libcst.TryStar, libcst.With)):
            yield from _top_level_statements(_blocks_of(stmt))
        else:
            yield stmt


def _blocks_of(stmt: libcst.CSTNode) -> Iterator[libcst.CSTNode]:
    """Statements of every block directly inside a compound statement, in source order."""
    blocks = [getattr(stmt, "body", None)]
    blocks += list(getattr(stmt, "handlers", ()))
    blocks += [getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)]
    for block in blocks:
        while isinstance(block, (libcst.Else, libcst.Finally, libcst.ExceptHandler, libcst.ExceptStarHandler)):
            block = block.body
        if isinstance(block, libcst.If):  # elif
            yield block
        elif isinstance(block, libcst.IndentedBlock):
            yield from block.body
        elif isinstance(block, libcst.SimpleStatementSuite):
            yield libcst.SimpleStatementLine(body=block.body)


def module_scope(module: libcst.Module) -> Scope:
    scope = Scope("module", module)
    for stmt in _top_level_statements(module.body):
        bind_statement(scope, stmt)
    return scope


class Resolver:
    """Resolves names against the scope stack the walk maintains."""

    _MAX_DEPTH = 12

    def __init__(self, module: libcst.Module) -> None:
        self.scopes: list[Scope] = [module_scope(module)]

    @property
    def module_scope(self) -> Scope:
        return self.scopes[0]

    @property
    def current(self) -> Scope:
        return self.scopes[-1]

    def lookup(self, name: str) -> Binding | None:
        """The binding visible here; class bodies are invisible from their methods."""
        innermost = len(self.scopes) - 1
        for index in range(innermost, -1, -1):
            scope = self.scopes[index]
            if scope.kind == "class" and index != innermost:
                continue
            binding = scope.bindings.get(name)
            if binding is not None:
                return binding
        return None

    def added_keys(self, name: str) -> dict[str, libcst.BaseExpression | None] | None:
        """Keys added to the dict `name` since it was built; None once unseen keys may have been."""
        scope = self.binding_scope(name)
        if scope is None:
            return {}
        return None if name in scope.opaque else scope.added_keys.get(name, {})

    def binding_scope(self, name: str) -> Scope | None:
        for scope in reversed(self.scopes):
            if name in scope.bindings:
                return scope
        return None

    def bound_once(self, name: str) -> bool:
        """Whether `name` has had one binding in its scope so far, so its value is certain, not
        just the last one assigned (`key = None` / `if c: key = "x"` leaves `key` either)."""
        scope = self.binding_scope(name)
        return scope is not None and name not in scope.rebound

    def value_of(self, name: str) -> libcst.BaseExpression | None:
        binding = self.lookup(name)
        return binding.value if binding is not None and binding.kind == "value" else None

    def qualified_name(self, expr: libcst.CSTNode, _depth: int = 0) -> str | None:
        """The dotted name an expression refers to through imports and simple aliases.

        `pyjwt.decode` with `import jwt as pyjwt` is `jwt.decode`; a name bound to a call
        result gets `()`: `jwt = JsonWebToken([...])` makes `jwt.decode` resolve to
        `authlib.jose.JsonWebToken().decode`. Local functions, parameters and unknown
        names resolve to None, so a local `decode()` never looks like `jwt.decode()`.
        """
        if _depth > self._MAX_DEPTH:
            return None
        if isinstance(expr, libcst.Name):
            return self._qualify_name(expr.value, _depth)
        if isinstance(expr, libcst.Attribute):
            base = self.qualified_name(expr.value, _depth + 1)
            return f"{base}.{expr.attr.value}" if base else None
        if isinstance(expr, libcst.Call):
            func = self.qualified_name(expr.func, _depth + 1)
            return f"{func}()" if func else None
        return None

    def _qualify_name(self, name: str, depth: int) -> str | None:
        binding = self.lookup(name)
        if binding is None:
            return name if name in BUILTIN_NAMES else None
        if binding.kind == "import":
            return binding.qualified
        if binding.kind == "value" and isinstance(
            binding.value, (libcst.Name, libcst.Attribute, libcst.Call)
        ):
            return self.qualified_name(binding.value, depth + 1)
        return None

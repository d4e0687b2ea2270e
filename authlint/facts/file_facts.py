"""FileFacts: what the link phase needs to know of one file, as plain data.

One statement-level pass over a parsed file records its imports, its functions and
classes (decorators, parameters, base classes, class attributes), the assignments and
the method calls made at statement level in every scope. Expressions are kept as
`facts.expr` snapshots, so FileFacts pickle across processes and outlive the tree.

Lines come from CPython's `ast` tree, which the parse step builds anyway to screen the
source: each libcst statement is paired with its `ast` twin, so no libcst position
metadata is computed. A file only libcst can parse (newer grammar than the running
Python) falls back to authlint's lazy position replay.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import libcst

from authlint.facts.expr import Call, Expr, Name, Opaque, Ref, Seq, Snapshotter
from authlint.facts.names import UNKNOWN_BINDING, Scope, assigned_names, bind_statement
from authlint.model import Span
from authlint.positions import resolve_spans

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")


@dataclass(frozen=True)
class Param:
    name: str
    annotation: Expr | None = None
    default: Expr | None = None
    kind: str = "positional"  # "positional", "keyword", "*args", "**kwargs"


@dataclass(frozen=True)
class ReturnSite:
    """A `return` statement of a function: what it returns (`await` unwrapped) and where."""

    value: Expr | None
    line: int
    source_line: str


@dataclass
class FunctionFacts:
    name: str
    qualname: str  # "create_app.index", "UserView.get"
    scope: str  # qualname of the enclosing function or class; "" at module level
    line: int
    column: int
    source_line: str
    is_async: bool = False
    decorators: tuple[Expr, ...] = ()
    params: tuple[Param, ...] = ()
    # Facts about the body, filled by body collectors (see facts.body); plain data.
    body: dict = field(default_factory=dict)
    return_annotation: Expr | None = None  # `-> UserOut`
    returns: list[ReturnSite] = field(default_factory=list)  # its own `return` statements, in order

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass
class ClassFacts:
    name: str
    qualname: str
    scope: str
    line: int
    column: int
    source_line: str
    bases: tuple[Expr, ...] = ()
    decorators: tuple[Expr, ...] = ()
    attributes: dict[str, Expr] = field(default_factory=dict)
    methods: tuple[str, ...] = ()  # method names, in order; FileFacts.functions["Cls.name"]
    # Annotated class-level names, with or without a value: `hashed_password: Mapped[str]`, `email: str`.
    annotations: dict[str, Expr] = field(default_factory=dict)
    keywords: tuple[tuple[str, Expr], ...] = ()  # class keywords: `class Hero(SQLModel, table=True)`


@dataclass(frozen=True)
class CallSite:
    """A method call made as a statement: `app.include_router(users.router, prefix="/users")`."""

    call: Call
    scope: str
    line: int


@dataclass
class FileFacts:
    path: str
    module: str  # dotted module name, from the path
    is_package: bool  # an __init__.py: relative imports resolve against the module itself
    imports: dict[str, str] = field(default_factory=dict)  # module-level: local name -> dotted target
    assignments: dict[str, Expr] = field(default_factory=dict)  # Name.key -> value
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    assignment_lines: dict[str, int] = field(default_factory=dict)
    # The source line each module- or class-level assignment starts on, for findings reported there.
    assignment_sources: dict[str, str] = field(default_factory=dict)
    # Module-level names built from several values, `urlpatterns = [...] + router.urls` or
    # `urlpatterns += router.urls`: every operand in order (the merged value may be opaque).
    operands: dict[str, list[Expr]] = field(default_factory=dict)
    # Plain function calls made as a statement that hand over a name: `setup_routes(app)`.
    function_calls: list[CallSite] = field(default_factory=list)
    # The file's suppression comments (authlint.suppress.SuppressionTable), for project findings.
    suppressions: Any = None


def module_name(path: str) -> tuple[str, bool]:
    """`app/routes/users.py` -> ("app.routes.users", False); `app/__init__.py` -> ("app", True)."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if not parts:
        return "", False
    last = parts[-1]
    for suffix in (".pyi", ".py"):
        if last.endswith(suffix):
            last = last[: -len(suffix)]
            break
    is_package = last == "__init__"
    parts = parts[:-1] if is_package else [*parts[:-1], last]
    return ".".join(parts), is_package


class _Scopes:
    """The chain of scopes a name is looked up in while snapshotting, innermost last."""

    def __init__(self, module_scope: Scope) -> None:
        self.chain: list[tuple[str, Scope]] = [("", module_scope)]

    def lookup(self, name: str) -> Ref | Name:
        innermost = len(self.chain) - 1
        for index in range(innermost, -1, -1):
            qualname, scope = self.chain[index]
            if scope.kind == "class" and index != innermost:
                continue
            binding = scope.bindings.get(name)
            if binding is None:
                continue
            if binding.kind == "import" and binding.qualified:
                return Ref(binding.qualified)
            return Name(name, qualname)
        return Name(name, "")


class FactsCollector:
    def __init__(
        self, path: str, module: libcst.Module, module_scope: Scope, tree: ast.Module | None, lines: Sequence[str]
    ) -> None:
        name, is_package = module_name(path)
        self.facts = FileFacts(path, name, is_package)
        self._module = module
        self._tree = tree
        self._lines = lines
        self._scopes = _Scopes(module_scope)
        self.snapshot = Snapshotter(self._scopes.lookup)
        # Statements whose position the ast tree could not give: resolved in one lazy replay.
        self._unplaced: list[tuple[libcst.CSTNode, object]] = []
        # libcst FunctionDef/ClassDef node -> its facts, for body collectors.
        self.by_node: dict[int, FunctionFacts | ClassFacts] = {}
        self._annotations: dict[str, Expr] = {}  # Name.key -> annotation, for class-level names

    def collect(self) -> FileFacts:
        for name, binding in self._scopes.chain[0][1].bindings.items():
            if binding.kind == "import" and binding.qualified:
                self.facts.imports[name] = binding.qualified
        self._block(self._module.body, self._tree.body if self._tree else None, "")
        self._place_unplaced()
        return self.facts

    # Statements -------------------------------------------------------------

    def _block(self, body: Sequence[libcst.CSTNode], twins: list | None, scope: str) -> None:
        for stmt, twin in _paired_statements(body, twins):
            if isinstance(stmt, libcst.FunctionDef):
                self._function(stmt, twin, scope)
            elif isinstance(stmt, libcst.ClassDef):
                self._class(stmt, twin, scope)
            elif isinstance(stmt, (libcst.Assign, libcst.AnnAssign, libcst.AugAssign)):
                self._assignment(stmt, twin, scope)
            elif isinstance(stmt, libcst.Expr) and isinstance(stmt.value, libcst.Call):
                self._call_statement(stmt.value, twin, scope)
            elif isinstance(stmt, libcst.Return) and scope in self.facts.functions:
                self._return(stmt, twin, self.facts.functions[scope])

    def _function(self, node: libcst.FunctionDef, twin: ast.AST | None, scope: str) -> None:
        qualname = f"{scope}.{node.name.value}" if scope else node.name.value
        facts = FunctionFacts(
            name=node.name.value,
            qualname=qualname,
            scope=scope,
            line=0,
            column=0,
            source_line="",
            is_async=node.asynchronous is not None,
            decorators=tuple(self.snapshot(d.decorator) for d in node.decorators),  # type: ignore[misc]
            params=self._params(node.params),
            return_annotation=self.snapshot(node.returns.annotation) if node.returns else None,
        )
        self._place(facts, node, twin)
        self.facts.functions[qualname] = facts
        self.by_node[id(node)] = facts
        self._enter(qualname, _function_scope(node))
        self._block(_body(node), getattr(twin, "body", None), qualname)
        self._scopes.chain.pop()

    def _class(self, node: libcst.ClassDef, twin: ast.AST | None, scope: str) -> None:
        qualname = f"{scope}.{node.name.value}" if scope else node.name.value
        facts = ClassFacts(
            name=node.name.value,
            qualname=qualname,
            scope=scope,
            line=0,
            column=0,
            source_line="",
            bases=tuple(self.snapshot(b.value) for b in node.bases if b.keyword is None and not b.star),  # type: ignore[misc]
            decorators=tuple(self.snapshot(d.decorator) for d in node.decorators),  # type: ignore[misc]
            keywords=tuple(
                (k.keyword.value, self.snapshot(k.value) or Opaque("")) for k in node.keywords if k.keyword is not None
            ),
        )
        self._place(facts, node, twin)
        self.facts.classes[qualname] = facts
        self.by_node[id(node)] = facts
        class_scope = Scope("class", node)
        for stmt in _statements_of(_body(node)):
            bind_statement(class_scope, stmt)
        self._enter(qualname, class_scope)
        self._block(_body(node), getattr(twin, "body", None), qualname)
        self._scopes.chain.pop()
        facts.methods = tuple(
            f.name for f in self.facts.functions.values() if f.scope == qualname
        )
        prefix = qualname + "."
        facts.attributes = {
            key[len(prefix):]: value
            for key, value in self.facts.assignments.items()
            if key.startswith(prefix) and "." not in key[len(prefix):]
        }
        facts.annotations = {
            key[len(prefix):]: value
            for key, value in self._annotations.items()
            if key.startswith(prefix) and "." not in key[len(prefix):]
        }

    def _enter(self, qualname: str, scope: Scope) -> None:
        self._scopes.chain.append((qualname, scope))

    def _params(self, params: libcst.Parameters) -> tuple[Param, ...]:
        out = []
        for kind, group in (("positional", (*params.posonly_params, *params.params)), ("keyword", params.kwonly_params)):
            for p in group:
                annotation = self.snapshot(p.annotation.annotation) if p.annotation else None
                out.append(Param(p.name.value, annotation, self.snapshot(p.default), kind))
        for kind, star in (("*args", params.star_arg), ("**kwargs", params.star_kwarg)):
            if isinstance(star, libcst.Param):
                out.append(Param(star.name.value, kind=kind))
        return tuple(out)

    def _assignment(self, node: libcst.CSTNode, twin: ast.AST | None, scope: str) -> None:
        if isinstance(node, libcst.AnnAssign) and isinstance(node.target, libcst.Name) and scope in self.facts.classes:
            self._annotations[Name(node.target.value, scope).key] = self.snapshot(node.annotation.annotation) or Opaque("")
        value = self.snapshot(node.value) if getattr(node, "value", None) is not None else None  # type: ignore[attr-defined]
        if value is None:
            return
        targets = [t.target for t in node.targets] if isinstance(node, libcst.Assign) else [node.target]  # type: ignore[attr-defined]
        for target in targets:
            if not isinstance(target, libcst.Name):
                continue
            key = Name(target.value, scope).key
            if not scope:
                self._operands(node, key, value)
            if isinstance(node, libcst.AugAssign):
                value = _augmented(self.facts.assignments.get(key), value)
            self.facts.assignments[key] = value
            line = getattr(twin, "lineno", 0)
            self.facts.assignment_lines[key] = line
            if line and (not scope or scope in self.facts.classes):
                self.facts.assignment_sources[key] = self._line_text(line)
            if not line:
                self._unplaced.append((node, ("assignment", key)))

    def _operands(self, node: libcst.CSTNode, key: str, value: Expr) -> None:
        """`x = a + b` and `x += c` at module level: keep each operand, as the sum may be opaque."""
        if isinstance(node, libcst.AugAssign):
            if not isinstance(node.operator, libcst.AddAssign):
                self.facts.operands.pop(key, None)
                return
            previous = self.facts.assignments.get(key)
            start = self.facts.operands.get(key) or ([previous] if previous is not None else [])
            self.facts.operands[key] = [*start, value]
            return
        added = _sum_operands(node.value)  # type: ignore[attr-defined]
        if len(added) > 1:
            self.facts.operands[key] = [self.snapshot(o) or Opaque("") for o in added]  # type: ignore[misc]
        else:
            self.facts.operands.pop(key, None)

    def _return(self, node: libcst.Return, twin: ast.AST | None, function: FunctionFacts) -> None:
        value = node.value.expression if isinstance(node.value, libcst.Await) else node.value
        line = getattr(twin, "lineno", 0)
        function.returns.append(ReturnSite(self.snapshot(value), line, self._line_text(line)))
        if not line:
            # the function itself, not its qualname: a redefined function (`if win32: def f` / `else: def f`) shares one
            self._unplaced.append((node, ("return", function, len(function.returns) - 1)))

    def _call_statement(self, node: libcst.Call, twin: ast.AST | None, scope: str) -> None:
        if isinstance(node.func, libcst.Name) and any(isinstance(a.value, libcst.Name) for a in node.args):
            self._function_call(node, twin, scope)
        # `limiter.limit("5/minute")(bp)`: a decorator applied by hand is a call of a method call
        applied = isinstance(node.func, libcst.Call) and isinstance(node.func.func, libcst.Attribute)
        if not isinstance(node.func, libcst.Attribute) and not applied:
            return
        call = self.snapshot(node)
        assert isinstance(call, Call)
        site = CallSite(call, scope, getattr(twin, "lineno", 0))
        self.facts.calls.append(site)
        if not site.line:
            self._unplaced.append((node, ("call", len(self.facts.calls) - 1)))

    def _function_call(self, node: libcst.Call, twin: ast.AST | None, scope: str) -> None:
        call = self.snapshot(node)
        assert isinstance(call, Call)
        site = CallSite(call, scope, getattr(twin, "lineno", 0))
        self.facts.function_calls.append(site)
        if not site.line:
            self._unplaced.append((node, ("function_call", len(self.facts.function_calls) - 1)))

    # Positions --------------------------------------------------------------

    def _place(self, facts: FunctionFacts | ClassFacts, node: libcst.CSTNode, twin: ast.AST | None) -> None:
        if isinstance(twin, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            facts.line = twin.lineno
            facts.source_line = self._line_text(twin.lineno)
            facts.column = len(facts.source_line.encode("utf-8")[: twin.col_offset].decode("utf-8", "replace")) + 1
        else:
            self._unplaced.append((node.name, facts))  # type: ignore[attr-defined]

    def _line_text(self, line: int) -> str:
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""

    def _place_unplaced(self) -> None:
        if not self._unplaced:
            return
        spans: dict[int, Span] = resolve_spans(self._module, [node for node, _ in self._unplaced])
        for node, target in self._unplaced:
            span = spans[id(node)]
            if isinstance(target, (FunctionFacts, ClassFacts)):
                target.line, target.column, target.source_line = span.line, 1, self._line_text(span.line)
            elif target[0] == "assignment":  # type: ignore[index]
                self.facts.assignment_lines[target[1]] = span.line  # type: ignore[index]
            elif target[0] == "return":  # type: ignore[index]
                returns = target[1].returns  # type: ignore[index]
                site = returns[target[2]]  # type: ignore[index, misc]
                returns[target[2]] = ReturnSite(site.value, span.line, self._line_text(span.line))  # type: ignore[index]
            else:
                index = target[1]  # type: ignore[index]
                sites = self.facts.function_calls if target[0] == "function_call" else self.facts.calls  # type: ignore[index]
                site = sites[index]
                sites[index] = CallSite(site.call, site.scope, span.line)


def _sum_operands(expr: libcst.BaseExpression) -> list[libcst.BaseExpression]:
    if isinstance(expr, libcst.BinaryOperation) and isinstance(expr.operator, libcst.Add):
        return [*_sum_operands(expr.left), *_sum_operands(expr.right)]
    return [expr]


def _augmented(previous: Expr | None, added: Expr) -> Expr:
    if isinstance(previous, Seq) and isinstance(added, Seq):
        return Seq(previous.items + added.items)
    return Opaque("(augmented)")


def _body(node: libcst.FunctionDef | libcst.ClassDef) -> Sequence[libcst.CSTNode]:
    body = node.body
    if isinstance(body, libcst.SimpleStatementSuite):
        return [libcst.SimpleStatementLine(body=body.body)]
    return body.body


def _statements_of(body: Sequence[libcst.CSTNode]) -> Iterator[libcst.CSTNode]:
    for stmt, _ in _paired_statements(body, None):
        yield stmt


def _function_scope(node: libcst.FunctionDef) -> Scope:
    scope = Scope("function", node)
    params = node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        scope.bind(param.name.value, UNKNOWN_BINDING)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, libcst.Param):
            scope.bind(star.name.value, UNKNOWN_BINDING)
    for stmt in _statements_of(_body(node)):
        bind_statement(scope, stmt)
        if isinstance(stmt, libcst.For):
            for name in assigned_names(stmt.target):
                scope.bind(name, UNKNOWN_BINDING)
    return scope


# Pairing libcst statements with their CPython ast twins --------------------------


def _paired_statements(body: Sequence[libcst.CSTNode], twins: list | None) -> Iterator[tuple[libcst.CSTNode, ast.AST | None]]:
    """Small and compound statements of a block in order, each with its ast twin (or None).

    Looks inside if/try/with/for/while blocks, not inside defs and classes.
    """
    index = 0
    for stmt in body:
        if isinstance(stmt, libcst.SimpleStatementLine):
            for small in stmt.body:
                yield small, _twin(twins, index)
                index += 1
            continue
        twin = _twin(twins, index)
        index += 1
        if isinstance(stmt, (libcst.FunctionDef, libcst.ClassDef)):
            yield stmt, twin
            continue
        yield stmt, twin
        for block, twin_block in _nested_blocks(stmt, twin):
            yield from _paired_statements(block, twin_block)


def _twin(twins: list | None, index: int) -> ast.AST | None:
    return twins[index] if twins is not None and index < len(twins) else None


def _nested_blocks(stmt: libcst.CSTNode, twin: ast.AST | None) -> Iterator[tuple[Sequence[libcst.CSTNode], list | None]]:
    if isinstance(stmt, (libcst.If, libcst.For, libcst.While, libcst.With, libcst.Try, libcst.TryStar)):
        yield _suite(stmt.body), getattr(twin, "body", None)
    if isinstance(stmt, (libcst.Try, libcst.TryStar)):
        twin_handlers = getattr(twin, "handlers", None)
        for i, handler in enumerate(stmt.handlers):
            twin_handler = twin_handlers[i] if twin_handlers is not None and i < len(twin_handlers) else None
            yield _suite(handler.body), getattr(twin_handler, "body", None)
    orelse = getattr(stmt, "orelse", None)
    twin_orelse = getattr(twin, "orelse", None)
    if isinstance(orelse, libcst.If):  # elif: the ast keeps it as the only statement of orelse
        yield [orelse], twin_orelse
    elif isinstance(orelse, libcst.Else):
        yield _suite(orelse.body), twin_orelse
    finalbody = getattr(stmt, "finalbody", None)
    if finalbody is not None:
        yield _suite(finalbody.body), getattr(twin, "finalbody", None)


def _suite(block: libcst.BaseSuite) -> Sequence[libcst.CSTNode]:
    if isinstance(block, libcst.SimpleStatementSuite):
        return [libcst.SimpleStatementLine(body=block.body)]
    return block.body  # type: ignore[return-value]


_FROM_IMPORT = re.compile(r"^from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*(?:\\\n[^\n#;]*)*)", re.M)
_PLAIN_IMPORT = re.compile(r"^import[ \t]+([^\n#;]+)", re.M)


def import_facts(path: str, text: str) -> FileFacts:
    """Facts of a file that is not worth parsing: its module-level imports, read from the text.

    A package's `__init__.py` that only re-exports (`from .deps import get_user`) matters to
    name resolution across modules, yet imports nothing that would make it worth parsing.
    """
    name, is_package = module_name(path)
    facts = FileFacts(path, name, is_package)
    for match in _FROM_IMPORT.finditer(text):
        source = match.group(1)
        for alias in match.group(2).strip("()").replace("\\\n", " ").split(","):
            words = alias.split()
            if not words or words[0] == "*":
                continue
            local = words[2] if len(words) == 3 and words[1] == "as" else words[0]
            facts.imports[local] = f"{source}{words[0]}" if source.endswith(".") else f"{source}.{words[0]}"
    for match in _PLAIN_IMPORT.finditer(text):
        for alias in match.group(1).split(","):
            words = alias.split()
            if len(words) == 3 and words[1] == "as":
                facts.imports[words[2]] = words[0]
            elif words:
                facts.imports[words[0].split(".")[0]] = words[0].split(".")[0]
    return facts


# For body collectors that place their findings on statement lines (facts.data_access).
paired_statements = _paired_statements
function_body = _body

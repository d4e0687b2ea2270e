"""What a file rule sees of the file it is looking at: facts to query and a way to report.

One FileContext per file. Every fact is computed once per file (or once per node, then
cached) however many rules ask for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import libcst

from authlint.facts.calls import CallArguments, call_arguments
from authlint.facts.literals import Evaluator
from authlint.facts.names import Resolver
from authlint.facts.tracker import ScopeTracker
from authlint.model import Severity
from authlint.walk import walk_nodes

if TYPE_CHECKING:
    from authlint.rule import FileRule

T = TypeVar("T")


@dataclass(frozen=True)
class PendingFinding:
    rule: FileRule
    node: libcst.CSTNode
    statement: libcst.CSTNode | None
    message: str
    severity: Severity
    fix: Any = None  # an authlint.fix.FixSource


class FileContext:
    def __init__(self, path: str, module: libcst.Module, imported_modules: frozenset[str]) -> None:
        self.path = path
        self.module = module
        self.imported_modules = imported_modules
        self.resolver = Resolver(module)
        self.evaluator = Evaluator(self.resolver)
        self.tracker = ScopeTracker(self.resolver)
        self.pending: list[PendingFinding] = []
        self._cache: dict[tuple[str, int], Any] = {}

    # Names and values -------------------------------------------------------

    def qualified_name(self, expr: libcst.CSTNode) -> str | None:
        """`jwt.decode` for `pyjwt.decode` under `import jwt as pyjwt`; None if not an import."""
        return self.resolver.qualified_name(expr)

    def literal(self, expr: libcst.CSTNode | None) -> Any:
        """The constant value of `expr`, following names; `facts.literals.UNKNOWN` if not constant."""
        return self.evaluator.value(expr)

    def resolve(self, expr: libcst.CSTNode | None) -> libcst.CSTNode | None:
        """The expression a name was last assigned (itself when not a known name)."""
        return self.evaluator.resolve(expr)

    def dict_entries(self, expr: libcst.CSTNode | None) -> dict[str, libcst.BaseExpression | None] | None:
        """Keys and value expressions of a dict built in this file, or None if unknowable."""
        return self.evaluator.dict_entries(expr)

    def arguments(self, call: libcst.Call) -> CallArguments:
        return self.cached("arguments", call, lambda: call_arguments(call, self.evaluator))

    # Where the walk is ------------------------------------------------------

    @property
    def enclosing_function(self) -> libcst.FunctionDef | libcst.Lambda | None:
        return self.tracker.functions[-1] if self.tracker.functions else None  # type: ignore[return-value]

    def nodes_in(self, node: libcst.CSTNode) -> list[libcst.CSTNode]:
        """Every node below `node` (cached): for a rule's look across one function body."""
        return self.cached("nodes_in", node, lambda: list(walk_nodes([node])))

    # Caching and reporting --------------------------------------------------

    def cached(self, kind: str, node: libcst.CSTNode, compute: Callable[[], T]) -> T:
        key = (kind, id(node))
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def report(self, rule: FileRule, node: libcst.CSTNode, message: str, severity: Severity, fix: Any = None) -> None:
        statement = self.tracker.statements[-1] if self.tracker.statements else None
        self.pending.append(PendingFinding(rule, node, statement, message, severity, fix))

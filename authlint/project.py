"""The link phase's view of the whole project: every file's facts, and names across modules.

`Project.resolve` follows a snapshot expression through imports, re-exports, aliases and
attribute access to what it finally denotes: a function or class of the project, a value
assigned somewhere in it, a module, or an external dotted name (`fastapi.Depends`).
Framework adapters and project rules use it instead of resolving imports themselves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Iterator, Union

from authlint.facts.expr import Attr, Call, Const, Expr, Index, Name, Ref
from authlint.facts.file_facts import ClassFacts, FileFacts, FunctionFacts
from authlint.model import FileError

_MAX_DEPTH = 16
# However resolution recurses (alias -> instance -> class attribute -> alias ...), it stops
# this deep: real code has chains of a handful of steps, cyclic code has infinite ones.
_MAX_NESTING = 48


def _bounded(method):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        if self._nesting > _MAX_NESTING:
            return Unknown()
        self._nesting += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._nesting -= 1

    return guarded


@dataclass(frozen=True)
class Function:
    file: FileFacts
    facts: FunctionFacts

    @property
    def qualified(self) -> str:
        return f"{self.file.module}.{self.facts.qualname}"


@dataclass(frozen=True)
class Class:
    file: FileFacts
    facts: ClassFacts

    @property
    def qualified(self) -> str:
        return f"{self.file.module}.{self.facts.qualname}"


@dataclass(frozen=True)
class Value:
    """A name assigned in the project: `router = APIRouter(...)`; `key` is its Name.key."""

    file: FileFacts
    key: str
    expr: Expr

    @property
    def qualified(self) -> str:
        return f"{self.file.module}.{self.key}"

    @property
    def line(self) -> int:
        return self.file.assignment_lines.get(self.key, 0)


@dataclass(frozen=True)
class Module:
    file: FileFacts


@dataclass(frozen=True)
class External:
    """A name from outside the project: `fastapi.Depends`, `flask_login.login_required`."""

    name: str


@dataclass(frozen=True)
class Unknown:
    written: str = ""
    # The dotted name, when the module is known but not what the name is (a file that
    # was not parsed because nothing in it mattered to any rule or adapter).
    qualified: str | None = None


Symbol = Union[Function, Class, Value, Module, External, Unknown]


class Project:
    def __init__(self, files: Iterable[FileFacts]) -> None:
        self.files: list[FileFacts] = sorted(files, key=lambda f: f.path)
        self._by_module: dict[str, FileFacts] = {}
        self._by_suffix: dict[str, list[FileFacts]] = {}
        self._packages = {f.module for f in self.files if f.is_package}
        self._nesting = 0
        # resolve_value results of top-level calls (the project does not change while linking)
        self._values: dict[tuple[str, Expr | None], Symbol] = {}
        # Problems an adapter met with files it reads itself (a connexion OpenAPI spec that is
        # missing or invalid): warnings for the user, never internal errors.
        self.warnings: list[FileError] = []
        # Files other than the scanned sources that linking depended on (an OpenAPI spec): a
        # scan that read any is not cached whole, since nothing in its key would see them change.
        self.read_outside: set[str] = set()
        for facts in self.files:
            self._by_module.setdefault(facts.module, facts)
            parts = facts.module.split(".")
            for start in range(len(parts)):
                self._by_suffix.setdefault(".".join(parts[start:]), []).append(facts)

    # Modules ----------------------------------------------------------------

    def module(self, dotted: str) -> FileFacts | None:
        """The file of a dotted module name, matching on the trailing parts when the scan
        root is above the import root (`app.deps` is `backend/app/deps.py`)."""
        exact = self._by_module.get(dotted)
        if exact is not None:
            return exact
        # A match inside a package is no import root: `app/jwt.py` (with app/__init__.py) is
        # `app.jwt`, never the `jwt` library.
        candidates = [
            f for f in self._by_suffix.get(dotted, []) if f.module[: -len(dotted) - 1] not in self._packages
        ]
        return min(candidates, key=lambda f: (len(f.module), f.path)) if candidates else None

    def absolute(self, file: FileFacts, target: str) -> str:
        """`.deps.get_user` seen from `app.routes.users` is `app.routes.deps.get_user`."""
        if not target.startswith("."):
            return target
        dots = len(target) - len(target.lstrip("."))
        package = file.module.split(".") if file.is_package else file.module.split(".")[:-1]
        if dots > 1:
            package = package[: len(package) - (dots - 1)]
        rest = target[dots:]
        return ".".join([*package, rest] if rest else package)

    # Names ------------------------------------------------------------------

    @_bounded
    def resolve(self, file: FileFacts, expr: Expr | None, depth: int = 0) -> Symbol:
        if expr is None or depth > _MAX_DEPTH:
            return Unknown()
        if isinstance(expr, Ref):
            return self.resolve_dotted(self.absolute(file, expr.target), depth + 1)
        if isinstance(expr, Name):
            return self._resolve_name(file, expr, depth + 1)
        if isinstance(expr, Attr):
            return self.member(self.resolve(file, expr.value, depth + 1), expr.attr, depth + 1)
        return Unknown()

    @_bounded
    def resolve_dotted(self, dotted: str, depth: int = 0) -> Symbol:
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            facts = self.module(".".join(parts[:cut]))
            if facts is None:
                continue
            symbol: Symbol = Module(facts)
            for attr in parts[cut:]:
                symbol = self.member(symbol, attr, depth + 1)
            return symbol
        return External(dotted)

    @_bounded
    def member(self, symbol: Symbol, attr: str, depth: int = 0) -> Symbol:
        if depth > _MAX_DEPTH:
            return Unknown()
        if isinstance(symbol, Module):
            found = self._resolve_name(symbol.file, Name(attr), depth + 1, module_attribute=True)
            return Unknown(attr, f"{symbol.file.module}.{attr}") if isinstance(found, Unknown) else found
        if isinstance(symbol, External):
            return External(f"{symbol.name}.{attr}")
        if isinstance(symbol, Class):
            method = symbol.file.functions.get(f"{symbol.facts.qualname}.{attr}")
            if method is not None:
                return Function(symbol.file, method)
            if attr in symbol.facts.attributes:
                key = f"{symbol.facts.qualname}.{attr}"
                return Value(symbol.file, key, symbol.facts.attributes[attr])
            for base in self.base_classes(symbol):
                found = self.member(base, attr, depth + 1)
                if not isinstance(found, Unknown):
                    return found
        if isinstance(symbol, Value):
            target = self.follow(symbol, depth + 1)
            if target is not symbol:
                return self.member(target, attr, depth + 1)
            instance_of = self.instance_class(symbol)
            if instance_of is not None:
                return self.member(instance_of, attr, depth + 1)
        return Unknown(attr)

    def _resolve_name(self, file: FileFacts, name: Name, depth: int, module_attribute: bool = False) -> Symbol:
        key = name.key
        if key in file.functions:
            return Function(file, file.functions[key])
        if key in file.classes:
            return Class(file, file.classes[key])
        if key in file.assignments:
            return Value(file, key, file.assignments[key])
        if not name.scope and name.id in file.imports:
            return self.resolve_dotted(self.absolute(file, file.imports[name.id]), depth + 1)
        if module_attribute:
            # `from app.routes import users` where users is a submodule, not a name in app/routes/__init__.py
            submodule = self._by_module.get(f"{file.module}.{name.id}")
            if submodule is not None:
                return Module(submodule)
        return Unknown(name.id)

    @_bounded
    def follow(self, symbol: Symbol, depth: int = 0) -> Symbol:
        """Through aliases: `router = users.router` denotes what `users.router` does."""
        while isinstance(symbol, Value) and isinstance(symbol.expr, (Name, Ref, Attr)) and depth < _MAX_DEPTH:
            target = self.resolve(symbol.file, symbol.expr, depth + 1)
            if isinstance(target, Unknown):
                return symbol
            symbol = target
            depth += 1
        return symbol

    def resolve_value(self, file: FileFacts, expr: Expr | None) -> Symbol:
        if self._nesting:  # inside another resolution, whose depth limits may cut this one short
            return self.follow(self.resolve(file, expr))
        key = (file.path, expr)
        if key not in self._values:
            self._values[key] = self.follow(self.resolve(file, expr))
        return self._values[key]

    # Calls, classes and constants ---------------------------------------------

    def callee(self, file: FileFacts, call: Expr | None) -> Symbol:
        """What a call calls: `Depends(...)` -> External("fastapi.Depends")."""
        if not isinstance(call, Call):
            return Unknown()
        return self.resolve_value(file, call.func)

    def callee_name(self, file: FileFacts, call: Expr | None) -> str | None:
        """The qualified name of a call's callee, inside or outside the project."""
        return qualified_name(self.callee(file, call))

    @_bounded
    def instance_class(self, value: Value) -> Class | None:
        """`settings = Settings()` -> the class Settings, when it is the project's."""
        if isinstance(value.expr, Call):
            target = self.callee(value.file, value.expr)
            return target if isinstance(target, Class) else None
        return None

    def base_classes(self, cls: Class, depth: int = 0) -> Iterator[Symbol]:
        for base in cls.facts.bases:
            if isinstance(base, Index):  # Generic[T], ModelViewSet[Foo]
                base = base.value
            yield self.resolve_value(cls.file, base)

    def ancestors(self, cls: Class, depth: int = 0) -> Iterator[Symbol]:
        """Every base class, transitively: project classes and external names."""
        if depth > _MAX_DEPTH:
            return
        for base in self.base_classes(cls):
            yield base
            if isinstance(base, Class):
                yield from self.ancestors(base, depth + 1)

    def constant(self, file: FileFacts, expr: Expr | None, depth: int = 0) -> object:
        """The constant an expression denotes across modules (`settings.API_V1_STR`), or None."""
        if isinstance(expr, Const):
            return expr.value
        if depth > _MAX_DEPTH or not isinstance(expr, (Name, Ref, Attr)):
            return None
        symbol = self.resolve(file, expr)
        if isinstance(symbol, Value):
            return self.constant(symbol.file, symbol.expr, depth + 1)
        return None


def qualified_name(symbol: Symbol) -> str | None:
    if isinstance(symbol, External):
        return symbol.name
    if isinstance(symbol, (Function, Class, Value)):
        return symbol.qualified
    if isinstance(symbol, Module):
        return symbol.file.module
    if isinstance(symbol, Unknown):
        return symbol.qualified
    return None

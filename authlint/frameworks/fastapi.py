"""FastAPI: apps and routers, includes across modules, and dependencies as authentication.

Authentication in FastAPI is a dependency: a parameter `user = Depends(get_current_user)`,
an `Annotated[User, Depends(...)]` alias imported from `deps.py`, or `dependencies=[...]`
on the route, the router, the `include_router` call or the app. A dependency counts as
authentication when it is a security scheme (`OAuth2PasswordBearer`, `HTTPBearer`,
`APIKeyHeader`, ...), a class derived from one, a configured `auth-dependencies` name, a
function whose body checks a credential and raises 401/403, or a function that itself
depends on any of these (the usual `get_current_active_user -> get_current_user ->
oauth2_scheme` chain).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from authlint.facts import auth_checks
from authlint.facts.expr import Attr, Call, Expr, Index, const_str
from authlint.facts.file_facts import HTTP_METHODS, FileFacts, FunctionFacts, Param
from authlint.frameworks.base import (
    Framework,
    Guard,
    LinkSettings,
    RouteBuilder,
    custom_check,
    join_paths,
    literal_strings,
    location,
    matches_any,
    middleware_check,
    path_params,
    path_strings,
    sequence_items,
    show,
)
from authlint.model import AuthEvidence, Location, Route
from authlint.project import Class, External, Function, Project, Symbol, Unknown, Value, qualified_name

_APPS = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
_ROUTERS = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
_DEPENDS = frozenset({"fastapi.Depends", "fastapi.params.Depends", "fastapi.param_functions.Depends"})
_SECURITY = frozenset({"fastapi.Security", "fastapi.params.Security", "fastapi.param_functions.Security"})
_SCHEMES = frozenset({
    "OAuth2PasswordBearer", "OAuth2AuthorizationCodeBearer", "OAuth2", "OpenIdConnect",
    "HTTPBearer", "HTTPBasic", "HTTPDigest", "APIKeyHeader", "APIKeyCookie", "APIKeyQuery",
})  # fmt: skip
_ROUTE_METHODS = {**{m: (m.upper(),) for m in HTTP_METHODS}, "websocket": ("WEBSOCKET",)}
_MAX_CHAIN = 8


def _scheme_name(symbol: Symbol) -> str | None:
    name = qualified_name(symbol) or ""
    if name.startswith("fastapi.security") and name.rsplit(".", 1)[-1] in _SCHEMES:
        return name.rsplit(".", 1)[-1]
    return None


@dataclass
class _Router:
    """A FastAPI app or APIRouter object of the project."""

    value: Value
    is_app: bool
    call: Call
    routes: list[tuple[RouteBuilder, FunctionFacts]] = field(default_factory=list)
    # (parent router, prefix, dependencies with their files, where the include_router call is)
    parents: list[tuple[_Router, str, list[tuple[FileFacts, Expr]], Location]] = field(default_factory=list)

    @property
    def file(self) -> FileFacts:
        return self.value.file


class FastAPI(Framework):
    name = "fastapi"
    modules = frozenset({"fastapi"})
    # Route prefixes often live in a pydantic settings class (`settings.API_V1_STR`) in a
    # module that imports nothing of FastAPI.
    text = re.compile(r"\bBaseSettings\b")
    words = ("basesettings",)

    def routes(self, project: Project, settings: LinkSettings) -> list[Route]:
        return _Linker(project, settings).routes()


class _Linker:
    def __init__(self, project: Project, settings: LinkSettings) -> None:
        self.project = project
        self.settings = settings
        self.routers: dict[str, _Router] = {}
        self._reasons: dict[str, _Reason | None] = {}

    def routes(self) -> list[Route]:
        self._find_routers()
        if not self.routers:
            return []
        self._find_routes()
        self._find_includes()
        middleware = self._middleware()
        out: list[Route] = []
        for router in self.routers.values():
            for chain in self._chains(router, ()):
                out += [self._route(builder, handler, chain, middleware) for builder, handler in router.routes]
        return out

    # Objects ------------------------------------------------------------------

    def _find_routers(self) -> None:
        for file in self.project.files:
            for key, expr in file.assignments.items():
                if not isinstance(expr, Call):
                    continue
                callee = self.project.callee_name(file, expr)
                if callee in _APPS or callee in _ROUTERS:
                    value = Value(file, key, expr)
                    self.routers[value.qualified] = _Router(value, callee in _APPS, expr)

    def _router_of(self, file: FileFacts, expr: Expr | None) -> _Router | None:
        symbol = self.project.resolve_value(file, expr)
        return self.routers.get(symbol.qualified) if isinstance(symbol, Value) else None

    def _find_routes(self) -> None:
        for file in self.project.files:
            for function in file.functions.values():
                for decorator in function.decorators:
                    self._decorated_route(file, function, decorator)
            for site in file.calls:
                call = site.call
                if isinstance(call.func, Attr) and call.func.attr == "add_api_route":
                    self._added_route(file, call)

    def _decorated_route(self, file: FileFacts, function: FunctionFacts, decorator: Expr) -> None:
        if not (isinstance(decorator, Call) and isinstance(decorator.func, Attr)):
            return
        method = decorator.func.attr
        if method not in _ROUTE_METHODS and method != "api_route":
            return
        router = self._router_of(file, decorator.func.value)
        if router is None:
            return
        methods = _ROUTE_METHODS.get(method) or _declared_methods(decorator)
        self._add(router, Function(file, function), methods, decorator)

    def _added_route(self, file: FileFacts, call: Call) -> None:
        assert isinstance(call.func, Attr)
        router = self._router_of(file, call.func.value)
        endpoint = self.project.resolve_value(file, call.arg("endpoint", 1))
        if router is None or not isinstance(endpoint, Function):
            return
        self._add(router, endpoint, _declared_methods(call), call, file)

    def _add(self, router: _Router, handler: Function, methods: tuple[str, ...], call: Call, file: FileFacts | None = None) -> None:
        file = file or handler.file
        builder = RouteBuilder("fastapi", methods, self._text(file, call.arg("path", 0)), handler)
        for dep_file, dep in sequence_items(self.project, file, call.arg("dependencies")):
            self._add_dependency(builder, dep_file, dep, "handler")
        for param in handler.facts.params:
            for dep in self._param_dependencies(handler.file, param):
                self._add_dependency(builder, *dep, "handler")
        router.routes.append((builder, handler.facts))

    def _find_includes(self) -> None:
        for file in self.project.files:
            for site in file.calls:
                call = site.call
                if not (isinstance(call.func, Attr) and call.func.attr == "include_router"):
                    continue
                parent = self._router_of(file, call.func.value)
                child = self._router_of(file, call.arg("router", 0))
                if parent is None or child is None or child is parent:
                    continue
                deps = sequence_items(self.project, file, call.arg("dependencies"))
                where = location(file, site.line, f"{show(call.func)}({show(call.args[0]) if call.args else ''}, ...)")
                child.parents.append((parent, self._text(file, call.arg("prefix")), deps, where))

    def _text(self, file: FileFacts, expr: Expr | None) -> str:
        """A path or prefix: a literal, or a constant from anywhere (`settings.API_V1_STR`).

        One authlint cannot evaluate shows as `{?settings.API_PREFIX}`: visibly unknown, and
        never mistaken for a path parameter."""
        value = self.project.constant(file, expr)
        if isinstance(value, str):
            return value
        return "" if expr is None else f"{{?{show(expr)}}}"

    # Levels -------------------------------------------------------------------

    def _chains(self, router: _Router, seen: tuple[str, ...]) -> list[tuple]:
        """Every path from an app down to `router`: tuples of (router, include) pairs, outermost first."""
        if router.value.qualified in seen or len(seen) > _MAX_CHAIN:
            return []
        if not router.parents:
            return [((router, None),)]
        chains = []
        for parent, prefix, deps, where in router.parents:
            for chain in self._chains(parent, (*seen, router.value.qualified)):
                chains.append((*chain, (router, (prefix, deps, where))))
        return chains

    def _route(self, builder: RouteBuilder, handler: FunctionFacts, chain: tuple, middleware: list[Guard]) -> Route:
        route = RouteBuilder(builder.framework, builder.methods, builder.path, builder.handler, list(builder.auth))
        prefixes = []
        for router, include in chain:
            file = router.file
            if include is not None:
                prefix, deps, where = include
                prefixes.append(prefix)
                route.levels.append(where)
                for dep_file, dep in deps:
                    self._add_dependency(route, dep_file, dep, "include")
            prefixes.append(self._text(file, router.call.arg("prefix")))
            level = "app" if router.is_app else "router"
            route.levels.append(location(file, router.value.line, f"{router.value.key} = {show(router.call.func)}(...)"))
            for dep_file, dep in sequence_items(self.project, file, router.call.arg("dependencies")):
                self._add_dependency(route, dep_file, dep, level)
        route.path = join_paths(*prefixes, builder.path)
        for guard in middleware:
            if guard.covers(route.path, handler.name):
                route.auth.append(guard.evidence)
        return route.build(path_params(route.path))

    def _middleware(self) -> list[Guard]:
        """Project middleware whose body checks the caller, with the paths it lets through."""
        found = []
        for file in self.project.files:
            for function in file.functions.values():
                if any(_is_http_middleware(d) for d in function.decorators):
                    found.append(middleware_check(Function(file, function), function))
            for site in file.calls:
                call = site.call
                if isinstance(call.func, Attr) and call.func.attr == "add_middleware" and call.args:
                    target = self.project.resolve_value(file, call.args[0])
                    dispatch = self.project.member(target, "dispatch") if isinstance(target, Class) else None
                    if isinstance(dispatch, Function):
                        found.append(middleware_check(target, dispatch.facts, path_strings(self.project, file, call)))
        return [guard for guard in found if guard is not None]

    # Dependencies -------------------------------------------------------------

    def _param_dependencies(self, file: FileFacts, param: Param) -> list[tuple[FileFacts, Expr]]:
        """`Depends(...)` in a parameter's default, its `Annotated[...]` or an alias of one."""
        found: list[tuple[FileFacts, Expr]] = []
        if isinstance(param.default, Call):
            found.append((file, param.default))
        annotation_file, annotation = file, param.annotation
        if annotation is not None and not isinstance(annotation, Index):
            alias = self.project.resolve_value(file, annotation)
            if isinstance(alias, Value) and isinstance(alias.expr, Index):
                annotation_file, annotation = alias.file, alias.expr
        if isinstance(annotation, Index) and _is_annotated(self.project, annotation_file, annotation):
            found += [(annotation_file, item) for item in annotation.items[1:] if isinstance(item, Call)]
        return found

    def _add_dependency(self, builder: RouteBuilder, file: FileFacts, dep: Expr, level: str) -> None:
        evidence = self._dependency_evidence(file, dep, level, 0)
        if evidence is not None:
            builder.auth.append(evidence)

    def _dependency_evidence(self, file: FileFacts, dep: Expr, level: str, depth: int) -> AuthEvidence | None:
        if not isinstance(dep, Call) or depth > _MAX_CHAIN:
            return None
        callee = self.project.callee_name(file, dep)
        if callee not in _DEPENDS and callee not in _SECURITY:
            return None
        scopes = literal_strings(dep.arg("scopes")) if callee in _SECURITY else ()
        reason = self._dependency_reason(file, dep.arg("dependency", 0), depth)
        if reason is None:
            return None
        role = " (role check)" if reason.role else ""
        kind = "authorization" if scopes or reason.role else "authentication"
        mechanism = f"{show(dep)}{role} via {reason.terminal}"
        return AuthEvidence(mechanism, level, reason.where or Location(file.path, 0), kind, scopes)

    def _dependency_reason(self, file: FileFacts, target_expr: Expr | None, depth: int) -> _Reason | None:
        """Why a dependency authenticates, or None; memoized per dependency."""
        symbol = self.project.resolve_value(file, target_expr)
        if isinstance(target_expr, Call):  # Depends(HTTPBearer()), Depends(RoleChecker(["admin"]))
            symbol = self.project.callee(file, target_expr)
        elif isinstance(symbol, Value) and isinstance(symbol.expr, Call):  # oauth2_scheme = OAuth2PasswordBearer(...)
            symbol = self.project.callee(symbol.file, symbol.expr)
        key = qualified_name(symbol) or ""
        if key in self._reasons:
            return self._reasons[key]
        self._reasons[key] = None  # a cycle is no evidence
        reason = self._symbol_reason(symbol, depth)
        if key:
            self._reasons[key] = reason
        return reason

    def _symbol_reason(self, symbol: Symbol, depth: int) -> _Reason | None:
        scheme = _scheme_name(symbol)
        if scheme:
            return _Reason(scheme)
        role = matches_any(qualified_name(symbol), self.settings.admin_checks) or (
            isinstance(symbol, Function) and auth_checks.checks_role(symbol.facts)
        )
        patterns = self.settings.auth_dependencies + self.settings.admin_checks
        configured = custom_check(self.project, symbol, "", patterns, "auth dependency")
        if configured is not None:
            return _Reason(configured.mechanism, role, configured.location)
        if isinstance(symbol, Class):
            return self._class_reason(symbol, depth)
        if isinstance(symbol, Function):
            return self._chain_reason(symbol, depth, role)
        return _unseen_reason(symbol)

    def _class_reason(self, cls: Class, depth: int) -> _Reason | None:
        for ancestor in self.project.ancestors(cls):
            scheme = _scheme_name(ancestor)
            if scheme:
                return _Reason(f"{cls.facts.name} (a {scheme})", where=Location(cls.file.path, cls.facts.line))
        call = self.project.member(cls, "__call__")
        return self._symbol_reason(call, depth + 1) if isinstance(call, Function) else None

    def _chain_reason(self, function: Function, depth: int, role: bool) -> _Reason | None:
        """A dependency that depends on an authenticating one authenticates too."""
        for param in function.facts.params:
            for file, dep in self._param_dependencies(function.file, param):
                callee = self.project.callee_name(file, dep)
                if callee not in _DEPENDS and callee not in _SECURITY:
                    continue
                inner = self._dependency_reason(file, dep.arg("dependency", 0), depth + 1)  # type: ignore[union-attr]
                if inner is not None:
                    where = Location(function.file.path, function.facts.line)
                    return _Reason(inner.terminal, role or inner.role, where)
        return None


@dataclass(frozen=True)
class _Reason:
    """What makes a dependency authenticate: the scheme or check at the end of its chain."""

    terminal: str
    role: bool = False
    where: Location | None = None


# A dependency defined where authlint cannot look (a module outside the scan, a package):
# its name is the only evidence, and a name like `get_current_user` is taken at its word
# rather than reporting every route that uses it as open.
_AUTH_NAME = re.compile(r"user|auth|token|principal|login|session|credential|permission|role|admin|scope|api_?key", re.I)


def _unseen_reason(symbol: Symbol) -> _Reason | None:
    if not isinstance(symbol, (Unknown, External)):
        return None
    name = qualified_name(symbol) or (symbol.written if isinstance(symbol, Unknown) else "")
    last = name.rsplit(".", 1)[-1]
    if name.startswith("fastapi.") or not _AUTH_NAME.search(last):
        return None
    return _Reason(f"{last} (not in the scanned code; taken as authentication by its name)")


def _declared_methods(call: Call) -> tuple[str, ...]:
    methods = tuple(m.upper() for m in literal_strings(call.arg("methods")))
    return methods or ("GET",)


def _is_annotated(project: Project, file: FileFacts, index: Index) -> bool:
    name = qualified_name(project.resolve_value(file, index.value)) or ""
    return name.endswith("Annotated")


def _is_http_middleware(decorator: Expr) -> bool:
    return (
        isinstance(decorator, Call)
        and isinstance(decorator.func, Attr)
        and decorator.func.attr == "middleware"
        and const_str(decorator.arg(None, 0)) == "http"
    )


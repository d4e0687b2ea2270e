"""aiohttp: route tables, router calls, class-based views, sub-applications, and middleware as authentication.

Routes come from `routes = web.RouteTableDef()` and its decorators (`@routes.get("/p")`,
`@routes.route("PUT", "/p")`, `@routes.view("/p")` on a `web.View` class) added with
`app.add_routes(routes)`; from `app.add_routes([web.get("/p", handler), web.view(...)])`; and
from `app.router.add_get/add_post/.../add_view` and `add_route("GET", "/p", handler)`. An app
is a `web.Application(...)` (or a project subclass) assigned anywhere, or the parameter of a
`setup_routes(app)` helper that the project calls with one; `app.add_subapp("/admin", admin)`
nests apps. A class-based view gives one route per HTTP method it defines.

Authentication comes from two levels:

- middleware: `web.Application(middlewares=[...])` or `app.middlewares.append(...)`. A
  middleware (or middleware factory) whose body reads a credential and turns the caller away
  protects every route of its app and of that app's sub-applications (aiohttp chains a
  parent's middlewares before a sub-app's, and `request.path` is the full path), except the
  paths and route names its body lets through (`if request.path in PUBLIC_PATHS`,
  `request.path.startswith("/static/")`, `request.match_info.route.name in ...`) or that are
  handed to its factory. aiohttp_jwt's `JWTMiddleware` protects all but its `whitelist`.
- the handler: aiohttp_security's `check_authorized`/`check_permission` calls and its
  `login_required`/`has_permission` decorators, aiohttp_jwt's `login_required`/
  `check_permissions`, project decorators that check the caller (or are named in
  `auth-decorators`), and a body that reads a credential (the aiohttp_session session, a
  token) and turns the caller away.

aiohttp_security's `setup(...)` and aiohttp_session's session middleware only make an
identity available to handlers; on their own they are no evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from authlint.facts.expr import Attr, Call, Const, Expr, Name, const_str
from authlint.facts.file_facts import FileFacts
from authlint.frameworks.base import (
    Framework,
    Guard,
    LinkSettings,
    RouteBuilder,
    body_check,
    built_by,
    decorator_check,
    decorator_target,
    join_paths,
    literal_strings,
    location,
    middleware_check,
    path_params,
    path_strings,
    sequence_items,
    show,
)
from authlint.model import AuthEvidence, Location, Route
from authlint.project import Class, Function, Project, Symbol, Value, qualified_name

_APP_CLASSES = frozenset({"aiohttp.web.Application", "aiohttp.web_app.Application"})
_TABLE_CLASSES = frozenset({"aiohttp.web.RouteTableDef", "aiohttp.web_routedef.RouteTableDef"})
_ROUTE_FUNCTIONS = ("aiohttp.web.", "aiohttp.web_routedef.")  # web.get("/p", handler), web.view(...)
_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
_JWT_MIDDLEWARE = frozenset({"aiohttp_jwt.JWTMiddleware", "aiohttp_jwt.middleware.JWTMiddleware"})
# Library decorators on a handler: name -> whether its first argument names permissions.
_DECORATORS = {
    "aiohttp_security.login_required": False, "aiohttp_security.api.login_required": False,
    "aiohttp_security.has_permission": True, "aiohttp_security.api.has_permission": True,
    "aiohttp_jwt.login_required": False, "aiohttp_jwt.permissions.login_required": False,
    "aiohttp_jwt.check_permissions": True, "aiohttp_jwt.permissions.check_permissions": True,
}  # fmt: skip
_MAX_DEPTH = 8


@dataclass(frozen=True)
class _Def:
    """One route as registered: `web.get("/p", handler)`, `@routes.post("/p")`, `add_route("*", "/p", View)`."""

    method: str  # "GET", or "*" for a view / any method
    path: str
    handler: Symbol
    name: str | None = None


@dataclass
class _Node:
    """An app, a route table, or a helper's `app` parameter, with what is registered on it."""

    key: str
    kind: str  # "app", "table" or "param"
    where: Location
    defs: list[_Def] = field(default_factory=list)
    tables: list[tuple[str, Location]] = field(default_factory=list)  # add_routes(table)
    subapps: list[tuple[str, str, Location]] = field(default_factory=list)  # (child key, prefix, add_subapp)
    guards: list[Guard] = field(default_factory=list)


class Aiohttp(Framework):
    name = "aiohttp"
    modules = frozenset({"aiohttp", "aiohttp_security", "aiohttp_jwt", "aiohttp_session"})
    # A `setup_routes(app)` module may import nothing of aiohttp.
    text = re.compile(r"\.add_(?:get|post|put|patch|delete|view|routes|subapp)\(|\.router\.add_route\(")
    words = (".add_",)

    def routes(self, project: Project, settings: LinkSettings) -> list[Route]:
        return _Linker(project, settings).routes()


class _Linker:
    def __init__(self, project: Project, settings: LinkSettings) -> None:
        self.project = project
        self.settings = settings
        self.nodes: dict[str, _Node] = {}
        # `setup_routes(app)`: parameter key -> the (file, argument) handed to it
        self.bindings: dict[str, list[tuple[FileFacts, Expr]]] = {}
        self.aliases: dict[str, list[str]] = {}
        self._handler_auth: dict[str, list[AuthEvidence]] = {}

    def routes(self) -> list[Route]:
        self._find_objects()
        self._find_registrations()
        self._resolve_parameters()
        out: list[Route] = []
        for root in self._roots():
            self._emit(root, (), (), (), (), out)
        return out

    # Objects ------------------------------------------------------------------

    def _find_objects(self) -> None:
        for file in self.project.files:
            for key, expr in file.assignments.items():
                kind = self._kind(file, expr) if isinstance(expr, Call) else None
                if kind is None or not isinstance(expr, Call):
                    continue
                value = Value(file, key, expr)
                where = location(file, value.line, f"{key.rsplit('.', 1)[-1]} = {show(expr.func)}(...)")
                node = self.nodes[value.qualified] = _Node(value.qualified, kind, where)
                for item_file, item in sequence_items(self.project, file, expr.arg("middlewares")):
                    node.guards += self._guards(item_file, item, where)

    def _kind(self, file: FileFacts, call: Call) -> str | None:
        callee = self.project.callee(file, call)
        names = {qualified_name(callee)}
        if isinstance(callee, Class):
            names |= {qualified_name(a) for a in self.project.ancestors(callee)}
        if names & _APP_CLASSES:
            return "app"
        return "table" if names & _TABLE_CLASSES else None

    def _node_of(self, file: FileFacts, expr: Expr | None, parameter: bool = False, depth: int = 0) -> _Node | None:
        """The app or table an expression denotes: `app`, `app.router`, `router = app.router`, `views.routes`."""
        if isinstance(expr, Attr) and expr.attr == "router":
            expr = expr.value
        symbol = self.project.resolve_value(file, expr)
        if isinstance(symbol, Value):
            node = self.nodes.get(symbol.qualified)
            if node is None and isinstance(symbol.expr, Attr) and symbol.expr.attr == "router" and depth < _MAX_DEPTH:
                return self._node_of(symbol.file, symbol.expr, parameter, depth + 1)
            return node or self._factory_app(symbol.file, symbol.expr)  # app = create_app()
        if parameter and isinstance(expr, Name) and expr.scope:
            return self._parameter(file, expr)
        return None

    def _parameter(self, file: FileFacts, name: Name) -> _Node | None:
        """`def setup_routes(app): app.router.add_get(...)`: the parameter stands for the apps handed in."""
        function = file.functions.get(name.scope)
        if function is None or function.param(name.id) is None:
            return None
        key = _parameter_key(Function(file, function), name.id)
        if key not in self.nodes:
            where = location(file, function.line, f"{function.name}({name.id})")
            self.nodes[key] = _Node(key, "param", where)
        return self.nodes[key]

    def _factory_app(self, file: FileFacts, expr: Expr | None) -> _Node | None:
        """`add_subapp("/admin", create_admin_app())`: the one app the factory builds."""
        key = built_by(self.project, file, expr, (k for k, n in self.nodes.items() if n.kind == "app"))
        return self.nodes[key] if key is not None else None

    # Registrations ------------------------------------------------------------

    def _find_registrations(self) -> None:
        for file in self.project.files:
            for function in file.functions.values():
                for decorator in function.decorators:
                    self._decorated(file, decorator, Function(file, function))
            for cls in file.classes.values():
                for decorator in cls.decorators:
                    self._decorated(file, decorator, Class(file, cls))
            for site in file.calls:
                self._method_call(file, site.call, site.line)
                self._binding(file, site.call)
            for site in file.function_calls:
                self._binding(file, site.call)

    def _decorated(self, file: FileFacts, decorator: Expr, handler: Function | Class) -> None:
        """`@routes.get("/p")` on a handler, `@routes.view("/p")` on a `web.View` class."""
        if not (isinstance(decorator, Call) and isinstance(decorator.func, Attr)):
            return
        table = self._node_of(file, decorator.func.value)
        spec = _spec(decorator.func.attr, decorator, with_handler=False)
        if table is None or table.kind != "table" or spec is None:
            return
        method, path, _ = spec
        self._add(table, file, method, path, handler, decorator)

    def _method_call(self, file: FileFacts, call: Call, line: int) -> None:
        if not isinstance(call.func, Attr):
            return
        verb, owner = call.func.attr, call.func.value
        where = location(file, line, f"{show(call.func)}({show(call.args[0]) if call.args else ''}, ...)")
        if verb.startswith("add_") and verb not in ("add_routes", "add_subapp"):
            self._router_call(file, call, verb[4:], owner)
        elif verb == "add_routes":
            node = self._node_of(file, owner, parameter=True)
            if node is not None:
                self._add_routes(node, file, call.arg("routes", 0), where)
        elif verb == "add_subapp":
            node = self._node_of(file, owner, parameter=True)
            child = self._node_of(file, call.arg("subapp", 1)) or self._factory_app(file, call.arg("subapp", 1))
            prefix = self._string(file, call.arg("prefix", 0))
            if node is not None and child is not None and child is not node:
                node.subapps.append((child.key, prefix or "", where))
        elif verb in ("append", "insert", "extend") and isinstance(owner, Attr) and owner.attr == "middlewares":
            node = self._node_of(file, owner.value, parameter=True)
            if node is not None:
                self._add_middlewares(node, file, verb, call, where)

    def _router_call(self, file: FileFacts, call: Call, verb: str, owner: Expr) -> None:
        """`app.router.add_get("/p", handler)`, `add_route("GET", "/p", handler)`, `add_view("/p", View)`."""
        spec = _spec(verb, call, with_handler=True)
        if spec is None:
            return
        if verb == "route" and self._resource_route(file, call, owner):
            return
        # Starlette apps have an `add_route(path, endpoint)` too: a bare parameter must show `.router`.
        via_router = isinstance(owner, Attr) and owner.attr == "router"
        node = self._node_of(file, owner, parameter=via_router or verb != "route")
        if node is None or node.kind == "table":
            return
        method, path, handler = spec
        symbol = self.project.resolve_value(file, handler)
        if isinstance(symbol, (Function, Class)):
            self._add(node, file, method, path, symbol, call)

    def _resource_route(self, file: FileFacts, call: Call, owner: Expr) -> bool:
        """`resource = app.router.add_resource("/p", name="x")` then `resource.add_route("GET", handler)`."""
        resource_file, resource = file, owner
        symbol = self.project.resolve_value(file, owner)
        if isinstance(symbol, Value):
            resource_file, resource = symbol.file, symbol.expr
        if not (isinstance(resource, Call) and isinstance(resource.func, Attr) and resource.func.attr == "add_resource"):
            return False
        node = self._node_of(resource_file, resource.func.value, parameter=True)
        handler = self.project.resolve_value(file, call.arg("handler", 1))
        if node is not None and node.kind != "table" and isinstance(handler, (Function, Class)):
            self._add(node, resource_file, const_str(call.arg("method", 0)), resource.arg("path", 0), handler, resource)
        return True

    def _add_routes(self, node: _Node, file: FileFacts, routes: Expr | None, where: Location) -> None:
        """`app.add_routes(routes)` with a RouteTableDef, or a list of `web.get(...)` definitions."""
        table = self._node_of(file, routes)
        if table is not None and table.kind == "table":
            node.tables.append((table.key, where))
            return
        for item_file, item in sequence_items(self.project, file, routes):
            callee = self.project.callee_name(item_file, item) or ""
            if not (isinstance(item, Call) and callee.startswith(_ROUTE_FUNCTIONS)):
                continue
            spec = _spec(callee.rsplit(".", 1)[-1], item, with_handler=True)
            symbol = self.project.resolve_value(item_file, spec[2]) if spec else None
            if spec is not None and isinstance(symbol, (Function, Class)):
                self._add(node, item_file, spec[0], spec[1], symbol, item)

    def _add(self, node: _Node, file: FileFacts, method: str | None, path: Expr | None, handler: Function | Class, call: Call) -> None:
        text = self._string(file, path)
        if method and text is not None:
            node.defs.append(_Def(method.upper(), text, handler, const_str(call.arg("name"))))

    def _add_middlewares(self, node: _Node, file: FileFacts, verb: str, call: Call, where: Location) -> None:
        if verb == "extend":
            for item_file, item in sequence_items(self.project, file, call.arg(None, 0)):
                node.guards += self._guards(item_file, item, where)
        else:
            node.guards += self._guards(file, call.arg(None, 1 if verb == "insert" else 0), where)

    def _binding(self, file: FileFacts, call: Call) -> None:
        """`setup_routes(app)`: what the callee registers on its parameter is registered on `app`."""
        callee = self.project.callee(file, call)
        if not isinstance(callee, Function):
            return
        positional = [p.name for p in callee.facts.params if p.kind == "positional"]
        if positional[:1] in (["self"], ["cls"]):
            positional = positional[1:]
        for index, arg in enumerate(call.args):
            if index < len(positional):
                self.bindings.setdefault(_parameter_key(callee, positional[index]), []).append((file, arg))
        for keyword, arg in call.kwargs:
            self.bindings.setdefault(_parameter_key(callee, keyword), []).append((file, arg))

    def _string(self, file: FileFacts, expr: Expr | None) -> str | None:
        value = self.project.constant(file, expr)
        return value if isinstance(value, str) else None

    # Middleware ---------------------------------------------------------------

    def _guards(self, file: FileFacts, expr: Expr | None, where: Location) -> list[Guard]:
        """A middleware as listed: `auth_middleware`, `make_auth(PUBLIC)`, `AuthMiddleware()`, `JWTMiddleware(...)`."""
        symbol = self.project.resolve_value(file, expr)
        call = expr if isinstance(expr, Call) else None
        if isinstance(symbol, Value) and isinstance(symbol.expr, Call):
            file, call = symbol.file, symbol.expr
        allow: tuple[str, ...] = ()
        if call is not None:
            symbol = self.project.callee(file, call)
            if qualified_name(symbol) in _JWT_MIDDLEWARE:
                return _jwt_guard(self.project, file, call, where)
            allow = path_strings(self.project, file, call)
        guard = None
        if isinstance(symbol, Class):  # `AuthMiddleware()`: an instance whose __call__ is the middleware
            method = self.project.member(symbol, "__call__")
            guard = middleware_check(symbol, method.facts, allow) if isinstance(method, Function) else None
        elif isinstance(symbol, Function):
            guard = middleware_check(symbol, symbol.facts, allow)
        return [guard] if guard is not None else []

    # Parameters ---------------------------------------------------------------

    def _resolve_parameters(self) -> None:
        """Fold each bound parameter node into the apps handed to it (through helper chains)."""
        for key in [k for k, n in self.nodes.items() if n.kind == "param"]:
            self.aliases[key] = self._targets(key, ())
        for key, targets in self.aliases.items():
            if not targets:
                continue
            node = self.nodes.pop(key)
            for target in targets:
                into = self.nodes[target]
                into.defs += node.defs
                into.tables += node.tables
                into.subapps += node.subapps
                into.guards += node.guards

    def _targets(self, key: str, seen: tuple[str, ...]) -> list[str]:
        if key in seen or len(seen) > _MAX_DEPTH:
            return []
        found: list[str] = []
        for file, arg in self.bindings.get(key, []):
            node = self._node_of(file, arg, parameter=True)
            if node is None or node.key == key:
                continue
            inner = self._targets(node.key, (*seen, key)) if node.kind == "param" else []
            found += inner or [node.key]
        return list(dict.fromkeys(found))

    def _final(self, key: str) -> list[str]:
        targets = self.aliases.get(key)
        return [t for t in targets if t in self.nodes] if targets else ([key] if key in self.nodes else [])

    # Routes -------------------------------------------------------------------

    def _roots(self) -> list[_Node]:
        below = {t for n in self.nodes.values() for child, _, _ in n.subapps for t in self._final(child)}
        below |= {t for n in self.nodes.values() if n.kind != "table" for table, _ in n.tables for t in self._final(table)}
        return [n for k, n in self.nodes.items() if k not in below]

    def _emit(self, node: _Node, prefixes: tuple, guards: tuple, levels: tuple, seen: tuple, out: list[Route]) -> None:
        if node.key in seen or len(seen) > _MAX_DEPTH:
            return
        seen, guards, levels = (*seen, node.key), (*guards, *node.guards), (*levels, node.where)
        for definition in node.defs:
            out += self._routes(definition, prefixes, guards, levels)
        for table_key, where in node.tables:
            for table in self._final(table_key):
                table_node = self.nodes[table]
                for definition in table_node.defs:
                    out += self._routes(definition, prefixes, guards, (*levels, where, table_node.where))
        for child, prefix, where in node.subapps:
            for target in self._final(child):
                self._emit(self.nodes[target], (*prefixes, prefix), guards, (*levels, where), seen, out)

    def _routes(self, definition: _Def, prefixes: tuple, guards: tuple, levels: tuple) -> list[Route]:
        path = join_paths(*prefixes, definition.path)
        covering = [g.evidence for g in guards if g.covers(path, definition.name)]
        out = []
        for method, handler in _handlers(self.project, definition):
            builder = RouteBuilder("aiohttp", (method,), path, handler, [*self._handler(handler), *covering], list(levels))
            out.append(builder.build(path_params(path)))
        return out

    def _handler(self, handler: Function) -> list[AuthEvidence]:
        """Evidence on the handler itself: its decorators and its body."""
        key = handler.qualified
        if key not in self._handler_auth:
            found = [e for d in handler.facts.decorators if (e := self._decorator(handler, d)) is not None]
            body = body_check(handler)
            self._handler_auth[key] = found + ([body] if body is not None else [])
        return self._handler_auth[key]

    def _decorator(self, handler: Function, decorator: Expr) -> AuthEvidence | None:
        symbol, call = decorator_target(self.project, handler.file, decorator)
        name = qualified_name(symbol) or ""
        if name not in _DECORATORS:
            return decorator_check(self.project, self.settings, handler.file, decorator)
        where = Location(handler.file.path, handler.facts.line)
        if not _DECORATORS[name]:
            return AuthEvidence(show(decorator), "handler", where)
        permissions = literal_strings(call.arg(None, 0)) if call is not None else ()
        return AuthEvidence(show(decorator), "handler", where, "authorization", permissions)


def _spec(verb: str, call: Call, with_handler: bool) -> tuple[str | None, Expr | None, Expr | None] | None:
    """(method, path, handler) of `get("/p", h)`, `route("GET", "/p", h)`, `view("/p", View)`."""
    if verb == "route":
        method, offset = const_str(call.arg("method", 0)), 1
    elif verb == "view":
        method, offset = "*", 0
    elif verb in _VERBS:
        method, offset = verb.upper(), 0
    else:
        return None
    handler = call.arg("handler", offset + 1) if with_handler else None
    return method, call.arg("path", offset), handler


def _handlers(project: Project, definition: _Def) -> list[tuple[str, Function]]:
    """A function handler, or one handler per HTTP method a class-based view defines."""
    handler = definition.handler
    if isinstance(handler, Function):
        return [(definition.method, handler)]
    found = []
    for verb in _VERBS:
        method = project.member(handler, verb)
        if isinstance(method, Function) and definition.method in ("*", verb.upper()):
            found.append((verb.upper(), method))
    return found


def _jwt_guard(project: Project, file: FileFacts, call: Call, where: Location) -> list[Guard]:
    """aiohttp_jwt `JWTMiddleware(secret, whitelist=[...])` rejects requests without a valid token."""
    if call.arg("credentials_required", 2) == Const(False):
        return []  # then only its `login_required` decorator rejects
    patterns = []
    for item_file, item in sequence_items(project, file, call.arg("whitelist", 3)):
        text = project.constant(item_file, item)
        if isinstance(text, str):
            patterns.append(text)
    evidence = AuthEvidence("JWTMiddleware (middleware)", "middleware", Location(where.path, where.line))
    return [Guard(evidence, patterns=tuple(patterns))]


def _parameter_key(function: Function, parameter: str) -> str:
    return f"{function.qualified}({parameter})"

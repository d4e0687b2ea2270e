"""Starlette: `Route`/`Mount` tables, mounted apps and routers, `@requires`, and middleware as authentication.

Routes come from `Starlette(routes=[...])`, the list written in place or assigned to a name in
any module: `Route(path, endpoint, methods=[...])`, `WebSocketRoute(path, endpoint)`,
`Mount(path, routes=[...])`, `Mount(path, app=sub)` where `sub` is another `Starlette(...)` or a
`Router(...)`, and `Host(host, app=sub)`; and from the app's `add_route`, `add_websocket_route`,
`mount` and `@app.route(...)`. An `HTTPEndpoint` class gives one route per HTTP method it
defines. FastAPI is a Starlette subclass, but its apps are the fastapi adapter's: only
`Starlette(...)` constructions (and project subclasses of Starlette that are not FastAPI's) are
apps here, so no route is reported twice.

Authentication comes from:

- the handler: `@requires("authenticated")`, `@requires(["authenticated", "admin"], redirect=...)`
  (scopes other than "authenticated" are authorization requirements), on a function endpoint
  or on an `HTTPEndpoint` method; project decorators that check the caller (or are named in
  `auth-decorators`); a body that reads `request.user`/a token and turns the caller away.
- middleware: `Middleware(Cls, ...)` in `Starlette(middleware=[...])`, `Mount(..., middleware=[...])`
  or `Route(..., middleware=[...])`, and `app.add_middleware(Cls)`, where `Cls.dispatch` (a
  `BaseHTTPMiddleware`) or `Cls.__call__` (a pure ASGI middleware) reads a credential and turns
  the caller away. It covers the routes below the level it is attached at, except the paths its
  body lets through (`if request.url.path in PUBLIC_PATHS`, `scope["path"].startswith(...)`) and
  the paths handed to it (`Middleware(TokenAuth, public_paths=["/health"])`).

Starlette's own `AuthenticationMiddleware` is no evidence on its own: it only fills
`request.user` and `request.auth` (an anonymous `UnauthenticatedUser` when the backend finds no
credentials) and lets every request through. Endpoints must still check, usually with `@requires`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from authlint.facts.expr import Attr, Call, Expr, const_str
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

_APPS = frozenset({"starlette.applications.Starlette"})
_ROUTERS = frozenset({"starlette.routing.Router"})
_ROUTE = frozenset({"starlette.routing.Route"})
_WEBSOCKET_ROUTE = frozenset({"starlette.routing.WebSocketRoute"})
_MOUNT = frozenset({"starlette.routing.Mount"})
_HOST = frozenset({"starlette.routing.Host"})
_MIDDLEWARE = frozenset({"starlette.middleware.Middleware"})
_REQUIRES = frozenset({"starlette.authentication.requires"})
_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
_MAX_DEPTH = 8


@dataclass
class _App:
    """A `Starlette(...)` app or a `Router(...)` of the project, with what is registered on it."""

    value: Value
    is_app: bool
    where: Location
    # Route-like items as written: from `routes=[...]`, `app.add_route(...)`, `app.mount(...)`.
    items: list[tuple[FileFacts, Expr]] = field(default_factory=list)
    added: list[tuple[tuple[str, ...], str, Symbol]] = field(default_factory=list)  # add_route / @app.route
    guards: list[Guard] = field(default_factory=list)
    # Mounted on an app that is not Starlette's (a FastAPI app): only the prefix applies.
    foreign_mounts: list[tuple[str, Location]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.value.qualified


@dataclass(frozen=True)
class _Level:
    """Where the walk is: path prefixes, the middleware that covers it, the levels passed."""

    prefixes: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()
    levels: tuple[Location, ...] = ()

    @property
    def prefix(self) -> str:
        return join_paths(*self.prefixes) if self.prefixes else ""

    def down(self, prefix: str | None = None, guards: tuple[Guard, ...] = (), where: Location | None = None) -> _Level:
        return _Level(
            (*self.prefixes, prefix) if prefix is not None else self.prefixes,
            (*self.guards, *guards),
            (*self.levels, where) if where is not None else self.levels,
        )


class Starlette(Framework):
    name = "starlette"
    modules = frozenset({"starlette"})

    def routes(self, project: Project, settings: LinkSettings) -> list[Route]:
        return _Linker(project, settings).routes()


class _Linker:
    def __init__(self, project: Project, settings: LinkSettings) -> None:
        self.project = project
        self.settings = settings
        self.apps: dict[str, _App] = {}
        self.mounted: set[str] = set()  # apps reached below another app
        self._handler_auth: dict[str, list[AuthEvidence]] = {}

    def routes(self) -> list[Route]:
        self._find_apps()
        if not self.apps:
            return []
        self._find_registrations()
        found: dict[str, list[Route]] = {}
        for app in self.apps.values():
            if app.is_app:
                found[app.key] = []
                self._walk_app(app, _Level(), (), found[app.key])
        self.mounted |= {app.key for app in self.apps.values() if app.foreign_mounts}
        out = [route for key, routes in found.items() if key not in self.mounted for route in routes]
        for app in self.apps.values():
            for prefix, where in app.foreign_mounts:
                self._walk_app(app, _Level((prefix,), (), (where,)), (), out)
        return out

    # Objects ------------------------------------------------------------------

    def _find_apps(self) -> None:
        for file in self.project.files:
            for key, expr in file.assignments.items():
                kind = self._kind(file, expr) if isinstance(expr, Call) else None
                if kind is None or not isinstance(expr, Call):
                    continue
                value = Value(file, key, expr)
                where = location(file, value.line, f"{key.rsplit('.', 1)[-1]} = {show(expr.func)}(...)")
                app = self.apps[value.qualified] = _App(value, kind == "app", where)
                routes = expr.arg("routes", 1 if kind == "app" else 0)  # Starlette(debug, routes), Router(routes)
                app.items += sequence_items(self.project, file, routes)
                app.guards += self._middleware_list(file, expr.arg("middleware"), "")

    def _kind(self, file: FileFacts, call: Call) -> str | None:
        callee = self.project.callee(file, call)
        names = {qualified_name(callee)}
        if isinstance(callee, Class):
            names |= {qualified_name(a) for a in self.project.ancestors(callee)}
        if any(n and n.startswith("fastapi.") for n in names):
            return None  # the fastapi adapter's
        if names & _APPS:
            return "app"
        return "router" if names & _ROUTERS else None

    def _app_of(self, file: FileFacts, expr: Expr | None) -> _App | None:
        """The app or router an expression denotes: `admin`, `admin.app`, `create_admin_app()`."""
        symbol = self.project.resolve_value(file, expr)
        if isinstance(symbol, Value):
            file, expr = symbol.file, symbol.expr
            if symbol.qualified in self.apps:
                return self.apps[symbol.qualified]
        key = built_by(self.project, file, expr, self.apps) if isinstance(expr, Call) else None
        return self.apps[key] if key is not None else None

    # Registrations on app objects ---------------------------------------------

    def _find_registrations(self) -> None:
        for file in self.project.files:
            for function in file.functions.values():
                for decorator in function.decorators:
                    self._decorated(file, decorator, Function(file, function))
            for site in file.calls:
                call = site.call
                if isinstance(call.func, Attr):
                    where = location(file, site.line, f"{show(call.func)}({show(call.args[0]) if call.args else ''}, ...)")
                    self._method_call(file, call, where)

    def _decorated(self, file: FileFacts, decorator: Expr, function: Function) -> None:
        """`@app.route("/p", methods=[...])`, `@app.websocket_route("/ws")`, `@app.middleware("http")`."""
        if not (isinstance(decorator, Call) and isinstance(decorator.func, Attr)):
            return
        app = self._app_of(file, decorator.func.value)
        if app is None:
            return
        verb = decorator.func.attr
        path = const_str(decorator.arg("path", 0))
        if verb == "route" and path is not None:
            app.added.append((_methods(decorator.arg("methods", 1)), path, function))
        elif verb == "websocket_route" and path is not None:
            app.added.append((("WEBSOCKET",), path, function))
        elif verb == "middleware" and const_str(decorator.arg("middleware_type", 0)) == "http":
            guard = middleware_check(function, function.facts)
            app.guards += [guard] if guard is not None else []

    def _method_call(self, file: FileFacts, call: Call, where: Location) -> None:
        assert isinstance(call.func, Attr)
        verb = call.func.attr
        app = self._app_of(file, call.func.value)
        if verb == "mount":
            child = self._app_of(file, call.arg("app", 1))
            if app is not None:
                app.items.append((file, call))  # walked like `Mount(path, app=...)`
            elif child is not None and const_str(call.arg("path", 0)) is not None:
                child.foreign_mounts.append((const_str(call.arg("path", 0)) or "", where))
            return
        if app is None:
            return
        path = const_str(call.arg("path", 0))
        endpoint = self.project.resolve_value(file, call.arg("route", 1))
        if verb == "add_route" and path is not None and isinstance(endpoint, (Function, Class)):
            app.added.append((_methods(call.arg("methods", 2)), path, endpoint))
        elif verb == "add_websocket_route" and path is not None and isinstance(endpoint, (Function, Class)):
            app.added.append((("WEBSOCKET",), path, endpoint))
        elif verb == "add_middleware":
            app.guards += self._middleware(file, call, "")

    # Middleware ---------------------------------------------------------------

    def _middleware_list(self, file: FileFacts, expr: Expr | None, mount: str) -> list[Guard]:
        """`middleware=[Middleware(TokenAuth), Middleware(AuthenticationMiddleware, backend=...)]`."""
        guards = []
        for item_file, item in sequence_items(self.project, file, expr):
            if isinstance(item, Call) and self.project.callee_name(item_file, item) in _MIDDLEWARE:
                guards += self._middleware(item_file, item, mount)
        return guards

    def _middleware(self, file: FileFacts, call: Call, mount: str) -> list[Guard]:
        """The class in `Middleware(Cls, ...)` or `add_middleware(Cls, ...)`: its `dispatch` or `__call__`.

        Starlette's AuthenticationMiddleware is external: no body to check, so no evidence."""
        cls = self.project.resolve_value(file, call.arg("cls", 0))
        if not isinstance(cls, Class):
            return []
        for method in ("dispatch", "__call__"):
            body = self.project.member(cls, method)
            if isinstance(body, Function):
                guard = middleware_check(cls, body.facts, path_strings(self.project, file, call))
                return [Guard(guard.evidence, guard.allow, mount=mount)] if guard is not None else []
        return []

    # Walking the route tree ---------------------------------------------------

    def _walk_app(self, app: _App, level: _Level, seen: tuple[str, ...], out: list[Route]) -> None:
        if app.key in seen or len(seen) > _MAX_DEPTH:
            return
        seen = (*seen, app.key)
        here = level.down(None, tuple(Guard(g.evidence, g.allow, g.patterns, level.prefix) for g in app.guards), app.where)
        for file, item in app.items:
            self._item(file, item, here, seen, out, 0)
        for methods, path, endpoint in app.added:
            out += self._routes(methods, path, endpoint, here, None)

    def _item(self, file: FileFacts, item: Expr, level: _Level, seen: tuple[str, ...], out: list[Route], depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if not isinstance(item, Call):  # a Route assigned to a name: `health = Route("/health", health)`
            symbol = self.project.resolve_value(file, item)
            if isinstance(symbol, Value) and isinstance(symbol.expr, Call):
                self._item(symbol.file, symbol.expr, level, seen, out, depth + 1)
            return
        callee = self.project.callee_name(file, item)
        if callee in _ROUTE or callee in _WEBSOCKET_ROUTE:
            self._route_item(file, item, callee in _WEBSOCKET_ROUTE, level, out)
        elif callee in _MOUNT or callee in _HOST or (isinstance(item.func, Attr) and item.func.attr == "mount"):
            self._mount(file, item, callee in _HOST, level, seen, out, depth)

    def _route_item(self, file: FileFacts, item: Call, websocket: bool, level: _Level, out: list[Route]) -> None:
        path = const_str(item.arg("path", 0))
        endpoint = self.project.resolve_value(file, item.arg("endpoint", 1))
        if path is None or not isinstance(endpoint, (Function, Class)):
            return
        full = join_paths(level.prefix, path)
        guards = self._middleware_list(file, item.arg("middleware"), full)
        methods = ("WEBSOCKET",) if websocket else _methods(item.arg("methods"), declared_only=True)
        out += self._routes(methods, path, endpoint, level.down(guards=tuple(guards)), const_str(item.arg("name")))

    def _mount(self, file: FileFacts, item: Call, host: bool, level: _Level, seen: tuple, out: list[Route], depth: int) -> None:
        """`Mount("/api", routes=[...], middleware=[...])`, `Mount("/admin", app=admin)`, `Host(..., app=...)`."""
        prefix = "" if host else const_str(item.arg("path", 0))
        if prefix is None:
            return
        below = level.down(prefix)
        below = below.down(guards=tuple(self._middleware_list(file, item.arg("middleware"), below.prefix)))
        for item_file, child in sequence_items(self.project, file, item.arg("routes")):
            self._item(item_file, child, below, seen, out, depth + 1)
        target = item.arg("app", 1)
        app = self._app_of(file, target)
        if app is not None:
            self.mounted.add(app.key)
            self._walk_app(app, below, seen, out)
        elif isinstance(target, Call) and self._kind(file, target) is not None:  # Mount("/v2", app=Router(routes=[...]))
            inline = below.down(guards=tuple(self._middleware_list(file, target.arg("middleware"), below.prefix)))
            routes = target.arg("routes", 1 if self._kind(file, target) == "app" else 0)
            for item_file, child in sequence_items(self.project, file, routes):
                self._item(item_file, child, inline, seen, out, depth + 1)

    # Routes -------------------------------------------------------------------

    def _routes(self, methods: tuple[str, ...], path: str, endpoint: Symbol, level: _Level, name: str | None) -> list[Route]:
        full = join_paths(level.prefix, path)
        covering = [g.evidence for g in level.guards if g.covers(full, name)]
        out = []
        for method_names, handler in self._handlers(methods, endpoint):
            auth = [*self._handler(handler), *covering] if isinstance(handler, Function) else list(covering)
            builder = RouteBuilder("starlette", method_names, full, handler, auth, list(level.levels))
            out.append(builder.build(path_params(full)))
        return out

    def _handlers(self, methods: tuple[str, ...], endpoint: Symbol) -> list[tuple[tuple[str, ...], Function | Class]]:
        """A function endpoint, or one handler per HTTP method an `HTTPEndpoint` class defines."""
        if isinstance(endpoint, Function):
            return [(methods or ("GET",), endpoint)]
        if not isinstance(endpoint, Class):
            return []
        if methods == ("WEBSOCKET",):
            return [(methods, endpoint)]
        found: list[tuple[tuple[str, ...], Function | Class]] = []
        for verb in _VERBS:
            method = self.project.member(endpoint, verb)
            if isinstance(method, Function) and (not methods or verb.upper() in methods):
                found.append(((verb.upper(),), method))
        return found

    def _handler(self, handler: Function) -> list[AuthEvidence]:
        key = handler.qualified
        if key not in self._handler_auth:
            found = [e for d in handler.facts.decorators if (e := self._decorator(handler, d)) is not None]
            body = body_check(handler)
            self._handler_auth[key] = found + ([body] if body is not None else [])
        return self._handler_auth[key]

    def _decorator(self, handler: Function, decorator: Expr) -> AuthEvidence | None:
        symbol, call = decorator_target(self.project, handler.file, decorator)
        if qualified_name(symbol) not in _REQUIRES or call is None:
            return decorator_check(self.project, self.settings, handler.file, decorator)
        scopes = literal_strings(call.arg("scopes", 0))
        requirements = tuple(s for s in scopes if s != "authenticated")
        kind = "authorization" if requirements else "authentication"
        return AuthEvidence(show(decorator), "handler", Location(handler.file.path, handler.facts.line), kind, requirements)


def _methods(expr: Expr | None, declared_only: bool = False) -> tuple[str, ...]:
    """`methods=["GET", "POST"]`; a function endpoint without them answers GET."""
    methods = tuple(m.upper() for m in literal_strings(expr))
    return methods or (() if declared_only else ("GET",))

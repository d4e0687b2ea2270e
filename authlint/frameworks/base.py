"""What every framework adapter shares: the base class, the team's configured auth
mechanisms, and the recognition of project code that checks the caller."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from dataclasses import dataclass, field
from typing import ClassVar, Iterable

from authlint.facts import auth_checks
from authlint.facts.expr import Call, Const, Expr, Seq, written
from authlint.facts.file_facts import FileFacts, FunctionFacts
from authlint.model import AuthEvidence, Location, Route
from authlint.project import Class, Function, Project, Symbol, Value, qualified_name

# Routes that are public by nature: signing in, health checks, API docs.
DEFAULT_PUBLIC_ROUTES = (
    "*/login", "*/login/*", "*/signin", "*/sign-in", "*/logout",
    "*/register", "*/signup", "*/sign-up",
    "*/token", "*/token/refresh", "*/refresh", "*/auth/callback", "*/oauth/callback", "*/callback",
    "*/forgot-password", "*/password-reset", "*/password-reset/*", "*/reset-password", "*/reset-password/*",
    "*/password/forgot", "*/password/reset", "*/password/reset/*", "*/verify-email", "*/verify-email/*",
    "/health*", "*/health*", "/healthz", "/ready*", "/live*", "/ping", "/status",
    "/docs*", "*/docs*", "/redoc*", "/openapi*", "*/openapi*", "/swagger*", "/static/*",
)  # fmt: skip


@dataclass(frozen=True)
class LinkSettings:
    """The team's own auth vocabulary, from `[tool.authlint]`."""

    auth_decorators: tuple[str, ...] = ()
    auth_dependencies: tuple[str, ...] = ()
    admin_checks: tuple[str, ...] = ()
    public_routes: tuple[str, ...] = DEFAULT_PUBLIC_ROUTES

    def is_public(self, path: str) -> bool:
        normalized = path.rstrip("/") or "/"
        return any(fnmatch.fnmatchcase(normalized, p) or fnmatch.fnmatchcase(path, p) for p in self.public_routes)

    def mark_public(self, route: Route) -> Route:
        return dataclasses.replace(route, public=self.is_public(route.path))


def matches_any(name: str | None, patterns: tuple[str, ...]) -> bool:
    """A qualified name against configured patterns: `app.auth.require_user`, `*.require_*`, `require_user`."""
    if not name:
        return False
    last = name.rsplit(".", 1)[-1]
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(last, p) for p in patterns)


class Framework:
    name: ClassVar[str]
    # Top-level modules whose import makes a file matter to this adapter.
    modules: ClassVar[frozenset[str]]
    # Or text that does (Django settings and urlconfs may import nothing of Django): `text`
    # must match, and the lowercased text must contain one of `words` (a fast prefilter
    # every match of `text` passes).
    text: ClassVar[re.Pattern[str] | None] = None
    words: ClassVar[tuple[str, ...]] = ()

    def routes(self, project: Project, settings: LinkSettings) -> list[Route]:
        raise NotImplementedError


@dataclass
class RouteBuilder:
    """Collects one route's facts while an adapter walks its levels."""

    framework: str
    methods: tuple[str, ...]
    path: str
    handler: Function | Class
    auth: list[AuthEvidence] = field(default_factory=list)
    levels: list[Location] = field(default_factory=list)

    def build(self, path_params: tuple[str, ...]) -> Route:
        facts = self.handler.facts
        return Route(
            framework=self.framework,
            methods=self.methods,
            path=self.path,
            handler=self.handler.qualified,
            location=Location(self.handler.file.path, facts.line),
            column=facts.column,
            source_line=facts.source_line,
            path_params=path_params,
            auth=tuple(dict.fromkeys(self.auth)),
            levels=tuple(dict.fromkeys(self.levels)),
        )


def location(file: FileFacts, line: int, message: str = "") -> Location:
    return Location(file.path, line, message)


def symbol_location(symbol: Symbol, message: str = "") -> Location | None:
    if isinstance(symbol, (Function, Class)):
        return Location(symbol.file.path, symbol.facts.line, message)
    if isinstance(symbol, Value):
        return Location(symbol.file.path, symbol.line, message)
    return None


def join_paths(*parts: str) -> str:
    path = ""
    for part in parts:
        if not part:
            continue
        path = path.rstrip("/") + "/" + part.lstrip("/") if path else part
    if not path.startswith("/"):
        path = "/" + path
    return path


_BRACE_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")
_ANGLE_PARAM = re.compile(r"<(?:[A-Za-z_][A-Za-z0-9_]*:)?([A-Za-z_][A-Za-z0-9_]*)>")
_REGEX_GROUP = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")


def path_params(path: str) -> tuple[str, ...]:
    """`{user_id}`, `{path:path}`, `<int:pk>`, `(?P<slug>...)`."""
    found = _BRACE_PARAM.findall(path) + _ANGLE_PARAM.findall(path) + _REGEX_GROUP.findall(path)
    return tuple(dict.fromkeys(found))


def custom_check(
    project: Project, symbol: Symbol, level: str, patterns: tuple[str, ...], what: str
) -> AuthEvidence | None:
    """Auth from the team's own code: a configured name, or a body that checks the caller."""
    name = qualified_name(symbol)
    where = symbol_location(symbol) or Location("", 0)
    if matches_any(name, patterns):
        return AuthEvidence(f"{name} (configured {what})", level, where)
    if isinstance(symbol, Function) and auth_checks.checks_caller(symbol.facts):
        shown = symbol.facts.name
        return AuthEvidence(f"{shown} (checks credentials, {auth_checks.denial(symbol.facts)})", level, where)
    return None


def decorator_target(project: Project, file: FileFacts, decorator: Expr) -> tuple[Symbol, Call | None]:
    """What a decorator is: `@login_required` and `@login_required()` both name login_required."""
    if isinstance(decorator, Call):
        return project.resolve_value(file, decorator.func), decorator
    return project.resolve_value(file, decorator), None


def show(expr: Expr | None) -> str:
    return written(expr)


# Auth in handler bodies, decorators and middleware, for adapters whose auth lives there ----------------

_QUOTED = re.compile(r"\('([^']*)'\)")


def allowlisted(path: str, item: str) -> bool:
    """A route path against one entry of a hook's allowlist: `/health` exactly, or a prefix `/static/*`."""
    if item.endswith("*"):
        return path.startswith(item[:-1])
    return path.rstrip("/") == item.rstrip("/") or path == item


def body_check(handler: Function, level: str = "handler") -> AuthEvidence | None:
    """The handler checks the caller itself: a library guard (`await check_authorized(request)`), or a
    credential read followed by a denial (`if not session.get("user"): raise HTTPUnauthorized`)."""
    facts = handler.facts
    where = Location(handler.file.path, facts.line)
    role = auth_checks.checks_role(facts)
    guards = facts.body.get(auth_checks.GUARDS, [])
    if guards:
        requirements = tuple(r for g in guards for r in _QUOTED.findall(g))
        kind = "authorization" if role or requirements else "authentication"
        return AuthEvidence(", ".join(guards[:2]), level, where, kind, requirements)
    # A role check alone is no evidence here: a handler may compare its own data's `role` field.
    if auth_checks.checks_caller(facts):
        checked = "credentials and role" if role else "credentials"
        mechanism = f"{facts.name} (checks {checked}, {auth_checks.denial(facts)})"
        return AuthEvidence(mechanism, level, where, "authorization" if role else "authentication")
    return None


def decorator_check(
    project: Project, settings: LinkSettings, file: FileFacts, decorator: Expr, level: str = "handler"
) -> AuthEvidence | None:
    """A project decorator that checks the caller, or one named in `auth-decorators`/`admin-checks`."""
    symbol, _ = decorator_target(project, file, decorator)
    evidence = custom_check(project, symbol, level, settings.auth_decorators + settings.admin_checks, "auth decorator")
    if evidence is None:
        return None
    role = matches_any(qualified_name(symbol), settings.admin_checks) or (
        isinstance(symbol, Function) and auth_checks.checks_role(symbol.facts)
    )
    return dataclasses.replace(evidence, kind="authorization") if role else evidence


@dataclass(frozen=True)
class Guard:
    """A middleware that checks the caller, and the routes it lets through unchecked."""

    evidence: AuthEvidence
    allow: tuple[str, ...] = ()  # paths, `/prefix*`, or route names
    patterns: tuple[str, ...] = ()  # regexes matched at the start of the path (a library's whitelist)
    mount: str = ""  # the path prefix it is attached at: its allowlist may be written relative to it

    def covers(self, path: str, name: str | None = None) -> bool:
        paths = {path}
        if self.mount and path.startswith(self.mount.rstrip("/")):
            paths.add(path[len(self.mount.rstrip("/")) :] or "/")
        if any(item == name or allowlisted(p, item) for item in self.allow for p in paths):
            return False
        return not any(_regex_match(pattern, p) for pattern in self.patterns for p in paths)


def _regex_match(pattern: str, path: str) -> bool:
    try:
        return re.match(pattern, path) is not None
    except re.error:
        return path.startswith(pattern)


def middleware_check(symbol: Function | Class, body: FunctionFacts, allow: tuple[str, ...] = ()) -> Guard | None:
    """A middleware whose body checks the caller (or the caller's role); it lets through what its body
    compares the request path or route name with, and `allow` (paths handed to it)."""
    role = auth_checks.checks_role(body)
    if not (auth_checks.checks_caller(body) or role):
        return None
    where = Location(symbol.file.path, symbol.facts.line)
    mechanism = f"{symbol.facts.name} (middleware, {'role check, ' if role else ''}{auth_checks.denial(body)})"
    evidence = AuthEvidence(mechanism, "middleware", where, "authorization" if role else "authentication")
    return Guard(evidence, tuple(body.body.get(auth_checks.ALLOWLIST, [])) + allow)


def sequence_items(project: Project, file: FileFacts, expr: Expr | None, depth: int = 0) -> list[tuple[FileFacts, Expr]]:
    """The items of a list written in place or assigned to a name in any module, each with its file."""
    if isinstance(expr, Seq):
        return [(file, item) for item in expr.items]
    if expr is None or depth > 8 or isinstance(expr, (Call, Const)):
        return []
    symbol = project.resolve_value(file, expr)
    if isinstance(symbol, Value) and symbol.expr is not expr:
        return sequence_items(project, symbol.file, symbol.expr, depth + 1)
    return []


def path_strings(project: Project, file: FileFacts, call: Call) -> tuple[str, ...]:
    """Paths handed to a middleware or its factory: `Middleware(Auth, public_paths=["/health"])`.

    A middleware that reads its allowlist from `self.public_paths` hides it from the body
    facts; the paths in its arguments are the ones it is likely to let through."""
    found: list[str] = []
    for value in (*call.args, *(v for _, v in call.kwargs)):
        for item_file, item in sequence_items(project, file, value):
            text = project.constant(item_file, item)
            if isinstance(text, str) and text.startswith("/"):
                found.append(text)
    return tuple(found)


def built_by(project: Project, file: FileFacts, call: Expr | None, candidates: Iterable[str]) -> str | None:
    """`add_subapp("/admin", create_admin_app())`: the one candidate object (by qualified name) that
    the called project function assigns in its own body, `app = web.Application()`."""
    callee = project.callee(file, call)
    if not isinstance(callee, Function):
        return None
    prefix = callee.qualified + "."
    made = [key for key in candidates if key.startswith(prefix) and "." not in key[len(prefix) :]]
    return made[0] if len(made) == 1 else None


def literal_strings(expr: Expr | None) -> tuple[str, ...]:
    """`"admin"` or `["authenticated", "admin"]` as written: scopes, permissions, methods."""
    if isinstance(expr, Const) and isinstance(expr.value, str):
        return (expr.value,)
    if isinstance(expr, Seq):
        return tuple(i.value for i in expr.items if isinstance(i, Const) and isinstance(i.value, str))
    return ()


# Questions project rules ask about a route -----------------------------------------

_ACTIONS = {
    "GET": ("get", "list", "retrieve"), "POST": ("post", "create"), "PUT": ("put", "update"),
    "PATCH": ("patch", "partial_update"), "DELETE": ("delete", "destroy"),
}  # fmt: skip


def method_actions(method: str) -> tuple[str, ...]:
    """The methods of a class-based view that serve an HTTP method: GET -> get, list, retrieve."""
    return _ACTIONS.get(method, (method.lower(),))


def route_handler(project: Project, route: Route) -> Function | Class | None:
    """The function or class a route's `handler` names (also functions inside an app factory)."""
    file = next((f for f in project.files if f.path == route.location.path), None)
    if file is None or not route.handler.startswith(file.module + "." if file.module else ""):
        return None
    qualname = route.handler[len(file.module) + 1 :] if file.module else route.handler
    if qualname in file.functions:
        return Function(file, file.functions[qualname])
    if qualname in file.classes:
        return Class(file, file.classes[qualname])
    return None


def view_class(project: Project, route: Route) -> Class | None:
    """The class-based view serving a route: the handler itself, or the class of a handler method."""
    handler = route_handler(project, route)
    if isinstance(handler, Class):
        return handler
    if isinstance(handler, Function) and handler.facts.scope in handler.file.classes:
        return Class(handler.file, handler.file.classes[handler.facts.scope])
    return None


def serving_functions(project: Project, route: Route) -> list[Function]:
    """The functions whose bodies answer the route: the handler, or a view class's methods for its HTTP methods."""
    handler = route_handler(project, route)
    if isinstance(handler, Function):
        return [handler]
    if not isinstance(handler, Class):
        return []
    found: list[Function] = []
    for method in route.methods:
        for name in method_actions(method):
            member = project.member(handler, name)
            if isinstance(member, Function) and member not in found:
                found.append(member)
    return found

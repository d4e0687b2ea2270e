"""What every framework adapter shares: the base class, the team's configured auth
mechanisms, and the recognition of project code that checks the caller."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from dataclasses import dataclass, field
from typing import ClassVar

from authlint.facts import auth_checks
from authlint.facts.expr import Call, Expr, written
from authlint.facts.file_facts import FileFacts
from authlint.model import AuthEvidence, Location, Route
from authlint.project import Class, Function, Project, Symbol, Value, qualified_name

# Routes that are public by nature: signing in, health checks, API docs.
DEFAULT_PUBLIC_ROUTES = (
    "*/login", "*/login/*", "*/signin", "*/sign-in", "*/logout",
    "*/register", "*/signup", "*/sign-up",
    "*/token", "*/token/refresh", "*/refresh", "*/auth/callback", "*/oauth/callback", "*/callback",
    "*/forgot-password", "*/password-reset", "*/password-reset/*", "*/reset-password", "*/reset-password/*",
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
    # Or text that does (Django settings and urlconfs may import nothing of Django).
    text: ClassVar[re.Pattern[str] | None] = None

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

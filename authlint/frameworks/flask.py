"""Flask: apps and blueprints across modules, with hooks and decorators as authentication.

Routes come from `@app.route`/`@bp.get(...)` decorators and `add_url_rule(rule, endpoint,
view_func)` calls (a function, or `SomeView.as_view("name")` for `View`/`MethodView`
classes), on an app (`Flask(__name__)`, also inside a `create_app()` factory) or on a
blueprint mounted with `register_blueprint(bp, url_prefix=...)`, blueprints inside
blueprints included.

Authentication comes from four levels:
- handler: decorators below the route decorator (`@login_required`, `@jwt_required()`,
  flask_httpauth's `@auth.login_required`, flask_security's `@roles_required("admin")`,
  flask_principal's `@admin_permission.require()`, a configured or self-made decorator
  that checks the caller), a wrapper around `view_func=login_required(view)`, or a body
  that checks the caller itself;
- class: `decorators = [login_required]` on a view class;
- blueprint and app: a `before_request` hook that checks the caller protects every route
  below it, except those its allowlist lets through (`if request.endpoint in PUBLIC:
  return`, `request.path.startswith("/public")`), or only the routes it limits itself to
  (`if request.path.startswith("/admin") and not current_user.is_admin: abort(403)`);
  `before_app_request` on a blueprint is an app hook.

A decorator written *above* `@app.route` protects nothing (route registers the function
it is handed), and `jwt_required(optional=True)` lets anonymous callers in: neither counts.
A decorator imported from outside the scanned code is taken at its name (`requires_auth`).
A blueprint mounted nowhere authlint can see is taken as mounted by the app of its package
that registers blueprints it cannot name (`for bp in BLUEPRINTS: app.register_blueprint(bp)`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from authlint.facts import auth_checks
from authlint.facts.expr import Attr, Call, Const, Expr, Seq, written
from authlint.facts.file_facts import FileFacts, FunctionFacts
from authlint.frameworks.base import (
    Framework,
    LinkSettings,
    RouteBuilder,
    body_check,
    custom_check,
    decorator_check,
    join_paths,
    location,
    path_params,
)
from authlint.model import AuthEvidence, Location, Route
from authlint.project import Class, External, Function, Project, Symbol, Unknown, Value, qualified_name

_APPS = frozenset({"flask.Flask", "flask.app.Flask"})
_BLUEPRINTS = frozenset({"flask.Blueprint", "flask.blueprints.Blueprint"})
_SHORTCUTS = {m: (m.upper(),) for m in ("get", "post", "put", "patch", "delete")}
_HOOKS = ("before_request", "before_app_request")
_VIEW_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_MAX_CHAIN = 8

# Auth libraries of the Flask world, and what their decorators require.
_FLASK_AUTH_LIBRARIES = frozenset({
    "flask_login", "flask_jwt_extended", "flask_jwt", "flask_httpauth", "flask_principal",
    "flask_security", "flask_praetorian", "flask_user",
})  # fmt: skip
_AUTH_LIBRARIES = _FLASK_AUTH_LIBRARIES | {"authlib"}
_AUTHENTICATING = frozenset({
    "login_required", "fresh_login_required", "jwt_required", "fresh_jwt_required", "jwt_refresh_token_required",
    "auth_required", "auth_token_required", "http_auth_required",
})  # fmt: skip
_ROLE_DECORATORS = frozenset({"roles_required", "roles_accepted", "permissions_required", "permissions_accepted"})
_PRINCIPAL_REQUIRE = "flask_principal.Permission.require"
# A decorator defined where authlint cannot look (a shared package outside the scan) is
# taken at its word when its name says it guards the view: `requires_auth`, `token_required`.
_AUTH_WORDS = re.compile(
    r"(?:^|_)(?:login|logged_in|o?auth|authenticated|authori[sz]ed?|token|jwt|api_?key|permissions?|roles?|admin"
    r"|principal|protected|secured?|signed_in)(?:_|$)"
)


class Flask(Framework):
    name = "flask"
    modules = frozenset({"flask", *_FLASK_AUTH_LIBRARIES})
    # Views and factories that use an app imported from the project: `from app import app`.
    text = re.compile(r"\.(?:route|add_url_rule|register_blueprint|before_request|before_app_request)\b")
    words = (".route", ".add_url_rule", ".register_blueprint", ".before_request", ".before_app_request")

    def routes(self, project: Project, settings: LinkSettings) -> list[Route]:
        return _Linker(project, settings).routes()


@dataclass
class _View:
    """One registration of a view on an app or blueprint, with its handler- and class-level auth."""

    builder: RouteBuilder
    endpoint: str


@dataclass(frozen=True)
class _Hook:
    """A `before_request` hook that checks the caller, with what its body lets through or limits itself to."""

    evidence: AuthEvidence
    allowlist: tuple[str, ...]
    scope: tuple[str, ...]  # empty: every route below the hook

    def covers(self, path: str, endpoint: str, blueprints: list[str]) -> bool:
        if self.scope and not any(_matches(path, endpoint, blueprints, item) for item in self.scope):
            return False
        return not any(_matches(path, endpoint, blueprints, item) for item in self.allowlist)


@dataclass(frozen=True)
class _Mount:
    """`parent.register_blueprint(child, url_prefix=..., name=...)`."""

    parent: _Container
    prefix: str | None
    name: str | None
    where: Location


@dataclass(eq=False)
class _Container:
    """A Flask app or Blueprint object of the project."""

    value: Value
    is_app: bool
    call: Call
    prefix: str | None = None
    blueprint_name: str = ""
    views: list[_View] = field(default_factory=list)
    parents: list[_Mount] = field(default_factory=list)
    hooks: list[_Hook] = field(default_factory=list)  # before_request
    app_hooks: list[_Hook] = field(default_factory=list)  # before_app_request
    # register_blueprint(...) calls whose blueprint authlint cannot name (a loop, a factory call)
    unknown_mounts: list[Location] = field(default_factory=list)

    @property
    def file(self) -> FileFacts:
        return self.value.file

    @property
    def declared_at(self) -> Location:
        name = self.value.key.rsplit(".", 1)[-1]
        return location(self.file, self.value.line, f"{name} = {written(self.call.func)}(...)")


class _Linker:
    def __init__(self, project: Project, settings: LinkSettings) -> None:
        self.project = project
        self.settings = settings
        self.containers: dict[str, _Container] = {}
        self._chain_cache: dict[int, list[tuple]] = {}

    def routes(self) -> list[Route]:
        self._find_containers()
        if not self.containers:
            return []
        self._find_mounts()
        self._find_views_and_hooks()
        out: list[Route] = []
        for container in self.containers.values():
            if not container.views:
                continue
            for chain in self._chains_of(container):
                app_hooks = self._app_hooks(chain[0][0])
                out += [self._route(view, chain, app_hooks) for view in container.views]
        return out

    # Apps and blueprints ----------------------------------------------------------

    def _find_containers(self) -> None:
        for file in self.project.files:
            for key, expr in file.assignments.items():
                if not isinstance(expr, Call):
                    continue
                callee = self.project.callee_name(file, expr)
                if callee not in _APPS and callee not in _BLUEPRINTS:
                    continue
                value = Value(file, key, expr)
                container = _Container(value, callee in _APPS, expr)
                if not container.is_app:
                    container.prefix = self._string(file, expr.arg("url_prefix"))
                    container.blueprint_name = self._string(file, expr.arg("name", 0)) or key.rsplit(".", 1)[-1]
                self.containers[value.qualified] = container

    def _container(self, file: FileFacts, expr: Expr | None) -> _Container | None:
        symbol = self.project.resolve_value(file, expr)
        return self.containers.get(symbol.qualified) if isinstance(symbol, Value) else None

    def _find_mounts(self) -> None:
        for file in self.project.files:
            for site in file.calls:
                call = site.call
                if not (isinstance(call.func, Attr) and call.func.attr == "register_blueprint"):
                    continue
                parent = self._container(file, call.func.value)
                if parent is None:
                    continue
                child_expr = call.arg("blueprint", 0)
                child = self._container(file, child_expr)
                where = location(file, site.line, f"{written(call.func)}({written(child_expr)}, ...)")
                if child is None or child.is_app:
                    parent.unknown_mounts.append(where)
                elif child is not parent:
                    prefix = self._string(file, call.arg("url_prefix"))
                    child.parents.append(_Mount(parent, prefix, self._string(file, call.arg("name")), where))
        # A blueprint mounted nowhere authlint can see is most likely one of those unnamed mounts
        # of its own package (`for bp in BLUEPRINTS: app.register_blueprint(bp)`).
        hosts = [c for c in self.containers.values() if c.unknown_mounts]
        for container in self.containers.values():
            if not container.is_app and not container.parents:
                for host in hosts:
                    if host is not container and _same_package(host.file, container.file):
                        container.parents.append(_Mount(host, None, None, host.unknown_mounts[0]))

    def _chains_of(self, container: _Container) -> list[tuple]:
        if id(container) not in self._chain_cache:
            self._chain_cache[id(container)] = self._chains(container, ())
        return self._chain_cache[id(container)]

    def _chains(self, container: _Container, seen: tuple[int, ...]) -> list[tuple]:
        """Every path from a root down to `container`: ((container, mount or None), ...), root first."""
        if id(container) in seen or len(seen) > _MAX_CHAIN:
            return []
        if not container.parents:
            return [((container, None),)]
        chains = []
        for mount in container.parents:
            for chain in self._chains(mount.parent, (*seen, id(container))):
                chains.append((*chain, (container, mount)))
        return chains

    def _app_hooks(self, root: _Container) -> list[_Hook]:
        """`before_app_request` hooks of every blueprint mounted (at any depth) on the app."""
        if not root.is_app:
            return []
        hooks: list[_Hook] = []
        for container in self.containers.values():
            if container.app_hooks and any(chain[0][0] is root for chain in self._chains_of(container)):
                hooks += container.app_hooks
        return hooks

    # Routes and hooks -----------------------------------------------------------

    def _find_views_and_hooks(self) -> None:
        for file in self.project.files:
            for function in file.functions.values():
                for index, decorator in enumerate(function.decorators):
                    self._decorated(file, function, index, decorator)
            for site in file.calls:
                call = site.call
                if not isinstance(call.func, Attr):
                    continue
                if call.func.attr == "add_url_rule":
                    self._url_rule(file, call, site.line)
                elif call.func.attr in _HOOKS:
                    self._hook_call(file, call)

    def _decorated(self, file: FileFacts, function: FunctionFacts, index: int, decorator: Expr) -> None:
        if isinstance(decorator, Attr) and decorator.attr in _HOOKS:  # @bp.before_request
            container = self._container(file, decorator.value)
            if container is not None:
                self._add_hook(container, decorator.attr, Function(file, function))
            return
        if not (isinstance(decorator, Call) and isinstance(decorator.func, Attr)):
            return
        method = decorator.func.attr
        if method != "route" and method not in _SHORTCUTS:
            return
        container = self._container(file, decorator.func.value)
        if container is None:
            return
        handler = Function(file, function)
        methods = _SHORTCUTS.get(method) or self._methods(file, decorator.arg("methods")) or ("GET",)
        builder = RouteBuilder("flask", methods, self._string(file, decorator.arg("rule", 0)) or "", handler)
        # Only the decorators below the route decorator wrap the function it registers.
        for inner in function.decorators[index + 1 :]:
            self._add(builder, self._decorator_evidence(file, inner, "handler", handler.facts.line))
        self._add(builder, self._body_evidence(handler))
        endpoint = self._string(file, decorator.arg("endpoint")) or function.name
        container.views.append(_View(builder, endpoint))

    def _url_rule(self, file: FileFacts, call: Call, line: int) -> None:
        assert isinstance(call.func, Attr)
        container = self._container(file, call.func.value)
        if container is None:
            return
        rule = self._string(file, call.arg("rule", 0)) or ""
        endpoint = self._string(file, call.arg("endpoint", 1))
        declared = self._methods(file, call.arg("methods"))
        wrappers: list[AuthEvidence] = []
        target = self._view_target(file, call.arg("view_func", 2), wrappers, line)
        if isinstance(target, Function):
            builder = RouteBuilder("flask", declared or ("GET",), rule, target, list(wrappers))
            for decorator in target.facts.decorators:
                self._add(builder, self._decorator_evidence(target.file, decorator, "handler", target.facts.line))
            self._add(builder, self._body_evidence(target))
            container.views.append(_View(builder, endpoint or target.facts.name))
        elif isinstance(target, tuple):
            cls, name = target
            for builder in self._class_views(cls, rule, declared, wrappers):
                container.views.append(_View(builder, endpoint or name or cls.facts.name))

    def _view_target(
        self, file: FileFacts, expr: Expr | None, wrappers: list[AuthEvidence], line: int, depth: int = 0
    ) -> Function | tuple[Class, str | None] | None:
        """What `view_func=` registers: a function, or a view class with its `as_view` name.

        Wrappers on the way (`login_required(view)`, `jwt_required()(view)`) add their auth.
        """
        if depth > _MAX_CHAIN or expr is None:
            return None
        if isinstance(expr, Call):
            if isinstance(expr.func, Attr) and expr.func.attr == "as_view":
                cls = self.project.resolve_value(file, expr.func.value)
                return (cls, self._string(file, expr.arg("name", 0))) if isinstance(cls, Class) else None
            if not expr.args:
                return None
            evidence = self._decorator_evidence(file, expr.func, "handler", line)
            if evidence is not None:
                wrappers.append(evidence)
            return self._view_target(file, expr.args[0], wrappers, line, depth + 1)
        symbol = self.project.resolve_value(file, expr)
        if isinstance(symbol, Function):
            return symbol
        if isinstance(symbol, Value) and isinstance(symbol.expr, Call):  # view = UserAPI.as_view("users")
            return self._view_target(symbol.file, symbol.expr, wrappers, line, depth + 1)
        return None

    def _class_views(
        self, cls: Class, rule: str, declared: tuple[str, ...], wrappers: list[AuthEvidence]
    ) -> list[RouteBuilder]:
        """One route per group of HTTP methods that share their auth, all at the `class` line."""
        class_auth = list(wrappers)
        for attribute in ("decorators", "method_decorators"):
            listed = self.project.member(cls, attribute)
            if isinstance(listed, Value) and isinstance(listed.expr, Seq):
                for item in listed.expr.items:
                    line = listed.line or cls.facts.line  # the `decorators = [...]` line, maybe in a base class
                    self._add(class_auth, self._decorator_evidence(listed.file, item, "class", line))
        handlers = self._view_methods(cls)
        methods = [m for m in declared if m.lower() in handlers or "dispatch_request" in handlers] if declared else []
        if not declared:
            methods = [m.upper() for m in handlers if m != "dispatch_request"] or self._class_methods(cls)
        groups: dict[tuple[AuthEvidence, ...], list[str]] = {}
        for method in methods:
            auth = list(class_auth)
            handler = handlers.get(method.lower()) or handlers.get("dispatch_request")
            if handler is not None:
                for decorator in handler.facts.decorators:
                    self._add(auth, self._decorator_evidence(handler.file, decorator, "handler", handler.facts.line))
                self._add(auth, self._body_evidence(handler))
            groups.setdefault(tuple(dict.fromkeys(auth)), []).append(method)
        return [RouteBuilder("flask", tuple(ms), rule, cls, list(auth)) for auth, ms in groups.items()]

    def _view_methods(self, cls: Class) -> dict[str, Function]:
        found = {}
        for name in (*_VIEW_METHODS, "dispatch_request"):
            member = self.project.member(cls, name)
            if isinstance(member, Function):
                found[name] = member
        return found

    def _class_methods(self, cls: Class) -> list[str]:
        """`methods = ["GET", "POST"]` on a plain `View`; GET when absent."""
        listed = self.project.member(cls, "methods")
        if isinstance(listed, Value):
            return list(self._methods(listed.file, listed.expr)) or ["GET"]
        return ["GET"]

    def _hook_call(self, file: FileFacts, call: Call) -> None:
        assert isinstance(call.func, Attr)
        container = self._container(file, call.func.value)
        target = self.project.resolve_value(file, call.arg("f", 0))
        if container is not None and isinstance(target, Function):
            self._add_hook(container, call.func.attr, target)

    def _add_hook(self, container: _Container, kind: str, hook: Function) -> None:
        level = "app" if container.is_app or kind == "before_app_request" else "blueprint"
        evidence = self._hook_evidence(hook, kind, level)
        if evidence is None:
            return
        body = hook.facts.body
        found = _Hook(evidence, tuple(body.get(auth_checks.ALLOWLIST, [])), tuple(body.get(auth_checks.SCOPE, [])))
        (container.app_hooks if kind == "before_app_request" else container.hooks).append(found)

    def _hook_evidence(self, hook: Function, kind: str, level: str) -> AuthEvidence | None:
        """A hook that checks the caller itself, or is wrapped in an auth decorator."""
        where = Location(hook.file.path, hook.facts.line)
        name = hook.facts.name
        for decorator in hook.facts.decorators:
            if isinstance(decorator, Attr) and decorator.attr in _HOOKS:
                continue
            found = self._decorator_evidence(hook.file, decorator, level, hook.facts.line)
            if found is not None:
                mechanism = f"{name} ({kind}, {found.mechanism})"
                return AuthEvidence(mechanism, level, where, found.kind, found.requirements)
        checked = body_check(hook, level)
        if checked is not None:
            role = ", role check" if checked.kind == "authorization" else ""
            mechanism = f"{name} ({kind}, {auth_checks.denial(hook.facts)}{role})"
            return dataclasses.replace(checked, mechanism=mechanism)
        patterns = self.settings.auth_decorators + self.settings.admin_checks
        return custom_check(self.project, hook, level, patterns, "auth hook")

    # Decorators -----------------------------------------------------------------

    def _decorator_evidence(self, file: FileFacts, decorator: Expr, level: str, line: int) -> AuthEvidence | None:
        """Auth a decorator adds, named as written: `login_required`, `auth.login_required(role='admin')`."""
        where = Location(file.path, line)
        call = decorator if isinstance(decorator, Call) else None
        target = call.func if call is not None else decorator
        symbol = self.project.resolve_value(file, target)
        if isinstance(symbol, Value) and isinstance(symbol.expr, Call) and call is None:
            # admin_only = roles_required("admin"); @admin_only
            file, call, target = symbol.file, symbol.expr, symbol.expr.func
            symbol = self.project.resolve_value(file, target)
        name, owner = self._decorator_name(file, target, symbol)
        if name is not None and name.split(".", 1)[0] in _AUTH_LIBRARIES:
            found = self._library_auth(name, call, owner)
            if found is None:
                return None
            kind, requirements = found
            return AuthEvidence(written(decorator), level, where, kind, requirements)
        custom = decorator_check(self.project, self.settings, file, call or target, level)
        if custom is not None and custom.kind == "authorization" and call is not None:
            return dataclasses.replace(custom, requirements=tuple(_strings(call.args)))  # @role_required("admin")
        if custom is not None:
            return custom
        if isinstance(symbol, External):
            return _unseen(symbol.name, level, where)
        if isinstance(symbol, Unknown):
            return _unseen(name or symbol.written, level, where)
        return None

    def _decorator_name(self, file: FileFacts, target: Expr, symbol: Symbol) -> tuple[str | None, Call | None]:
        """The decorator's qualified name; for a method of a library object (`auth.login_required` with
        `auth = HTTPBasicAuth()`), `flask_httpauth.HTTPBasicAuth.login_required` and the object's call."""
        if isinstance(symbol, Value) and isinstance(symbol.expr, Call):
            # require_oauth = ResourceProtector(); @require_oauth("profile") calls the instance
            instance = self.project.callee_name(symbol.file, symbol.expr)
            return (f"{instance}.__call__" if instance else None), None
        if not isinstance(symbol, Unknown) or not isinstance(target, Attr):
            return qualified_name(symbol), None
        owner_file, owner = file, target.value
        if not isinstance(owner, Call):
            value = self.project.resolve_value(file, owner)
            if not (isinstance(value, Value) and isinstance(value.expr, Call)):
                return None, None
            owner_file, owner = value.file, value.expr
        cls = self.project.callee_name(owner_file, owner)
        return (f"{cls}.{target.attr}", owner) if cls else (None, None)

    def _library_auth(self, name: str, call: Call | None, owner: Call | None) -> tuple[str, tuple[str, ...]] | None:
        """(kind, requirements) for a decorator of a Flask auth library, or None when it lets anyone in."""
        last = name.rsplit(".", 1)[-1]
        if call is not None and _is_true(call.arg("optional")):
            return None  # jwt_required(optional=True), auth.login_required(optional=True)
        if name.endswith(".ResourceProtector.__call__"):  # authlib: scopes are required grants
            scopes = tuple(_strings(call.args if call is not None else ()))
            return ("authorization" if scopes else "authentication"), scopes
        if name == _PRINCIPAL_REQUIRE and owner is not None:
            needs = _principal_needs(owner)
            return ("authorization", needs) if needs else None
        if last in _ROLE_DECORATORS:
            return "authorization", tuple(_strings(call.args if call is not None else ()))
        if last == "login_required" and call is not None and call.arg("role") is not None:
            return "authorization", tuple(_strings((call.arg("role"),)))
        if last in _AUTHENTICATING:
            return "authentication", ()
        return None

    @staticmethod
    def _body_evidence(handler: Function) -> AuthEvidence | None:
        """A view that checks the caller itself (`if not current_user.is_authenticated: abort(401)`)."""
        return body_check(handler)

    # Assembling a route -----------------------------------------------------------

    def _route(self, view: _View, chain: tuple, app_hooks: list[_Hook]) -> Route:
        base = view.builder
        route = RouteBuilder(base.framework, base.methods, base.path, base.handler, list(base.auth))
        prefix: str | None = None
        names: list[str] = []
        hooks: list[_Hook] = []
        for container, mount in chain:
            if mount is not None:
                route.levels.append(mount.where)
            route.levels.append(container.declared_at)
            if not container.is_app:
                own = mount.prefix if mount is not None and mount.prefix is not None else container.prefix
                prefix = _nest(prefix, own)
                names.append(mount.name if mount is not None and mount.name else container.blueprint_name)
            hooks = container.hooks + hooks  # innermost first, as the inventory reads
        route.path = join_paths(prefix or "", base.path)
        endpoint = ".".join([*names, view.endpoint])
        for hook in hooks + app_hooks:
            if hook.covers(route.path, endpoint, names):
                route.auth.append(hook.evidence)
        return route.build(path_params(route.path))

    # Values -----------------------------------------------------------------------

    def _string(self, file: FileFacts, expr: Expr | None) -> str | None:
        value = self.project.constant(file, expr)
        return value if isinstance(value, str) else None

    def _methods(self, file: FileFacts, expr: Expr | None) -> tuple[str, ...]:
        if not isinstance(expr, Seq):
            symbol = self.project.resolve_value(file, expr) if expr is not None else None
            expr = symbol.expr if isinstance(symbol, Value) else None
        return tuple(dict.fromkeys(m.upper() for m in _strings(expr.items))) if isinstance(expr, Seq) else ()

    @staticmethod
    def _add(target: RouteBuilder | list[AuthEvidence], evidence: AuthEvidence | None) -> None:
        if evidence is not None:
            (target.auth if isinstance(target, RouteBuilder) else target).append(evidence)


def _principal_needs(permission: Call) -> tuple[str, ...]:
    """`Permission(RoleNeed("admin"))` -> ("admin",): the needs any of which grants access."""
    needs: list[str] = []
    for need in permission.args:
        if isinstance(need, Call):
            needs += _strings(need.args) or [written(need)]
        else:
            needs.append(written(need))
    return tuple(needs)


def _unseen(name: str, level: str, where: Location) -> AuthEvidence | None:
    last = name.rsplit(".", 1)[-1]
    words = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", last).lower()  # requireAuth -> require_auth
    if not last or name.split(".", 1)[0] in ("flask", *_AUTH_LIBRARIES) or not _AUTH_WORDS.search(words):
        return None
    return AuthEvidence(f"{last} (not in the scanned code; taken as authentication by its name)", level, where)


def _same_package(one: FileFacts, other: FileFacts) -> bool:
    """Modules of one top-level package, or a top-level module (a flat project) and any other."""
    if not _in_package(one) or not _in_package(other):
        return True
    return one.module.split(".", 1)[0] == other.module.split(".", 1)[0]


def _in_package(file: FileFacts) -> bool:
    return file.is_package or "." in file.module


def _nest(outer: str | None, inner: str | None) -> str | None:
    """Flask's prefix of a nested blueprint: the parent's prefix, then the child's."""
    if outer is not None and inner is not None:
        return outer.rstrip("/") + "/" + inner.lstrip("/")
    return inner if inner is not None else outer


def _strings(items) -> list[str]:
    """String constants among `items`, looking into lists (`role=["admin", "staff"]`)."""
    found: list[str] = []
    for item in items:
        if isinstance(item, Const) and isinstance(item.value, str):
            found.append(item.value)
        elif isinstance(item, Seq):
            found += _strings(item.items)
    return found


def _is_true(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and bool(expr.value)


def _matches(path: str, endpoint: str, blueprints: list[str], item: str) -> bool:
    """Whether a route is named by an entry of a hook's allowlist or scope: a path, a path
    prefix `/public*`, an endpoint (`auth.login`) or prefix of one, or a blueprint name."""
    if item.endswith("*"):
        prefix = item[:-1]
        return path.startswith(prefix) or (not prefix.startswith("/") and endpoint.startswith(prefix))
    if item.startswith("/"):
        return path.rstrip("/") == item.rstrip("/") or path == item
    return item == endpoint or item in blueprints


__all__ = ["Flask"]

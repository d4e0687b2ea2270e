"""Django and Django REST framework: URLconfs, views, and permissions as authentication.

Routes come from the URLconf tree: the `urlpatterns` of the settings' `ROOT_URLCONF` (and of
every urlconf no other one includes), with `path`/`re_path`/`url` entries, `include()` of
another urlconf module, of a list or of a DRF router's `urls`, prefixes joined on the way.
`urlpatterns += router.urls`, `urlpatterns = [...] + router.urls` and `.append/.extend`
count. A view is:

- a function: methods from `@api_view([...])`, `@require_http_methods([...])`/`require_POST`,
  or what its body compares `request.method` with (GET otherwise);
- a class (`View.as_view()`): one route per HTTP method the class or its project bases
  define, plus those of Django's generic views and DRF's generics it derives from;
- a DRF ViewSet behind a router: list/create on `{prefix}/`, retrieve/update/partial_update/
  destroy on `{prefix}/{lookup}/`, for the actions it defines or inherits from DRF's mixins,
  and its `@action`s; or `as_view({"get": "list"})` with an explicit mapping.

The handler is the method that serves the route when the view class defines it, else the class.

Authentication comes from four levels:
- handler: `login_required`, `permission_required`, `user_passes_test`, `staff_member_required`,
  a configured or self-made decorator, `method_decorator(..., name="get")`, a wrapper in
  urls.py (`login_required(view)`), a body that checks the caller, `@permission_classes`,
  `@action(permission_classes=...)`; `login_not_required` is explicit public;
- class: `LoginRequiredMixin`, `PermissionRequiredMixin`, `UserPassesTestMixin` anywhere in
  the MRO, `method_decorator(login_required, name="dispatch")`, a `dispatch` that checks,
  `permission_classes` on the class or a project base class, `get_permissions()`;
- settings: `REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]` for DRF views without their own;
- middleware: Django 5.1's `LoginRequiredMiddleware` (or a project middleware that checks the
  caller, minus its allowlist) in `MIDDLEWARE`.

DRF permissions: `AllowAny` and an empty list are explicit public (AL306 reviews them;
`AllowAny` in settings is no evidence at all: it is DRF's own default). `IsAuthenticated`
authenticates; `IsAdminUser`, `DjangoModelPermissions`, `DjangoObjectPermissions` and project
`BasePermission` subclasses with a `has_permission` authorize; `IsAuthenticatedOrReadOnly`
and `DjangoModelPermissionsOrAnonReadOnly` only for unsafe methods: reads are public. A
project permission class that only defines `has_object_permission` checks loaded objects,
not the request: it counts on routes that address one object (detail routes) and nowhere
else. Object-level checks are named in the evidence's requirements as
`<Class>.has_object_permission` (see `OBJECT_CHECK`, `object_checks`).

Settings are found statically: modules assigning `REST_FRAMEWORK`/`MIDDLEWARE`, preferring
the one whose `ROOT_URLCONF` is the urlconf at hand, then the one a visible
`DJANGO_SETTINGS_MODULE` names, then production ones over `settings/dev.py`-like ones; when
several remain and disagree, none is applied.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from authlint.facts import auth_checks
from authlint.facts.expr import Attr, Call, Const, Expr, Mapping, Name, Ref, Seq, const_str, written
from authlint.facts.file_facts import FileFacts
from authlint.facts.settings import is_non_production_path
from authlint.frameworks.base import (
    Framework,
    Guard,
    LinkSettings,
    RouteBuilder,
    body_check,
    decorator_check,
    decorator_target,
    join_paths,
    literal_strings,
    middleware_check,
    path_params,
)
from authlint.model import AuthEvidence, Location, Route
from authlint.project import Class, External, Function, Module, Project, Symbol, Unknown, Value, qualified_name

# A requirement ending with this names an object-level permission check (`IsOwner.has_object_permission`).
OBJECT_CHECK = ".has_object_permission"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_VIEW_METHODS = ("get", "post", "put", "patch", "delete")
_MAX_DEPTH = 12

# DRF's permission classes: (kind, requirements, reads are public).
_DRF_PERMISSIONS = {
    "AllowAny": ("public", (), False),
    "IsAuthenticated": ("authentication", (), False),
    "IsAdminUser": ("authorization", ("is_staff",), False),
    "IsAuthenticatedOrReadOnly": ("authentication", (), True),
    "DjangoModelPermissions": ("authorization", ("model permissions",), False),
    "DjangoModelPermissionsOrAnonReadOnly": ("authorization", ("model permissions",), True),
    "DjangoObjectPermissions": (
        "authorization", ("model permissions", "DjangoObjectPermissions" + OBJECT_CHECK), False
    ),
    "BasePermission": ("none", (), False),
}
# Django's auth decorators and mixins (and the usual third-party ones), by name.
_DECORATORS = {
    "login_required": "authentication",
    "permission_required": "authorization",
    "user_passes_test": "authorization",
    "staff_member_required": "authorization",
    "superuser_required": "authorization",
    "login_not_required": "public",
    "no_login_required": "public",
}
_MIXINS = {
    "LoginRequiredMixin": "authentication",
    "PermissionRequiredMixin": "authorization",
    "UserPassesTestMixin": "authorization",
    "StaffuserRequiredMixin": "authorization",
    "SuperuserRequiredMixin": "authorization",
    "GroupRequiredMixin": "authorization",
    "MultiplePermissionsRequiredMixin": "authorization",
    "LoginNotRequiredMixin": "public",
    "NoLoginRequiredMixin": "public",
}
# Explicit public declarations AL306 reviews (IsAuthenticatedOrReadOnly's public reads are not among them).
_PERMISSIVE = frozenset({"AllowAny", "login_not_required", "no_login_required", "LoginNotRequiredMixin", "NoLoginRequiredMixin"})
_METHOD_DECORATORS = {"require_GET": ("GET",), "require_POST": ("POST",), "require_safe": ("GET", "HEAD")}
# The HTTP methods Django's generic views and DRF's generics serve.
_GENERIC_METHODS = {
    "TemplateView": ("get",), "RedirectView": _VIEW_METHODS, "ListView": ("get",), "DetailView": ("get",),
    "ArchiveIndexView": ("get",), "YearArchiveView": ("get",), "MonthArchiveView": ("get",),
    "WeekArchiveView": ("get",), "DayArchiveView": ("get",), "TodayArchiveView": ("get",), "DateDetailView": ("get",),
    "FormView": ("get", "post"), "CreateView": ("get", "post"), "UpdateView": ("get", "post"),
    "DeleteView": ("get", "post", "delete"), "LoginView": ("get", "post"), "LogoutView": ("post",),
    "PasswordChangeView": ("get", "post"), "PasswordResetView": ("get", "post"),
    "PasswordResetConfirmView": ("get", "post"),
    "CreateAPIView": ("post",), "ListAPIView": ("get",), "RetrieveAPIView": ("get",), "DestroyAPIView": ("delete",),
    "UpdateAPIView": ("put", "patch"), "ListCreateAPIView": ("get", "post"),
    "RetrieveUpdateAPIView": ("get", "put", "patch"), "RetrieveDestroyAPIView": ("get", "delete"),
    "RetrieveUpdateDestroyAPIView": ("get", "put", "patch", "delete"),
}  # fmt: skip
_STANDARD_ACTIONS = ("list", "create", "retrieve", "update", "partial_update", "destroy")
_VIEWSET_ACTIONS = {
    "ModelViewSet": _STANDARD_ACTIONS, "ReadOnlyModelViewSet": ("list", "retrieve"),
    "ListModelMixin": ("list",), "CreateModelMixin": ("create",), "RetrieveModelMixin": ("retrieve",),
    "UpdateModelMixin": ("update", "partial_update"), "DestroyModelMixin": ("destroy",),
}  # fmt: skip
_COLLECTION_ROUTE = (("GET", "list"), ("POST", "create"))
_DETAIL_ROUTE = (("GET", "retrieve"), ("PUT", "update"), ("PATCH", "partial_update"), ("DELETE", "destroy"))
_DETAIL_ACTIONS = frozenset({"retrieve", "update", "partial_update", "destroy"})
# A decorator from outside the scan is taken at its word when its name says it guards the view.
_AUTH_NAME = re.compile(r"login|auth|token|jwt|api_?key|permission|role|admin|staff|protect|secur", re.I)


class Django(Framework):
    name = "django"
    modules = frozenset({"django", "rest_framework"})
    # Settings modules and urlconfs often import nothing of Django.
    text = re.compile(
        r"\burlpatterns\b|\b(?:REST_FRAMEWORK|MIDDLEWARE|INSTALLED_APPS|ROOT_URLCONF)\s*[:+]?=|DJANGO_SETTINGS_MODULE"
    )
    words = ("urlpatterns", "rest_framework", "middleware", "installed_apps", "root_urlconf", "django_settings_module")

    def routes(self, project: Project, settings: LinkSettings) -> list[Route]:
        return _Linker(project, settings).routes()


# Reading the settings ---------------------------------------------------------------


@dataclass(frozen=True)
class DefaultPermissions:
    """What a `REST_FRAMEWORK = {...}` assignment makes the permissions of DRF views without their own.

    `state` is "set" (then `classes` are the items of DEFAULT_PERMISSION_CLASSES, each with
    the file it is written in), "missing" (DRF's default, AllowAny) or "unknown".
    """

    setting: Value
    state: str
    classes: tuple[tuple[FileFacts, Expr], ...] = ()

    @property
    def where(self) -> Location:
        return Location(self.setting.file.path, self.setting.line, "REST_FRAMEWORK")


def rest_framework_settings(project: Project) -> list[Value]:
    """Every module-level `REST_FRAMEWORK = ...` of the project."""
    key = "REST_FRAMEWORK"
    return [Value(f, key, f.assignments[key]) for f in project.files if key in f.assignments]


def default_permissions(project: Project, setting: Value) -> DefaultPermissions:
    found = _mapping_entry(project, setting.file, setting.expr, "DEFAULT_PERMISSION_CLASSES", 0)
    if found is None:
        return DefaultPermissions(setting, "missing")
    if found is _UNKNOWN:
        return DefaultPermissions(setting, "unknown")
    items = list_items(project, *found)  # type: ignore[misc]
    if items is None:
        return DefaultPermissions(setting, "unknown")
    return DefaultPermissions(setting, "set", tuple(items))


_UNKNOWN = object()


def _mapping_entry(project: Project, file: FileFacts, expr: Expr | None, key: str, depth: int) -> object:
    """(file, value) of `key` in a dict display (through `**spreads` and names), None if absent, or _UNKNOWN."""
    if depth > _MAX_DEPTH or expr is None:
        return _UNKNOWN
    if isinstance(expr, Mapping):
        value = expr.get(key)
        if value is not None:
            return (file, value)
        spreads = [_mapping_entry(project, file, v, key, depth + 1) for k, v in expr.items if k is None]
        if any(s is _UNKNOWN for s in spreads):
            return _UNKNOWN
        return next((s for s in spreads if s is not None), None)
    if isinstance(expr, Call) and written(expr.func) == "dict" and not expr.has_star:
        value = next((v for k, v in expr.kwargs if k == key), None)
        if value is not None:
            return (file, value)
        return _mapping_entry(project, file, expr.args[0], key, depth + 1) if expr.args else None
    if isinstance(expr, (Name, Ref, Attr)):
        symbol = project.resolve_value(file, expr)
        if isinstance(symbol, Value) and symbol.expr is not expr:
            return _mapping_entry(project, symbol.file, symbol.expr, key, depth + 1)
    return _UNKNOWN


def list_items(
    project: Project, file: FileFacts, expr: Expr | None, depth: int = 0
) -> list[tuple[FileFacts, Expr]] | None:
    """The items of a list or tuple written in place or bound to a name (through `+`/`+=`), or None."""
    if isinstance(expr, Seq):
        return [(file, item) for item in expr.items]
    if depth > _MAX_DEPTH or not isinstance(expr, (Name, Ref, Attr)):
        return None
    symbol = project.resolve_value(file, expr)
    return value_items(project, symbol, depth + 1) if isinstance(symbol, Value) else None


def value_items(project: Project, value: Value, depth: int = 0) -> list[tuple[FileFacts, Expr]] | None:
    operands = value.file.operands.get(value.key)
    if not operands:
        return list_items(project, value.file, value.expr, depth + 1) if value.expr is not None else None
    found: list[tuple[FileFacts, Expr]] = []
    for operand in operands:
        items = list_items(project, value.file, operand, depth + 1)
        if items is None:
            return None
        found += items
    return found


def settings_module_names(project: Project) -> set[str]:
    """Modules named by `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")`."""
    names = set()
    for file in project.files:
        for site in file.calls:
            call = site.call
            if isinstance(call.func, Attr) and call.func.attr == "setdefault" and len(call.args) == 2:
                if const_str(call.args[0]) == "DJANGO_SETTINGS_MODULE" and const_str(call.args[1]):
                    names.add(const_str(call.args[1]))  # type: ignore[arg-type]
    return names  # type: ignore[return-value]


class _Settings:
    """Which settings module applies to a urlconf: the one naming it in ROOT_URLCONF, else the
    project's only one (by DJANGO_SETTINGS_MODULE, then production over development)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        named = (project.module(n) for n in settings_module_names(project))
        self.named = {f.module for f in named if f is not None}
        self.claims: dict[str, list[FileFacts]] = {}
        for file in project.files:
            root = project.constant(file, file.assignments.get("ROOT_URLCONF"))
            target = project.module(root) if isinstance(root, str) else None
            if target is not None:
                self.claims.setdefault(target.module, []).append(file)

    def claimed_roots(self) -> set[str]:
        return set(self.claims)

    def choose(self, name: str, root: FileFacts | None, reading: Callable[[Value], object]) -> Value | None:
        claimed = [f for f in self.claims.get(root.module, []) if name in f.assignments] if root is not None else []
        chosen = self._choose(claimed, name, reading) if claimed else None
        if chosen is None:
            chosen = self._choose([f for f in self.project.files if name in f.assignments], name, reading)
        return chosen

    def _choose(self, files: list[FileFacts], name: str, reading: Callable[[Value], object]) -> Value | None:
        if not files:
            return None
        files = [f for f in files if f.module in self.named] or files
        files = [f for f in files if not is_non_production_path(f.path)] or files
        values = [Value(f, name, f.assignments[name]) for f in files]
        # `{**REST_FRAMEWORK, ...}` over a star import reads as unknown: it does not contradict the others.
        readings = {v.qualified: reading(v) for v in values}
        values = [v for v in values if readings[v.qualified] is not None] or values
        return values[0] if len({readings[v.qualified] for v in values}) == 1 else None


@dataclass
class _Site:
    """What the settings add to every route of one URLconf tree."""

    drf: DefaultPermissions | None = None
    middleware: list[Guard] = field(default_factory=list)
    levels: tuple[Location, ...] = ()


# Permissions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Permission:
    label: str
    kind: str  # "public", "authentication", "authorization" or "none" (lets everyone through)
    requirements: tuple[str, ...] = ()
    reads_public: bool = False  # ...OrReadOnly: safe methods are public
    object_only: bool = False  # checks loaded objects only (has_object_permission)


def _builtin_permission(name: str) -> _Permission | None:
    if not name.startswith("rest_framework.permissions."):
        return None
    last = name.rsplit(".", 1)[-1]
    known = _DRF_PERMISSIONS.get(last)
    return _Permission(last, known[0], known[1], known[2]) if known else None


def is_permissive(evidence: AuthEvidence) -> bool:
    """Evidence that opens a view to anyone on purpose: DRF `AllowAny` or an empty
    `permission_classes`, or Django's `login_not_required`, at the handler or class."""
    if evidence.kind != "public" or evidence.level not in ("handler", "class"):
        return False
    mechanism = evidence.mechanism
    if "permission_classes" in mechanism and "[]" in mechanism:
        return True
    return any(part.split(" ", 1)[0] in _PERMISSIVE for part in mechanism.split(", "))


def object_checks(route: Route) -> tuple[str, ...]:
    """The object-level permission checks that apply to a route: `IsOwner.has_object_permission`."""
    return tuple(r for r in route.requirements if r.endswith(OBJECT_CHECK))


# The linker ----------------------------------------------------------------------------


@dataclass(eq=False)
class _Router:
    value: Value
    call: Call
    registrations: list[tuple[FileFacts, Call, int]] = field(default_factory=list)

    @property
    def trailing(self) -> str:
        slash = self.call.arg("trailing_slash")
        return "" if isinstance(slash, Const) and not slash.value else "/"


@dataclass(frozen=True)
class _Entry:
    """One item of a urlpatterns list: a `path(...)` call, or a router's urls."""

    file: FileFacts
    call: Call | None = None
    router: _Router | None = None


@dataclass(frozen=True)
class _Mount:
    """A view mounted at a path: the expression naming it and where it was mounted."""

    path: str
    file: FileFacts
    view: Expr | None
    levels: tuple[Location, ...]
    router: _Router | None = None


@dataclass(frozen=True)
class _ClassView:
    cls: Class
    initkwargs: Call | None = None  # as_view(permission_classes=..., ...)
    actions: tuple[tuple[str, str], ...] | None = None  # as_view({"get": "list"})
    where: Location | None = None
    file: FileFacts | None = None  # where `as_view(...)` is written


@dataclass(frozen=True)
class _Plan:
    """One HTTP method of one path, and the view method (or action) serving it."""

    path: str
    method: str
    action: str
    detail: bool
    extra: tuple[Function, Call] | None = None  # the @action serving it


class _Linker:
    def __init__(self, project: Project, settings: LinkSettings) -> None:
        self.project = project
        self.settings = settings
        self.config = _Settings(project)
        self.routers: dict[str, _Router] = {}
        self.included: set[str] = set()
        self._mros: dict[str, list[Class]] = {}

    def routes(self) -> list[Route]:
        urlconfs = {f.module: f for f in self.project.files if "urlpatterns" in f.assignments}
        if not urlconfs:
            return []
        self._find_routers()
        for file in urlconfs.values():  # a first walk finds which urlconfs others include
            for _ in self._urlconf_mounts(file, "", (), ()):
                pass
        roots = [f for m, f in urlconfs.items() if m in self.config.claimed_roots() or m not in self.included]
        found: dict[tuple, Route] = {}
        for root in roots:
            site = self._site(root)
            for mount in self._urlconf_mounts(root, "", (), ()):
                for route in self._mount_routes(mount, site):
                    found.setdefault((route.path, route.methods, route.handler), route)
        return list(found.values())

    # Settings ---------------------------------------------------------------------

    def _site(self, root: FileFacts) -> _Site:
        site = _Site()
        drf = self.config.choose("REST_FRAMEWORK", root, self._drf_reading)
        if drf is not None:
            site.drf = default_permissions(self.project, drf)
            site.levels += (site.drf.where,)
        middleware = self.config.choose("MIDDLEWARE", root, lambda v: tuple(self._middleware(v)))
        if middleware is not None:
            site.middleware = self._middleware(middleware)
        return site

    def _drf_reading(self, value: Value) -> object:
        reading = default_permissions(self.project, value)
        if reading.state == "unknown":
            return None
        return reading.state, tuple(written(expr) for _, expr in reading.classes)

    def _middleware(self, value: Value) -> list[Guard]:
        where = Location(value.file.path, value.line, "MIDDLEWARE")
        found = []
        for file, item in value_items(self.project, value) or []:
            text = self.project.constant(file, item)
            if not isinstance(text, str):
                continue
            if text.rsplit(".", 1)[-1] == "LoginRequiredMiddleware":
                found.append(Guard(AuthEvidence("LoginRequiredMiddleware", "middleware", where)))
                continue
            checked = self._middleware_check(self.project.resolve_dotted(text))
            if checked is not None:
                found.append(checked)
        return found

    def _middleware_check(self, symbol: Symbol) -> Guard | None:
        if isinstance(symbol, Function):
            return middleware_check(symbol, symbol.facts)
        if isinstance(symbol, Class):
            for name in ("__call__", "process_view", "process_request"):
                method = self._find_method(symbol, name)
                checked = middleware_check(symbol, method.facts) if method is not None else None
                if checked is not None:
                    return checked
        return None

    # URLconfs ---------------------------------------------------------------------

    def _find_routers(self) -> None:
        for file in self.project.files:
            for key, expr in file.assignments.items():
                if isinstance(expr, Call) and self._is_router_class(self.project.callee(file, expr)):
                    value = Value(file, key, expr)
                    self.routers[value.qualified] = _Router(value, expr)
        for file in self.project.files:
            for site in file.calls:
                func = site.call.func
                if isinstance(func, Attr) and func.attr == "register":
                    router = self._router(file, func.value)
                    if router is not None:
                        router.registrations.append((file, site.call, site.line))

    def _is_router_class(self, symbol: Symbol) -> bool:
        chain = [symbol, *self.project.ancestors(symbol)] if isinstance(symbol, Class) else [symbol]
        for item in chain:
            name = qualified_name(item) or ""
            if name.startswith("rest_framework") and name.endswith("Router"):
                return True
        return False

    def _router(self, file: FileFacts, expr: Expr | None) -> _Router | None:
        symbol = self.project.resolve_value(file, expr)
        return self.routers.get(symbol.qualified) if isinstance(symbol, Value) else None

    def _urlconf_mounts(self, file: FileFacts, prefix: str, levels: tuple, seen: tuple) -> Iterator[_Mount]:
        if file.module in seen or len(seen) > _MAX_DEPTH:
            return
        where = Location(file.path, file.assignment_lines.get("urlpatterns", 0), f"urlpatterns of {file.module}")
        entries = self._entries(file, Name("urlpatterns"), 0, ())
        yield from self._list_mounts(entries, prefix, (*levels, where), (*seen, file.module))

    def _list_mounts(self, entries: list[_Entry], prefix: str, levels: tuple, seen: tuple) -> Iterator[_Mount]:
        for entry in entries:
            if entry.router is not None:
                yield from self._router_mounts(entry.router, prefix, levels)
            elif entry.call is not None:
                yield from self._pattern_mounts(entry.file, entry.call, prefix, levels, seen)

    def _pattern_mounts(self, file: FileFacts, call: Call, prefix: str, levels: tuple, seen: tuple) -> Iterator[_Mount]:
        route = self.project.constant(file, call.arg("route", 0) or call.arg("regex"))
        if not isinstance(route, str):
            return
        if (self.project.callee_name(file, call) or "").rsplit(".", 1)[-1] != "path":  # re_path, url: a regex
            route = route.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
        path = join_paths(prefix, route) if prefix or route else "/"
        view = call.arg("view", 1)
        if isinstance(view, Call) and self._is_django(file, view, "include"):
            yield from self._include_mounts(file, view, path, levels, seen)
        elif view is not None:
            yield _Mount(path, file, view, levels)

    def _include_mounts(self, file: FileFacts, call: Call, path: str, levels: tuple, seen: tuple) -> Iterator[_Mount]:
        target = call.arg("arg", 0)
        if isinstance(target, Seq) and len(target.items) >= 2 and isinstance(target.items[1], Const):
            target = target.items[0]  # include((patterns, "app_name"))
        module = None
        if isinstance(target, Const) and isinstance(target.value, str):
            module = self.project.module(target.value)
        elif isinstance(target, (Name, Ref, Attr)):
            symbol = self.project.resolve_value(file, target)
            module = symbol.file if isinstance(symbol, Module) else None
        if module is not None:
            self.included.add(module.module)
            yield from self._urlconf_mounts(module, path, levels, seen)
            return
        yield from self._list_mounts(self._entries(file, target, 0, ()), path, levels, seen)

    def _entries(self, file: FileFacts, expr: Expr | None, depth: int, seen: tuple) -> list[_Entry]:
        """The patterns a urlpatterns-like expression holds."""
        if expr is None or depth > _MAX_DEPTH:
            return []
        if isinstance(expr, Seq):
            return [e for item in expr.items for e in self._entries(file, item, depth + 1, seen)]
        if isinstance(expr, Call):
            return self._call_entries(file, expr, depth, seen)
        if isinstance(expr, Attr) and expr.attr == "urls":
            router = self._router(file, expr.value)
            if router is not None:
                return [_Entry(file, router=router)]
        if not isinstance(expr, (Name, Ref, Attr)):
            return []
        symbol = self.project.resolve_value(file, expr)
        if not isinstance(symbol, Value) or symbol.qualified in seen:
            return []
        seen = (*seen, symbol.qualified)
        owner = symbol.file
        parts = owner.operands.get(symbol.key) or [symbol.expr]
        found = [e for part in parts for e in self._entries(owner, part, depth + 1, seen)]
        for site in owner.calls:  # urlpatterns.append(path(...)), urlpatterns.extend(router.urls)
            func = site.call.func
            if isinstance(func, Attr) and isinstance(func.value, Name) and func.value.key == symbol.key:
                added = {"append": 0, "extend": 0, "insert": 1}.get(func.attr)
                if added is not None and len(site.call.args) > added:
                    found += self._entries(owner, site.call.args[added], depth + 1, seen)
        return found

    def _call_entries(self, file: FileFacts, call: Call, depth: int, seen: tuple) -> list[_Entry]:
        name = (self.project.callee_name(file, call) or written(call.func)).rsplit(".", 1)[-1]
        if name in ("path", "re_path", "url") and self._is_django(file, call, name):
            return [_Entry(file, call=call)]
        if name in ("format_suffix_patterns", "i18n_patterns"):
            return [e for arg in call.args for e in self._entries(file, arg, depth + 1, seen)]
        if isinstance(call.func, Attr) and call.func.attr == "get_urls":
            router = self._router(file, call.func.value)
            return [_Entry(file, router=router)] if router is not None else []
        return []

    def _is_django(self, file: FileFacts, call: Call, name: str) -> bool:
        callee = self.project.callee_name(file, call) or ""
        return callee.startswith("django.") and callee.rsplit(".", 1)[-1] == name

    def _router_mounts(self, router: _Router, prefix: str, levels: tuple) -> Iterator[_Mount]:
        for file, call, line in router.registrations:
            registered = self.project.constant(file, call.arg("prefix", 0))
            if not isinstance(registered, str):
                continue
            shown = f"{written(call.func)}({written(call.args[0]) if call.args else ''}, ...)"
            where = Location(file.path, line, shown)
            path = join_paths(prefix, registered.removeprefix("^").removesuffix("$"))
            yield _Mount(path, file, call.arg("viewset", 1), (*levels, where), router)

    # Views ------------------------------------------------------------------------

    def _mount_routes(self, mount: _Mount, site: _Site) -> list[Route]:
        wrappers: list[AuthEvidence] = []
        where = mount.levels[-1] if mount.levels else Location(mount.file.path, 0)
        target = self._view_target(mount.file, mount.view, wrappers, where, 0)
        if isinstance(target, Function):
            return self._function_routes(mount, target, wrappers, site)
        if isinstance(target, _ClassView):
            return self._class_routes(mount, target, wrappers, site)
        return []

    def _view_target(
        self, file: FileFacts, expr: Expr | None, wrappers: list[AuthEvidence], where: Location, depth: int
    ) -> Function | _ClassView | None:
        """What a pattern mounts: a function or a view class, unwrapping `login_required(view)` on the way."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, Call):
            if isinstance(expr.func, Attr) and expr.func.attr == "as_view":
                cls = self.project.resolve_value(file, expr.func.value)
                if not isinstance(cls, Class):
                    return None
                actions = expr.arg("actions", 0)
                mapping = None
                if isinstance(actions, Mapping):  # ViewSet.as_view({"get": "list"})
                    pairs = [(const_str(k), const_str(v)) for k, v in actions.items]
                    mapping = tuple((k.upper(), v) for k, v in pairs if k and v)
                return _ClassView(cls, expr, mapping, where, file)
            if not expr.args:
                return None
            wrappers += self._decorator_evidence(file, expr.func, "handler", where)
            return self._view_target(file, expr.args[0], wrappers, where, depth + 1)
        symbol = self.project.resolve_value(file, expr)
        if isinstance(symbol, Function):
            return symbol
        if isinstance(symbol, Class):  # router.register(prefix, ViewSet)
            return _ClassView(symbol, where=where)
        if isinstance(symbol, Value) and isinstance(symbol.expr, Call):  # user_list = UserViewSet.as_view({...})
            return self._view_target(symbol.file, symbol.expr, wrappers, where, depth + 1)
        return None

    def _function_routes(self, mount: _Mount, view: Function, wrappers: list[AuthEvidence], site: _Site) -> list[Route]:
        file, facts = view.file, view.facts
        where = Location(file.path, facts.line)
        auth = list(wrappers)
        api_view: Expr | None = None
        permissions: Expr | None = None
        declared: tuple[str, ...] = ()
        for decorator in facts.decorators:
            symbol, call = decorator_target(self.project, file, decorator)
            name = qualified_name(symbol) or ""
            last = name.rsplit(".", 1)[-1]
            if name.startswith("rest_framework.decorators."):
                if last == "api_view":
                    api_view = decorator
                elif last == "permission_classes" and call is not None:
                    permissions = call.arg("permission_classes", 0)
            elif name.startswith("django.views.decorators.http."):
                listed = _upper(literal_strings(call.arg("request_method_list", 0))) if call is not None else ()
                declared = _METHOD_DECORATORS.get(last) or listed or declared
            else:
                auth += self._decorator_evidence(file, decorator, "handler", where)
        checked = body_check(view)
        if checked is not None:
            auth.append(checked)
        if api_view is not None:
            call = api_view if isinstance(api_view, Call) else None
            methods = _upper(literal_strings(call.arg("http_method_names", 0))) if call else ()
            methods = methods or ("GET",)
        else:
            methods = declared or ("GET", *facts.body.get(auth_checks.METHODS, []))
        detail = bool(path_params(mount.path))
        per_method: dict[str, list[AuthEvidence]] = {}
        for method in dict.fromkeys(methods):
            evidence = list(auth)
            if api_view is not None:
                if permissions is not None:
                    empty = "@permission_classes([])"
                    evidence += self._permission_evidence(file, permissions, method, detail, "handler", where, empty)
                else:
                    evidence += self._settings_evidence(site, method, detail)
            per_method[method] = evidence
        levels = mount.levels + (site.levels if api_view is not None else ())
        return self._build(mount.path, view, per_method, levels, site)

    def _class_routes(self, mount: _Mount, view: _ClassView, wrappers: list[AuthEvidence], site: _Site) -> list[Route]:
        cls = view.cls
        externals = [qualified_name(a) or "" for a in self.project.ancestors(cls) if not isinstance(a, Class)]
        drf = any(name.startswith("rest_framework.") for name in externals)
        is_viewset = any(name.startswith("rest_framework.viewsets.") for name in externals)
        if is_viewset and mount.router is None and view.actions is None:
            return []  # as_view() on a ViewSet without its actions mapping does not route
        if mount.router is not None:
            plans = self._router_plans(cls, mount)
        elif view.actions is not None:
            plans = self._mapping_plans(cls, mount.path, view.actions)
        else:
            detail = bool(path_params(mount.path))
            plans = [_Plan(mount.path, m.upper(), m, detail) for m in self._http_methods(cls, externals)]
        common, per_name = self._class_auth(cls)
        class_where = Location(cls.file.path, cls.facts.line, f"class {cls.facts.name}")
        by_handler: dict[tuple[str, str], tuple[Function | Class, dict[str, list[AuthEvidence]]]] = {}
        for plan in plans:
            handler = self._own_method(cls, plan.action) or cls
            evidence = [*wrappers, *common, *per_name.get(plan.action, []), *self._method_auth(cls, plan)]
            if drf:
                evidence += self._drf_class_evidence(cls, view, plan, site)
            key = (plan.path, handler.qualified)
            by_handler.setdefault(key, (handler, {}))[1].setdefault(plan.method, evidence)
        routes = []
        levels = mount.levels + (class_where,) + (site.levels if drf else ())
        for (path, _), (handler, per_method) in by_handler.items():
            routes += self._build(path, handler, per_method, levels, site)
        return routes

    def _router_plans(self, cls: Class, mount: _Mount) -> list[_Plan]:
        assert mount.router is not None
        trailing = mount.router.trailing
        base = mount.path.rstrip("/")
        lookup = self._constant_attribute(cls, "lookup_url_kwarg") or self._constant_attribute(cls, "lookup_field")
        detail_base = f"{base}/{{{lookup or 'pk'}}}"
        actions = self._viewset_actions(cls)
        plans = [_Plan(base + trailing or "/", m, a, False) for m, a in _COLLECTION_ROUTE if a in actions]
        plans += [_Plan(detail_base + trailing, m, a, True) for m, a in _DETAIL_ROUTE if a in actions]
        for function, call in self._extra_actions(cls):
            flag = call.arg("detail")
            detail = isinstance(flag, Const) and bool(flag.value)
            url_path = const_str(call.arg("url_path")) or function.facts.name
            path = f"{detail_base if detail else base}/{url_path}{trailing}"
            for method in _upper(literal_strings(call.arg("methods"))) or ("GET",):
                plans.append(_Plan(path, method, function.facts.name, detail, (function, call)))
        return plans

    def _mapping_plans(self, cls: Class, path: str, actions: tuple[tuple[str, str], ...]) -> list[_Plan]:
        extras = {f.facts.name: (f, c) for f, c in self._extra_actions(cls)}
        plans = []
        for method, action in actions:
            extra = extras.get(action)
            detail_flag = extra[1].arg("detail") if extra else None
            if isinstance(detail_flag, Const):
                detail = bool(detail_flag.value)
            else:
                detail = action in _DETAIL_ACTIONS or bool(path_params(path))
            plans.append(_Plan(path, method, action, detail, extra))
        return plans

    def _viewset_actions(self, cls: Class) -> set[str]:
        found = {a for a in _STANDARD_ACTIONS if self._find_method(cls, a) is not None}
        for ancestor in self.project.ancestors(cls):
            name = qualified_name(ancestor) or ""
            if name.startswith("rest_framework."):
                found.update(_VIEWSET_ACTIONS.get(name.rsplit(".", 1)[-1], ()))
        return found

    def _extra_actions(self, cls: Class) -> list[tuple[Function, Call]]:
        found: dict[str, tuple[Function, Call]] = {}
        for owner in self._project_mro(cls):
            for name in owner.facts.methods:
                function = Function(owner.file, owner.file.functions[f"{owner.facts.qualname}.{name}"])
                for decorator in function.facts.decorators:
                    symbol, call = decorator_target(self.project, owner.file, decorator)
                    if (qualified_name(symbol) or "") == "rest_framework.decorators.action":
                        found.setdefault(name, (function, call or Call(decorator)))
        return list(found.values())

    def _http_methods(self, cls: Class, externals: list[str]) -> list[str]:
        methods = {m for m in _VIEW_METHODS if self._find_method(cls, m) is not None}
        for name in externals:
            if name.startswith(("django.", "rest_framework.")):
                methods.update(_GENERIC_METHODS.get(name.rsplit(".", 1)[-1], ()))
        return [m for m in _VIEW_METHODS if m in methods]

    # Auth of views ------------------------------------------------------------------

    def _class_auth(self, cls: Class) -> tuple[list[AuthEvidence], dict[str, list[AuthEvidence]]]:
        """Auth for every method of a view class (mixins, dispatch), and per method name
        (`@method_decorator(login_required, name="get")`)."""
        where = Location(cls.file.path, cls.facts.line)
        common: list[AuthEvidence] = []
        per_name: dict[str, list[AuthEvidence]] = {}
        for ancestor in self.project.ancestors(cls):
            name = (qualified_name(ancestor) or "").rsplit(".", 1)[-1] or getattr(ancestor, "written", "")
            if name in _MIXINS:
                common.append(AuthEvidence(name, "class", where, _MIXINS[name], self._mixin_requirements(cls, name)))
        for owner in self._project_mro(cls):
            owner_where = Location(owner.file.path, owner.facts.line)
            for decorator in owner.facts.decorators:
                call = decorator if isinstance(decorator, Call) else None
                target = const_str(call.arg("name")) if call is not None else None
                level = "class" if target in (None, "dispatch") else "handler"
                evidence = self._decorator_evidence(owner.file, decorator, level, owner_where)
                if level == "class":
                    common += evidence
                else:
                    per_name.setdefault(target, []).extend(evidence)  # type: ignore[arg-type]
            dispatch = self._own_method(owner, "dispatch")
            if dispatch is not None:
                common += self._function_decorators(dispatch, "class")
                checked = body_check(dispatch, "class")
                if checked is not None:
                    common.append(checked)
        return common, per_name

    def _mixin_requirements(self, cls: Class, mixin: str) -> tuple[str, ...]:
        if mixin == "PermissionRequiredMixin":
            value = self._attribute(cls, "permission_required")
            if value is not None:
                text = self.project.constant(value.file, value.expr)
                return (text,) if isinstance(text, str) else tuple(literal_strings(value.expr))
        if mixin in ("StaffuserRequiredMixin",):
            return ("is_staff",)
        if mixin == "SuperuserRequiredMixin":
            return ("is_superuser",)
        return ()

    def _method_auth(self, cls: Class, plan: _Plan) -> list[AuthEvidence]:
        """Decorators on the method serving the plan, and what its body checks."""
        method = plan.extra[0] if plan.extra else self._find_method(cls, plan.action)
        if method is None:
            return []
        evidence = self._function_decorators(method, "handler")
        checked = body_check(method)
        if checked is not None:
            evidence.append(checked)
        return evidence

    def _function_decorators(self, function: Function, level: str) -> list[AuthEvidence]:
        where = Location(function.file.path, function.facts.line)
        found = []
        for decorator in function.facts.decorators:
            symbol, _ = decorator_target(self.project, function.file, decorator)
            if not (qualified_name(symbol) or "").startswith("rest_framework."):
                found += self._decorator_evidence(function.file, decorator, level, where)
        return found

    def _decorator_evidence(self, file: FileFacts, decorator: Expr, level: str, where: Location) -> list[AuthEvidence]:
        """Auth a Django decorator adds: `login_required`, `permission_required("app.change_x")`,
        `method_decorator([...])`, a configured or self-made check, an auth-named one from outside."""
        symbol, call = decorator_target(self.project, file, decorator)
        name = qualified_name(symbol) or (symbol.written if isinstance(symbol, Unknown) else "")
        last = name.rsplit(".", 1)[-1]
        if last == "method_decorator" and call is not None:
            inner = call.arg("decorator", 0)
            items = inner.items if isinstance(inner, Seq) else (inner,) if inner is not None else ()
            return [e for item in items for e in self._decorator_evidence(file, item, level, where)]
        if last in _DECORATORS and not isinstance(symbol, Class):
            requirements = _decorator_requirements(last, call)
            return [AuthEvidence(written(decorator), level, where, _DECORATORS[last], requirements)]
        custom = decorator_check(self.project, self.settings, file, decorator, level)
        if custom is not None:
            return [custom]
        if isinstance(symbol, (External, Unknown)) and name and not name.startswith(("django.", "rest_framework.")):
            if _AUTH_NAME.search(last):
                mechanism = f"{last} (not in the scanned code; taken as authentication by its name)"
                return [AuthEvidence(mechanism, level, where)]
        return []

    def _drf_class_evidence(self, cls: Class, view: _ClassView, plan: _Plan, site: _Site) -> list[AuthEvidence]:
        """DRF permissions of one method of a view class, from the innermost level that sets them."""
        method, detail = plan.method, plan.detail
        if plan.extra is not None and plan.extra[1].arg("permission_classes") is not None:
            function, call = plan.extra
            where = Location(function.file.path, function.facts.line)
            expr = call.arg("permission_classes")
            empty = "@action(permission_classes=[])"
            return self._permission_evidence(function.file, expr, method, detail, "handler", where, empty)
        custom = self._find_method(cls, "get_permissions")
        if custom is not None:
            where = Location(custom.file.path, custom.facts.line)
            owner = custom.facts.qualname.rsplit(".", 2)[-2]
            return [AuthEvidence(f"{owner}.get_permissions() (decided per request)", "class", where)]
        initkwarg = view.initkwargs.arg("permission_classes") if view.initkwargs is not None else None
        if initkwarg is not None and view.where is not None and view.file is not None:
            return self._permission_evidence(
                view.file, initkwarg, method, detail, "class", view.where, "as_view(permission_classes=[])"
            )
        value = self._attribute(cls, "permission_classes")
        if value is not None:
            owner = value.key.rsplit(".", 1)[0]
            own = owner == cls.facts.qualname and value.file is cls.file
            inherited = "" if own else f" (from {owner.rsplit('.', 1)[-1]})"
            where = Location(value.file.path, value.line)
            return self._permission_evidence(
                value.file, value.expr, method, detail, "class", where, "permission_classes = []", inherited
            )
        return self._settings_evidence(site, method, detail)

    def _settings_evidence(self, site: _Site, method: str, detail: bool) -> list[AuthEvidence]:
        if site.drf is None or site.drf.state == "missing":
            return []
        if site.drf.state == "unknown":  # `{**DEFAULTS}` from a module outside the scan: trusted, not guessed
            mechanism = "DEFAULT_PERMISSION_CLASSES (not readable; taken as a check)"
            return [AuthEvidence(mechanism, "settings", site.drf.where)]
        perms = [self._classify(file, item) for file, item in site.drf.classes]
        return self._evidence(perms, method, detail, "settings", site.drf.where, "")

    def _permission_evidence(
        self, file: FileFacts, expr: Expr | None, method: str, detail: bool, level: str, where: Location,
        empty: str, inherited: str = "",
    ) -> list[AuthEvidence]:  # fmt: skip
        items = list_items(self.project, file, expr)
        if items is None:  # `[IsAuthenticated] + BASE`, a call: unreadable, taken as a check
            return [AuthEvidence(f"permission_classes = {written(expr)}{inherited}", level, where)]
        if not items:
            return [AuthEvidence(empty + inherited, level, where, "public")]
        perms = [self._classify(f, item) for f, item in items]
        return self._evidence(perms, method, detail, level, where, inherited)

    def _evidence(
        self, perms: list[_Permission], method: str, detail: bool, level: str, where: Location, inherited: str
    ) -> list[AuthEvidence]:
        """DRF requires every listed permission: any that checks the caller for this method is auth."""
        found, public = [], []
        for perm in perms:
            if perm.kind == "public":
                public.append(perm.label)
            elif perm.reads_public and method in SAFE_METHODS:
                public.append(f"{perm.label} (reads are public)")
            elif perm.kind != "none" and (detail or not perm.object_only):
                found.append(AuthEvidence(perm.label + inherited, level, where, perm.kind, perm.requirements))
        if found:
            return found
        if level == "settings":  # AllowAny as the default is no evidence: it is DRF's own default
            public = [p for p in public if p != "AllowAny"]
        return [AuthEvidence(", ".join(public) + inherited, level, where, "public")] if public else []

    def _classify(self, file: FileFacts, item: Expr) -> _Permission:
        if isinstance(item, Const) and isinstance(item.value, str):  # settings name classes by dotted path
            symbol: Symbol = self.project.resolve_dotted(item.value)
            shown = item.value.rsplit(".", 1)[-1]
        else:
            symbol = self.project.resolve_value(file, item)
            shown = written(item).rsplit(".", 1)[-1] if not isinstance(item, Call) else written(item)
        if isinstance(symbol, Class):
            return self._project_permission(symbol)
        builtin = _builtin_permission(qualified_name(symbol) or "")
        if builtin is not None:
            return builtin
        return _Permission(shown, "authentication")  # a library's permission, or `IsAuthenticated | ReadOnly`

    def _project_permission(self, cls: Class) -> _Permission:
        name = cls.facts.name
        mro = self._project_mro(cls)
        own = next((c for c in mro if "has_permission" in c.facts.methods), None)
        objects = next((c for c in mro if "has_object_permission" in c.facts.methods), None)
        object_requirement = (f"{objects.facts.name}{OBJECT_CHECK}",) if objects is not None else ()
        if own is not None:
            return _Permission(name, "authorization", (name, *object_requirement))
        builtin = next(
            (p for p in (_builtin_permission(qualified_name(a) or "") for a in self.project.ancestors(cls)) if p), None
        )
        if builtin is not None and builtin.kind != "none":
            return dataclasses.replace(
                builtin, label=f"{name} (a {builtin.label})", requirements=builtin.requirements + object_requirement
            )
        if objects is not None:
            return _Permission(f"{name} (object-level)", "authorization", object_requirement, object_only=True)
        return _Permission(name, "none")

    # Classes ------------------------------------------------------------------------

    def _project_mro(self, cls: Class) -> list[Class]:
        """The class and its project base classes, nearest first (external bases left out)."""
        found = self._mros.get(cls.qualified)
        if found is None:
            found = [cls]
            for ancestor in self.project.ancestors(cls):
                if isinstance(ancestor, Class) and all(ancestor.qualified != c.qualified for c in found):
                    found.append(ancestor)
            self._mros[cls.qualified] = found
        return found

    def _own_method(self, cls: Class, name: str) -> Function | None:
        facts = cls.file.functions.get(f"{cls.facts.qualname}.{name}")
        return Function(cls.file, facts) if facts is not None else None

    def _find_method(self, cls: Class, name: str) -> Function | None:
        for owner in self._project_mro(cls):
            found = self._own_method(owner, name)
            if found is not None:
                return found
        return None

    def _attribute(self, cls: Class, name: str) -> Value | None:
        for owner in self._project_mro(cls):
            if name in owner.facts.attributes:
                return Value(owner.file, f"{owner.facts.qualname}.{name}", owner.facts.attributes[name])
        return None

    def _constant_attribute(self, cls: Class, name: str) -> str | None:
        value = self._attribute(cls, name)
        text = self.project.constant(value.file, value.expr) if value is not None else None
        return text if isinstance(text, str) else None

    # Routes -------------------------------------------------------------------------

    def _build(
        self, path: str, handler: Function | Class, per_method: dict[str, list[AuthEvidence]],
        levels: tuple[Location, ...], site: _Site,
    ) -> list[Route]:  # fmt: skip
        """One route per group of methods that share their auth (IsAuthenticatedOrReadOnly splits them)."""
        middleware = [guard.evidence for guard in site.middleware if guard.covers(path)]
        groups: dict[tuple[AuthEvidence, ...], list[str]] = {}
        for method, evidence in per_method.items():
            groups.setdefault(tuple(dict.fromkeys([*evidence, *middleware])), []).append(method)
        routes = []
        for evidence, methods in groups.items():
            ordered = tuple(sorted(methods, key=lambda m: _METHOD_ORDER.index(m) if m in _METHOD_ORDER else 99))
            builder = RouteBuilder("django", ordered, path, handler, list(evidence), list(levels))
            routes.append(builder.build(path_params(path)))
        return routes


def _decorator_requirements(name: str, call: Call | None) -> tuple[str, ...]:
    if name == "permission_required" and call is not None:
        return tuple(literal_strings(call.arg("perm", 0)))
    if name == "user_passes_test" and call is not None:
        return (written(call.arg("test_func", 0)),) if call.arg("test_func", 0) is not None else ()
    if name == "staff_member_required":
        return ("is_staff",)
    if name == "superuser_required":
        return ("is_superuser",)
    return ()


def _upper(methods: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.upper() for m in methods))


__all__ = [
    "OBJECT_CHECK", "DefaultPermissions", "Django", "default_permissions", "is_permissive", "list_items",
    "object_checks", "rest_framework_settings", "route_rest_framework", "settings_module_names", "value_items",
]  # fmt: skip


def route_rest_framework(project: Project, route: Route) -> tuple[FileFacts, Mapping] | None:
    """The `REST_FRAMEWORK` settings the Django adapter applied to a DRF route (one of its levels)."""
    for level in route.levels:
        if level.message != "REST_FRAMEWORK":
            continue
        file = next((f for f in project.files if f.path == level.path), None)
        value = file.assignments.get("REST_FRAMEWORK") if file is not None else None
        if isinstance(value, Mapping):
            return file, value  # type: ignore[return-value]
    return None

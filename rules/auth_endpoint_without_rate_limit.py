from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from authlint.facts import data_access
from authlint.facts.expr import Attr, Call, Const, Expr, Index, Seq, written
from authlint.facts.file_facts import FileFacts, FunctionFacts
from authlint.frameworks import django
from authlint.frameworks.base import matches_any, method_actions, route_handler, serving_functions, view_class
from authlint.model import Location, Precision, Route, Severity
from authlint.project import Class, External, Function, Project, Unknown, Value, qualified_name
from authlint.rule import ProjectRule

_SUBMITTING = frozenset({"POST", "PUT", "PATCH"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+[a-z]*")
# Segments after which a route is token upkeep, not a way in: nothing to guess there.
_UPKEEP = frozenset({"logout", "signout", "refresh", "revoke", "introspect", "callback", "blacklist"})
_VERIFY_CONTEXT = frozenset({
    "email", "phone", "sms", "code", "otp", "account", "auth", "login", "user", "users", "signup",
    "registration", "mfa", "2fa", "totp", "device", "mobile",
})  # fmt: skip

_LIMITERS = frozenset({
    "slowapi.Limiter", "slowapi.extension.Limiter", "flask_limiter.Limiter", "flask_limiter.extension.Limiter",
})  # fmt: skip
_LIMIT_METHODS = frozenset({"limit", "shared_limit"})
_DEFAULT_LIMITS = ("default_limits", "application_limits", "global_limits")
_FLASK_DEFAULT_SETTINGS = frozenset({"RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_DEFAULTS"})
_SLOWAPI_MIDDLEWARE = frozenset({"SlowAPIMiddleware", "SlowAPIASGIMiddleware"})
_DJANGO_RATELIMIT = frozenset({"django_ratelimit.decorators.ratelimit", "ratelimit.decorators.ratelimit"})
# django-ratelimit's middleware only turns its exception into a response: it limits nothing.
_NOT_A_LIMIT = frozenset({"django_ratelimit.middleware.RatelimitMiddleware", "ratelimit.middleware.RatelimitMiddleware"})
_LOCKOUT_APPS = frozenset({"axes", "defender"})  # django-axes, django-defender: lock out failed logins
_RATE_NAME = re.compile(r"rate_?limit|ratelimit|throttl|limiter|RateLimit", re.I)
_DEPENDS = frozenset({"Depends", "Security"})
_SCOPE_NOTE = "`ScopedRateThrottle` throttles only views that set a `throttle_scope`"
_LIBRARIES = frozenset({"slowapi", "fastapi_limiter", "flask_limiter", "django_ratelimit", "ratelimit"})


@dataclass
class _Verdict:
    """What the levels of one route say about throttling."""

    evidence: str | None = None
    exempt: str | None = None  # `@limiter.exempt`: global and blueprint limits do not apply
    off: str | None = None  # `throttle_classes = []`: DRF's defaults do not apply
    notes: list[str] = field(default_factory=list)
    fix: str | None = None  # a remedy more precise than the framework's usual one

    def add(self, evidence: str | None) -> None:
        self.evidence = self.evidence or evidence


_ANYWHERE = "*"  # evidence that applies to every route of its framework


@dataclass
class _ProjectLimits:
    """Throttling that applies beyond one route, by the app or blueprint it is attached to
    (`Value.qualified` of `app = FastAPI()`, `bp = Blueprint(...)`) or `_ANYWHERE`."""

    attached: dict[str, list[str]] = field(default_factory=dict)
    slowapi_defaults: list[tuple[str, str]] = field(default_factory=list)  # (path, as written)
    slowapi_limiters: int = 0  # slowapi Limiter objects authlint can read
    slowapi_middleware: dict[str, str] = field(default_factory=dict)  # app -> middleware name
    exempt_blueprints: dict[str, str] = field(default_factory=dict)
    django: list[str] = field(default_factory=list)  # MIDDLEWARE entries that throttle
    lockout_apps: list[str] = field(default_factory=list)
    libraries: set[str] = field(default_factory=set)

    def attach(self, key: str | None, evidence: str) -> None:
        self.attached.setdefault(key or _ANYWHERE, []).append(evidence)

    def on(self, keys: list[str]) -> str | None:
        for key in (*keys, _ANYWHERE):
            if self.attached.get(key):
                return self.attached[key][0]
        return None


class AuthEndpointWithoutRateLimit(ProjectRule):
    """A login, token, password-reset, one-time-code or sign-up endpoint has no rate limiting.

    ## What it does
    Finds the routes that take credentials or codes, by their path and handler name:
    login (`/login`, `/signin`, `/auth/token`, `obtain_token`), password reset
    (`/forgot-password`, `/password/reset`), one-time codes (`/otp`, `/mfa`, `/2fa`,
    `/verify-email`) and registration (`/register`, `/signup`). Only `POST`, `PUT` and
    `PATCH` routes are considered: credentials and codes are submitted, and `GET`
    verification links carry long random tokens nobody guesses. Token upkeep (`/refresh`,
    `/logout`, `/revoke`, `/token/verify`) is left alone.

    Such a route is reported when no level throttles it:

    - slowapi: `@limiter.limit("5/minute")` (or `shared_limit`) on the handler, or
      `Limiter(default_limits=[...])` together with `SlowAPIMiddleware`: slowapi applies
      `default_limits` only through its middleware;
    - fastapi-limiter: a `Depends(RateLimiter(...))` on the route, its router, its
      `include_router` or the app, or its `RateLimiterMiddleware`;
    - Flask-Limiter: `@limiter.limit(...)` on the view or `limiter.limit(...)(blueprint)`,
      or default limits (`Limiter(default_limits=[...])`, `RATELIMIT_DEFAULT`), which cover
      every route except those marked `@limiter.exempt` (or whose blueprint is);
    - Django REST framework: `throttle_classes` on the view (`@throttle_classes` on a
      function view) or `DEFAULT_THROTTLE_CLASSES` in `REST_FRAMEWORK`; a view that sets
      `throttle_classes = []` opts out, and `ScopedRateThrottle` throttles only views with
      a `throttle_scope`;
    - django-ratelimit: `@ratelimit(key="ip", rate="5/m")` (also through
      `method_decorator`); with `block=False` it only marks `request.limited`, which counts
      when the view reads it. django-axes or django-defender in `INSTALLED_APPS` cover
      login and token routes;
    - your own code: a decorator, dependency or middleware whose name says it limits
      (`rate_limit`, `throttle`) or whose body answers 429 or calls a limiter, or a
      handler that does so itself (`limiter.hit(...)`, `is_ratelimited(...)`).

    Rate limits applied outside the code (an API gateway, nginx `limit_req`) are
    invisible to authlint; name your own helpers in `rate-limiters`, or suppress the
    finding with a comment saying where the limit lives.

    ## Why is this bad?
    Without a limit an attacker can try passwords, leaked credential pairs or every
    six-digit code as fast as the server answers: a one-time code falls in minutes,
    password resets and sign-ups can be sprayed or used to flood mailboxes. OWASP lists
    missing limits on authentication under API2 (Broken Authentication) and API4
    (Unrestricted Resource Consumption).

    ## Example
    ```python
    @router.post("/auth/login")
    def login(form: OAuth2PasswordRequestForm = Depends()):
        ...
    ```

    ## Use instead
    ```python
    limiter = Limiter(key_func=get_remote_address)


    @router.post("/auth/login")
    @limiter.limit("5/minute")
    def login(request: Request, form: OAuth2PasswordRequestForm = Depends()):
        ...
    ```

    ## Options
    - `rate-limiters`: names (or fnmatch patterns) of your own decorators, dependencies or
      middleware that throttle requests, such as `"app.security.throttled"` or `"*_throttle"`.

    ```toml
    [tool.authlint.rules.AL501]
    rate-limiters = ["app.security.throttled"]
    ```

    ## References
    - OWASP API Security Top 10 2023, API4: Unrestricted Resource Consumption
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP Authentication Cheat Sheet, "Protect Against Automated Attacks"
    - CWE-307: Improper Restriction of Excessive Authentication Attempts
    """

    code = "AL501"
    name = "auth-endpoint-without-rate-limit"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API4:2023", "API2:2023")
    cwe = (307,)
    # A limiter is often set up in a module of its own (extensions.py) that imports no framework.
    requires = frozenset({"slowapi", "flask_limiter", "fastapi_limiter", "django_ratelimit", "ratelimit", "limits"})

    @dataclasses.dataclass(frozen=True)
    class Options:
        rate_limiters: list[str] = dataclasses.field(default_factory=list)

    _limits: _ProjectLimits | None = None

    def check(self) -> None:
        for route in self.routes:
            if not _SUBMITTING & set(route.methods):
                continue
            category = _auth_category(route)
            if category is None:
                continue
            verdict = self._verdict(route, category)
            if verdict.evidence is not None:
                continue
            notes = "".join(f" ({note})" for note in dict.fromkeys(verdict.notes))
            fix = verdict.fix or self._fix(route)
            missing = f"{route.label} is a {category} endpoint with no rate limiting at any level"
            self.report_route(route, f"{missing}{notes}; {fix}")

    @property
    def limits(self) -> _ProjectLimits:
        if self._limits is None:
            self._limits = _Scanner(self.project, self._configured).scan()
        return self._limits

    @property
    def _configured(self) -> tuple[str, ...]:
        return tuple(self.options.rate_limiters)

    # One route --------------------------------------------------------------------

    def _verdict(self, route: Route, category: str) -> _Verdict:
        verdict = _Verdict()
        reader = _Reader(self.project, self._configured)
        handler = route_handler(self.project, route)
        cls = view_class(self.project, route)
        for file, decorator in self._decorators(route, handler, cls):
            reader.decorator(verdict, file, decorator)
        if isinstance(handler, Function):
            for dependency in _dependencies(self.project, handler):
                verdict.add(reader.dependency(handler.file, dependency))
        if cls is not None:
            reader.view_class(verdict, cls)
        for function in serving_functions(self.project, route):
            found = data_access.rate_limits(function.facts)
            verdict.add(f"{', '.join(found[:2])} in {function.facts.name}" if found else None)
        if verdict.evidence is None:
            self._levels(verdict, reader, route)
        if verdict.evidence is None and verdict.exempt is None:
            self._global(verdict, route, category)
        if verdict.exempt and verdict.evidence is None:
            verdict.notes.append(f"`{verdict.exempt}` exempts it from the default limits")
        return verdict

    def _decorators(self, route: Route, handler, cls: Class | None):
        """Decorators that apply to the route: the handler's, and a view class's for the route's methods."""
        if isinstance(handler, Function):
            yield from ((handler.file, d) for d in handler.facts.decorators)
        if cls is None:
            return
        served = {name for m in route.methods for name in method_actions(m)} | {"dispatch"}
        for decorator in cls.facts.decorators:
            target = decorator.arg("name") if isinstance(decorator, Call) else None
            if target is None or (isinstance(target, Const) and target.value in served):
                yield cls.file, decorator
        decorators = self.project.member(cls, "decorators")  # Flask's View.decorators
        if isinstance(decorators, Value) and isinstance(decorators.expr, Seq):
            yield from ((decorators.file, d) for d in decorators.expr.items)
        if not isinstance(handler, Function):
            for function in serving_functions(self.project, route):
                yield from ((function.file, d) for d in function.facts.decorators)

    def _levels(self, verdict: _Verdict, reader: _Reader, route: Route) -> None:
        """Dependencies of the router, include and app (FastAPI); an exempted blueprint (Flask)."""
        for level in route.levels:
            for file, expr in _objects_at(self.project, level):
                if isinstance(expr, Call):
                    deps = expr.arg("dependencies")
                    for dep in deps.items if isinstance(deps, Seq) else ():
                        verdict.add(reader.dependency(file, dep))
        for key in _level_keys(self.project, route):
            if key in self.limits.exempt_blueprints:
                verdict.exempt = verdict.exempt or self.limits.exempt_blueprints[key]

    def _global(self, verdict: _Verdict, route: Route, category: str) -> None:
        """Limits attached to the route's app or blueprint: middleware, default limits, hooks, settings."""
        limits = self.limits
        keys = _level_keys(self.project, route)
        verdict.add(limits.on(keys))
        if route.framework in ("fastapi", "starlette"):
            middleware = next((limits.slowapi_middleware[k] for k in keys if k in limits.slowapi_middleware), None)
            if middleware and limits.slowapi_defaults:
                verdict.add(f"{middleware} with `{limits.slowapi_defaults[0][1]}`")
            elif middleware and not limits.slowapi_limiters:
                verdict.add(f"{middleware} (with a limiter authlint cannot read)")
            nearby = {route.location.path, *(level.path for level in route.levels)}
            unused = [shown for path, shown in limits.slowapi_defaults if path in nearby]
            if unused and verdict.evidence is None:
                verdict.notes.append(f"`{unused[0]}` applies only once `SlowAPIMiddleware` is added")
        elif route.framework == "django":
            verdict.add(limits.django[0] if limits.django else None)
            if category in ("login", "token"):
                verdict.add(limits.lockout_apps[0] if limits.lockout_apps else None)
            if verdict.off is None:
                self._drf_defaults(verdict, route)

    def _drf_defaults(self, verdict: _Verdict, route: Route) -> None:
        settings = django.route_rest_framework(self.project, route)
        if settings is None:
            return
        file, mapping = settings
        if any(key is None for key, _ in mapping.items):
            verdict.add("REST_FRAMEWORK (settings authlint cannot read fully)")
            return
        classes = mapping.get("DEFAULT_THROTTLE_CLASSES")
        items = [i for i in classes.items] if isinstance(classes, Seq) else ([] if classes is None else [classes])
        names = [written(i) if not isinstance(i, Const) else str(i.value) for i in items]
        if not names:
            return
        if all(n.rsplit(".", 1)[-1] == "ScopedRateThrottle" for n in names):
            cls = view_class(self.project, route)
            scope = self.project.member(cls, "throttle_scope") if cls is not None else None
            if not isinstance(scope, Value):
                verdict.notes.append(_SCOPE_NOTE)
                verdict.fix = verdict.fix or (
                    "set a `throttle_scope` on the view (or list a throttle in `throttle_classes`)" if cls is not None
                    else "add `@throttle_classes([AnonRateThrottle])`"
                )
                return
        verdict.add(f"DEFAULT_THROTTLE_CLASSES = [{', '.join(n.rsplit('.', 1)[-1] for n in names)}] [settings]")

    def _fix(self, route: Route) -> str:
        file = next((f for f in self.project.files if f.path == route.location.path), None)
        used = {t.split(".", 1)[0] for t in file.imports.values()} & _LIBRARIES if file is not None else set()
        used = used or self.limits.libraries
        if route.framework == "fastapi":
            if "fastapi_limiter" in used and "slowapi" not in used:
                return "add `dependencies=[Depends(RateLimiter(times=5, seconds=60))]` (fastapi-limiter)"
            if "slowapi" in used:
                return 'decorate it with `@limiter.limit("5/minute")` (slowapi)'
            return ('add `@limiter.limit("5/minute")` (slowapi) or `dependencies=[Depends(RateLimiter(times=5, seconds=60))]` '
                    "(fastapi-limiter)")  # fmt: skip
        if route.framework == "starlette":
            return 'decorate it with `@limiter.limit("5/minute")` (slowapi)'
        if route.framework == "flask":
            return 'decorate it with `@limiter.limit("5 per minute")` (Flask-Limiter)'
        if route.framework == "django":
            if django.route_rest_framework(self.project, route) is not None or self._is_drf(route):
                return "set `throttle_classes` (`[AnonRateThrottle]`, or `ScopedRateThrottle` with a `throttle_scope`)"
            return 'decorate it with `@ratelimit(key="ip", rate="5/m")` (django-ratelimit)'
        return "limit how often a client may call it (a rate-limiting middleware or a check in the handler)"

    def _is_drf(self, route: Route) -> bool:
        cls = view_class(self.project, route)
        if cls is not None:
            return any((qualified_name(a) or "").startswith("rest_framework.") for a in self.project.ancestors(cls))
        handler = route_handler(self.project, route)
        return isinstance(handler, Function) and any("api_view" in written(d) for d in handler.facts.decorators)


# Reading decorators, dependencies and view classes ------------------------------------


class _Reader:
    def __init__(self, project: Project, configured: tuple[str, ...]) -> None:
        self.project = project
        self.configured = configured

    def decorator(self, verdict: _Verdict, file: FileFacts, decorator: Expr) -> None:
        call = decorator if isinstance(decorator, Call) else None
        target = call.func if call is not None else decorator
        symbol = self.project.resolve_value(file, target)
        name = qualified_name(symbol) or written(target)
        last = name.rsplit(".", 1)[-1]
        if last == "method_decorator" and call is not None and call.args:
            self.decorator(verdict, file, call.args[0])
        elif isinstance(target, Attr) and target.attr == "exempt" and _is_limiter(self.project, file, target.value):
            verdict.exempt = verdict.exempt or f"@{written(decorator)}"
        elif isinstance(target, Attr) and target.attr in _LIMIT_METHODS and _is_limiter(self.project, file, target.value):
            verdict.add(f"@{written(decorator)}")
        elif name in _DJANGO_RATELIMIT:
            self._django_ratelimit(verdict, name, call, decorator)
        elif last == "throttle_classes" and call is not None:
            self._throttle_list(verdict, call.arg("throttle_classes", 0), f"@{written(decorator)}")
        elif matches_any(name, self.configured) or _RATE_NAME.search(last):
            verdict.add(f"@{written(decorator)}")
        elif isinstance(symbol, Function) and data_access.rate_limits(symbol.facts):
            verdict.add(f"@{written(decorator)} ({data_access.rate_limits(symbol.facts)[0]})")

    @staticmethod
    def _django_ratelimit(verdict: _Verdict, name: str, call: Call | None, decorator: Expr) -> None:
        """django-ratelimit 4 blocks by default; 3.x (`ratelimit.decorators`) and `block=False` only annotate."""
        block = call.arg("block") if call is not None else None
        if isinstance(block, Const):
            blocking = bool(block.value)
        else:
            blocking = block is not None or name.startswith("django_ratelimit.")
        if blocking:
            verdict.add(f"@{written(decorator)}")
        else:
            shown = f"@{written(decorator)}"
            verdict.notes.append(f"`{shown}` does not block: it only sets `request.limited`, which the view never reads")
            verdict.fix = verdict.fix or "pass `block=True` to `@ratelimit` (or answer 429 when `request.limited` is set)"

    def _throttle_list(self, verdict: _Verdict, expr: Expr | None, shown: str, scoped: bool = False) -> None:
        """DRF throttles listed on a view; `scoped`: the view names a `throttle_scope`."""
        if isinstance(expr, Seq) and not expr.items:
            verdict.off = verdict.off or shown
            verdict.notes.append(f"`{shown}` turns DRF throttling off")
            verdict.fix = verdict.fix or "list a throttle in `throttle_classes` (`[AnonRateThrottle]`)"
        elif isinstance(expr, Seq) and not scoped and all(written(i).endswith("ScopedRateThrottle") for i in expr.items):
            verdict.off = verdict.off or shown
            verdict.notes.append(_SCOPE_NOTE)
            verdict.fix = verdict.fix or "set a `throttle_scope` (and its rate in `DEFAULT_THROTTLE_RATES`)"
        elif expr is not None:
            verdict.add(shown)

    def dependency(self, file: FileFacts, dep: Expr) -> str | None:
        """`Depends(RateLimiter(times=5, seconds=60))`, `Depends(login_limiter)`, `Depends(rate_limit)`."""
        if not isinstance(dep, Call) or written(dep.func).rsplit(".", 1)[-1] not in _DEPENDS:
            return None
        target = dep.arg("dependency", 0)
        if isinstance(target, Call):
            name = self.project.callee_name(file, target) or written(target.func)
        else:
            symbol = self.project.resolve_value(file, target)
            if isinstance(symbol, Value) and isinstance(symbol.expr, Call):  # login_limiter = RateLimiter(...)
                name = self.project.callee_name(symbol.file, symbol.expr) or written(symbol.expr.func)
            elif isinstance(symbol, Function) and data_access.rate_limits(symbol.facts):
                return f"{written(dep)} ({data_access.rate_limits(symbol.facts)[0]})"
            else:
                name = qualified_name(symbol) or written(target)
        if matches_any(name, self.configured) or _RATE_NAME.search(name.rsplit(".", 1)[-1]):
            return written(dep)
        return None

    def view_class(self, verdict: _Verdict, cls: Class) -> None:
        """DRF's `throttle_classes` and `throttle_scope` on the view or a project base class."""
        throttles = self.project.member(cls, "throttle_classes")
        if isinstance(throttles, Value):
            scoped = isinstance(self.project.member(cls, "throttle_scope"), Value)
            self._throttle_list(verdict, throttles.expr, f"throttle_classes = {written(throttles.expr)}", scoped)


def _is_limiter(project: Project, file: FileFacts, expr: Expr) -> bool:
    """A slowapi or Flask-Limiter `Limiter`, or a name that reads like one defined where authlint has no facts."""
    symbol = project.resolve_value(file, expr)
    if isinstance(symbol, Value) and isinstance(symbol.expr, Call):
        callee = project.callee_name(symbol.file, symbol.expr) or written(symbol.expr.func)
        return callee in _LIMITERS or callee.endswith("Limiter")
    return isinstance(symbol, (External, Unknown)) and "limit" in written(expr).lower()


def _dependencies(project: Project, handler: Function) -> list[Expr]:
    """FastAPI dependencies of a handler: the route decorator's `dependencies=[...]` and its parameters'."""
    found: list[Expr] = []
    for decorator in handler.facts.decorators:
        deps = decorator.arg("dependencies") if isinstance(decorator, Call) else None
        found += deps.items if isinstance(deps, Seq) else ()
    for param in handler.facts.params:
        if isinstance(param.default, Call):
            found.append(param.default)
        if isinstance(param.annotation, Index):
            found += [i for i in param.annotation.items[1:] if isinstance(i, Call)]
    return found


def _objects_at(project: Project, level: Location) -> list[tuple[FileFacts, Expr]]:
    """What a level points at: the assignment (`router = APIRouter(...)`) or call (`include_router`) on its line."""
    file = next((f for f in project.files if f.path == level.path), None)
    if file is None:
        return []
    found = [(file, file.assignments[k]) for k, line in file.assignment_lines.items() if line == level.line]
    found += [(file, site.call) for site in file.calls if site.line == level.line]
    return found


def _level_keys(project: Project, route: Route) -> list[str]:
    """The apps, routers and blueprints a route hangs from, as `Value.qualified` names."""
    keys = []
    for level in route.levels:
        file = next((f for f in project.files if f.path == level.path), None)
        if file is not None:
            at_level = [k for k, line in file.assignment_lines.items() if line == level.line]
            keys += [Value(file, k, file.assignments[k]).qualified for k in at_level]
    return keys


# Auth endpoints by path and name -------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _auth_category(route: Route) -> str | None:
    segments = [s for s in route.path.split("/") if s and not s.startswith(("{", "<", "(", ":"))]
    if segments and segments[-1].lower().replace("-", "").replace("_", "") in _UPKEEP:
        return None
    path_words = [w for s in segments for w in _words(s)]
    name_words = _words(route.handler.rsplit(".", 2)[-2] if "." in route.handler else route.handler)
    name_words += _words(route.handler.rsplit(".", 1)[-1])
    words = path_words + name_words
    joined = {a + b for a, b in zip(words, words[1:])}
    vocabulary = set(words) | joined
    resets = vocabulary & {"reset", "recover", "recovery"} and vocabulary & {"password", "passwd", "pwd"}
    if resets or vocabulary & {"forgot", "forgotten"}:
        return "password reset"
    if vocabulary & {"otp", "mfa", "2fa", "totp", "twofactor", "passcode", "2step", "twostep"}:
        return "one-time code"
    if vocabulary & {"verify", "verification"} and vocabulary & _VERIFY_CONTEXT and "token" not in path_words:
        return "verification code"
    if vocabulary & {"login", "signin", "logon", "authenticate"}:
        return "login"
    if "token" in path_words or {"obtaintoken", "accesstoken", "gettoken"} & joined or name_words == ["token"]:
        return "token"
    if vocabulary & {"register", "signup", "registration"}:
        return "registration"
    return None


# The whole project --------------------------------------------------------------------


class _Scanner:
    def __init__(self, project: Project, configured: tuple[str, ...]) -> None:
        self.project = project
        self.configured = configured
        self.limits = _ProjectLimits()
        # Flask-Limiter objects: Value.qualified -> (their default limits as written, or "", the apps they serve)
        self.flask_limiters: dict[str, tuple[str, list[str | None]]] = {}

    def scan(self) -> _ProjectLimits:
        for file in self.project.files:
            self._imports(file)
            for key, expr in file.assignments.items():
                self._assignment(file, key, expr)
            for site in file.calls:
                self._call(file, site.call)
            for function in file.functions.values():
                self._hook(file, function)
        for defaults, apps in self.flask_limiters.values():
            for app in (apps or [None]) if defaults else ():
                self.limits.attach(app, defaults)
        return self.limits

    def _key(self, file: FileFacts, expr: Expr | None) -> str | None:
        symbol = self.project.resolve_value(file, expr)
        return symbol.qualified if isinstance(symbol, Value) else None

    def _imports(self, file: FileFacts) -> None:
        for target in file.imports.values():
            top = target.split(".", 1)[0]
            if top in _LIBRARIES:
                self.limits.libraries.add(top)

    def _assignment(self, file: FileFacts, key: str, expr: Expr) -> None:
        setting = key.rsplit(".", 1)[-1]
        if setting in _FLASK_DEFAULT_SETTINGS and not _empty(expr):
            self.limits.attach(_ANYWHERE, f"{setting} = {written(expr)}")
        if setting == "MIDDLEWARE" and isinstance(expr, Seq):
            self._django_middleware(expr)
        if setting == "INSTALLED_APPS" and isinstance(expr, Seq):
            apps = [i.value for i in expr.items if isinstance(i, Const) and isinstance(i.value, str)]
            self.limits.lockout_apps += [f"{a} (INSTALLED_APPS)" for a in apps if a.split(".", 1)[0] in _LOCKOUT_APPS]
        if not isinstance(expr, Call):
            return
        callee = self.project.callee_name(file, expr) or ""
        if callee in _LIMITERS:
            self._limiter(file, key, expr, callee)
        owner = Value(file, key, expr).qualified
        for keyword in ("middleware", "middlewares"):  # Starlette(middleware=[...]), web.Application(middlewares=[...])
            listed = expr.arg(keyword)
            for item in listed.items if isinstance(listed, Seq) else ():
                self._middleware(file, owner, item.args[0] if isinstance(item, Call) and item.args else item)

    def _limiter(self, file: FileFacts, key: str, call: Call, callee: str) -> None:
        defaults = [call.arg(k) for k in _DEFAULT_LIMITS if not _empty(call.arg(k))]
        shown = f"{key.rsplit('.', 1)[-1]} = Limiter(default_limits={written(defaults[0])})" if defaults else ""
        if callee.startswith("slowapi"):
            self.limits.slowapi_limiters += 1
            self.limits.slowapi_defaults += [(file.path, shown)] if shown else []
            return
        app = call.arg("app")
        if app is None and call.args and not isinstance(call.args[0], Call):  # Limiter(app, key_func=...) (before 3.0)
            first = self.project.resolve_value(file, call.args[0])
            app = call.args[0] if isinstance(first, Value) else None
        self.flask_limiters[Value(file, key, call).qualified] = (shown, [self._key(file, app)] if app is not None else [])

    def _call(self, file: FileFacts, call: Call) -> None:
        if isinstance(call.func, Call) and call.args:
            self._applied_limit(file, call.func, call.args[0])
        if not isinstance(call.func, Attr):
            return
        method, receiver = call.func.attr, call.func.value
        if method == "add_middleware" and call.args:
            self._middleware(file, self._key(file, receiver), call.args[0])
        elif method == "init_app" and call.args:
            self._init_app(file, receiver, call.args[0])
        elif method == "exempt" and call.args and _is_limiter(self.project, file, receiver):
            target = self._key(file, call.args[0])
            if target is not None:
                self.limits.exempt_blueprints[target] = written(call)
        elif method in ("before_request", "before_app_request") and call.args:
            hook = self.project.resolve_value(file, call.args[0])
            if isinstance(hook, Function) and data_access.rate_limits(hook.facts):
                found = data_access.rate_limits(hook.facts)[0]
                self.limits.attach(self._key(file, receiver), f"{hook.facts.name} (before_request, {found})")

    def _applied_limit(self, file: FileFacts, decorator: Call, target: Expr) -> None:
        """`limiter.limit("60/hour")(auth_bp)`: Flask-Limiter's limit on every route of a blueprint."""
        func = decorator.func
        if isinstance(func, Attr) and func.attr in _LIMIT_METHODS and _is_limiter(self.project, file, func.value):
            key = self._key(file, target)
            if key is not None:
                self.limits.attach(key, f"{written(decorator)}({written(target)})")

    def _init_app(self, file: FileFacts, receiver: Expr, app: Expr) -> None:
        """`limiter.init_app(app)`: the limiter's default limits now cover that app."""
        limiter = self._key(file, receiver)
        if limiter in self.flask_limiters:
            self.flask_limiters[limiter][1].append(self._key(file, app))
        elif limiter is None and "limit" in written(receiver).lower():
            self.limits.attach(self._key(file, app), f"{written(receiver)}.init_app() (a limiter authlint cannot read)")

    def _middleware(self, file: FileFacts, owner: str | None, expr: Expr) -> None:
        symbol = self.project.resolve_value(file, expr)
        name = qualified_name(symbol) or written(expr)
        last = name.rsplit(".", 1)[-1]
        if last in _SLOWAPI_MIDDLEWARE:
            self.limits.slowapi_middleware[owner or _ANYWHERE] = last
        elif matches_any(name, self.configured) or _RATE_NAME.search(last):
            self.limits.attach(owner, f"{last} (middleware)")
        else:
            body = self.project.member(symbol, "dispatch") if isinstance(symbol, Class) else symbol
            if isinstance(body, Function) and data_access.rate_limits(body.facts):
                self.limits.attach(owner, f"{last} (middleware, {data_access.rate_limits(body.facts)[0]})")

    def _django_middleware(self, listed: Seq) -> None:
        for item in listed.items:
            if not (isinstance(item, Const) and isinstance(item.value, str)) or item.value in _NOT_A_LIMIT:
                continue
            last = item.value.rsplit(".", 1)[-1]
            if matches_any(item.value, self.configured) or _RATE_NAME.search(last):
                self.limits.django.append(f"{last} (MIDDLEWARE)")
                continue
            symbol = self.project.resolve_dotted(item.value)
            body = self.project.member(symbol, "__call__") if isinstance(symbol, Class) else symbol
            if isinstance(body, Function) and data_access.rate_limits(body.facts):
                self.limits.django.append(f"{last} (MIDDLEWARE, {data_access.rate_limits(body.facts)[0]})")

    def _hook(self, file: FileFacts, function: FunctionFacts) -> None:
        """`@app.middleware("http")` and `@bp.before_request` functions that throttle."""
        found = data_access.rate_limits(function)
        if not found:
            return
        for decorator in function.decorators:
            target = decorator.func if isinstance(decorator, Call) else decorator
            if not isinstance(target, Attr):
                continue
            if target.attr == "middleware" and isinstance(decorator, Call):  # @app.middleware("http"), not @web.middleware
                self.limits.attach(self._key(file, target.value), f"{function.name} (middleware, {found[0]})")
            elif target.attr in ("before_request", "before_app_request"):
                self.limits.attach(self._key(file, target.value), f"{function.name} (before_request, {found[0]})")


def _empty(expr: Expr | None) -> bool:
    return expr is None or (isinstance(expr, Seq) and not expr.items) or (isinstance(expr, Const) and not expr.value)


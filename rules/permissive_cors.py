from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import libcst

from authlint.facts import settings
from authlint.facts.literals import string_value, subscript_key
from authlint.facts.names import call_label, dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_STARLETTE_CORS = frozenset({"starlette.middleware.cors.CORSMiddleware", "fastapi.middleware.cors.CORSMiddleware"})
_FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.extension.CORS"})
_FLASK_CORS_INIT_APP = frozenset(f"{name}().init_app" for name in _FLASK_CORS)
_CROSS_ORIGIN = frozenset({"flask_cors.cross_origin", "flask_cors.decorator.cross_origin"})
_AIOHTTP_CORS_OPTIONS = frozenset({"aiohttp_cors.ResourceOptions"})
# Settings that allow every origin when True (django-cors-headers, current and legacy names).
_ALLOW_ALL_SETTINGS = frozenset({"CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"})
_REGEX_SETTINGS = frozenset({"CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST"})
# Flask-CORS reads its options from these app config keys too.
_FLASK_CORS_CONFIG = frozenset({"CORS_ORIGINS", "CORS_RESOURCES"})
_CREDENTIAL_SETTINGS = ("CORS_ALLOW_CREDENTIALS", "CORS_SUPPORTS_CREDENTIALS")
_ALLOW_ORIGIN = "access-control-allow-origin"
_ALLOW_CREDENTIALS = "access-control-allow-credentials"
_HEADER_SETTERS = frozenset({"set", "add", "setdefault", "set_header", "add_header", "append", "__setitem__"})
_ORIGIN_HEADERS = frozenset({"origin", "http_origin"})
# Flask-CORS treats an origin containing one of these as a regular expression.
_FLASK_CORS_REGEX_CHARS = frozenset("*\\]?$^[()")
# Calls that look at a value without judging it.
_NOT_A_CHECK = frozenset({"len", "str", "bool", "print", "repr", "isinstance", "type"})
# Origin patterns from scanned code are only run when short and free of what can backtrack
# for long: repeated groups (`(a+)+`, `(a|ab)*`), backreferences, many repeats (`.*.*.*.*.*`).
_MAX_PATTERN = 300
_MAX_REPEATS = 4
_RISKY_CONSTRUCT = re.compile(r"\)\s*[*+{]|\\[1-9]|\(\?P=")
# Origins no one controls: a pattern that accepts them accepts any host.
_PROBE_ORIGINS = ("https://authlint-probe.invalid", "http://authlint-probe.invalid", "https://probe.invalid:8443")


@dataclass(frozen=True)
class _Policy:
    """A CORS configuration as far as it is known: where it is, what it allows."""

    written: str  # for messages: `app.add_middleware(CORSMiddleware, ...)`
    call: libcst.CSTNode  # reported when no origins argument is given (library default)
    origins: libcst.BaseExpression | None  # the list or string of allowed origins
    regexes: libcst.BaseExpression | None  # a regex or list of regexes
    full_match: bool  # whether the library matches regexes against the whole origin
    credentials: bool
    fix: str  # how to list origins in this library


class PermissiveCors(FileRule):
    """CORS lets any website, or more websites than intended, read the API's responses.

    ## What it does
    Flags CORS configurations that allow every origin or an attacker-controllable one:

    - Starlette/FastAPI `CORSMiddleware` (`app.add_middleware(CORSMiddleware, ...)`,
      `Middleware(CORSMiddleware, ...)`) with `allow_origins=["*"]`, or an
      `allow_origin_regex` that matches any host or contains an unescaped `.` in a host
      name (`https://.*.example.com` also matches `https://attackerexample.com`);
    - Flask-CORS `CORS(app)` and `@cross_origin()` with `origins="*"` or no `origins` at all
      (Flask-CORS then allows every origin), per-resource `{"origins": "*"}`, and regex
      origins that match any host, lack a `$` anchor (Flask-CORS matches only the start:
      `https://example\\.com` also accepts `https://example.com.attacker.net`) or have an
      unescaped `.`;
    - django-cors-headers `CORS_ALLOW_ALL_ORIGINS = True` (and the legacy
      `CORS_ORIGIN_ALLOW_ALL`), and `CORS_ALLOWED_ORIGIN_REGEXES` entries with the same regex
      problems (django-cors-headers also matches only the start); Flask's `CORS_ORIGINS = "*"`;
    - a hand-set `Access-Control-Allow-Origin` header of `"*"`, or one that echoes the
      request's `Origin` header (`request.headers.get("Origin")`, `request.META["HTTP_ORIGIN"]`)
      without first comparing it with an allowlist;
    - aiohttp-cors defaults keyed by `"*"`.

    Severity is one level higher when credentials are allowed (`allow_credentials=True`,
    `supports_credentials=True`, `CORS_ALLOW_CREDENTIALS = True`, an
    `Access-Control-Allow-Credentials` header): the libraries then echo the caller's origin,
    so any site can act as the logged-in user. Explicit origin lists, anchored regexes with
    escaped dots, and development or test settings (see `non-production-patterns`) are not
    flagged. Starlette matches `allow_origin_regex` against the whole origin, so a missing
    `$` is not a problem there.

    ## Why is this bad?
    CORS is how a browser lets a page from one site read responses from another. Allowing
    every origin lets any website a user visits call the API from that user's browser and
    read what comes back: data behind IP allowlists or intranet access, and, when
    credentials are allowed, everything the user's cookies or HTTP auth give access to.

    ## Example
    ```python
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    ```

    ## Use instead
    ```python
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://app.example.com"],
        allow_origin_regex=r"https://[a-z0-9-]+\\.preview\\.example\\.com",
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
    )
    ```

    ## Options
    - `non-production-patterns` (default `["dev", "devel", "develop", "development", "local",
      "test", "tests", "testing", "unittest", "unittests", "conftest", "ci"]`): fnmatch
      patterns for the words of names that mark development or test code, where CORS is not
      judged. They are matched against each word of the file name, the names of the three
      nearest folders, the enclosing classes and functions, and what an enclosing `if` tests
      (`if DEBUG:`, `if ENV == "development":`), as for AL602.

    ```toml
    [tool.authlint.rules.AL603]
    non-production-patterns = ["dev", "local", "test", "tests"]
    ```

    ## References
    - OWASP API Security Top 10 2023, API8: Security Misconfiguration
    - Starlette documentation, "Middleware: CORSMiddleware"
    - Flask-CORS documentation, "API docs"
    - django-cors-headers documentation, "Configuration"
    - PortSwigger Web Security Academy, "CORS vulnerabilities"
    - CWE-942: Permissive Cross-domain Policy with Untrusted Domains
    """

    code = "AL603"
    name = "permissive-cors"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API8:2023",)
    cwe = (942,)
    requires_words = ("cors", "access-control-allow-origin")
    words_in_code = True  # a CORS middleware or setting name, or the header name as a literal

    @dataclass(frozen=True)
    class Options:
        non_production_patterns: list[str] = field(default_factory=lambda: list(settings.NON_PRODUCTION_PATTERNS))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._flask_cors_configured = False  # the file sets CORS_ORIGINS/CORS_RESOURCES in an app config

    def visit_Assign(self, node: libcst.Assign) -> None:
        self._check_settings(node)
        for target in node.targets:
            if isinstance(target.target, libcst.Subscript) and _is_allow_origin(subscript_key(target.target)):
                self._check_header(target.target, node.value, f"{_spelled(target.target)} = ...")

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        self._check_settings(node)

    def visit_Call(self, node: libcst.Call) -> None:
        self._check_settings(node)
        policy = self._policy(node)
        if policy is not None and not self._in_non_production_code(node):
            self._judge(policy)
        self._check_header_setter(node)

    def visit_DictElement(self, node: libcst.DictElement) -> None:
        key = self.ctx.literal(node.key)
        if isinstance(key, str) and _is_allow_origin(key):
            self._check_header(node, node.value, f'{{"{key}": ...}}')
        elif key == "*" and "aiohttp_cors" in self.ctx.imported_modules:
            self._check_aiohttp_cors(node)

    def visit_Tuple(self, node: libcst.Tuple) -> None:
        """`("Access-Control-Allow-Origin", origin)` in a list of header pairs."""
        if len(node.elements) == 2 and _is_allow_origin(self.ctx.literal(node.elements[0].value)):
            self._check_header(node, node.elements[1].value, '("Access-Control-Allow-Origin", ...)')

    # Library configuration --------------------------------------------------------

    def _policy(self, call: libcst.Call) -> _Policy | None:
        middleware = settings.middleware_configured(self.ctx, call, _STARLETTE_CORS)
        if middleware is not None:
            return self._starlette_policy(call, middleware)
        qualified = self.ctx.qualified_name(call.func)
        if qualified in _CROSS_ORIGIN:
            return self._flask_cors_policy(call, self.ctx.arguments(call).keywords, call_label(call))
        if qualified in _FLASK_CORS and self._has_app(call):
            return self._flask_cors_policy(call, self.ctx.arguments(call).keywords, call_label(call))
        if qualified in _FLASK_CORS_INIT_APP:
            return self._flask_cors_policy(call, self._init_app_keywords(call), call_label(call))
        return None

    def _starlette_policy(self, call: libcst.Call, written: str) -> _Policy:
        arguments = self.ctx.arguments(call)
        credentials = self.ctx.literal(arguments.get("allow_credentials")) is True
        fix = 'list the origins that need access: `allow_origins=["https://app.example.com"]`'
        origins, regex = arguments.get("allow_origins"), arguments.get("allow_origin_regex")
        return _Policy(written, call, origins, regex, True, credentials, fix)

    def _has_app(self, call: libcst.Call) -> bool:
        return self.ctx.arguments(call).get("app", 0) is not None

    def _init_app_keywords(self, call: libcst.Call) -> dict[str, libcst.BaseExpression]:
        """`cors.init_app(app, ...)` options, with those given to `cors = CORS(...)` underneath."""
        keywords: dict[str, libcst.BaseExpression] = {}
        receiver = call.func.value if isinstance(call.func, libcst.Attribute) else None
        constructor = self.ctx.resolve(receiver) if receiver is not None else None
        if isinstance(constructor, libcst.Call):
            keywords.update(self.ctx.arguments(constructor).keywords)
        keywords.update(self.ctx.arguments(call).keywords)
        return keywords

    def _flask_cors_policy(self, call: libcst.Call, keywords: dict, written: str) -> _Policy | None:
        if not self.ctx.arguments(call).complete and "origins" not in keywords:
            return None
        origins = keywords.get("origins")
        credentials = self.ctx.literal(keywords.get("supports_credentials")) is True
        resources = keywords.get("resources")
        fix = 'list the origins that need access: `origins=["https://app.example.com"]`'
        if resources is not None and not isinstance(self.ctx.literal(resources), (str, list, tuple)):
            return self._resource_policy(call, resources, origins, credentials, written, fix)
        if origins is None and self._flask_cors_configured:
            return None  # the app config in this file sets the origins
        return _Policy(written, call, origins, None, False, credentials, fix)

    def _resource_policy(self, call, resources, origins, credentials, written, fix) -> _Policy | None:
        """The most permissive of the per-resource option dicts (`resources={r"/api/*": {...}}`)."""
        entries = self.ctx.dict_entries(resources)
        if entries is None:
            return None if origins is None else _Policy(written, call, origins, None, False, credentials, fix)
        policies = []
        for options_expr in entries.values():
            options = self.ctx.dict_entries(options_expr)
            if options is None:
                continue  # options authlint cannot read may name the origins
            resource_origins = options.get("origins", origins)
            resource_credentials = credentials or self.ctx.literal(options.get("supports_credentials")) is True
            policies.append(_Policy(written, call, resource_origins, None, False, resource_credentials, fix))
        flagged = [p for p in policies if self._problem(p) is not None]
        return max(flagged, key=lambda p: p.credentials) if flagged else None

    def _check_aiohttp_cors(self, node: libcst.DictElement) -> None:
        options = node.value
        if not (isinstance(options, libcst.Call) and self.ctx.qualified_name(options.func) in _AIOHTTP_CORS_OPTIONS):
            return
        if self._in_non_production_code(node):
            return
        credentials = self.ctx.literal(self.ctx.arguments(options).get("allow_credentials")) is True
        self._report_wildcard(node.key, "aiohttp_cors defaults keyed by `\"*\"`", credentials,
                              'key the defaults by the origins that need access: `{"https://app.example.com": ...}`')

    # Settings ---------------------------------------------------------------------

    def _check_settings(self, node: libcst.CSTNode) -> None:
        for setting in settings.setting_assignments(self.ctx, node):
            if setting.name in _FLASK_CORS_CONFIG:
                self._flask_cors_configured = True
            policy = self._setting_policy(setting)
            if policy is None or settings.is_non_production(self.ctx, setting, self.options.non_production_patterns):
                continue
            self._judge(policy)

    def _setting_policy(self, setting: settings.Setting) -> _Policy | None:
        if setting.name in _ALLOW_ALL_SETTINGS and self.ctx.literal(setting.value) is True:
            origins, regexes = _ALL, None
            fix = "set it to False and list the origins that need access in `CORS_ALLOWED_ORIGINS`"
        elif setting.name in _REGEX_SETTINGS:
            origins, regexes, fix = None, setting.value, ""
        elif setting.name == "CORS_ORIGINS":
            origins, regexes = setting.value, None
            fix = 'list the origins that need access: `CORS_ORIGINS = ["https://app.example.com"]`'
        else:
            return None
        credentials = any(
            self.ctx.literal(settings.sibling_value(self.ctx, setting, name)) is True for name in _CREDENTIAL_SETTINGS
        )
        written = f"`{setting.written(self.ctx)}`"
        return _Policy(written, setting.node, origins, regexes, False, credentials, fix)

    # Judging a policy ---------------------------------------------------------------

    def _judge(self, policy: _Policy) -> None:
        problem = self._problem(policy)
        if problem is None:
            return
        node, pattern, reason = problem
        if pattern is None:
            written = policy.written + (" without `origins` (Flask-CORS's default)" if reason == _DEFAULT else "")
            self._report_wildcard(node, written, policy.credentials, policy.fix)
        else:
            self._report_regex(node, policy, pattern, reason)

    def _problem(self, policy: _Policy) -> tuple[libcst.CSTNode, str | None, str] | None:
        """(node to report, offending regex or None for "every origin", why) or None if fine."""
        if policy.origins is _ALL:
            return policy.call, None, _EVERY_ORIGIN
        if policy.origins is None and policy.regexes is None and not policy.full_match:
            return policy.call, None, _DEFAULT  # Flask-CORS allows every origin unless told otherwise
        for node, origin, is_regex in self._origin_entries(policy):
            if origin == "*" and not is_regex:
                return node, None, _EVERY_ORIGIN
            reason = _regex_problem(origin, policy.full_match) if is_regex else None
            if reason is not None:
                return node, origin, reason
        return None

    def _origin_entries(self, policy: _Policy) -> Iterator[tuple[libcst.CSTNode, str, bool]]:
        """(node, origin, is it a regex) for each known allowed origin of the policy."""
        for origin_node, origin, compiled in self._strings(policy.origins):
            # Flask-CORS reads an origin with regex characters as a regex; "*" means every origin.
            flask_regex = not policy.full_match and origin != "*" and bool(_FLASK_CORS_REGEX_CHARS & set(origin))
            yield origin_node, origin, compiled or flask_regex
        for origin_node, pattern, _ in self._strings(policy.regexes):
            yield origin_node, pattern, True

    def _strings(self, expr, shown=None) -> Iterator[tuple[libcst.CSTNode, str, bool]]:
        """(node, text, written as re.compile(...)) for a string, `re.compile` or a sequence of them.

        The node is the one to report: inside the argument as written, never a constant
        defined elsewhere that a name refers to (`shown` is that name).
        """
        if expr is None or expr is _ALL:
            return
        value = self.ctx.literal(expr)
        if isinstance(value, str):
            yield shown or expr, value, False
            return
        resolved = self.ctx.resolve(expr)
        if resolved is not expr:
            shown = shown or expr
        if isinstance(resolved, libcst.Call) and self.ctx.qualified_name(resolved.func) == "re.compile":
            pattern = self.ctx.literal(resolved.args[0].value) if resolved.args else None
            if isinstance(pattern, str):
                yield shown or expr, pattern, True
            return
        if isinstance(resolved, (libcst.List, libcst.Tuple, libcst.Set)):
            for element in resolved.elements:
                if isinstance(element, libcst.Element):
                    yield from self._strings(element.value, shown)

    # Hand-set headers ---------------------------------------------------------------

    def _check_header_setter(self, call: libcst.Call) -> None:
        func = call.func
        if not (isinstance(func, libcst.Attribute) and func.attr.value in _HEADER_SETTERS and len(call.args) >= 2):
            return
        if _is_allow_origin(self.ctx.literal(call.args[0].value)):
            spelled = f'{dotted_name(func) or func.attr.value}("Access-Control-Allow-Origin", ...)'
            self._check_header(call, call.args[1].value, spelled)

    def _check_header(self, node: libcst.CSTNode, value: libcst.BaseExpression, written: str) -> None:
        if self._in_non_production_code(node):
            return
        fix = "echo the request's origin only when it is in an allowlist of the origins that need access"
        if self.ctx.literal(value) == "*":
            # Browsers refuse credentials with a literal `*`, so credentials change nothing here.
            self._report_wildcard(node, f"`{written}` with `\"*\"`", False, fix)
        elif self._reads_origin(value) and not self._origin_checked(value):
            credentials = self._sets_credentials_header()
            self._report(node, credentials, f"`{written}` echoes the request's `Origin` header back unchecked, "
                         f"allowing every origin{_with_credentials(credentials)}; {fix}")  # fmt: skip

    def _sets_credentials_header(self) -> bool:
        scope = self.ctx.enclosing_function or self.ctx.module
        return any(
            isinstance(node, libcst.SimpleString) and str(string_value(node)).lower() == _ALLOW_CREDENTIALS
            for node in self.ctx.nodes_in(scope)
        )

    def _reads_origin(self, expr: libcst.BaseExpression | None, depth: int = 0) -> bool:
        """`request.headers.get("Origin")`, `request.META["HTTP_ORIGIN"]`, `request.origin`, via names."""
        if expr is None or depth > 8:
            return False
        expr = self.ctx.resolve(expr)
        if isinstance(expr, libcst.BooleanOperation):
            return self._reads_origin(expr.left, depth + 1) or self._reads_origin(expr.right, depth + 1)
        if isinstance(expr, libcst.Call) and isinstance(expr.func, libcst.Attribute) and expr.func.attr.value == "get":
            return bool(expr.args) and _is_origin_header(self.ctx.literal(expr.args[0].value))
        if isinstance(expr, libcst.Subscript):
            return _is_origin_header(subscript_key(expr))
        if isinstance(expr, libcst.Attribute) and expr.attr.value == "origin":
            return (dotted_name(expr.value) or "").rsplit(".", 1)[-1] in ("request", "req")
        return False

    def _origin_checked(self, value: libcst.BaseExpression) -> bool:
        """Whether the function compares the origin with something before trusting it."""
        function = self.ctx.enclosing_function
        if function is None:
            return False
        name = value.value if isinstance(value, libcst.Name) else None
        for node in self.ctx.nodes_in(function):
            test = getattr(node, "test", None) if isinstance(node, (libcst.If, libcst.While, libcst.Assert)) else None
            if test is not None and self._test_checks_origin(test, name):
                return True
        return False

    def _test_checks_origin(self, test: libcst.BaseExpression, name: str | None) -> bool:
        def is_origin(expr: libcst.BaseExpression) -> bool:
            return (isinstance(expr, libcst.Name) and expr.value == name) or self._reads_origin(expr)

        for node in self.ctx.nodes_in(test):
            if isinstance(node, libcst.Comparison) and any(
                isinstance(c.operator, (libcst.In, libcst.NotIn, libcst.Equal, libcst.NotEqual))
                for c in node.comparisons
            ):
                if any(is_origin(operand) for operand in (node.left, *(c.comparator for c in node.comparisons))):
                    return True
            elif isinstance(node, libcst.Call) and self.ctx.qualified_name(node.func) not in _NOT_A_CHECK:
                receiver = node.func.value if isinstance(node.func, libcst.Attribute) else None
                if any(is_origin(arg.value) for arg in node.args) or (receiver is not None and is_origin(receiver)):
                    return True
        return False

    # Reporting ----------------------------------------------------------------------

    def _report_wildcard(self, node: libcst.CSTNode, written: str, credentials: bool, fix: str) -> None:
        if credentials:
            consequence = (" with credentials: the caller's origin is echoed back, so any website can call the API "
                           "as the logged-in user and read the responses")  # fmt: skip
        else:
            consequence = ": any website can call the API from its visitors' browsers and read the responses"
        self._report(node, credentials, f"{written} allows every origin{consequence}; {fix}")

    def _report_regex(self, node: libcst.CSTNode, policy: _Policy, pattern: str, reason: str) -> None:
        self._report(node, policy.credentials, f"{policy.written} accepts origins matching `{pattern}`, which "
                     f"{reason}{_with_credentials(policy.credentials)}; anchor the pattern, escape its dots and "
                     r"spell out the host: `^https://([a-z0-9-]+\.)?example\.com$`")  # fmt: skip

    def _report(self, node: libcst.CSTNode, credentials: bool, message: str) -> None:
        severity = self.effective_severity
        if credentials:
            severity = Severity(min(severity + 1, Severity.CRITICAL))
        self.report(node, message, severity)

    def _in_non_production_code(self, node: libcst.CSTNode) -> bool:
        return settings.in_non_production_code(self.ctx, self.options.non_production_patterns, node)


_ALL = object()  # a marker: the setting allows every origin
_EVERY_ORIGIN = "every origin"
_DEFAULT = "every origin, by default"


def _regex_problem(pattern: str, full_match: bool) -> str | None:
    """Why an origin regex admits origins its author did not mean, or None."""
    if _can_backtrack_badly(pattern):
        compiled = None  # never run a pattern from scanned code that could take exponential time
    else:
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except (re.error, RecursionError, OverflowError):
            return None
    if compiled is not None:
        matches = compiled.fullmatch if full_match else compiled.match
        if any(matches(probe) for probe in _PROBE_ORIGINS):
            return "matches any origin"
    if not full_match and not _anchored_at_end(pattern):
        return ("is matched only at the start of the origin: without a final `$`, "
                "`https://allowed.example.com.attacker.net` passes too")  # fmt: skip
    if _has_unescaped_host_dot(pattern):
        return "leaves a `.` unescaped: it matches any character, so look-alike domains an attacker can register pass"
    return None


def _can_backtrack_badly(pattern: str) -> bool:
    repeats = sum(pattern.count(quantifier) for quantifier in "*+{")
    return len(pattern) > _MAX_PATTERN or repeats > _MAX_REPEATS or _RISKY_CONSTRUCT.search(pattern) is not None


def _anchored_at_end(pattern: str) -> bool:
    stripped = pattern.rstrip()
    if stripped.endswith("\\Z"):
        return True
    trailing_backslashes = len(stripped[:-1]) - len(stripped[:-1].rstrip("\\"))
    return stripped.endswith("$") and trailing_backslashes % 2 == 0


def _has_unescaped_host_dot(pattern: str) -> bool:
    """A `.` meant literally (not `.*`, `.+`, not in `[...]`) that has another label after it.

    `https://api.example\\.com` lets `https://apixexample.com` match; a dot before the
    last label only (`example.com`) does not make a registrable look-alike.
    """
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "." and pattern[index + 1 : index + 2] not in ("*", "+", "?", "{", ""):
            if "." in pattern[index + 1 :]:
                return True
        index += 1
    return False


def _is_allow_origin(key: object) -> bool:
    return isinstance(key, str) and key.strip().lower() == _ALLOW_ORIGIN


def _is_origin_header(key: object) -> bool:
    return isinstance(key, str) and key.strip().lower() in _ORIGIN_HEADERS


def _spelled(node: libcst.Subscript) -> str:
    return f'{dotted_name(node.value) or "headers"}["{subscript_key(node)}"]'


def _with_credentials(credentials: bool) -> str:
    return " (with credentials allowed: any site it admits can act as the logged-in user)" if credentials else ""

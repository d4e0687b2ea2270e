from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst

from authlint import fix
from authlint.facts import settings
from authlint.facts.literals import subscript_key
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_COOKIE_METHODS = frozenset({"set_cookie", "set_signed_cookie"})
# Where Flask/Werkzeug, Django and Starlette take the cookie attributes positionally
# (key, value, max_age, expires, path, domain, secure, httponly, samesite).
_POSITIONS = {"secure": 6, "httponly": 7, "samesite": 8}
# What a missing attribute lets happen, for messages.
_RISKS = {
    "secure": "it also travels over plain HTTP where anyone on the network can read it",
    "httponly": "page scripts can read it (one XSS steals it)",
    "samesite": "browsers attach it to cross-site requests (CSRF)",
}
_SPELLED = {"secure": "`secure=True`", "httponly": "`httponly=True`", "samesite": "`samesite`"}
# What `--fix` passes for an attribute the call does not mention.
_FIXED_VALUES = {"secure": "True", "httponly": "True", "samesite": '"Lax"'}
# Starlette's `set_cookie` defaults to `samesite="lax"`; Flask, Django and aiohttp set none.
_LAX_BY_DEFAULT = frozenset({"starlette", "fastapi"})
_NO_SAMESITE_DEFAULT = frozenset({"flask", "werkzeug", "django", "aiohttp", "quart", "sanic"})
_SESSION_MIDDLEWARE = frozenset({"starlette.middleware.sessions.SessionMiddleware"})

# Settings that weaken the session, CSRF, remember-me or JWT cookie.
_OFF_WHEN_FALSE = {
    "SESSION_COOKIE_SECURE": "secure",
    "CSRF_COOKIE_SECURE": "secure",
    "REMEMBER_COOKIE_SECURE": "secure",
    "JWT_COOKIE_SECURE": "secure",
    "SESSION_COOKIE_HTTPONLY": "httponly",
    "REMEMBER_COOKIE_HTTPONLY": "httponly",
}
_OFF_WHEN_NONE = {"SESSION_COOKIE_SAMESITE": "samesite"}
_SETTING_FIX = {
    "secure": "True (for local HTTP development, override it in a dev settings file)",
    "httponly": "True",
    "samesite": '"Lax" (or "Strict")',
}

# Words of a cookie's name (or of the expression naming it) that mark an auth cookie.
_AUTH_WORDS = frozenset({
    "session", "sess", "sid", "token", "jwt", "auth", "access", "refresh", "remember", "login",
    "apikey", "bearer", "credential", "credentials", "identity",
})  # fmt: skip
_AUTH_PARTS = ("session", "token", "jwt")  # inside a word: `sessionid`, `authtoken`
_NOT_AUTH_PREFIXES = ("csrf", "xsrf")  # read by page scripts on purpose (double-submit)
_AUTHOR = frozenset({"author", "authors", "authored"})
# Receivers that are test clients setting a cookie on a fake request, not on a response.
_CLIENT = re.compile(r"client$", re.I)


class InsecureCookie(FileRule):
    """A session or auth cookie is set without `Secure`, `HttpOnly` or `SameSite`.

    ## What it does
    Flags `set_cookie(...)`/`set_signed_cookie(...)` calls (Flask/Werkzeug, Django,
    Starlette/FastAPI, aiohttp) that set a session, token or auth cookie without
    `secure=True`, `httponly=True` and a `samesite` value. A cookie counts as an auth cookie
    when its name (`"session"`, `"sessionid"`, `"access_token"`, `"jwt"`, `"remember_me"`,
    `settings.SESSION_COOKIE_NAME`) or the value stored in it (`token`,
    `jwt.encode(...)`) says so; CSRF cookies, which page scripts read on purpose, are not.
    Starlette already defaults to `samesite="lax"`, so a file that uses only Starlette or
    FastAPI needs no `samesite=`.

    Also flags, outside development and test settings (see `non-production-patterns`):

    - `SESSION_COOKIE_SECURE = False`, `CSRF_COOKIE_SECURE = False`,
      `SESSION_COOKIE_HTTPONLY = False` (Django and Flask), Flask-Login's
      `REMEMBER_COOKIE_SECURE`/`REMEMBER_COOKIE_HTTPONLY = False`, Flask-JWT-Extended's
      `JWT_COOKIE_SECURE = False`;
    - `SESSION_COOKIE_SAMESITE = None`;
    - Starlette's `SessionMiddleware` without `https_only=True`.

    These are read in settings modules, config classes and `app.config` like AL602 reads
    `DEBUG`. Attribute values authlint cannot know (`secure=not app.debug`,
    `**cookie_options`) are not flagged, nor are cookies such as `set_cookie("theme", ...)`.
    `samesite="None"` is an explicit choice for cross-site use and is not flagged.

    ## Why is this bad?
    Whoever holds a session or token cookie is the user. Without `Secure` the browser also
    sends it over plain HTTP, where anyone on the network can read it; without `HttpOnly`
    any script injected into the page (XSS) can read and exfiltrate it; without `SameSite`
    other sites can make the browser send it along with forged requests (CSRF).

    ## Example
    ```python
    response = make_response(redirect("/"))
    response.set_cookie("session", session_id)
    ```

    ## Use instead
    ```python
    response = make_response(redirect("/"))
    response.set_cookie("session", session_id, secure=True, httponly=True, samesite="Lax")
    ```

    ## Fix
    `--fix` adds the missing `secure=True`, `httponly=True` and `samesite="Lax"` keywords to
    the `set_cookie`/`set_signed_cookie` calls it flags. An attribute passed as `False` or
    `None` is an explicit choice left for you, and so are the settings and
    `SessionMiddleware` findings.

    ## Options
    - `non-production-patterns` (default `["dev", "devel", "develop", "development", "local",
      "test", "tests", "testing", "unittest", "unittests", "conftest", "ci"]`): fnmatch
      patterns for the words of names that mark development or test code, where cookie
      settings and `set_cookie` calls are not judged. They are matched against each word of
      the file name, the names of the three nearest folders, the enclosing classes and
      functions, and what an enclosing `if` tests (`if DEBUG:`, `if ENV == "development":`),
      as for AL602.

    ```toml
    [tool.authlint.rules.AL405]
    non-production-patterns = ["dev", "local", "test", "tests"]
    ```

    ## References
    - OWASP API Security Top 10 2023, API8: Security Misconfiguration
    - OWASP Session Management Cheat Sheet, "Cookies"
    - Flask documentation, "Security Considerations: Set-Cookie options"
    - Django documentation, settings: `SESSION_COOKIE_SECURE`, `CSRF_COOKIE_SECURE`
    - CWE-614: Sensitive Cookie in HTTPS Session Without 'Secure' Attribute
    - CWE-1004: Sensitive Cookie Without 'HttpOnly' Flag
    """

    code = "AL405"
    name = "insecure-cookie"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API8:2023",)
    cwe = (614, 1004)
    requires_words = ("set_cookie", "set_signed_cookie", "_cookie_", "sessionmiddleware")
    requires_text = re.compile(r"set_cookie|set_signed_cookie|_COOKIE_(?:SECURE|HTTPONLY|SAMESITE)|SessionMiddleware")
    words_in_code = True
    fixable = True

    @dataclass(frozen=True)
    class Options:
        non_production_patterns: list[str] = field(default_factory=lambda: list(settings.NON_PRODUCTION_PATTERNS))

    def visit_Assign(self, node: libcst.Assign) -> None:
        self._check_settings(node)

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        self._check_settings(node)

    def visit_Call(self, node: libcst.Call) -> None:
        self._check_settings(node)
        func = node.func
        if isinstance(func, libcst.Attribute) and func.attr.value in _COOKIE_METHODS:
            self._check_set_cookie(node, func)
        else:
            self._check_session_middleware(node)

    # set_cookie -----------------------------------------------------------------

    def _check_set_cookie(self, call: libcst.Call, func: libcst.Attribute) -> None:
        if _CLIENT.search(dotted_name(func.value) or ""):
            return
        arguments = self.ctx.arguments(call)
        name_expr = arguments.get("key", 0)
        if name_expr is None:
            name_expr = arguments.get("name")
        label = self._auth_cookie_label(name_expr, arguments.get("value", 1))
        if label is None:
            return
        signed = func.attr.value == "set_signed_cookie"
        missing = self._missing_attributes(call, signed)
        if not missing or self._in_non_production_code(call):
            return
        flags = _listed([_SPELLED[attribute] for attribute in missing], "or")
        risks = _listed([_RISKS[attribute] for attribute in missing], "and")
        self.report(call, f"{dotted_name(func) or 'set_cookie'}() sets the auth cookie {label} without {flags}: "
                    f"{risks}; pass `secure=True, httponly=True, samesite=\"Lax\"`",
                    fix=self._with_attributes(call, missing, signed))  # fmt: skip

    def _with_attributes(self, call: libcst.Call, missing: list[str], signed: bool) -> fix.Fix | None:
        """The call with the attributes it does not pass at all added; None if it passes one as False/None."""
        arguments = self.ctx.arguments(call)
        passed = [arguments.get(attribute, None if signed else _POSITIONS[attribute]) for attribute in missing]
        if any(value is not None for value in passed):
            return None
        added = [(attribute, fix.expression(_FIXED_VALUES[attribute])) for attribute in missing]
        return fix.replace(call, fix.with_keywords(call, add=added))

    def _auth_cookie_label(self, name_expr, value_expr) -> str | None:
        """How to name the cookie in a message if it is an auth cookie, else None."""
        name = self.ctx.literal(name_expr)
        if isinstance(name, str):
            return f'"{name}"' if _is_auth_name(name) else None
        spelled = _spelled_name(name_expr)
        if spelled is not None and _is_auth_name(spelled.rsplit(".", 1)[-1]):
            return f"`{spelled}`"
        is_call = isinstance(value_expr, libcst.Call)
        stored = value_expr.func if is_call else value_expr
        stored_name = dotted_name(stored) if stored is not None else None
        if stored_name is not None and _is_auth_name(stored_name.replace(".", "_")):
            return f"holding `{stored_name}{'(...)' if is_call else ''}`"
        return None

    def _missing_attributes(self, call: libcst.Call, signed: bool) -> list[str]:
        arguments = self.ctx.arguments(call)
        missing = []
        for attribute in ("secure", "httponly", "samesite"):
            value = arguments.get(attribute, None if signed else _POSITIONS[attribute])
            if value is None:
                if arguments.complete and (attribute != "samesite" or self._samesite_needed()):
                    missing.append(attribute)
            elif self.ctx.literal(value) in (False, None):  # `secure=False`, `samesite=None`; never UNKNOWN
                missing.append(attribute)
        return missing

    def _samesite_needed(self) -> bool:
        modules = self.ctx.imported_modules
        return not (modules & _LAX_BY_DEFAULT) or bool(modules & _NO_SAMESITE_DEFAULT)

    # Starlette's SessionMiddleware ------------------------------------------------

    def _check_session_middleware(self, call: libcst.Call) -> None:
        written = settings.middleware_configured(self.ctx, call, _SESSION_MIDDLEWARE)
        if written is None:
            return
        arguments = self.ctx.arguments(call)
        https_only = arguments.get("https_only")
        unset = https_only is None and arguments.complete
        if not (unset or (https_only is not None and self.ctx.literal(https_only) is False)):
            return
        if self._in_non_production_code(call):
            return
        self.report(https_only if https_only is not None else call,
                    f"{written} sets the session cookie without `https_only=True`: {_RISKS['secure']}; pass "
                    "`https_only=True`")  # fmt: skip

    # Settings -------------------------------------------------------------------

    def _check_settings(self, node: libcst.CSTNode) -> None:
        for setting in settings.setting_assignments(self.ctx, node):
            attribute = self._weakened_attribute(setting)
            if attribute is None:
                continue
            patterns = self.options.non_production_patterns
            if settings.is_non_production(self.ctx, setting, patterns) or settings.is_overridden(
                self.ctx, setting, patterns
            ):
                continue
            message = (f"`{setting.written(self.ctx)}` turns off the cookie's `{attribute}` attribute: "
                       f"{_RISKS[attribute]}; set `{setting.name}` to {_SETTING_FIX[attribute]}")  # fmt: skip
            self.report(setting.node, message)

    def _weakened_attribute(self, setting: settings.Setting) -> str | None:
        value = self.ctx.literal(setting.value)
        if setting.name in _OFF_WHEN_FALSE and value is False:
            return _OFF_WHEN_FALSE[setting.name]
        if setting.name in _OFF_WHEN_NONE and value is None:
            return _OFF_WHEN_NONE[setting.name]
        return None

    def _in_non_production_code(self, node: libcst.CSTNode) -> bool:
        return settings.in_non_production_code(self.ctx, self.options.non_production_patterns, node)


def _is_auth_name(name: str) -> bool:
    words = settings.name_words(name)
    if any(word.startswith(_NOT_AUTH_PREFIXES) for word in words):
        return False
    for word in words:
        if word in _AUTH_WORDS or any(part in word for part in _AUTH_PARTS):
            return True
        if word.startswith("auth") and word not in _AUTHOR:
            return True
    return False


def _spelled_name(expr: libcst.BaseExpression | None) -> str | None:
    """`settings.SESSION_COOKIE_NAME`, or `SESSION_COOKIE_NAME` for `app.config["SESSION_COOKIE_NAME"]`."""
    if isinstance(expr, libcst.Subscript):
        return subscript_key(expr)
    return dotted_name(expr) if expr is not None else None


def _listed(items: list[str], conjunction: str) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"

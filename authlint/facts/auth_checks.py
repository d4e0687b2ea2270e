"""Does a function check who is calling? Facts about function bodies, for the link phase.

A custom decorator, a Flask `before_request` hook, an aiohttp middleware or a FastAPI
dependency is recognised as authentication without configuration when its body both
looks at a credential (a token, the Authorization header, the session, the current user)
and turns the caller away (`abort(401)`, `raise HTTPException(status_code=403)`,
`raise web.HTTPUnauthorized`, a redirect to the login page, `return ..., 401`).
Comparisons of the request path or endpoint with constants are recorded as the hook's
allowlist: the routes it lets through unchecked; or, when the `if` they test leads to the
check rather than around it, as its scope: the only routes it checks.

The collector runs in the file's single walk and writes plain data into
`FunctionFacts.body` of every function enclosing the node (a decorator's checks usually
sit in its inner `wrapper`).
"""

from __future__ import annotations

import re
from typing import Iterable

import libcst

from authlint.context import FileContext
from authlint.facts.file_facts import FunctionFacts
from authlint.facts.literals import string_value, subscript_key
from authlint.facts.names import dotted_name

DENIES = "denies"  # how the function turns a caller away: ["abort(401)", ...]
CREDENTIALS = "credentials"  # what credential it looks at: ["Authorization header", ...]
ALLOWLIST = "allowlist"  # paths/endpoints it lets through: ["/health", "/static/*"]
# paths/endpoints it checks, and only those: ["/admin*"] (`if request.path.startswith("/admin"): abort(403)`)
SCOPE = "scope"
ROLES = "roles"  # which role, scope or permission it looks at: ["is_superuser", "has_perm()"]
GUARDS = "guards"  # library calls that check the caller and raise by themselves: ["check_authorized()"]
METHODS = "methods"  # HTTP methods the body tests `request.method` for or reads form data of: ["POST"]

_DENY_STATUSES = (401, 403)
_DENY_CLASSES = re.compile(
    r"(?:^|\.)(?:HTTP)?(?:Unauthorized|Forbidden|PermissionDenied|NotAuthenticated|AuthenticationFailed"
    r"|AuthenticationError|AuthError|HttpResponseForbidden|Unauthorised)(?:Error|Exception)?$"
)
_STATUS_NAME = re.compile(r"HTTP_(40[13])_|^(UNAUTHORIZED|FORBIDDEN)$")
_STATUS_KEYWORDS = ("status_code", "status", "code")
_CREDENTIAL_WORDS = re.compile(
    r"authorization|bearer|api[-_ ]?key|token|session|credential|x-api|jwt|cookie|signature|secret|password", re.I
)
_CREDENTIAL_ATTRIBUTES = {
    "is_authenticated": "the current user",
    "is_anonymous": "the current user",
    "current_user": "the current user",
    "user": "the request's user",
    "auth": "the request's credentials",
    "authorization": "the Authorization header",
    "session": "the session",
}
_CREDENTIAL_CALLS = re.compile(
    r"(verify_jwt_in_request|get_jwt_identity|get_jwt|decode|verify_token|validate_token|authenticate"
    r"|check_password|get_current_user|current_user|check_auth|verify|login_manager\.unauthorized"
    r"|authorized_userid|is_anonymous)$"  # aiohttp_security
)
_ROLE_ATTRIBUTES = frozenset({
    "is_superuser", "is_admin", "is_staff", "role", "roles", "scopes", "permissions", "groups", "is_owner",
})  # fmt: skip
_ROLE_CALLS = re.compile(r"(?:^|\.)(has_perms?|has_role|has_any_role|has_permission|has_scope|check_permission)$")
_ROUTE_ATTRIBUTES = frozenset({
    "path", "endpoint", "path_info", "url_rule", "rule", "raw_path", "route", "url_name", "view_name", "blueprint",
})  # fmt: skip
_LOGIN_TARGET = re.compile(r"login|signin|sign_in|auth", re.I)
# Library calls that authenticate the caller or raise 401/403 themselves (aiohttp_security).
_GUARD_CALLS = frozenset({
    "aiohttp_security.check_authorized", "aiohttp_security.api.check_authorized",
    "aiohttp_security.check_permission", "aiohttp_security.api.check_permission",
    # flask_jwt_extended: raises NoAuthorizationError (401) itself, unless called with optional=True
    "flask_jwt_extended.verify_jwt_in_request", "flask_jwt_extended.view_decorators.verify_jwt_in_request",
    "flask_jwt_extended.verify_fresh_jwt_in_request",
})  # fmt: skip
# Redirects that send the caller to the login page: Flask/Django `redirect`, aiohttp, Starlette.
_REDIRECTS = frozenset({"redirect", "HTTPFound", "HTTPSeeOther", "HTTPTemporaryRedirect", "RedirectResponse"})
_ROUTE_KEYS = frozenset({"path", "raw_path"})  # scope["path"] in ASGI middleware
_HTTP_METHOD_NAMES = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_FORM_DATA = frozenset({"POST", "FILES"})  # Django's request.POST / request.FILES
_COLLECTIONS = frozenset({"frozenset", "set", "tuple", "list"})
# What a middleware calls to hand the request on: aiohttp `handler`, Starlette `call_next`, Django `get_response`.
_PASS_ON = frozenset({"handler", "call_next", "get_response", "next_handler", "app", "view", "func", "fn", "f"})


class AuthCheckCollector:
    """A walk participant: records deny statements, credential reads and path allowlists."""

    def __init__(self, ctx: FileContext, by_node: dict[int, object]) -> None:
        self.ctx = ctx
        self._by_node = by_node

    def _record(self, key: str, items: Iterable[str]) -> None:
        items = list(items)
        if not items:
            return
        for function in self.ctx.tracker.functions:
            facts = self._by_node.get(id(function))
            if isinstance(facts, FunctionFacts):
                bucket = facts.body.setdefault(key, [])
                bucket.extend(i for i in items if i not in bucket)

    # Turning the caller away ----------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        name = self.ctx.qualified_name(node.func) or dotted_name(node.func) or ""
        denial = self._denial(node, name)
        if denial:
            self._record(DENIES, [denial])
        if _CREDENTIAL_CALLS.search(name):
            self._record(CREDENTIALS, [name.rsplit(".", 1)[-1] + "()"])
        if _ROLE_CALLS.search(name):
            self._record(ROLES, [name.rsplit(".", 1)[-1] + "()"])
        if name in _GUARD_CALLS and not self._optional(node):
            self._guard(node, name.rsplit(".", 1)[-1])
        if isinstance(node.func, libcst.Attribute) and node.func.attr.value == "startswith":
            if self._is_route_attribute(node.func.value):
                prefixes = self._strings(node.args[0].value if node.args else None)
                self._record(self._route_key(node), [f"{p}*" for p in prefixes])

    def _denial(self, node: libcst.Call, name: str) -> str | None:
        last = name.rsplit(".", 1)[-1]
        if _DENY_CLASSES.search(name):
            return last
        status = self._status(node)
        if status in _DENY_STATUSES:
            return f"{last}({status})"
        if last in _REDIRECTS and any(self._login_target(t) for t in self._redirect_targets(node)):
            return "redirect to login"
        if last == "unauthorized":
            return "unauthorized()"
        return None

    def _status(self, node: libcst.Call) -> int | None:
        arguments = self.ctx.arguments(node)
        for keyword in _STATUS_KEYWORDS:
            status = self._status_value(arguments.get(keyword))
            if status is not None:
                return status
        return self._status_value(arguments.get(None, 0))

    def _status_value(self, expr: libcst.CSTNode | None) -> int | None:
        if expr is None:
            return None
        value = self.ctx.literal(expr)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        written = dotted_name(expr) or ""
        match = _STATUS_NAME.search(written.rsplit(".", 1)[-1])
        if match:
            return int(match.group(1)) if match.group(1) else (401 if match.group(2) == "UNAUTHORIZED" else 403)
        return None

    def _redirect_targets(self, node: libcst.Call) -> list[libcst.CSTNode]:
        """`redirect("/login")`, `HTTPFound(location=...)`, `RedirectResponse(url=...)`, a project
        helper `redirect(request.app.router, "login")`."""
        arguments = self.ctx.arguments(node)
        keywords = [arguments.get(k) for k in ("location", "url")]
        return [t for t in (*keywords, *arguments.positional) if t is not None]

    def _guard(self, node: libcst.Call, name: str) -> None:
        """`await check_permission(request, "edit")`: reads the identity and raises 401/403 itself."""
        permission = self.ctx.literal(self.ctx.arguments(node).get("permission", 1))
        label = f"{name}({permission!r})" if isinstance(permission, str) else f"{name}()"
        self._record(GUARDS, [label])
        self._record(DENIES, [label])
        self._record(CREDENTIALS, [label])

    def _optional(self, node: libcst.Call) -> bool:
        """`verify_jwt_in_request(optional=True)` lets anonymous callers through."""
        return self.ctx.literal(self.ctx.arguments(node).get("optional", 0)) is True

    def _login_target(self, expr: libcst.CSTNode) -> bool:
        if isinstance(expr, libcst.Call):
            return any(self._login_target(a.value) for a in expr.args)
        value = self.ctx.literal(expr)
        return isinstance(value, str) and bool(_LOGIN_TARGET.search(value))

    def visit_Raise(self, node: libcst.Raise) -> None:
        if node.exc is None or isinstance(node.exc, libcst.Call):
            return  # calls are seen by visit_Call
        name = self.ctx.qualified_name(node.exc) or dotted_name(node.exc) or ""
        if _DENY_CLASSES.search(name):
            self._record(DENIES, [name.rsplit(".", 1)[-1]])

    def visit_Return(self, node: libcst.Return) -> None:
        value = node.value
        if isinstance(value, libcst.Tuple) and len(value.elements) >= 2:
            status = self._status_value(value.elements[1].value)
            if status in _DENY_STATUSES:
                self._record(DENIES, [f"return ..., {status}"])

    # Looking at a credential ------------------------------------------------------

    def visit_Attribute(self, node: libcst.Attribute) -> None:
        if not self.ctx.tracker.functions:
            return
        if node.attr.value in _FORM_DATA and _mentions_request(node.value):
            self._record(METHODS, ["POST"])
        if node.attr.value in _ROLE_ATTRIBUTES:
            self._record(ROLES, [node.attr.value])
        label = _CREDENTIAL_ATTRIBUTES.get(node.attr.value)
        if label is None:
            return
        if node.attr.value == "user" and not _mentions_request(node.value):
            return
        self._record(CREDENTIALS, [label])

    def visit_Name(self, node: libcst.Name) -> None:
        if node.value in ("current_user", "session") and self.ctx.tracker.functions:
            self._record(CREDENTIALS, [_CREDENTIAL_ATTRIBUTES[node.value]])

    def visit_SimpleString(self, node: libcst.SimpleString) -> None:
        if not self.ctx.tracker.functions:
            return
        value = string_value(node)
        if not isinstance(value, str) or len(value) >= 40:
            return
        if _CREDENTIAL_WORDS.search(value):
            self._record(CREDENTIALS, [f"{value!r}"])
        if value in _ROLE_ATTRIBUTES or value in ("admin", "superuser", "staff"):  # user.get("is_admin"), role == "admin"
            self._record(ROLES, [f"{value!r}"])

    # Letting some routes through --------------------------------------------------

    def visit_Comparison(self, node: libcst.Comparison) -> None:
        if not self.ctx.tracker.functions:
            return
        sides = [node.left, *(c.comparator for c in node.comparisons)]
        if any(_is_request_method(side) for side in sides):  # request.method == "POST"
            for side in sides:
                self._record(METHODS, [m.upper() for m in self._strings(side) if m.upper() in _HTTP_METHOD_NAMES])
        if not any(self._is_route_attribute(side) for side in sides):
            return
        for side in sides:
            if not self._is_route_attribute(side):
                self._record(self._route_key(node), self._strings(side))

    def _route_key(self, test: libcst.CSTNode) -> str:
        """ALLOWLIST when comparing the route lets the caller through (`if request.endpoint in PUBLIC:
        return`, `if request.path not in OPEN: abort(401)`); SCOPE when it leads to the check
        (`if request.path.startswith("/admin") and not user.is_admin: abort(403)`). A comparison
        outside an `if` test, or a branch that does neither, keeps the allowlist reading."""
        statements = self.ctx.tracker.statements
        branch = statements[-1] if statements else None
        if not isinstance(branch, libcst.If):
            return ALLOWLIST
        matches = _polarity(branch.test, test)
        if matches is None:
            return ALLOWLIST
        if self._branch_denies(branch.body):
            return SCOPE if matches else ALLOWLIST
        if _branch_returns(branch.body):
            return ALLOWLIST if matches else SCOPE
        return ALLOWLIST

    def _branch_denies(self, body: libcst.CSTNode) -> bool:
        for node in self.ctx.nodes_in(body):
            if isinstance(node, libcst.Call):
                name = self.ctx.qualified_name(node.func) or dotted_name(node.func) or ""
                if self._denial(node, name) or name in _GUARD_CALLS:
                    return True
            elif isinstance(node, libcst.Raise) and node.exc is not None and not isinstance(node.exc, libcst.Call):
                if _DENY_CLASSES.search(self.ctx.qualified_name(node.exc) or dotted_name(node.exc) or ""):
                    return True
            elif isinstance(node, libcst.Return) and isinstance(node.value, libcst.Tuple):
                elements = node.value.elements
                if len(elements) >= 2 and self._status_value(elements[1].value) in _DENY_STATUSES:
                    return True
        return False

    def _is_route_attribute(self, expr: libcst.CSTNode) -> bool:
        if isinstance(expr, libcst.Subscript):
            return subscript_key(expr) in _ROUTE_KEYS
        while isinstance(expr, libcst.Attribute):
            if expr.attr.value in _ROUTE_ATTRIBUTES:
                return True
            expr = expr.value
        return False

    def _strings(self, expr: libcst.CSTNode | None) -> list[str]:
        expr = self.ctx.resolve(expr) if isinstance(expr, libcst.Name) else expr
        if isinstance(expr, libcst.Call) and dotted_name(expr.func) in _COLLECTIONS and len(expr.args) == 1:
            expr = expr.args[0].value  # PUBLIC = frozenset({"auth.login", "health"})
        value = self.ctx.literal(expr)
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple, set, frozenset)):
            return sorted(v for v in value if isinstance(v, str))
        if isinstance(value, dict):
            return sorted(k for k in value if isinstance(k, str))
        return []


def _is_request_method(expr: libcst.CSTNode) -> bool:
    return isinstance(expr, libcst.Attribute) and expr.attr.value == "method" and _mentions_request(expr.value)


def _polarity(test: libcst.CSTNode, node: libcst.CSTNode) -> bool | None:
    """Whether `test` holds when `node` (a route comparison inside it) does: `not`, `not in` and
    `!=` flip it; None when `node` sits somewhere authlint does not follow (a call, a ternary)."""
    if test is node:
        if isinstance(node, libcst.Comparison):
            negations = (libcst.NotIn, libcst.NotEqual, libcst.IsNot)
            return not any(isinstance(c.operator, negations) for c in node.comparisons)
        return True
    if isinstance(test, libcst.UnaryOperation) and isinstance(test.operator, libcst.Not):
        inner = _polarity(test.expression, node)
        return None if inner is None else not inner
    if isinstance(test, libcst.BooleanOperation):
        left = _polarity(test.left, node)
        return left if left is not None else _polarity(test.right, node)
    return None


def _branch_returns(body: libcst.BaseSuite) -> bool:
    """The branch hands the request on unchecked: `return`, `return None`, `return await handler(request)`."""
    for small in _small_statements(body):
        if isinstance(small, libcst.Pass):
            return True
        if isinstance(small, libcst.Return):
            value = small.value.expression if isinstance(small.value, libcst.Await) else small.value
            if value is None or (isinstance(value, libcst.Name) and value.value == "None"):
                return True
            passes_on = isinstance(value, libcst.Call) and isinstance(value.func, libcst.Name)
            return passes_on and value.func.value in _PASS_ON  # type: ignore[union-attr]
    return False


def _small_statements(body: libcst.BaseSuite) -> list[libcst.BaseSmallStatement]:
    if isinstance(body, libcst.SimpleStatementSuite):  # `if public: return`
        return list(body.body)
    return [small for line in body.body if isinstance(line, libcst.SimpleStatementLine) for small in line.body]


def _mentions_request(expr: libcst.CSTNode) -> bool:
    text = dotted_name(expr) or ""
    return text.rsplit(".", 1)[-1] in ("request", "req", "g", "scope", "conn", "info")


def checks_caller(facts: FunctionFacts) -> bool:
    """Whether the function both looks at a credential and turns callers away."""
    return bool(facts.body.get(DENIES)) and bool(facts.body.get(CREDENTIALS))


def checks_role(facts: FunctionFacts) -> bool:
    """Whether the function turns callers away on a role, scope or permission it reads."""
    return bool(facts.body.get(DENIES)) and bool(facts.body.get(ROLES))


def denial(facts: FunctionFacts) -> str:
    return ", ".join(facts.body.get(DENIES, [])[:2])

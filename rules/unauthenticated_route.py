from __future__ import annotations

import dataclasses
import re

from authlint.model import Precision, Route, Severity
from authlint.rule import ProjectRule

_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HOW_TO_FIX = {
    "fastapi": "add an auth dependency (`Depends(get_current_user)`) to the route, its router or its include_router call",
    "starlette": "wrap the endpoint with `@requires(\"authenticated\")` or add an auth middleware",
    "flask": "decorate it with `@login_required` (or `@jwt_required()`) or check credentials in the blueprint's `before_request`",
    "django": "set `permission_classes` (or `DEFAULT_PERMISSION_CLASSES`), or use `login_required`/`LoginRequiredMixin`",
    "aiohttp": "check credentials in a middleware that covers this path",
    "connexion": "add a `security` requirement to the operation in the OpenAPI spec, or a global `security`",
}
_DEFAULT_FIX = "require authentication on the route or on a level above it"


class UnauthenticatedRoute(ProjectRule):
    """A route that changes state or serves private data has no authentication at any level.

    ## What it does
    Reports a route with no authentication from any level authlint knows for its
    framework: the handler (decorators, FastAPI dependencies, DRF `permission_classes`),
    its class, router or blueprint, the `include_router`/`register_blueprint`/`include`
    that mounts it, the app (`FastAPI(dependencies=...)`, middleware, `before_request`
    hooks) and settings (`DEFAULT_PERMISSION_CLASSES`). A route is reported when it changes
    state (POST, PUT, PATCH, DELETE) or when its path names private data (a segment such
    as `users`, `me`, `admin`, `orders`; see the options).

    Routes that are public by nature (login, register, token, password reset, health,
    docs, OpenAPI) and any path matching `public-routes` in the configuration are not
    reported. Neither are routes the code declares public on purpose (DRF `AllowAny`):
    AL306 reviews those.

    Authentication a team built itself is recognised when a decorator, dependency,
    hook or middleware reads a credential and turns the caller away with 401/403 (or a
    redirect to the login page); name helpers authlint cannot see through in
    `auth-decorators` and `auth-dependencies`. A dependency defined outside the scanned
    code (another package) is taken as authentication when its name says so
    (`get_current_user`, `require_token`); `authlint routes` shows where that was assumed.

    ## Why is this bad?
    An endpoint nobody protected is callable by anyone who can reach the API. Broken
    authentication is the second item of the OWASP API Security Top 10; an unprotected
    state-changing route lets an attacker create, change or delete data without an account.

    ## Example
    ```python
    router = APIRouter(prefix="/orders")


    @router.delete("/{order_id}")
    def delete_order(order_id: int, db: Session = Depends(get_db)):
        db.delete(db.get(Order, order_id))
    ```

    ## Use instead
    ```python
    router = APIRouter(prefix="/orders", dependencies=[Depends(get_current_user)])


    @router.delete("/{order_id}")
    def delete_order(order_id: int, db: Session = Depends(get_db)):
        ...
    ```

    ## Options
    - `sensitive-path-segments`: path segments that mark a GET route as serving private
      data (matched case-insensitively against each segment of the full path).
    - `severity`: override the severity of the rule's findings.

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP API Security Top 10 2023, API5: Broken Function Level Authorization
    - CWE-306: Missing Authentication for Critical Function
    """

    code = "AL301"
    name = "unauthenticated-route"
    severity = Severity.HIGH
    precision = Precision.MEDIUM
    owasp = ("API2:2023", "API5:2023")
    cwe = (306,)

    @dataclasses.dataclass(frozen=True)
    class Options:
        sensitive_path_segments: list[str] = dataclasses.field(
            default_factory=lambda: [
                "admin", "internal", "users", "user", "accounts", "account", "me", "profile", "orders",
                "payments", "billing", "invoices", "tokens", "keys", "secrets", "credentials", "settings",
            ]
        )  # fmt: skip

    def check(self) -> None:
        for route in self.routes:
            if route.public or route.effective_auth:
                continue
            why = self._why_it_matters(route)
            if why is None:
                continue
            fix = _HOW_TO_FIX.get(route.framework, _DEFAULT_FIX)
            self.report_route(route, f"{route.label} {why} but has no authentication at any level; {fix}, "
                              "or list the path in `public-routes` if anyone may call it")  # fmt: skip

    def _why_it_matters(self, route: Route) -> str | None:
        if _STATE_CHANGING & set(route.methods) or "*" in route.methods:  # aiohttp's any-method routes
            return "changes state"
        segments = {s.lower() for s in re.split(r"[/{}<>:]+", route.path) if s}
        wanted = {s.lower() for s in self.options.sensitive_path_segments}
        sensitive = sorted(segments & wanted)
        return f"serves private data (`/{sensitive[0]}`)" if sensitive else None

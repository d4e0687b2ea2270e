from __future__ import annotations

import dataclasses
import re

from authlint.facts import auth_checks
from authlint.frameworks.base import route_handler
from authlint.model import Precision, Route, Severity
from authlint.project import Function
from authlint.rule import ProjectRule

_WORDS = re.compile(r"[a-z0-9]+")


class MissingFunctionLevelAuthz(ProjectRule):
    """An admin or privileged operation is guarded only by authentication, with no role check.

    ## What it does
    Reports an authenticated route that performs a privileged operation when nothing on
    any level requires a role, scope or permission:

    - its path has an admin segment (`/admin/...`, `/internal/...`, see the options);
    - it changes roles or permissions, or acts on other accounts (`promote`, `grant`,
      `revoke`, `impersonate`, `ban`, a `roles` or `permissions` segment);
    - it deletes users (`DELETE /users/{user_id}`; deleting one's own account,
      `/users/me`, is not privileged).

    A role requirement is: FastAPI `Security(..., scopes=[...])`, a dependency or
    decorator whose body turns the caller away after looking at a role (`is_superuser`,
    `is_admin`, `role`, `has_perm(...)`), DRF `IsAdminUser` or a permission class, Django
    `permission_required`, flask-httpauth `login_required(role=...)`, flask-security
    `roles_required`, a role check in the handler itself, or a helper named in
    `admin-checks`. Unauthenticated routes are AL301's.

    ## Why is this bad?
    Broken function level authorization (OWASP API5) is the gap between "who are you"
    and "may you do this": any signed-up user can call the admin endpoint, promote
    themselves, or delete other accounts, because the API only checked that they logged in.

    ## Example
    ```python
    admin = APIRouter(prefix="/admin", dependencies=[Depends(get_current_user)])


    @admin.delete("/users/{user_id}")
    def delete_user(user_id: int): ...
    ```

    ## Use instead
    ```python
    def require_admin(user: User = Depends(get_current_user)) -> User:
        if not user.is_superuser:
            raise HTTPException(status_code=403)
        return user


    admin = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    ```

    ## Options
    - `admin-path-segments`: path segments that mark an admin route.
    - `privileged-words`: words in the path or handler name that mark a privileged operation.
    - `severity`: override the severity of the rule's findings.

    ## References
    - OWASP API Security Top 10 2023, API5: Broken Function Level Authorization
    - CWE-285: Improper Authorization
    """

    code = "AL303"
    name = "missing-function-level-authz"
    severity = Severity.HIGH
    precision = Precision.MEDIUM
    owasp = ("API5:2023",)
    cwe = (285,)

    @dataclasses.dataclass(frozen=True)
    class Options:
        admin_path_segments: list[str] = dataclasses.field(
            default_factory=lambda: ["admin", "internal", "manage", "management", "staff", "superuser", "backoffice"]
        )
        privileged_words: list[str] = dataclasses.field(
            default_factory=lambda: [
                "promote", "demote", "grant", "revoke", "impersonate", "ban", "unban", "roles", "role",
                "permissions", "privileges",
            ]
        )  # fmt: skip

    def check(self) -> None:
        for route in self.routes:
            if not route.authenticated or any(e.kind == "authorization" for e in route.effective_auth):
                continue
            why = self._privileged(route)
            handler = route_handler(self.project, route)
            if why is None or (isinstance(handler, Function) and auth_checks.checks_role(handler.facts)):
                continue
            guards = ", ".join(f"{e.mechanism} [{e.level}]" for e in route.effective_auth if e.authenticates)
            self.report_route(route, f"{route.label} {why} but is guarded only by authentication ({guards}); "
                              "require a role or permission (a dependency or decorator that checks "
                              "`is_superuser`/a role and answers 403, DRF `IsAdminUser`), or name your check "
                              "in `admin-checks`")  # fmt: skip

    def _privileged(self, route: Route) -> str | None:
        segments = [s for s in re.split(r"[/{}<>:]+", route.path.lower()) if s]
        admin = {s.lower() for s in self.options.admin_path_segments}
        found = next((s for s in segments if s in admin), None)
        if found:
            return f"is an admin operation (`/{found}`)"
        words = set(_WORDS.findall(route.path.lower())) | set(_WORDS.findall(route.handler.rsplit(".", 1)[-1].lower()))
        privileged = sorted(words & {w.lower() for w in self.options.privileged_words})
        if privileged:
            return f"changes privileges (`{privileged[0]}`)"
        if "DELETE" in route.methods and _deletes_another_account(segments):
            return "deletes user accounts"
        return None


def _deletes_another_account(segments: list[str]) -> bool:
    """`DELETE /users/{user_id}` deletes an account; `/users/{id}/sessions` and `/users/me` do not."""
    if len(segments) < 2:
        return False
    collection, member = segments[-2], segments[-1]
    return collection in ("users", "accounts", "members") and member not in ("me", "self", "current")

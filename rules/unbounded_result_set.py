from __future__ import annotations

import re

from authlint.facts import data_access
from authlint.facts.data_access import PageSize
from authlint.facts.expr import Const, Expr, Mapping, dotted_expr
from authlint.facts.file_facts import FileFacts, FunctionFacts
from authlint.frameworks import django
from authlint.frameworks.base import serving_functions, view_class
from authlint.model import Precision, Route, Severity
from authlint.project import Class, External, Function, Value, qualified_name
from authlint.rule import ProjectRule

# A path whose last segment is a parameter addresses one object, not a collection.
_OBJECT_SEGMENT = re.compile(r"^(\{[^}]*\}|<[^>]*>|\(\?P<\w+>.*\)|:\w+)$")
_DRF_LISTS = frozenset({"ListAPIView", "ListCreateAPIView", "ModelViewSet", "ReadOnlyModelViewSet", "ListModelMixin"})
_MAX_HOPS = 3
_HOW_TO_PAGE = {
    "fastapi": "return a page instead: `.offset(skip).limit(limit)` with `limit: int = Query(50, le=100)`, "
    "or fastapi-pagination's `paginate()`",
    "starlette": "return a page instead: `.limit(n)` with a capped `n`",
    "flask": "return a page instead: Flask-SQLAlchemy's `.paginate(page=..., per_page=...)` (capped by "
    "`max_per_page`) or `.limit(n)` with a capped `n`",
    "django": "return a page instead: set `pagination_class` (or `DEFAULT_PAGINATION_CLASS` and `PAGE_SIZE`), "
    "use Django's `Paginator`, or slice the queryset",
    "aiohttp": "return a page instead: `.limit(n)` with a capped `n`",
    "mongo": "return a page instead: `.skip(...).limit(n)` on the cursor with a capped `n`",
    "sql": "return a page instead: `LIMIT`/`OFFSET` with a capped page size",
}
_DEFAULT_HOW_TO_PAGE = "return a page instead, with a page size the server caps"


class UnboundedResultSet(ProjectRule):
    """A list endpoint returns every row, or lets the client choose how many, with no upper bound.

    ## What it does
    Looks at `GET` routes that address a collection (the path does not end in a
    parameter such as `{item_id}`) and reports one when:

    - its handler returns every row of a model or collection: `db.query(User).all()`,
      `session.scalars(select(User)).all()`, `User.query.all()`, `User.objects.all()` (or
      a filter on constants only), `db.users.find({})` or `to_list(length=None)`,
      `await User.all()`, `SELECT` without `LIMIT`, with no `.limit()`, slice, `paginate()`,
      `Paginator` or single-row fetch on the way. The rows may reach the response through
      names, loops, list comprehensions and serializers;
    - it takes the page size from the client with no upper bound: a parameter such as
      `limit: int = 100` (no `Query(le=...)`, `conint(le=...)` or `Literal[...]`) or a
      request read (`request.args.get("per_page", type=int)`) that reaches `.limit()`, a
      slice, `Paginator`, `to_list(length=...)` or a helper that uses it that way, with no
      `min(...)`, comparison or clamp in between;
    - it is a DRF list view (`ListAPIView`, `ModelViewSet`, ...) or a Django `ListView`
      whose `queryset`/`get_queryset()` returns every row and that pages nothing: no
      `pagination_class`, no `DEFAULT_PAGINATION_CLASS` with a `PAGE_SIZE` in
      `REST_FRAMEWORK`, no `paginate_by`.

    Queries filtered on a request value or on the current user (`owner=request.user`,
    `Item.owner_id == current_user.id`) are not reported: authlint cannot tell how many
    rows match. Neither are page sizes capped in a helper authlint can read, nor helpers
    in modules it did not analyse.

    ## Why is this bad?
    A table grows; the endpoint's response, memory and database time grow with it. One
    request, or a client asking for `?limit=1000000`, makes the server load and serialize
    the whole table: a cheap denial of service and a bulk-export tool for scrapers.
    Unrestricted resource consumption is the fourth item of the OWASP API Security Top 10.

    ## Example
    ```python
    @router.get("/users")
    def list_users(limit: int = 100, db: Session = Depends(get_db)):
        return db.query(User).limit(limit).all()
    ```

    ## Use instead
    ```python
    @router.get("/users")
    def list_users(limit: int = Query(50, ge=1, le=100), db: Session = Depends(get_db)):
        return db.query(User).order_by(User.id).limit(limit).all()
    ```

    ## References
    - OWASP API Security Top 10 2023, API4: Unrestricted Resource Consumption
    - Django REST framework, Pagination
    - CWE-770: Allocation of Resources Without Limits or Throttling
    """

    code = "AL502"
    name = "unbounded-result-set"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API4:2023",)
    cwe = (770,)

    def check(self) -> None:
        for route in self.routes:
            if "GET" not in route.methods or _addresses_one_object(route.path):
                continue
            problem = self._problem(route)
            if problem is not None:
                self.report_route(route, f"{route.label} {problem}")

    def _problem(self, route: Route) -> str | None:
        for function in serving_functions(self.project, route):
            for access in data_access.unbounded_lists(function.facts):
                how = _HOW_TO_PAGE.get(access.library) or _HOW_TO_PAGE.get(route.framework, _DEFAULT_HOW_TO_PAGE)
                rows = f"`{access.model}` row" if access.model else "row"
                return f"returns every {rows} (`{access.text}`, line {access.line}) with no limit; {how}"
            for size in data_access.page_sizes(function.facts):
                problem = self._client_size(function, size, _MAX_HOPS)
                if problem is not None:
                    return problem
        cls = view_class(self.project, route)
        return self._unpaged_list_view(route, cls) if cls is not None else None

    # Page sizes the client picks ------------------------------------------------------

    def _client_size(self, function: Function, size: PageSize, hops: int) -> str | None:
        if not self._uncapped_here(function.facts, size):
            return None
        if size.callee and not self._callee_uses_uncapped(function, size, hops):
            return None
        where = f"`{size.used_in}`, line {size.line}"
        if size.parameter:
            shown = f"`{size.parameter}` from the client"
            declared = f"`{size.parameter}: int = Query(50, le=100)`"
            fix = f"declare it with an upper bound ({declared}) or cap it with `min({size.parameter}, 100)`"
        else:
            shown = f"from the client (`{size.source}`)"
            fix = "cap it with `min(..., 100)`"
        return f"takes the page size {shown} with no upper bound ({where}); {fix}"

    @staticmethod
    def _uncapped_here(facts: FunctionFacts, size: PageSize) -> bool:
        if not size.parameter:
            return True
        param = facts.param(size.parameter)
        if param is None or not data_access.is_scalar_parameter(param):
            return False
        return data_access.declared_upper_bound(param) is None

    def _callee_uses_uncapped(self, function: Function, size: PageSize, hops: int) -> bool:
        """`crud.get_users(db, limit=limit)`: does the helper use what it is handed as an uncapped size?"""
        callee = self.project.resolve_value(function.file, dotted_expr(size.callee))
        if isinstance(callee, Function):
            receiver = _receiving_parameter(callee.facts, size.argument)
            if receiver is None or hops <= 0:
                return False
            return any(
                s.parameter == receiver and (not s.callee or self._callee_uses_uncapped(callee, s, hops - 1))
                for s in data_access.page_sizes(callee.facts)
            )
        # A helper of this project in a module authlint did not analyse (it imports no framework).
        return isinstance(callee, External) and _same_project(function.file, callee.name)

    # Class-based list views ------------------------------------------------------------

    def _unpaged_list_view(self, route: Route, cls: Class) -> str | None:
        externals = {n.rsplit(".", 1)[-1]: n for n in (qualified_name(a) or "" for a in self.project.ancestors(cls)) if n}
        if not any(n in externals and externals[n].startswith("rest_framework.") for n in _DRF_LISTS):
            return None
        if _own_method_serves_list(cls):
            return None  # `list()`/`get()` written by hand: its body was read above
        rows = self._all_rows(cls)
        missing = self._drf_pagination_missing(route, cls) if rows is not None else None
        if missing is None:
            return None
        fix = "set `pagination_class`, or `DEFAULT_PAGINATION_CLASS` and `PAGE_SIZE` in `REST_FRAMEWORK`"
        return f"returns every row of `{rows}` and {missing}; {fix}"

    def _all_rows(self, cls: Class) -> str | None:
        """What the view lists when that is every row: `get_queryset()` or the `queryset`/`model` attribute."""
        method = self.project.member(cls, "get_queryset")
        if isinstance(method, Function):
            returned = [a for a in data_access.accesses(method.facts) if a.returned]
            listed = [a for a in returned if a.operation == data_access.LIST and not a.bounded]
            return listed[0].text if listed and len(listed) == len(returned) else None
        queryset = self._attribute(cls, "queryset")
        if queryset is not None:
            read = data_access.queryset_snapshot(queryset)
            return read[2] if read is not None and read[0] == data_access.LIST and not read[1] else None
        return None

    def _drf_pagination_missing(self, route: Route, cls: Class) -> str | None:
        own = self._attribute(cls, "pagination_class")
        if own is not None:
            return "sets `pagination_class = None`" if _is_none(own) else None
        settings = django.route_rest_framework(self.project, route)
        if settings is None:
            scanned = any("INSTALLED_APPS" in f.assignments for f in self.project.files)
            if not scanned or any("REST_FRAMEWORK" in f.assignments for f in self.project.files):
                return None  # settings authlint did not see, or could not attribute to this view: do not guess
            return "pages nothing (no `pagination_class`, and settings without `REST_FRAMEWORK` pagination)"
        file, mapping = settings
        default = mapping.get("DEFAULT_PAGINATION_CLASS")
        if default is None or _is_none(default):
            return None if _unreadable(mapping) else "pages nothing (no `pagination_class` or `DEFAULT_PAGINATION_CLASS`)"
        if mapping.get("PAGE_SIZE") is not None or _unreadable(mapping):
            return None
        if isinstance(self._setting_symbol(file, default), Class):
            return None  # the project's own pagination class sets its page size
        return "pages nothing: `DEFAULT_PAGINATION_CLASS` without `PAGE_SIZE` leaves the page size unset"

    def _setting_symbol(self, file: FileFacts, expr: Expr):
        """A setting names a class by a dotted string (`"app.pagination.Pager"`) or by reference."""
        if isinstance(expr, Const) and isinstance(expr.value, str):
            return self.project.resolve_dotted(expr.value)
        return self.project.resolve_value(file, expr)

    def _attribute(self, cls: Class, name: str) -> Expr | None:
        member = self.project.member(cls, name)
        return member.expr if isinstance(member, Value) else None


def _addresses_one_object(path: str) -> bool:
    segments = [s for s in path.strip("^$").split("/") if s]
    return bool(segments) and bool(_OBJECT_SEGMENT.match(segments[-1]))


def _own_method_serves_list(cls: Class) -> bool:
    return any(f"{cls.facts.qualname}.{name}" in cls.file.functions for name in ("list", "get"))


def _receiving_parameter(facts: FunctionFacts, argument: str) -> str | None:
    if not argument.isdigit():
        return argument if facts.param(argument) is not None else None
    params = [p.name for p in facts.params if p.kind == "positional" and p.name not in ("self", "cls")]
    index = int(argument)
    return params[index] if index < len(params) else None


def _same_project(file: FileFacts, name: str) -> bool:
    """`app.crud.get_users` seen from `app.routers.users`: the same top-level package."""
    top = file.module.split(".", 1)[0]
    return "." in file.module and name.split(".", 1)[0] == top


def _is_none(expr: Expr) -> bool:
    return isinstance(expr, Const) and expr.value is None


def _unreadable(mapping: Mapping) -> bool:
    """A `**spread` in the settings dict: keys authlint cannot see."""
    return any(key is None for key, _ in mapping.items)

"""What a function does with the database, and how often it may be called: body facts for the link phase.

The collector runs in the file's single walk and writes plain data into
`FunctionFacts.body` of the innermost function around each finding:

- `ACCESSES`: every ORM/database access, as an `Access`: its operation (get, filter,
  list, count, create, update, delete), the model or collection, the fields it filters on
  and the values that pick the rows (`item_id`, `self.kwargs['pk']`), whether a filter is
  the current user (`owner=request.user`, `Item.owner_id == current_user.id`), whether a
  limit, slice, page or single-row fetch bounds it, whether its rows reach what the
  function returns, and its line. Recognised: SQLAlchemy (`db.query(M)`, `select(M)`
  run by `execute`/`scalars`/`exec`, `session.get(M, id)`, Flask-SQLAlchemy `M.query`,
  `paginate`), Django (`M.objects...`, `get_object_or_404`, related managers), MongoDB
  (pymongo/motor collections), active-record ORMs (Tortoise, Beanie, Peewee: `M.all()`,
  `M.filter()`, `M.get()`) and raw SQL strings run by `execute`.
- `PAGE_SIZES`: page sizes the client chooses with no cap in the function, as
  `PageSize`: a parameter or request input that reaches `.limit()`, a slice, `paginate`,
  `Paginator`, `to_list(length=)`, or a size-named argument of another call
  (`crud.get_users(limit=limit)`), with no `min(...)`, comparison or clamp on the way.
- `RATE_LIMITS`: throttling done in the body: a rate-limit call (`limiter.hit()`,
  `is_ratelimited()`), a 429 response, a `Throttled`/`RateLimitExceeded` exception, or a
  check of django-ratelimit's `request.limited`. Recorded in every enclosing function,
  so a decorator's inner wrapper counts for the decorator.
- `OWNER_CHECKS`: comparisons of a loaded object's attribute with the current user
  (`item.owner_id != current_user.id`), as written.
- `CALLER_CHECKS`: conditions (`if`, `while`, `assert`) that compare the current user with
  a value that is not a constant (`user_id != current_user.id`, `request.user in
  doc.editors.all()`, `order["owner"] != request["user"].id`), as written: checks that
  tie what the function touches to its caller.
- `OWNER_COMPARISONS`: other conditions comparing who a row belongs to (`order.user_id`,
  `post["author_id"]`) with a value that is not a constant, as (owner side, other side):
  a check when the other side is the caller under a name authlint does not know
  (`claims["sub"]`), none when it is what the client sent (`order.user_id != user_id`).
- `CALLS`: the calls the body makes with a dotted callee, as `Called` (callee and argument
  texts as written): the link phase resolves helpers (`crud.get_order(db, order_id)`,
  `ensure_owner(order, user)`, `self.get_object()`) through them.
- `STORE_ACCESSES`: reads, writes and deletes of in-memory dict stores by a non-constant
  key (`ORDERS[order_id]`, `fake_db.get(item_id)`, `del ITEMS[item_id]`), as `Access`
  with library "dict"; kept apart from `ACCESSES`, which are database queries.

Query objects built in one statement and run in another (`stmt = select(M).limit(n)`
... `session.exec(stmt).all()`, `qs = M.objects.filter(...)` ... `return qs`) are
followed by name within the function, as are the names the rows flow through on their
way to the return value (`users = ...; data = [u.dict() for u in users]; return data`).
Lines are those of the statements holding the accesses, read from CPython's tree
(a position replay only when the file has none), and only for the accesses found.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import libcst

from authlint.context import FileContext
from authlint.facts.expr import Attr, Call, Const, Expr, Index, Opaque, Seq, source_text, written
from authlint.facts.file_facts import FunctionFacts, Param, function_body, paired_statements
from authlint.facts.literals import UNKNOWN
from authlint.facts.names import BUILTIN_NAMES, assigned_names, dotted_name
from authlint.positions import resolve_spans
from authlint.walk import iter_children, walk_nodes

ACCESSES = "data_access"  # list[Access]
PAGE_SIZES = "page_sizes"  # list[PageSize]
RATE_LIMITS = "rate_limits"  # ["limiter.hit()", "HTTPException(429)", ...]
OWNER_CHECKS = "owner_checks"  # ["item.owner_id != current_user.id", ...]
CALLER_CHECKS = "caller_checks"  # ["user_id != current_user.id", ...]
OWNER_COMPARISONS = "owner_comparisons"  # [("order.user_id", "claims['sub']"), ...]
CALLS = "calls"  # list[Called]
STORE_ACCESSES = "store_accesses"  # list[Access] with library "dict"

GET, FILTER, LIST, COUNT = "get", "filter", "list", "count"
CREATE, UPDATE, DELETE = "create", "update", "delete"
READS = frozenset({GET, FILTER, LIST, COUNT})
WRITES = frozenset({CREATE, UPDATE, DELETE})


@dataclass(frozen=True)
class Access:
    """One ORM or database access in a function body."""

    operation: str  # GET, FILTER, LIST, COUNT, CREATE, UPDATE or DELETE
    library: str  # "sqlalchemy", "django", "mongo", "orm" (active record), "sql" (raw SQL)
    model: str  # "User", "db.users"; "" when unknown
    text: str  # the call as written (shortened): "db.query(User).all()"
    line: int  # the first line of the statement holding it
    fields: tuple[str, ...] = ()  # fields filtered on (set, for a create): ("id", "owner_id")
    identifiers: tuple[str, ...] = ()  # non-constant values that pick rows: ("item_id",)
    owner_filter: bool = False  # a filter value is the current user (a create: the new row's owner is)
    bounded: bool = False  # a limit, slice, page or single-row fetch applies
    returned: bool = False  # the rows reach what the function returns


@dataclass(frozen=True)
class PageSize:
    """A page size the client picks, with nothing in the function capping it."""

    source: str  # the parameter ("limit") or request read ("request.args.get('per_page')")
    parameter: str  # the function parameter it comes from; "" for a request read
    used_in: str  # "limit()", "[:...]", "paginate(per_page=)", "get_users(limit=)"
    callee: str  # the function it is passed to, as written ("crud.get_users"); "" for a query
    argument: str  # the keyword (or position, "0", "1"...) it is passed as; "" for a query
    line: int


@dataclass(frozen=True)
class Called:
    """A call made in a function body: `crud.get_order(db, order_id)`, as written."""

    callee: str  # the dotted callee: "crud.get_order", "self.get_object"
    args: tuple[str, ...] = ()  # positional arguments as written
    keywords: tuple[tuple[str, str], ...] = ()  # (keyword, argument as written)


# Query vocabulary ---------------------------------------------------------------

_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_FILTERS = frozenset({"filter", "filter_by", "where", "exclude", "find"})
_LIMITS = frozenset({"limit", "fetchmany", "first_n"})
_GETS = frozenset({
    "get", "get_or_none", "get_or_404", "first", "last", "one", "one_or_none", "scalar", "scalar_one",
    "scalar_one_or_none", "first_or_404", "one_or_404", "find_one", "fetchone", "latest", "earliest",
    "get_by_id", "find_one_or_404",
})  # fmt: skip
_COUNTS = frozenset({"count", "exists", "aggregate", "count_documents", "estimated_document_count"})
_CREATES = frozenset({
    "create", "get_or_create", "update_or_create", "bulk_create", "insert_one", "insert_many", "add", "add_all",
})  # fmt: skip
_UPDATES = frozenset({
    "update", "update_one", "update_many", "replace_one", "find_one_and_update", "find_one_and_replace",
    "bulk_update", "merge",
})  # fmt: skip
_DELETES = frozenset({"delete", "delete_one", "delete_many", "find_one_and_delete", "delete_by_id", "remove"})
# Methods that run a whole query and hand back every row (lazy querysets only run later).
_LIST_RUNS = frozenset({"all", "fetchall", "partitions"})
# Methods whose first argument is a statement to run: `session.execute(select(User))`.
_RUNS = frozenset({"execute", "scalars", "scalar", "exec", "first_or_404", "one_or_404", "paginate"})
_SESSION_GETS = frozenset({"get", "get_one", "get_or_404"})
_SESSION_WRITES = {"delete": DELETE, "add": CREATE, "add_all": CREATE, "merge": UPDATE}
_ROW_WRITES = {"delete": DELETE, "delete_instance": DELETE, "save": UPDATE, "update_from_dict": UPDATE, "set": UPDATE}
_ACTIVE_RECORD = frozenset({
    "all", "filter", "exclude", "get", "get_or_none", "get_by_id", "find", "find_all", "find_one", "select",
    "create", "first", "delete_by_id", "filter_by",
})  # fmt: skip
_MONGO_ONLY = frozenset({
    "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
    "delete_many", "find_one_and_update", "find_one_and_delete", "find_one_and_replace", "count_documents",
})  # fmt: skip
_COLUMN_TESTS = frozenset({"in_", "is_", "like", "ilike", "contains"})  # `Item.id.in_(ids)`
# by libcst class name, so that importing the module does not load libcst (authlint/lazy.py)
_CONDITIONS = frozenset({"Comparison", "BooleanOperation", "BinaryOperation", "Dict", "Call"})
# Filter arguments that are not conditions on rows.
_NOT_FILTERS = frozenset({"projection", "sort", "skip", "limit", "session", "hint", "batch_size"})
# Calls that only convert an identifier: `ObjectId(item_id)` picks rows by `item_id`.
_CONVERTERS = frozenset({"int", "str", "UUID", "uuid.UUID", "ObjectId", "bson.ObjectId", "PydanticObjectId"})
# Functions and methods that page a result: they bound whatever query they are given.
_PAGINATORS = re.compile(r"(?:^|\.)(Paginator|paginate|paginate_queryset|get_page|apaginate)$")

_SESSION_NAME = re.compile(r"(?:^|_)(db|session|sess|conn|connection|cursor|cur|uow|tx)$", re.I)
_COLLECTION_NAME = re.compile(r"collection|coll$|^(db|database|mongo|client)$", re.I)
# In-memory stores of demo and small apps: `ORDERS`, `fake_items_db`, `user_store`, `db` (subscripted).
_STORE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$|^fake_|(?:^|_)(?:db|store|storage|database)$")
_STORE_METHODS = {"get": GET, "pop": DELETE}
_DICT_BUILDERS = frozenset({"dict", "defaultdict", "OrderedDict", "collections.defaultdict", "collections.OrderedDict"})
# Where the caller sits when a framework keeps it in the request's mapping: aiohttp `request["user"]`.
_PRINCIPAL_ITEM = re.compile(
    r"^(?:request|req|scope|self\.request)\[['\"](?:user|current_user|identity|principal)['\"]\]"
)
_SQL_SELECT = re.compile(r"^\s*select\b", re.I)
_SQL_LIMIT = re.compile(r"\blimit\s+\S|\bfetch\s+(first|next)\b|\btop\s*\(?\s*\d", re.I)
_SQL_WRITE = {"insert": CREATE, "update": UPDATE, "delete": DELETE}
_SQL_TABLE = re.compile(r"\b(?:from|into|update)\s+[`\"\[]?([A-Za-z_][\w.]*)", re.I)
_SQL_PLACEHOLDER = re.compile(r"%s|%\(\w+\)s|\?|:\w+|\$\d")

# Who is calling: the current user in the usual spellings of each framework.
_PRINCIPAL_NAMES = frozenset({
    "current_user", "current_active_user", "current_identity", "get_jwt_identity", "get_current_user",
    "get_current_active_user",
})  # fmt: skip
_PRINCIPAL_ATTRIBUTE = re.compile(
    r"(?:^|\.)(?:request\.(?:user|auth)|g\.(?:current_)?user|info\.context\.user|auth\.current_user)$"
)
# A parameter that is the current user by its dependency or type: `user: User = Depends(get_current_user)`.
_PRINCIPAL_PARAM = re.compile(r"current_?user|current_active|CurrentUser|get_user|require_user|authenticated_user", re.I)
# by libcst class name, so that importing the module does not load libcst (authlint/lazy.py)
_ORDERINGS = frozenset({"LessThan", "LessThanEqual", "GreaterThan", "GreaterThanEqual"})
_OWNER_ATTRIBUTE = re.compile(r"(?:^|_)(owner|user|author|creator|created_by|account|tenant)(?:_id)?$", re.I)

# Where a request carries what the client chose.
_REQUEST_INPUTS = frozenset({
    "args", "values", "form", "GET", "POST", "query_params", "query", "json", "data", "params", "rel_url",
    "get_json", "match_info", "path_params",
})  # fmt: skip
_REQUEST_NAMES = frozenset({"request", "req"})
# Names of arguments that set a page size when passed on to another function.
_SIZE_WORDS = frozenset({
    "limit", "page_size", "pagesize", "per_page", "perpage", "size", "max_results", "maxresults",
    "max_items", "items_per_page", "take", "top", "batch_size",
})  # fmt: skip
# Builtins that reduce rows to one value: `len(users)` returns no rows.
_AGGREGATES = frozenset({"len", "sum", "max", "min", "any", "all", "bool", "round", "abs"})
_CAPS = re.compile(r"(?:^|\.)(min|clamp|clip|bounded|cap_\w+|\w*_cap)$")

# Throttling done in a function body.
_RATE_LIMIT_CALL = re.compile(
    r"rate_?limit|ratelimit|throttl|limiter\.(hit|test|check)|lockout|login_attempts|failed_attempts|too_many", re.I
)
_RATE_LIMIT_CLASS = re.compile(r"(?:^|\.)(Throttled|RateLimitExceeded|Ratelimited|TooManyRequests\w*|HTTPTooManyRequests)$")
_STATUS_KEYWORDS = frozenset({"status_code", "status", "code"})
_STATUS_429 = re.compile(r"(?:^|\.)(HTTP_429\w*|TOO_MANY_REQUESTS)$")


# A query while it is being read ------------------------------------------------


@dataclass
class _Query:
    library: str
    model: str
    fields: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    owner: bool = False
    bounded: bool = False
    operation: str | None = None  # set by a step that runs the query; None while it is lazy
    # (size expression, how it is used, lower bound of a slice)
    sizes: list[tuple[libcst.BaseExpression, str, libcst.BaseExpression | None]] = field(default_factory=list)
    lazy_run: bool = False  # last step was `execute()`: a result or cursor to read rows from later

    def copy(self) -> _Query:
        return _Query(
            self.library, self.model, list(self.fields), list(self.identifiers), self.owner, self.bounded,
            self.operation, list(self.sizes), self.lazy_run,
        )  # fmt: skip

    @property
    def final_operation(self) -> str:
        if self.operation is not None:
            return self.operation
        return FILTER if self.identifiers or self.owner else LIST


@dataclass
class _Found:
    """An access found in the walk; its line and whether it is returned are settled at the end."""

    query: _Query
    node: libcst.CSTNode
    targets: frozenset[str]
    in_return: bool


@dataclass
class _Pending:
    """A lazy query held in a name (`qs = Item.objects.filter(...)`), run wherever it is used."""

    name: str
    query: _Query
    node: libcst.CSTNode
    used_as_base: bool = False
    absorbed: bool = False  # rebuilt into a later query held by the same or another name


@dataclass
class _SizeUse:
    node: libcst.BaseExpression
    used_in: str
    lower: libcst.BaseExpression | None = None
    callee: str = ""
    argument: str = ""


@dataclass
class _Frame:
    """What the walk learns inside one function."""

    node: libcst.FunctionDef
    facts: FunctionFacts | None
    params: frozenset[str]
    principals: set[str] = field(default_factory=set)
    pending: dict[str, _Pending] = field(default_factory=dict)
    all_pending: list[_Pending] = field(default_factory=list)
    found: list[_Found] = field(default_factory=list)
    # name -> value expressions assigned to it (loop targets get the iterable)
    values: dict[str, list[libcst.CSTNode]] = field(default_factory=dict)
    returns: list[libcst.CSTNode] = field(default_factory=list)
    capped: set[str] = field(default_factory=set)  # names compared with a bound: `if limit > 100`
    sizes: list[_SizeUse] = field(default_factory=list)
    # names holding one row loaded by an access: `item = session.get(Item, item_id)`
    loaded: dict[str, _Query] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # loaded names already recorded as updated


@dataclass
class _Statement:
    targets: frozenset[str]
    value: libcst.CSTNode | None
    in_return: bool = False
    reduced: set[int] | None = None  # see DataAccessCollector._reduced_in


class DataAccessCollector:
    """A walk participant: records database accesses, client page sizes and throttling in function bodies."""

    def __init__(self, ctx: FileContext, by_node: dict[int, object], tree: ast.Module | None = None) -> None:
        self.ctx = ctx
        self._by_node = by_node
        self._tree = tree  # CPython's tree of the file: statement lines without a position replay
        self._statement_of: dict[int, libcst.CSTNode] = {}  # recorded node -> the statement around it
        self._frames: list[_Frame] = []
        self._statements: list[_Statement] = []
        self._consumed: set[int] = set()
        self._decorators: set[int] = set()
        self._loop_targets: dict[int, frozenset[str]] = {}
        self._conditional_tests: set[int] = set()  # comparisons that decide a conditional expression
        self._finished: list[_Frame] = []
        # dict-store accesses found, with the facts of their function; lines resolved at the end
        self._stores: list[tuple[FunctionFacts, libcst.CSTNode, Access]] = []

    # Functions ------------------------------------------------------------------

    def visit_FunctionDef(self, node: libcst.FunctionDef) -> None:
        facts = self._by_node.get(id(node))
        params = node.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        frame = _Frame(node, facts if isinstance(facts, FunctionFacts) else None, frozenset(names))
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            parts = (param.annotation.annotation if param.annotation else None, param.default)
            if _PRINCIPAL_PARAM.search(param.name.value) or any(_names_match(p, _PRINCIPAL_PARAM) for p in parts):
                frame.principals.add(param.name.value)
        self._frames.append(frame)
        self._decorators.update(id(d.decorator) for d in node.decorators)

    def leave_FunctionDef(self, node: libcst.FunctionDef) -> None:
        frame = self._frames.pop()
        if frame.facts is not None and (frame.found or frame.all_pending or frame.sizes):
            self._finished.append(frame)

    def leave_Module(self, node: libcst.Module) -> None:
        self._settle_stores()
        drafts = [(frame, self._settle(frame)) for frame in self._finished]
        nodes = [n for _, (accesses, sizes) in drafts for n, _ in (*accesses, *sizes)]
        if not nodes:
            return
        lines = self._lines(nodes)
        for frame, (accesses, sizes) in drafts:
            assert frame.facts is not None
            body = frame.facts.body
            body.setdefault(ACCESSES, []).extend(_with_line(a, lines[id(n)]) for n, a in accesses)
            body.setdefault(PAGE_SIZES, []).extend(_with_line(s, lines[id(n)]) for n, s in sizes)

    def _here(self, node: libcst.CSTNode) -> None:
        """Remember the statement the walk is in, for `node`'s line."""
        if self.ctx.tracker.statements:
            self._statement_of[id(node)] = self.ctx.tracker.statements[-1]

    def _lines(self, nodes: list[libcst.CSTNode]) -> dict[int, int]:
        """The line of each node's statement, from CPython's tree; a position replay for the rest."""
        placed = _statement_lines(self._finished, self._tree)
        lines: dict[int, int] = {}
        for node in nodes:
            statement = self._statement_of.get(id(node))
            if isinstance(statement, libcst.SimpleStatementLine) and statement.body:
                statement = statement.body[0]
            line = placed.get(id(statement)) if statement is not None else None
            if line:
                lines[id(node)] = line
        missing = [n for n in nodes if id(n) not in lines]
        if missing:
            spans = resolve_spans(self.ctx.module, missing)
            lines.update((id(n), spans[id(n)].line) for n in missing)
        return lines

    @property
    def _frame(self) -> _Frame | None:
        return self._frames[-1] if self._frames else None

    # Statements: where rows and values flow -----------------------------------------

    def visit_Assign(self, node: libcst.Assign) -> None:
        targets = frozenset(n for t in node.targets for n in _target_names(t.target))
        self._assigned(targets, node.value)
        self._attributes_written(t.target for t in node.targets)

    def leave_Assign(self, node: libcst.Assign) -> None:
        self._statements.pop()

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        self._assigned(frozenset(_target_names(node.target)), node.value)

    def leave_AnnAssign(self, node: libcst.AnnAssign) -> None:
        self._statements.pop()

    def visit_AugAssign(self, node: libcst.AugAssign) -> None:
        self._assigned(frozenset(_target_names(node.target)), node.value)

    def leave_AugAssign(self, node: libcst.AugAssign) -> None:
        self._statements.pop()

    def _assigned(self, targets: frozenset[str], value: libcst.CSTNode | None) -> None:
        self._statements.append(_Statement(targets, value))
        frame = self._frame
        if frame is None or value is None:
            return
        for name in targets:
            frame.values.setdefault(name, []).append(value)
        if self._names_principal(value):
            frame.principals |= targets

    def _reduced_in(self, statement: _Statement) -> set[int]:
        """Nodes of a statement's value inside `len(...)`, `sum(...)`: read once the statement holds an access."""
        if statement.reduced is None:
            statement.reduced = set(_reduced_nodes(statement.value)) if statement.value is not None else set()
        return statement.reduced

    def visit_Return(self, node: libcst.Return) -> None:
        self._statements.append(_Statement(frozenset(), node.value, in_return=True))
        if self._frame is not None and node.value is not None:
            self._frame.returns.append(node.value)

    def visit_For(self, node: libcst.For) -> None:
        frame = self._frame
        if frame is None:
            return
        targets = frozenset(assigned_names(node.target))
        for name in targets:
            frame.values.setdefault(name, []).append(node.iter)
        self._loop_targets[id(_unawait(node.iter))] = targets

    def visit_IfExp(self, node: libcst.IfExp) -> None:
        """`return order if order["owner"] == owner else None`: a check as much as an `if` statement is."""
        self._conditional_tests.update(id(c) for c in _comparisons_in(node.test))

    def visit_Comparison(self, node: libcst.Comparison) -> None:
        frame = self._frame
        if frame is None:
            return
        sides = [node.left, *(c.comparator for c in node.comparisons)]
        self._caller_check(node, sides)
        if any(type(c.operator).__name__ in _ORDERINGS for c in node.comparisons):  # `if limit > 100:`
            frame.capped.update(s.value for s in sides if isinstance(s, libcst.Name))
        principal = [s for s in sides if self._is_principal(s)]
        owned = [s for s in sides if isinstance(s, libcst.Attribute) and _OWNER_ATTRIBUTE.search(s.attr.value)]
        if principal and [s for s in owned if s not in principal]:
            self._record(OWNER_CHECKS, [source_text(node)], innermost=True)

    # Calls: queries, page sizes handed on, throttling ---------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        if self._frame is None:
            return
        name = self.ctx.qualified_name(node.func) or dotted_name(node.func) or ""
        if id(node) not in self._decorators:
            self._throttling(node, name)
        if id(node) in self._consumed:
            return
        if self._chain(node):
            return
        if id(node) not in self._decorators:
            self._called(node)
            self._store_call(node)
        if _PAGINATORS.search(name):
            self._paginated(node, name)
        self._loaded_row_written(node)
        self._flows_into_receiver(node)
        self._sizes_passed_on(node, name)

    def visit_Subscript(self, node: libcst.Subscript) -> None:
        if self._frame is not None and id(node) not in self._consumed:
            if not self._chain(node):
                self._store_subscript(node)

    def _chain(self, root: libcst.CSTNode) -> bool:
        """Read a method chain ending at `root` as a query; True if it is one."""
        analysed = self._query_of(root)
        if analysed is None:
            return False
        query, base_pending = analysed
        frame = self._frame
        assert frame is not None
        statement = self._statements[-1] if self._statements else None
        held_in = self._held_in(root, statement, query)
        if held_in is not None:
            pending = _Pending(held_in, query, root)
            self._here(root)
            if base_pending is not None and statement is not None:
                base_pending.absorbed = True
            frame.pending[held_in] = pending
            frame.all_pending.append(pending)
            return True
        self._found(query, root, self._loop_targets.get(id(root)))
        return True

    def _found(self, query: _Query, node: libcst.CSTNode, targets: frozenset[str] | None = None) -> None:
        frame = self._frame
        assert frame is not None
        statement = self._statements[-1] if self._statements else None
        if targets is None:
            targets = statement.targets if statement is not None else frozenset()
        in_return = any(s.in_return for s in self._statements)
        if statement is not None and id(node) in self._reduced_in(statement):
            targets, in_return = frozenset(), False  # `len(db.query(User).all())`: a number, not rows
        frame.found.append(_Found(query, node, targets, in_return))
        self._here(node)
        if query.final_operation == GET and len(targets) == 1:
            frame.loaded[next(iter(targets))] = query

    def _held_in(self, root: libcst.CSTNode, statement: _Statement | None, query: _Query) -> str | None:
        """The name a query that has not run yet is kept in: `qs = Item.objects.all()`, or the
        cursor of `cursor.execute("SELECT ...")`, whose rows are read later."""
        if query.operation is not None:
            return None
        if statement is not None and len(statement.targets) == 1 and _unawait(statement.value) is root:
            return next(iter(statement.targets))
        base = _spine(root, self._frame)[0]  # type: ignore[arg-type]
        if query.lazy_run and statement is None and isinstance(base, libcst.Name):
            return base.value
        return None

    def _query_of(self, root: libcst.CSTNode) -> tuple[_Query, _Pending | None] | None:
        frame = self._frame
        assert frame is not None
        base, steps = _spine(root, frame)
        started = self._start(base, steps, frame)
        if started is None:
            return None
        query, rest, base_pending = started
        for method, node in rest:
            self._step(query, method, node)
        self._consume(root, base)
        for _, node in steps:
            for arg in getattr(node, "args", ()):
                self._absorb_names(arg.value, frame)
        return query, base_pending

    def _consume(self, root: libcst.CSTNode, base: libcst.CSTNode) -> None:
        """Mark the chain's own nodes as read, so the walk does not read them again as queries."""
        node = root
        while node is not base:
            self._consumed.add(id(node))
            node = _unawait(node)
            self._consumed.add(id(node))
            if isinstance(node, libcst.Call) and isinstance(node.func, libcst.Attribute):
                node = node.func.value
            elif isinstance(node, libcst.Subscript):
                node = node.value
            else:
                break
        self._consumed.add(id(base))

    def _absorb_names(self, expr: libcst.CSTNode, frame: _Frame) -> None:
        """A pending query named inside another query (a subquery) is part of that query."""
        for name in _names_in(expr, self._consumed):
            if name in frame.pending:
                frame.pending[name].used_as_base = True

    def _start(
        self, base: libcst.CSTNode, steps: list[tuple[str, libcst.CSTNode]], frame: _Frame
    ) -> tuple[_Query, list[tuple[str, libcst.CSTNode]], _Pending | None] | None:
        if isinstance(base, libcst.Name) and base.value in frame.pending:
            pending = frame.pending[base.value]
            pending.used_as_base = True
            return pending.query.copy(), steps, pending
        if isinstance(base, libcst.Call):
            query = self._function_query(base)
            return (query, steps, None) if query is not None else None
        if isinstance(base, libcst.Attribute) and steps:
            if base.attr.value in _MANAGERS:
                return _Query("django", source_text(base.value)), steps, None
            if base.attr.value == "query" and _is_class_name(base.value):
                return _Query("sqlalchemy", source_text(base.value)), steps, None
            if steps[0][0] in _FILTERS | _LIST_RUNS | {"get"} and self._is_principal(base.value):
                return _Query("django", source_text(base), owner=True), steps, None  # request.user.orders.all()
        if not steps:
            return None
        first, call = steps[0]
        if not isinstance(call, libcst.Call):
            return None
        args = [a.value for a in call.args if a.keyword is None and not a.star]
        if isinstance(base, libcst.Name) and _is_class_name(base) and first in _ACTIVE_RECORD:
            if first in ("get", "get_by_id") and args and _is_constant(self.ctx, args[0]) and not call.args[0].keyword:
                return None  # `Config.get("key")`: a lookup, not a query
            return _Query("orm", base.value), steps, None
        if first == "select" and args and _is_model(args[0]) and isinstance(base, libcst.Name) and base.value == "db":
            return _Query("sqlalchemy", _model_name(source_text(args[0]))), steps[1:], None  # Flask-SQLAlchemy 3 `db.select(User)`
        if first == "query" and args and _is_model(args[0]):
            return _Query("sqlalchemy", source_text(args[0])), steps[1:], None
        if first in _SESSION_GETS and len(args) >= 2 and _is_model(args[0]):
            query = _Query("sqlalchemy", source_text(args[0]), operation=GET, bounded=True)
            self._value(query, "pk", args[1])
            return query, steps[1:], None
        if first in _RUNS and args:
            query = self._statement(args[0], frame)
            if query is not None:
                self._run(query, first, call)
                return query, steps[1:], None
        if first in _SESSION_WRITES and args and _is_session(base):
            row = frame.loaded.get(args[0].value) if isinstance(args[0], libcst.Name) else None
            query = row.copy() if row is not None else _Query("sqlalchemy", "")
            query.operation = UPDATE if row is not None and first == "add" else _SESSION_WRITES[first]
            return query, steps[1:], None
        if first in _MONGO_ONLY or (first == "find" and (_is_collection(base) or _dict_argument(args))):
            return _Query("mongo", source_text(base)), steps, None
        return None

    def _function_query(self, call: libcst.Call) -> _Query | None:
        """`select(User)`, `update(User)`, `get_object_or_404(Item, pk=pk)`, `text("SELECT ...")`."""
        name = self.ctx.qualified_name(call.func) or dotted_name(call.func) or ""
        last = name.rsplit(".", 1)[-1]
        args = [a.value for a in call.args if a.keyword is None and not a.star]
        sqlalchemy = name.startswith(("sqlalchemy", "sqlmodel")) or (
            name == last and bool({"sqlalchemy", "sqlmodel"} & self.ctx.imported_modules)
        )
        if sqlalchemy and last == "select" and args:
            text = source_text(args[0])
            if text.startswith(("func.count", "sqlalchemy.func.count")):
                return _Query("sqlalchemy", "", operation=COUNT, bounded=True)
            return _Query("sqlalchemy", _model_name(text))
        if sqlalchemy and last in _SQL_WRITE and args:
            return _Query("sqlalchemy", source_text(args[0]), operation=_SQL_WRITE[last])
        if sqlalchemy and last == "text" and args:
            return self._sql(args[0])
        if last in ("get_object_or_404", "aget_object_or_404", "get_list_or_404", "aget_list_or_404") and args:
            single = "object" in last
            query = _Query("django", _model_name(source_text(args[0])), operation=GET if single else None, bounded=single)
            # `get_object_or_404(request.user.orders, pk=pk)`, `get_object_or_404(Order.objects.filter(owner=request.user), ...)`
            query.owner = self._is_principal(args[0])
            self._filters(query, call, skip_positional=1)
            if not single:
                query.operation = query.final_operation
            return query
        return None

    def _sql(self, expr: libcst.CSTNode) -> _Query | None:
        value = self.ctx.literal(expr)
        if not isinstance(value, str):
            return None
        table = _SQL_TABLE.search(value)
        query = _Query("sql", table.group(1) if table else "")
        verb = value.split(None, 1)[0].lower() if value.strip() else ""
        if verb in _SQL_WRITE:
            query.operation = _SQL_WRITE[verb]
        elif not _SQL_SELECT.search(value):
            return None
        query.bounded = bool(_SQL_LIMIT.search(value))
        if re.search(r"\bwhere\b", value, re.I) and _SQL_PLACEHOLDER.search(value):
            query.identifiers.append("(SQL parameters)")
        return query

    def _statement(self, expr: libcst.CSTNode, frame: _Frame) -> _Query | None:
        """The query a `session.execute(...)` runs: a chain, a name holding one, or SQL text."""
        expr = _unawait(expr)
        if isinstance(expr, libcst.Name) and expr.value in frame.pending:
            pending = frame.pending[expr.value]
            pending.used_as_base = True
            return pending.query.copy()
        if isinstance(expr, (libcst.SimpleString, libcst.ConcatenatedString, libcst.Name)):
            return self._sql(expr)
        if isinstance(expr, (libcst.Call, libcst.Subscript)):
            analysed = self._query_of(expr)
            return analysed[0] if analysed is not None else None
        return None

    def _run(self, query: _Query, method: str, call: libcst.Call) -> None:
        if method == "paginate":
            self._paginate(query, call)
        elif method in ("scalar", "first_or_404", "one_or_404"):
            query.operation, query.bounded = query.operation or GET, True
        elif method == "execute" and query.library == "sql":
            query.lazy_run = True

    def _step(self, query: _Query, method: str, node: libcst.CSTNode) -> None:
        if isinstance(node, libcst.Subscript):
            self._slice(query, node)
            return
        assert isinstance(node, libcst.Call)
        query.lazy_run = False
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        lazy = query.library in ("django", "orm", "mongo")
        if method in _FILTERS:
            self._filters(query, node)
        elif method in _LIMITS and (args or keywords):
            query.bounded = True
            self._size(query, (args or list(keywords.values()))[0], f"{method}()", None)
        elif method == "paginate":
            self._paginate(query, node)
        elif method == "to_list":
            self._to_list(query, args, keywords)
        elif method in _GETS:
            if args or keywords:
                self._filters(query, node, positional_field="pk")
            query.operation, query.bounded = GET if query.operation in (None, GET) else query.operation, True
        elif method == "select_from" and args:
            query.model = query.model or source_text(args[0])
        elif method in _COUNTS:
            query.operation, query.bounded = COUNT, True
        elif method in ("get_or_create", "update_or_create"):
            self._filters(query, node)
            query.operation = CREATE
        elif method in _CREATES:
            self._new_row(query, node)
            query.operation = CREATE
        elif method in _UPDATES:
            if method.startswith(("update_", "replace_", "find_one_and")) and args:
                self._condition(query, args[0])
            query.operation = UPDATE
        elif method in _DELETES:
            if method.endswith(("_one", "_many", "_delete")) and args:
                self._condition(query, args[0])
            elif method == "delete_by_id" and args:  # Peewee `Order.delete_by_id(order_id)`
                self._value(query, "pk", args[0])
            query.operation = DELETE
        elif method in _LIST_RUNS and not lazy and query.operation is None:
            query.operation = query.final_operation
        elif method in ("execute", "scalars", "exec") and args:
            inner = self._statement(args[0], self._frame)  # type: ignore[arg-type]
            if inner is not None:
                _merge(query, inner)

    def _size(self, query: _Query, node: libcst.BaseExpression, used_in: str, lower: libcst.BaseExpression | None) -> None:
        """An expression that sets how many rows the query returns."""
        query.sizes.append((node, used_in, lower))
        self._here(node)

    def _slice(self, query: _Query, node: libcst.Subscript) -> None:
        if len(node.slice) != 1:
            return
        element = node.slice[0].slice
        if isinstance(element, libcst.Slice):
            if element.upper is not None:
                query.bounded = True
                self._size(query, element.upper, "[:...]", element.lower)
        elif isinstance(element, libcst.Index):
            query.operation, query.bounded = query.operation or GET, True

    def _paginate(self, query: _Query, call: libcst.Call) -> None:
        """Flask-SQLAlchemy `paginate()` caps `per_page` at `max_per_page` (100) unless it is None."""
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        query.bounded = True
        uncapped = "max_per_page" in keywords and self.ctx.literal(keywords["max_per_page"]) is None
        if uncapped and "per_page" in keywords:
            self._size(query, keywords["per_page"], "paginate(per_page=)", None)
        query.operation = query.operation or query.final_operation

    def _to_list(self, query: _Query, args: list, keywords: dict) -> None:
        length = keywords.get("length", args[0] if args else None)
        query.operation = query.operation or query.final_operation
        if length is None or self.ctx.literal(length) is None:
            return  # `to_list()`, `to_list(None)`: every row
        query.bounded = True
        if not _is_constant(self.ctx, length):
            self._size(query, length, "to_list(length=)", None)

    def _new_row(self, query: _Query, call: libcst.Call) -> None:
        """`Order.objects.create(owner=request.user, ...)`: the fields set, and whether the caller owns the row."""
        for arg in call.args:
            if arg.keyword is not None:
                query.fields.append(arg.keyword.value)
                query.owner = query.owner or self._is_principal(arg.value)

    # Filters --------------------------------------------------------------------

    def _filters(self, query: _Query, call: libcst.Call, skip_positional: int = 0, positional_field: str = "") -> None:
        positional = 0
        for arg in call.args:
            if arg.star:
                continue
            if arg.keyword is not None:
                if arg.keyword.value not in _NOT_FILTERS:
                    self._value(query, arg.keyword.value, arg.value)
                continue
            positional += 1
            if positional <= skip_positional:
                continue
            # `.get(int(order_id))`, `.get(request.args.get("id"))`: a call that computes a value, not a condition
            value_call = isinstance(arg.value, libcst.Call) and not _is_condition_call(arg.value)
            if type(arg.value).__name__ in _CONDITIONS and not (value_call and positional_field):
                self._condition(query, arg.value)
            elif positional_field:
                self._value(query, positional_field, arg.value)
            elif not _is_constant(self.ctx, arg.value):
                query.identifiers.append(source_text(arg.value))  # `collection.find(query)`: some filter

    def _condition(self, query: _Query, expr: libcst.CSTNode) -> None:
        if isinstance(expr, libcst.Comparison) and len(expr.comparisons) == 1:
            left, right = expr.left, expr.comparisons[0].comparator
            column, value = (left, right) if _is_column(left) else (right, left) if _is_column(right) else (None, None)
            if column is not None and value is not None:
                self._value(query, column.attr.value, value)  # type: ignore[attr-defined]
        elif isinstance(expr, libcst.BooleanOperation):
            self._condition(query, expr.left)
            self._condition(query, expr.right)
        elif isinstance(expr, libcst.BinaryOperation) and isinstance(expr.operator, (libcst.BitAnd, libcst.BitOr)):
            self._condition(query, expr.left)
            self._condition(query, expr.right)
        elif isinstance(expr, libcst.UnaryOperation):
            self._condition(query, expr.expression)
        elif isinstance(expr, libcst.Dict):
            for element in expr.elements:
                if isinstance(element, libcst.DictElement):
                    self._mongo_element(query, element)
        elif isinstance(expr, libcst.Call):
            self._condition_call(query, expr)

    def _condition_call(self, query: _Query, call: libcst.Call) -> None:
        func = call.func
        if isinstance(func, libcst.Attribute) and func.attr.value in _COLUMN_TESTS and _is_column(func.value):
            if call.args:
                self._value(query, func.value.attr.value, call.args[0].value)  # type: ignore[attr-defined]
            return
        name = dotted_name(func) or ""
        if name.rsplit(".", 1)[-1] in ("and_", "or_", "not_", "Q"):
            self._filters(query, call)

    def _mongo_element(self, query: _Query, element: libcst.DictElement) -> None:
        key = self.ctx.literal(element.key)
        if not isinstance(key, str):
            return
        if key.startswith("$"):
            values = element.value.elements if isinstance(element.value, (libcst.List, libcst.Tuple)) else [element.value]
            for item in values:
                self._condition(query, getattr(item, "value", item))
            return
        value = element.value
        if isinstance(value, libcst.Dict):  # {"_id": {"$in": ids}}
            for inner in value.elements:
                if isinstance(inner, libcst.DictElement):
                    self._value(query, key, inner.value)
            return
        self._value(query, key, value)

    def _value(self, query: _Query, field_name: str, value: libcst.CSTNode) -> None:
        query.fields.append(field_name)
        value = _unconvert(self.ctx, value)
        if _is_constant(self.ctx, value):
            return
        if self._is_principal(value):
            query.owner = True
        else:
            query.identifiers.append(source_text(value))

    def _is_principal(self, expr: libcst.CSTNode | None) -> bool:
        """Whether an expression is (an attribute of) the current user: `request.user`, `current_user.id`."""
        frame = self._frame
        stack = [expr] if expr is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, libcst.Name):
                if node.value in _PRINCIPAL_NAMES or (frame is not None and node.value in frame.principals):
                    return True
            elif isinstance(node, libcst.Attribute):
                if _PRINCIPAL_ATTRIBUTE.search(dotted_name(node) or ""):
                    return True
                stack.append(node.value)
            elif not isinstance(node, libcst.Lambda):
                stack.extend(iter_children(node))
        return False

    def _names_principal(self, value: libcst.CSTNode) -> bool:
        """`user = request.user`, `uid = get_jwt_identity()`: the name now stands for the caller.
        (`items = db.query(Item).filter(Item.owner_id == current_user.id).all()` does not.)"""
        value = _unawait(value)
        if isinstance(value, libcst.Call) and not value.args:
            value = value.func
        if isinstance(value, libcst.Call):
            return (dotted_name(value.func) or "").rsplit(".", 1)[-1] in _PRINCIPAL_NAMES
        return dotted_name(value) is not None and self._is_principal(value)

    # Results passed around ----------------------------------------------------------

    def _paginated(self, call: libcst.Call, name: str) -> None:
        """`Paginator(qs, 25)`, `paginate(db, select(Item))`, `self.paginate_queryset(qs)`: a page, not every row."""
        frame = self._frame
        assert frame is not None
        for position, arg in enumerate(call.args):
            value = _unawait(arg.value)
            if isinstance(value, libcst.Name) and value.value in frame.pending:
                frame.pending[value.value].query.bounded = True
            elif isinstance(value, (libcst.Call, libcst.Subscript)) and id(value) not in self._consumed:
                analysed = self._query_of(value)
                if analysed is not None:
                    analysed[0].bounded = True
                    self._found(analysed[0], value)
            per_page = arg.keyword.value == "per_page" if arg.keyword is not None else position == 1
            if name.endswith("Paginator") and per_page and not _is_constant(self.ctx, arg.value):
                frame.sizes.append(_SizeUse(arg.value, "Paginator(per_page=)"))
                self._here(arg.value)

    def _loaded_row_written(self, call: libcst.Call) -> None:
        """`order.delete()`, `order.save()` on a row loaded earlier: a write picked by the same values."""
        frame = self._frame
        func = call.func
        if frame is None or not isinstance(func, libcst.Attribute) or not isinstance(func.value, libcst.Name):
            return
        operation = _ROW_WRITES.get(func.attr.value)
        row = frame.loaded.get(func.value.value)
        if operation is not None and row is not None:
            query = row.copy()
            query.operation = operation
            self._found(query, call)

    def _attributes_written(self, targets: Iterable[libcst.CSTNode]) -> None:
        """`item.title = payload.title` on a loaded row: an update (recorded once per row)."""
        frame = self._frame
        for target in targets:
            if not (isinstance(target, libcst.Attribute) and isinstance(target.value, libcst.Name)):
                continue
            name = target.value.value
            if frame is not None and name in frame.loaded and name not in frame.changed:
                frame.changed.add(name)
                query = frame.loaded[name].copy()
                query.operation = UPDATE
                self._found(query, target, frozenset())

    def _flows_into_receiver(self, call: libcst.Call) -> None:
        """`results.append(row)`: the receiver now holds what was passed."""
        frame = self._frame
        func = call.func
        if frame is None or not isinstance(func, libcst.Attribute) or not isinstance(func.value, libcst.Name):
            return
        if func.attr.value in ("append", "extend", "add", "insert", "update", "appendleft", "setdefault"):
            for arg in call.args:
                frame.values.setdefault(func.value.value, []).append(arg.value)

    def _sizes_passed_on(self, call: libcst.Call, name: str) -> None:
        """`crud.get_users(db, limit=limit)`: a size handed to another function."""
        frame = self._frame
        assert frame is not None
        callee = dotted_name(call.func) or ""
        if not callee or callee in ("min", "max", "int", "len", "range"):
            return
        for position, arg in enumerate(call.args):
            if arg.star:
                continue
            keyword = arg.keyword.value if arg.keyword is not None else ""
            word = keyword or (arg.value.value if isinstance(arg.value, libcst.Name) else "")
            if word.lower() in _SIZE_WORDS and not _is_constant(self.ctx, arg.value):
                shown = callee.rsplit(".", 1)[-1]
                used = f"{shown}({keyword}=)" if keyword else f"{shown}()"
                frame.sizes.append(_SizeUse(arg.value, used, None, callee, keyword or str(position)))
                self._here(arg.value)

    # Caller checks, calls and in-memory stores (object-level authorization) -------------

    def _caller_check(self, node: libcst.Comparison, sides: list[libcst.BaseExpression]) -> None:
        """`if order.owner_id != current_user.id:`, `assert request.user in doc.editors.all()`:
        the caller compared, in a condition, with something that is not a constant."""
        if id(node) not in self._conditional_tests and not self._in_condition_statement():
            return
        callers = [s for s in sides if self._is_caller(s)]
        others = [s for s in sides if s not in callers and not _is_constant(self.ctx, s)]
        if callers and others:
            self._record(CALLER_CHECKS, [source_text(node)], innermost=True)
            return
        owners = [s for s in sides if _names_owner(self.ctx, s)]
        for owner in owners:  # `order.user_id != claims["sub"]`: whether `claims["sub"]` is the caller is the link phase's call
            pairs = [(source_text(owner), source_text(s)) for s in sides if s is not owner and not _is_constant(self.ctx, s)]
            self._record(OWNER_COMPARISONS, pairs, innermost=True)  # type: ignore[arg-type]

    def _in_condition_statement(self) -> bool:
        """Inside an `if`, `while` or `assert` statement (its test, as far as checks go)."""
        statements = self.ctx.tracker.statements
        statement = statements[-1] if statements else None
        if isinstance(statement, libcst.SimpleStatementLine):
            return any(isinstance(small, libcst.Assert) for small in statement.body)
        return isinstance(statement, (libcst.If, libcst.While))

    def _is_caller(self, expr: libcst.CSTNode) -> bool:
        """The current user: as `_is_principal` sees it, or aiohttp's `request["user"]`."""
        return self._is_principal(expr) or bool(_PRINCIPAL_ITEM.match(source_text(expr)))

    def _called(self, node: libcst.Call) -> None:
        frame = self._frame
        callee = dotted_name(node.func)
        if frame is None or frame.facts is None or not callee or callee in BUILTIN_NAMES:
            return
        args = tuple(source_text(a.value) for a in node.args if a.keyword is None and not a.star)
        keywords = tuple((a.keyword.value, source_text(a.value)) for a in node.args if a.keyword is not None)
        called = Called(callee, args, keywords)
        bucket = frame.facts.body.setdefault(CALLS, [])
        if called not in bucket:
            bucket.append(called)

    def _store_subscript(self, node: libcst.Subscript) -> None:
        """`ORDERS[order_id]`, `fake_db[item_id] = item`, `del ITEMS[item_id]`."""
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, libcst.Index):
            return
        key = node.slice[0].slice.value
        if not _is_constant(self.ctx, key) and self._is_store(node.value, subscripted=True):
            self._store_found(node, self._store_operation(node), node.value, key)  # type: ignore[arg-type]

    def _store_call(self, node: libcst.Call) -> None:
        """`fake_db.get(item_id)`, `ORDERS.pop(order_id)`."""
        func = node.func
        if not isinstance(func, libcst.Attribute) or func.attr.value not in _STORE_METHODS or not node.args:
            return
        first = node.args[0]
        if first.keyword is not None or first.star or _is_constant(self.ctx, first.value):
            return
        if self._is_store(func.value, subscripted=False):
            self._store_found(node, _STORE_METHODS[func.attr.value], func.value, first.value)  # type: ignore[arg-type]

    def _is_store(self, expr: libcst.CSTNode, subscripted: bool) -> bool:
        """A module-level dict (`ORDERS = {}`), or a global named like a store (`fake_items_db`);
        never a parameter, a local or a module-level object that is no dict (a session, a client)."""
        frame = self._frame
        if not isinstance(expr, libcst.Name) or frame is None:
            return False
        name = expr.value
        scope = self.ctx.resolver.binding_scope(name)
        if name in frame.params or name in _REQUEST_NAMES or (scope is not None and scope.kind != "module"):
            return False
        binding = scope.bindings[name] if scope is not None else None
        if binding is not None and binding.kind == "value":
            value = binding.value
            if isinstance(value, libcst.Call):
                return (dotted_name(value.func) or "") in _DICT_BUILDERS
            return isinstance(value, (libcst.Dict, libcst.DictComp))
        return bool(_STORE_NAME.search(name)) and (subscripted or name != "db")

    def _store_operation(self, node: libcst.Subscript) -> str:
        """DELETE under `del`, UPDATE as an assignment's target, GET otherwise."""
        statements = self.ctx.tracker.statements
        line = statements[-1] if statements else None
        for small in line.body if isinstance(line, libcst.SimpleStatementLine) else ():
            if isinstance(small, libcst.Del):
                target = small.target
                targets = [e.value for e in target.elements] if isinstance(target, libcst.Tuple) else [target]
                if any(t is node for t in targets):
                    return DELETE
            elif isinstance(small, libcst.Assign) and any(t.target is node for t in small.targets):
                return UPDATE
            elif isinstance(small, (libcst.AugAssign, libcst.AnnAssign)) and small.target is node:
                return UPDATE
        return GET

    def _store_found(self, node: libcst.CSTNode, operation: str, store: libcst.Name, key: libcst.CSTNode) -> None:
        frame = self._frame
        if frame is None or frame.facts is None:
            return
        key = _unconvert(self.ctx, key)
        owner = self._is_caller(key)
        access = Access(operation, "dict", store.value, source_text(node), 0, ("key",), (source_text(key),), owner)
        self._stores.append((frame.facts, node, access))

    def _settle_stores(self) -> None:
        if not self._stores:
            return
        spans = resolve_spans(self.ctx.module, [node for _, node, _ in self._stores])
        for facts, node, access in self._stores:
            facts.body.setdefault(STORE_ACCESSES, []).append(_with_line(access, spans[id(node)].line))

    # Throttling -----------------------------------------------------------------------

    def _throttling(self, call: libcst.Call, name: str) -> None:
        found = None
        if _RATE_LIMIT_CALL.search(name) or _RATE_LIMIT_CLASS.search(name):
            found = f"{_short(name)}()"
        elif self._status_429(call):
            found = f"{_short(name, 1)}(429)"
        elif name == "getattr" and len(call.args) >= 2 and self.ctx.literal(call.args[1].value) == "limited":
            found = "request.limited"
        if found:
            self._record(RATE_LIMITS, [found])

    def _status_429(self, call: libcst.Call) -> bool:
        """`abort(429)`, `HTTPException(status_code=429)`, `Response(status=HTTP_429_TOO_MANY_REQUESTS)`."""
        statuses = [a.value for a in call.args if a.keyword is not None and a.keyword.value in _STATUS_KEYWORDS]
        statuses += [a.value for a in call.args[:1] if a.keyword is None and not a.star]
        return any(self._is_429(value) for value in statuses)

    @staticmethod
    def _is_429(expr: libcst.CSTNode) -> bool:
        if isinstance(expr, libcst.Integer):
            return expr.value == "429"
        return bool(_STATUS_429.search(dotted_name(expr) or ""))

    def visit_Raise(self, node: libcst.Raise) -> None:
        if node.exc is None or isinstance(node.exc, libcst.Call):
            return
        name = self.ctx.qualified_name(node.exc) or dotted_name(node.exc) or ""
        if _RATE_LIMIT_CLASS.search(name):
            self._record(RATE_LIMITS, [name.rsplit(".", 1)[-1]])

    def leave_Return(self, node: libcst.Return) -> None:
        self._statements.pop()
        value = node.value
        if self._frame is not None and isinstance(value, libcst.Tuple) and len(value.elements) >= 2:
            if self._is_429(value.elements[1].value):
                self._record(RATE_LIMITS, ["return ..., 429"])

    def visit_Attribute(self, node: libcst.Attribute) -> None:
        if node.attr.value == "limited" and self._frame is not None and (dotted_name(node) or "").endswith("request.limited"):
            self._record(RATE_LIMITS, ["request.limited"])

    def _record(self, key: str, items: list[str], innermost: bool = False) -> None:
        functions = self.ctx.tracker.functions[-1:] if innermost else self.ctx.tracker.functions
        for function in functions:
            facts = self._by_node.get(id(function))
            if isinstance(facts, FunctionFacts):
                bucket = facts.body.setdefault(key, [])
                bucket.extend(i for i in items if i not in bucket)

    # At the end of a function: what was returned, where sizes come from -------------

    def _settle(self, frame: _Frame) -> tuple[list[tuple[libcst.CSTNode, Access]], list[tuple[libcst.CSTNode, PageSize]]]:
        returned = self._reaching_return(frame)
        accesses: list[tuple[libcst.CSTNode, Access]] = []
        sizes: list[tuple[libcst.CSTNode, PageSize]] = []
        for found in frame.found:
            is_returned = found.in_return or bool(found.targets & returned)
            accesses.append((found.node, _access(found.query, found.node, is_returned)))
            sizes += [(node, size) for node, size in self._query_sizes(frame, found.query)]
        for pending in frame.all_pending:
            if pending.absorbed:
                continue
            is_returned = pending.name in returned
            if is_returned or not pending.used_as_base:
                accesses.append((pending.node, _access(pending.query, pending.node, is_returned)))
                sizes += [(node, size) for node, size in self._query_sizes(frame, pending.query)]
        for use in frame.sizes:
            sizes += [(use.node, size) for size in self._page_sizes(frame, use)]
        return accesses, sizes

    def _reaching_return(self, frame: _Frame) -> set[str]:
        """Names whose value flows into a return statement, through assignments, loops and appends."""
        reached: set[str] = set()
        queue = [name for value in frame.returns for name in _names_in(value, self._consumed, rows=True)]
        while queue:
            name = queue.pop()
            if name in reached:
                continue
            reached.add(name)
            for value in frame.values.get(name, []):
                queue += _names_in(value, self._consumed, rows=True)
        return reached

    def _query_sizes(self, frame: _Frame, query: _Query) -> Iterator[tuple[libcst.CSTNode, PageSize]]:
        for node, used_in, lower in query.sizes:
            for size in self._page_sizes(frame, _SizeUse(node, used_in, lower)):
                yield node, size

    def _page_sizes(self, frame: _Frame, use: _SizeUse) -> list[PageSize]:
        sources = self._sources(frame, use.node, set())
        if use.lower is not None:
            # `[offset:offset + limit]` is `limit` rows; `[(page - 1) * size:page * size]` is `size` rows
            offsets = {source for source, _, _ in self._sources(frame, use.lower, set())}
            sources = [s for s in sources if s[0] not in offsets] or [s for s in sources if s[1].lower() in _SIZE_WORDS]
        found = [PageSize(source, parameter, use.used_in, use.callee, use.argument, 0) for source, parameter, _ in sources]
        return list(dict.fromkeys(found))

    def _sources(self, frame: _Frame, expr: libcst.CSTNode | None, seen: set[str]) -> list[tuple[str, str, bool]]:
        """The parameters and request reads an expression's value comes from, unless something caps it."""
        if expr is None or _caps(self.ctx, expr):
            return []
        read = _request_read(expr)
        if read is not None:
            return [(read, "", True)]
        found: list[tuple[str, str, bool]] = []
        for name in _names_in(expr, frozenset()):
            found += self._name_sources(frame, name, seen)
        return found

    def _name_sources(self, frame: _Frame, name: str, seen: set[str]) -> list[tuple[str, str, bool]]:
        """Where a name's value comes from; nothing when a comparison or an assignment caps it."""
        values = frame.values.get(name, [])
        if name in seen or name in frame.capped or any(_caps(self.ctx, v) for v in values):
            return []
        seen.add(name)
        for value in values:
            read = _request_read(value)
            if read is not None:
                return [(read, "", True)]
        found = [(name, name, False)] if name in frame.params and name not in ("self", "cls") else []
        for value in values:
            found += self._sources(frame, value, seen)
        return found


# Chains ----------------------------------------------------------------------------


def _statement_lines(frames: list[_Frame], tree: ast.Module | None) -> dict[int, int]:
    """Lines of the statements of the functions holding accesses: each libcst statement is paired
    with its CPython twin, under the FunctionDef twin found by the line and name in FunctionFacts."""
    if tree is None:
        return {}
    wanted = {(f.facts.line, f.facts.name) for f in frames if f.facts is not None}
    twins = {(n.lineno, n.name): n for n in _ast_functions(tree.body) if (n.lineno, n.name) in wanted}
    lines: dict[int, int] = {}
    for frame in frames:
        twin = twins.get((frame.facts.line, frame.facts.name)) if frame.facts is not None else None
        for statement, statement_twin in paired_statements(function_body(frame.node), twin.body) if twin else ():
            if statement_twin is not None:
                lines[id(statement)] = statement_twin.lineno
    return lines


def _ast_functions(body: list[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Function definitions among statements and their nested blocks (no expressions are visited)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            stack.extend(getattr(node, name, ()))


def _spine(root: libcst.CSTNode, frame: _Frame) -> tuple[libcst.CSTNode, list[tuple[str, libcst.CSTNode]]]:
    """`db.query(User).filter(...).all()` -> (`db`, [("query", ...), ("filter", ...), ("all", ...)])."""
    steps: list[tuple[str, libcst.CSTNode]] = []
    node = _unawait(root)
    while True:
        if isinstance(node, libcst.Call) and isinstance(node.func, libcst.Attribute):
            steps.append((node.func.attr.value, node))
            node = _unawait(node.func.value)
        elif isinstance(node, libcst.Subscript) and _sliceable(node.value, frame):
            steps.append(("[]", node))
            node = _unawait(node.value)
        else:
            break
    steps.reverse()
    return node, steps


def _sliceable(value: libcst.CSTNode, frame: _Frame) -> bool:
    """`qs[:10]` or `M.objects.all()[:10]` slice a query; `db["users"]` picks a collection."""
    value = _unawait(value)
    return isinstance(value, libcst.Call) or (isinstance(value, libcst.Name) and value.value in frame.pending)


def _unawait(node: libcst.CSTNode | None) -> libcst.CSTNode | None:
    while isinstance(node, libcst.Await):
        node = node.expression
    return node


def _merge(query: _Query, inner: _Query) -> None:
    query.model = query.model or inner.model
    query.fields += inner.fields
    query.identifiers += inner.identifiers
    query.owner = query.owner or inner.owner
    query.bounded = query.bounded or inner.bounded
    query.operation = query.operation or inner.operation
    query.sizes += inner.sizes


def _access(query: _Query, node: libcst.CSTNode, returned: bool) -> Access:
    return Access(
        operation=query.final_operation,
        library=query.library,
        model=query.model,
        text=source_text(node),
        line=0,
        fields=tuple(dict.fromkeys(query.fields)),
        identifiers=tuple(dict.fromkeys(query.identifiers)),
        owner_filter=query.owner,
        bounded=query.bounded,
        returned=returned,
    )


def _short(name: str, parts: int = 2) -> str:
    """`slowapi.Limiter().hit` -> `Limiter().hit`: enough of a dotted name to recognise it."""
    return ".".join(name.split(".")[-parts:])


def _with_line(item, line: int):
    return dataclasses.replace(item, line=line)


# Small readings of expressions -----------------------------------------------------


def _target_names(target: libcst.CSTNode) -> Iterator[str]:
    """Names an assignment writes to; `data["items"] = ...` and `resp.items = ...` write to `data`, `resp`."""
    if isinstance(target, (libcst.Subscript, libcst.Attribute)):
        root = _root_name(target)
        if root is not None:
            yield root
        return
    yield from assigned_names(target)  # type: ignore[arg-type]


def _root_name(expr: libcst.CSTNode) -> str | None:
    while True:
        if isinstance(expr, libcst.Attribute):
            expr = expr.value
        elif isinstance(expr, libcst.Subscript):
            expr = expr.value
        elif isinstance(expr, libcst.Call):
            expr = expr.func
        else:
            break
    return expr.value if isinstance(expr, libcst.Name) else None


def _names_in(expr: libcst.CSTNode | None, skip: set[int] | frozenset[int], rows: bool = False) -> list[str]:
    """Names whose values an expression uses: not called functions, attribute names or `skip`ped subtrees.
    With `rows`, only names whose rows the value carries: `len(users)` and `sum(...)` carry none."""
    if expr is None:
        return []
    found: list[str] = []
    stack: list[libcst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if id(node) in skip:
            continue
        if isinstance(node, libcst.Name):
            found.append(node.value)
        elif isinstance(node, libcst.Call):
            if rows and isinstance(node.func, libcst.Name) and node.func.value in _AGGREGATES:
                continue
            if not isinstance(node.func, libcst.Name):
                stack.append(node.func)
            stack.extend(a.value for a in node.args)
        elif isinstance(node, libcst.Attribute):
            stack.append(node.value)
        elif isinstance(node, libcst.Lambda):
            continue
        else:
            stack.extend(iter_children(node))
    return found


def _names_match(expr: libcst.CSTNode | None, pattern: re.Pattern[str]) -> bool:
    """Whether a name or attribute in an expression matches: `Depends(get_current_user)`, `CurrentUser`."""
    stack = [expr] if expr is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, libcst.Name) and pattern.search(node.value):
            return True
        if isinstance(node, libcst.Attribute) and pattern.search(node.attr.value):
            return True
        stack.extend(iter_children(node))
    return False


def _reduced_nodes(expr: libcst.CSTNode) -> Iterator[int]:
    """Ids of the nodes inside `len(...)`, `sum(...)` and the like in an expression."""
    stack: list[libcst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, libcst.Call) and isinstance(node.func, libcst.Name) and node.func.value in _AGGREGATES:
            for arg in node.args:
                yield from (id(n) for n in walk_nodes([arg.value]))
            continue
        if not isinstance(node, libcst.Lambda):
            stack.extend(iter_children(node))


def _caps(ctx: FileContext, expr: libcst.CSTNode) -> bool:
    """`min(limit, 100)`, `limit if limit < 100 else 100`, `clamp(size, 1, 50)`: an upper bound."""
    stack: list[libcst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, libcst.Call) and _CAPS.search(dotted_name(node.func) or ""):
            return True
        if isinstance(node, libcst.IfExp) and isinstance(node.test, libcst.Comparison):
            return True
        if not isinstance(node, libcst.Lambda):
            stack.extend(iter_children(node))
    return False


def _request_read(expr: libcst.CSTNode) -> str | None:
    """`request.args.get("per_page", 20, type=int)` inside an expression, as written."""
    stack: list[libcst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, libcst.Call) and isinstance(node.func, libcst.Attribute) and _is_request_input(node.func.value):
            return source_text(node)
        if isinstance(node, libcst.Subscript) and _is_request_input(node.value):
            return source_text(node)
        stack.extend(reversed(list(iter_children(node))))
    return None


def _is_request_input(expr: libcst.CSTNode) -> bool:
    if isinstance(expr, libcst.Call) and not expr.args:
        expr = expr.func  # request.get_json()
    if not isinstance(expr, libcst.Attribute) or expr.attr.value not in _REQUEST_INPUTS:
        return False
    base = dotted_name(expr.value) or ""
    return base.rsplit(".", 1)[-1] in _REQUEST_NAMES or base.endswith("rel_url")


def _is_constant(ctx: FileContext, expr: libcst.CSTNode) -> bool:
    if isinstance(expr, (libcst.SimpleString, libcst.ConcatenatedString, libcst.Integer, libcst.Float)):
        return True
    if isinstance(expr, libcst.Name) and expr.value in ("True", "False", "None"):
        return True
    return ctx.literal(expr) is not UNKNOWN


def _unconvert(ctx: FileContext, expr: libcst.CSTNode) -> libcst.CSTNode:
    while isinstance(expr, libcst.Call) and len(expr.args) == 1 and (dotted_name(expr.func) or "") in _CONVERTERS:
        expr = expr.args[0].value
    return expr


def _comparisons_in(test: libcst.BaseExpression) -> list[libcst.Comparison]:
    """The comparisons a condition is made of: `a == b and not c in d`."""
    if isinstance(test, libcst.Comparison):
        return [test]
    if isinstance(test, libcst.BooleanOperation):
        return _comparisons_in(test.left) + _comparisons_in(test.right)
    if isinstance(test, libcst.UnaryOperation) and isinstance(test.operator, libcst.Not):
        return _comparisons_in(test.expression)
    return []


def _names_owner(ctx: FileContext, expr: libcst.CSTNode) -> bool:
    """`order.owner_id`, `post["author_id"]`: who a row belongs to."""
    if isinstance(expr, libcst.Attribute):
        return bool(_OWNER_ATTRIBUTE.search(expr.attr.value))
    if isinstance(expr, libcst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, libcst.Index):
        key = ctx.literal(expr.slice[0].slice.value)
        return isinstance(key, str) and bool(_OWNER_ATTRIBUTE.search(key))
    return False


def _is_condition_call(call: libcst.Call) -> bool:
    """`and_(...)`, `Q(...)`, `Item.id.in_(ids)`: a condition on rows (as `_condition_call` reads them)."""
    func = call.func
    if isinstance(func, libcst.Attribute) and func.attr.value in ("in_", "is_", "like", "ilike", "contains"):
        return True
    return (dotted_name(func) or "").rsplit(".", 1)[-1] in ("and_", "or_", "not_", "Q")


def _is_class_name(expr: libcst.CSTNode) -> bool:
    """`User`, not `user` or `USERS`: a model class by the usual naming."""
    name = expr.value if isinstance(expr, libcst.Name) else None
    return bool(name) and name[0].isupper() and any(c.islower() for c in name)  # type: ignore[index]


def _is_model(expr: libcst.CSTNode) -> bool:
    """`User`, `models.User`, `User.id` (a column of User)."""
    if isinstance(expr, libcst.Attribute):
        return _is_class_name(expr.value) or _is_class_name(libcst.Name(expr.attr.value)) or _is_model(expr.value)
    return _is_class_name(expr)


def _is_column(expr: libcst.CSTNode) -> bool:
    """`Item.owner_id`, `models.Item.id`, `Item.c.id`."""
    return isinstance(expr, libcst.Attribute) and _is_model(expr.value)


def _model_name(text: str) -> str:
    """`User.id` -> `User`; `models.User` stays."""
    parts = text.split(".")
    while len(parts) > 1 and not (parts[-1][:1].isupper()):
        parts.pop()
    return ".".join(parts)


def _is_session(expr: libcst.CSTNode) -> bool:
    return bool(_SESSION_NAME.search(dotted_name(expr) or ""))


def _is_collection(expr: libcst.CSTNode) -> bool:
    """`db.users`, `db["users"]`, `self.collection`, `users_collection`."""
    if isinstance(expr, libcst.Subscript):
        return True
    parts = (dotted_name(expr) or "").split(".")
    return any(_COLLECTION_NAME.search(part) for part in parts if part != "self")


def _dict_argument(args: list[libcst.CSTNode]) -> bool:
    return bool(args) and isinstance(args[0], libcst.Dict)


# Reading the facts in the link phase -----------------------------------------------


def accesses(facts: FunctionFacts) -> list[Access]:
    return list(facts.body.get(ACCESSES, []))


def page_sizes(facts: FunctionFacts) -> list[PageSize]:
    return list(facts.body.get(PAGE_SIZES, []))


def rate_limits(facts: FunctionFacts) -> list[str]:
    return list(facts.body.get(RATE_LIMITS, []))


def caller_checks(facts: FunctionFacts) -> list[str]:
    """Conditions that compare the current user with what the function touches: the owner checks made
    in an `if`/`assert` among them, not the owner filters of its queries."""
    return list(facts.body.get(CALLER_CHECKS, []))


def owner_comparisons(facts: FunctionFacts) -> list[tuple[str, str]]:
    return list(facts.body.get(OWNER_COMPARISONS, []))


def calls(facts: FunctionFacts) -> list[Called]:
    return list(facts.body.get(CALLS, []))


def store_accesses(facts: FunctionFacts) -> list[Access]:
    return list(facts.body.get(STORE_ACCESSES, []))


def unbounded_lists(facts: FunctionFacts) -> list[Access]:
    """Accesses that return every row of a model or collection: no filter on a request value, no limit."""
    return [a for a in accesses(facts) if a.operation == LIST and not a.bounded and a.returned]


_BOUND_KEYWORDS = ("le", "lt", "max_length")
_DEPENDENCIES = frozenset({"Depends", "Security"})
_SCALARS = frozenset({"int", "float", "str", "Optional[int]", "int | None", "PositiveInt", "NonNegativeInt", "StrictInt"})


def declared_upper_bound(param: Param) -> str | None:
    """How a parameter's declaration caps it: `Query(le=100)`, `conint(le=100)`, `Literal[...]`; None if it does not."""
    for expr in _declarations(param):
        if isinstance(expr, Call) and any(k in _BOUND_KEYWORDS for k, _ in expr.kwargs):
            return written(expr)
        if isinstance(expr, Call) and written(expr.func).rsplit(".", 1)[-1] in ("Le", "Lt", "Interval", "MaxLen"):
            return written(expr)
        if isinstance(expr, Index) and written(expr.value).rsplit(".", 1)[-1] == "Literal":
            return written(expr)
    return None


def is_scalar_parameter(param: Param) -> bool:
    """A parameter a client fills in directly: `limit: int = 100`, `size: int | None = Query(None)`."""
    if param.kind != "positional" and param.kind != "keyword":
        return False
    default = param.default
    if isinstance(default, Call) and written(default.func).rsplit(".", 1)[-1] in ("Depends", "Security", "Body"):
        return False
    annotation = param.annotation
    if annotation is None:
        return isinstance(default, Const) and isinstance(default.value, int) and not isinstance(default.value, bool)
    if isinstance(annotation, Index) and written(annotation.value).rsplit(".", 1)[-1] == "Annotated":
        inner = annotation.items[0] if annotation.items else None
        if any(isinstance(i, Call) and written(i.func).rsplit(".", 1)[-1] in _DEPENDENCIES for i in annotation.items[1:]):
            return False
        return inner is not None and written(inner) in _SCALARS
    if isinstance(annotation, Call) and written(annotation.func).rsplit(".", 1)[-1].startswith("con"):
        return True
    return written(annotation) in _SCALARS or isinstance(annotation, Opaque) and annotation.text in _SCALARS


def _declarations(param: Param) -> Iterator[Expr]:
    for expr in (param.default, param.annotation):
        if expr is None:
            continue
        yield expr
        if isinstance(expr, Index):
            yield from expr.items
        if isinstance(expr, Seq):
            yield from expr.items


def queryset_snapshot(expr: Expr | None) -> tuple[str, bool, str] | None:
    """A class attribute such as DRF's `queryset = Item.objects.filter(...)[:50]`, read from its snapshot:
    (operation, bounded, text), or None when it is no Django queryset."""
    steps: list[tuple[str, Expr]] = []
    node = expr
    while True:
        if isinstance(node, Call) and isinstance(node.func, Attr):
            steps.append((node.func.attr, node))
            node = node.func.value
        elif isinstance(node, Index):
            steps.append(("[]", node))
            node = node.value
        else:
            break
    if not (isinstance(node, Attr) and node.attr in _MANAGERS) or not steps:
        return None
    operation, bounded = LIST, False
    for method, step in reversed(steps):
        if method == "[]":
            bounded = True
        elif method in _FILTERS and isinstance(step, Call):
            if any(not isinstance(v, Const) for _, v in step.kwargs) or any(not isinstance(a, Const) for a in step.args):
                operation = FILTER
        elif method in _GETS:
            operation, bounded = GET, True
    return operation, bounded, written(expr)


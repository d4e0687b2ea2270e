from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from authlint.facts import auth_checks, data_access, models
from authlint.facts.data_access import DELETE, FILTER, GET, UPDATE, Access, Called
from authlint.facts.expr import Attr, Call, Expr, Index, Name, dotted_expr, written
from authlint.facts.file_facts import FileFacts, Param
from authlint.frameworks import django
from authlint.frameworks.base import matches_any, method_actions, serving_functions, view_class
from authlint.model import Precision, Route, Severity
from authlint.project import Class, External, Function, Unknown, Value, qualified_name
from authlint.rule import ProjectRule

_OPERATIONS = frozenset({GET, FILTER, UPDATE, DELETE})
_VERBS = {GET: "loads", FILTER: "reads", UPDATE: "updates", DELETE: "deletes"}

# Where a value the client sent is read, by the request attribute that holds it.
_REQUEST_READ = re.compile(
    r"^(?:self\.)?(?:request|req)\.(args|values|form|json|get_json|data|GET|POST|query_params|query|rel_url|body"
    r"|match_info|path_params|view_args)\b"
)
_BODY = "the request body"
_PATH = "the path"
_QUERY = "the query string"
_SOURCES = {
    "args": _QUERY, "GET": _QUERY, "query_params": _QUERY, "query": _QUERY, "rel_url": _QUERY,
    "values": "the query string or form", "match_info": _PATH, "path_params": _PATH, "view_args": _PATH,
}  # fmt: skip
# Django and DRF views keep the URL's parameters in `self.kwargs`.
_VIEW_KWARGS = re.compile(r"^(?:self\.)?kwargs\b")
_CONVERTED = re.compile(r"^(?:await\s+|(?:int|str|UUID|uuid\.UUID|ObjectId|bson\.ObjectId|PydanticObjectId)\((.*)\)$)")
_ROOT = re.compile(r"^[A-Za-z_]\w*")
_FASTAPI_MARKERS = {"Query": _QUERY, "Path": _PATH, "Body": _BODY, "Form": _BODY, "File": _BODY}
# A parameter through which a framework hands over something other than the client's data.
_INJECTED = frozenset({"Depends", "Security"})
# The caller, as handlers usually name them: a value scoped by it is scoped to the caller.
_CALLER = re.compile(
    r"^(?:self\.)?(?:request\.(?:user|auth)|g\.(?:current_)?user|current_user|current_identity|get_jwt_identity\(\))\b"
    r"|^(?:request|req)\[['\"](?:user|identity)['\"]\]"
)
# Parameters that hold the caller by the usual names (their dependency may be one authlint cannot read).
_CALLER_NAMES = frozenset({"current_user", "user", "me", "principal", "identity", "viewer", "requester", "actor"})
# Helpers whose name says they check something, when handed the caller.
_CHECK_WORDS = re.compile(
    r"(?:^|_)(?:check|checks|can|may|ensure|assert|verify|authori[sz]e|permit|permitted|allow|allowed|require|owns?"
    r"|access)(?:_|$)", re.I
)
# Filtering a collection by these picks one object, or all of one owner's objects.
_ID_FIELD = re.compile(r"^(?:id|pk|uuid|_id)(?:__\w+)?$")  # not `post_id`: the comments of a post
# Fields that say any signed-in user may read a row: `published=True`, `is_public`.
_PUBLIC_FIELDS = frozenset({"is_public", "public", "published", "is_published", "visibility", "is_listed"})
# Models that hold the principal itself: reading another account is AL301/AL303 territory, changing one is not.
_ACCOUNT_MODEL = re.compile(r"^(?:\w*User|Account|Member|Customer)$")
_PASSWORD_FIELDS = frozenset({"password", "hashed_password", "password_hash"})
# Resources that belong to someone by their nature, for models authlint cannot read the fields of.
_PRIVATE_WORDS = frozenset({
    "order", "invoice", "payment", "receipt", "transaction", "bill", "message", "conversation", "chat", "inbox",
    "note", "document", "doc", "file", "upload", "attachment", "address", "card", "wallet", "account", "profile",
    "cart", "basket", "ticket", "booking", "reservation", "appointment", "subscription", "statement", "draft",
    "todo", "secret", "credential", "token", "apikey", "contact", "device", "prescription", "item", "record",
})  # fmt: skip
# Content that is published for everyone to read even when it has an author.
_PUBLIC_WORDS = frozenset({
    "post", "article", "product", "comment", "review", "blog", "page", "category", "tag", "question", "answer",
    "recipe", "video", "listing", "event", "course", "lesson", "book", "catalog", "catalogue", "country",
})  # fmt: skip
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# DRF and Django views whose library code loads one object by the URL's lookup (`get_object()`).
_OBJECT_VIEWS = frozenset({
    "ModelViewSet", "ReadOnlyModelViewSet", "RetrieveModelMixin", "UpdateModelMixin", "DestroyModelMixin",
    "RetrieveAPIView", "UpdateAPIView", "DestroyAPIView", "RetrieveUpdateAPIView", "RetrieveDestroyAPIView",
    "RetrieveUpdateDestroyAPIView", "DetailView", "UpdateView", "DeleteView", "BaseDetailView", "BaseUpdateView",
    "BaseDeleteView",
})  # fmt: skip
_OBJECT_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE"})
# A view's own code that picks the object the way the library does: `get_object_or_404(self.get_queryset(), pk=pk)`.
_VIEW_LOADS = frozenset({"self.get_object", "self.get_queryset"})
_LAST_PARAM = re.compile(r"(?:\{(\w+)[^}]*\}|<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\))/?$")


@dataclass(frozen=True)
class _Lookup:
    """An object the client picks by its id, loaded or changed with nothing tying it to the caller."""

    operation: str
    text: str  # the access as written: "session.get(Order, order_id)"
    identifier: str  # the client's value as the code names it: "order_id"
    source: str  # "the path", "the query string", "the request body"
    via: str = ""  # " in `crud.get_order()`", " through `get_object()`"
    model: str = ""  # "Order", "db.orders", "ORDERS"


class BolaUncheckedObjectAccess(ProjectRule):
    """An authenticated route loads or changes an object by a client-supplied id without tying it to the caller.

    ## What it does
    Reports an authenticated route whose handler takes an object id from the path, the
    query string or the body and loads, updates or deletes that object with nothing
    tying it to the current user:

    - the query has no owner filter: SQLAlchemy `session.get(Order, order_id)`,
      `db.query(Order).get(...)`/`.filter_by(id=...)`, `select(Order).where(Order.id == x)`,
      Flask-SQLAlchemy `Order.query.get_or_404(...)`, SQLModel `session.exec(...)`, Django
      `Order.objects.get(pk=pk)` and `get_object_or_404(Order, pk=pk)`, Tortoise/Peewee
      `await Order.get(id=...)`/`Order.get_by_id(...)`, MongoDB `find_one({"_id": ...})`,
      and in-memory stores (`ORDERS[order_id]`, `fake_db.get(item_id)`);
    - no condition compares the object (or the id) with the current user afterwards
      (`if order.owner_id != current_user.id: raise HTTPException(403)`);
    - no object-level permission applies: DRF `check_object_permissions`, a permission
      class with `has_object_permission`, a `get_queryset()` filtered by `self.request.user`;
    - no ownership helper is called (see `ownership-checks`).

    DRF viewsets and generic views (and Django's `DetailView`, `UpdateView`, `DeleteView`)
    whose library code loads the object are reported on their detail routes when their
    `queryset`/`get_queryset()` is not filtered by the caller. Loads in a helper the
    handler calls (`crud.get_order(db, order_id)`) are followed one call deep.

    Not reported: unauthenticated routes (AL301's), routes that require a role, scope or
    permission (an admin may read any object), queries scoped by any value the client did
    not send (`owner_id=current_user.id`, a tenant from a dependency, a parent object the
    caller owns), objects looked up by the caller's own id (`/users/me`), models whose
    fields tie no row to an owner (a catalogue), reads of published content (`Post`,
    `Product`, `published=True`), and reads and deletions of user accounts (deleting
    accounts is AL303's; changing another account is reported). When a model's fields
    are unknown, it counts as owned when some other query of the project filters it by
    its owner or when its name says so (`Order`, `Invoice`, `Document`). A check counts
    wherever it is in the handler: an `if`/`assert` comparing the object, its owner or the
    id with the current user, a role check, or a call that is handed the current user and
    is named like a check (`authorize(user, "read", order)`, `policy.can_view(user, doc)`).
    Objects a FastAPI dependency loads (`order: Order = Depends(get_order)`) are not seen.

    ## Why is this bad?
    Broken object level authorization is the first item of the OWASP API Security Top 10:
    any signed-in user can read, change or delete another user's orders, documents or
    messages by changing the id in the URL. Authentication says who the caller is; only an
    object-level check says the object is theirs.

    ## Example
    ```python
    @router.get("/orders/{order_id}")
    def read_order(order_id: int, session: SessionDep, current_user: CurrentUser):
        return session.get(Order, order_id)
    ```

    ## Use instead
    ```python
    @router.get("/orders/{order_id}")
    def read_order(order_id: int, session: SessionDep, current_user: CurrentUser):
        order = session.get(Order, order_id)
        if order is None or order.owner_id != current_user.id:
            raise HTTPException(status_code=404)
        return order
    ```

    ## Options
    - `ownership-checks`: helpers that check the caller may use an object (qualified
      names or patterns, matched on the whole name or its last part: `app.auth.ensure_owner`,
      `*.ensure_owner`, `check_access`). A call to one in the handler counts as a check.
      Replaces the default list (`check_object_permissions`, `*ensure_owner*`, `can_access`, ...).
    - `owner-fields`: model fields that tie a row to its owner (`owner_id`, `user`,
      `customer`, ...); a model with one of them belongs to someone. Replaces the default list.
    - `severity`: override the severity of the rule's findings.

    ## References
    - OWASP API Security Top 10 2023, API1: Broken Object Level Authorization
    - CWE-639: Authorization Bypass Through User-Controlled Key
    """

    code = "AL302"
    name = "bola-unchecked-object-access"
    severity = Severity.HIGH
    precision = Precision.MEDIUM
    owasp = ("API1:2023",)
    cwe = (639,)

    @dataclasses.dataclass(frozen=True)
    class Options:
        ownership_checks: list[str] = dataclasses.field(
            default_factory=lambda: [
                "check_object_permissions", "has_object_permission", "*ensure_owner*", "*check_owner*",
                "*verify_owner*", "*assert_owner*", "*require_owner*", "is_owner", "*_ownership", "check_access",
                "can_access", "has_access", "can_view", "can_edit", "can_change", "can_delete", "authorize",
                "authorize_*", "get_objects_for_user", "has_perm", "has_object_perm*",
            ]
        )  # fmt: skip
        owner_fields: list[str] = dataclasses.field(
            default_factory=lambda: [
                "owner", "owner_id", "user", "user_id", "author", "author_id", "creator", "creator_id", "created_by",
                "created_by_id", "account", "account_id", "tenant", "tenant_id", "customer", "customer_id",
                "organization", "organization_id", "org", "org_id", "uploaded_by", "uploader", "sender",
                "sender_id", "recipient", "recipient_id", "patient", "patient_id", "buyer", "buyer_id",
            ]
        )  # fmt: skip

    def check(self) -> None:
        self._scoped = self._models_scoped_by_owner()
        reported: set[tuple[str, int]] = set()
        for route in self.routes:
            where = (route.location.path, route.location.line)
            if where in reported or not self._applies(route):
                continue
            lookup = self._unchecked(route)
            if lookup is None:
                continue
            reported.add(where)
            self.report_route(route, self._message(route, lookup))

    # Which routes ------------------------------------------------------------------

    def _applies(self, route: Route) -> bool:
        """Authenticated, not public, and no role, scope or object-level permission required."""
        if route.public or not route.authenticated or django.object_checks(route):
            return False
        for evidence in route.effective_auth:
            objects_only = evidence.requirements and all(r.endswith(django.OBJECT_CHECK) for r in evidence.requirements)
            if evidence.kind == "authorization" and not objects_only:
                return False
        return True

    def _unchecked(self, route: Route) -> _Lookup | None:
        functions = serving_functions(self.project, route)
        for function in functions:
            lookup = self._in_function(route, function)
            if lookup is not None:
                return lookup
        return self._library_view(route, functions)

    # A handler's own body ------------------------------------------------------------

    def _in_function(self, route: Route, function: Function) -> _Lookup | None:
        facts = function.facts
        if self._checks(route, function):
            return None
        found = [self._unscoped(route, function, a) for a in _loads(function)]
        lookups = [lookup for lookup in found if lookup is not None]
        if lookups:  # the access that names the id reads best: `db.get(Order, order_id)`, not `result.scalar_one()`
            return next((lk for lk in lookups if lk.identifier in lk.text), lookups[0])
        view = view_class(self.project, route)
        for called in data_access.calls(facts):
            if called.callee in _VIEW_LOADS and view is not None:  # DRF/Django load it: how is the question
                lookup = self._view_object(route, view)
            else:
                lookup = self._in_helper(route, function, called)
            if lookup is not None:
                return lookup
        return None

    def _checks(self, route: Route, function: Function) -> bool:
        """The body compares an object or id with the caller, checks a role, or calls an ownership helper."""
        facts = function.facts
        if data_access.caller_checks(facts) or auth_checks.checks_role(facts):
            return True
        for _, other in data_access.owner_comparisons(facts):  # `order.user_id != claims["sub"]`
            if self._client_source(route, function, other) is None:
                return True
        patterns = tuple(self.options.ownership_checks)
        for called in data_access.calls(facts):
            if matches_any(called.callee, patterns):
                return True
            resolved = qualified_name(self.project.resolve_value(function.file, dotted_expr(called.callee)))
            if matches_any(resolved, patterns):
                return True
            # `authorize(current_user, "read", order)`, `policy.can_view(user, doc)`: a check handed the caller
            checking = _CHECK_WORDS.search(called.callee.rsplit(".", 1)[-1])
            if checking and any(self._is_caller(function, a) for a in _argument_texts(called)):
                return True
        return False

    def _is_caller(self, function: Function, text: str) -> bool:
        """`current_user`, `request.user`, or a FastAPI dependency other than the database session."""
        text = _stripped(text)
        root = _root(text)
        named = root in _CALLER_NAMES and (function.facts.param(root) is not None or root == "current_user")
        return bool(_CALLER.match(text)) or named or self._injected(function, text)

    def _unscoped(self, route: Route, function: Function, access: Access, arguments: dict[str, str] | None = None,
                  caller: Function | None = None) -> _Lookup | None:  # fmt: skip
        """The access picks rows by client values only, of a model that belongs to someone."""
        if access.operation not in _OPERATIONS or access.owner_filter or not access.identifiers:
            return None
        if access.model == "self" or access.model.startswith("self."):
            return None  # `get_object_or_404(self.get_queryset(), ...)`: the view's queryset, read in `_view_object`
        if access.operation == FILTER and not any(self._picks(f) for f in access.fields):
            return None
        sources = []
        for identifier in access.identifiers:
            if arguments is not None:  # inside a helper: the caller's argument for the helper's parameter
                root = _root(identifier)
                if root not in arguments:
                    return None
                identifier = arguments[root]
            source = self._client_source(route, caller or function, identifier)
            if source is None:
                return None
            sources.append((identifier, source))
        if not self._owned(route, function.file, access):
            return None
        identifier, source = sources[0]
        return _Lookup(access.operation, access.text, _stripped(identifier), source, model=access.model)

    def _picks(self, field: str) -> bool:
        """`id`, `pk`, `id__in`: one object; `user_id`, `owner`: one owner's objects (not `post_id`)."""
        return bool(_ID_FIELD.search(field)) or field.split("__")[0] in self.options.owner_fields

    # Where a value comes from ---------------------------------------------------------

    def _client_source(self, route: Route, function: Function, text: str, depth: int = 0) -> str | None:
        """Where the client sent the value `text` names, in the function serving the route; None
        when the server chose it (the caller's id, a dependency, a constant, something computed)."""
        text = _stripped(text)
        read = _REQUEST_READ.match(text)
        if read is not None:
            return _SOURCES.get(read.group(1), _BODY)
        if _VIEW_KWARGS.match(text):
            return _PATH
        if _CALLER.match(text):
            return None
        root = _root(text)
        param = function.facts.param(root)
        if param is not None:
            return self._parameter_source(route, function, param, text)
        assigned = function.file.assignments.get(f"{function.facts.qualname}.{root}")
        if assigned is None or depth > 3:
            return None
        return self._client_source(route, function, written(assigned), depth + 1)

    def _parameter_source(self, route: Route, function: Function, param: Param, text: str) -> str | None:
        if param.kind == "**kwargs":
            return _PATH if route.framework == "django" else None
        if param.name in route.path_params:
            return _PATH
        if route.framework != "fastapi":
            return None  # Flask, Django, aiohttp and Starlette hand a view only its path parameters
        markers = _markers(param)
        if markers & _INJECTED or self._injected_alias(function, param):
            return None
        for marker in markers:
            if marker in _FASTAPI_MARKERS:
                return _FASTAPI_MARKERS[marker]
        if data_access.is_scalar_parameter(param):
            return _QUERY
        if text == param.name:
            return None
        symbol = models.class_symbol(self.project, function.file, param.annotation)
        schema = models.model_info(self.project, symbol)
        if schema is not None:
            return _BODY if schema.kind == models.SCHEMA else None  # `payload.order_id` of a Pydantic body
        # A class of a project module authlint did not analyse (`schemas.py` imports only pydantic): a body too.
        return _BODY if isinstance(symbol, Unknown) and symbol.qualified else None

    def _injected_alias(self, function: Function, param: Param) -> bool:
        """`user: CurrentUser` where `CurrentUser = Annotated[User, Depends(get_current_user)]`."""
        if not isinstance(param.annotation, (Name, Attr)):
            return False
        symbol = self.project.resolve_value(function.file, param.annotation)
        return isinstance(symbol, Value) and bool(_markers_in(symbol.expr) & _INJECTED)

    # Whose objects ---------------------------------------------------------------------

    def _owned(self, route: Route, file: FileFacts, access: Access) -> bool:
        """Whether the rows belong to someone, so that another signed-in user must not pick them."""
        reading = access.operation in (GET, FILTER)
        if reading and _PUBLIC_FIELDS & set(access.fields):
            return False
        if access.library not in ("dict", "mongo", "sql") and access.model:
            symbol = models.named_class(self.project, file, access.model)
            info = models.model_info(self.project, symbol)
            if info is not None and info.kind == models.ORM:
                return self._owned_model(info, access, reading)
        name = access.model.rsplit(".", 1)[-1]
        if _ACCOUNT_MODEL.match(name):
            return access.operation == UPDATE
        words = _words(name) or _words(_collection(route.path))
        if reading and words & _PUBLIC_WORDS:
            return False
        return name in self._scoped or bool(words & _PRIVATE_WORDS)

    def _owned_model(self, info: models.ModelInfo, access: Access, reading: bool) -> bool:
        if _ACCOUNT_MODEL.match(info.name) or _PASSWORD_FIELDS & set(info.fields):
            return access.operation == UPDATE  # the caller's own kind of row: changing another account
        if reading and (_PUBLIC_FIELDS & set(info.fields) or _words(info.name) & _PUBLIC_WORDS):
            return False
        if set(info.fields) & set(self.options.owner_fields) or info.name in self._scoped:
            return True
        return not info.complete and bool(_words(info.name) & _PRIVATE_WORDS)

    def _models_scoped_by_owner(self) -> set[str]:
        """Models some query of the project filters by (or creates for) the current user."""
        scoped: set[str] = set()
        for file in self.project.files:
            for facts in file.functions.values():
                for access in data_access.accesses(facts):
                    if access.owner_filter and access.model:
                        scoped.add(access.model.rsplit(".", 1)[-1])
        return scoped

    # Helpers the handler calls ---------------------------------------------------------

    def _in_helper(self, route: Route, function: Function, called: Called) -> _Lookup | None:
        """`crud.get_order(db, order_id)`: the helper's loads, with its parameters bound to the call's arguments."""
        if any(self._is_caller(function, a) for a in _argument_texts(called)):
            return None  # the helper gets the caller: it may scope by it
        helper = self._resolve_helper(route, function, called)
        if helper is None or helper == function or self._checks(route, helper):
            return None
        arguments = _bind(helper, called)
        for access in _loads(helper):
            lookup = self._unscoped(route, helper, access, arguments, caller=function)
            if lookup is not None:
                return dataclasses.replace(lookup, via=f" in `{called.callee}()`")
        return None

    def _injected(self, function: Function, text: str) -> bool:
        """An argument that is a FastAPI dependency other than the database session: the caller, a tenant."""
        param = function.facts.param(_root(_stripped(text)))
        if param is None or _is_session_name(param.name):
            return False
        return bool(_markers(param) & _INJECTED) or self._injected_alias(function, param)

    def _resolve_helper(self, route: Route, function: Function, called: Called) -> Function | None:
        if called.callee.startswith("self."):
            cls, name = view_class(self.project, route), called.callee[5:]
            member = self.project.member(cls, name) if cls is not None and "." not in name else None
            return member if isinstance(member, Function) else None
        symbol = self.project.resolve_value(function.file, dotted_expr(called.callee))
        return symbol if isinstance(symbol, Function) else None

    # DRF and Django views that load the object in library code -------------------------

    def _library_view(self, route: Route, functions: list[Function]) -> _Lookup | None:
        """A detail route whose HTTP method the view class leaves to DRF's or Django's `get_object()`."""
        cls = view_class(self.project, route)
        if cls is None or not _LAST_PARAM.search(route.path) or not self._object_view(cls):
            return None
        served = {f.facts.name for f in functions}
        methods = [m for m in route.methods if m in _OBJECT_METHODS]
        if all(any(a in served for a in method_actions(m)) for m in methods):
            return None  # every method is the project's own code, read above
        return self._view_object(route, cls)

    def _object_view(self, cls: Class) -> bool:
        """A DRF or Django view that loads one object, with every base known: a mixin authlint could
        not read (a module it did not analyse) may override `get_queryset()` or `get_object()`."""
        bases = list(self.project.ancestors(cls))
        if any(isinstance(base, Unknown) for base in bases):
            return False
        for base in bases:
            name = qualified_name(base) or ""
            if isinstance(base, External) and name.startswith(("rest_framework.", "django.views.")):
                if name.rsplit(".", 1)[-1] in _OBJECT_VIEWS:
                    return True
        return False

    def _view_object(self, route: Route, cls: Class) -> _Lookup | None:
        """How `get_object()` picks the object: an overridden `get_object`, `get_queryset()`, or `queryset`/`model`."""
        match = _LAST_PARAM.search(route.path)
        if match is None:
            return None  # a collection route: no object is picked
        lookup_param = next((g for g in match.groups() if g), "pk")
        if self._filters_backends(cls):
            return None
        get_object = self.project.member(cls, "get_object")
        if isinstance(get_object, Function) and not _defers(get_object):
            return self._in_function(route, get_object)
        if isinstance(get_object, Function) and self._checks(route, get_object):
            return None
        get_queryset = self.project.member(cls, "get_queryset")
        if isinstance(get_queryset, Function):
            return self._queryset_method(route, get_queryset, lookup_param)
        queryset = self.project.member(cls, "queryset")
        text = model = ""
        if isinstance(queryset, Value):
            read = data_access.queryset_snapshot(queryset.expr)
            text = read[2] if read is not None else ""
            model = text.split(".objects", 1)[0] if ".objects" in text else ""
        elif isinstance((declared := self.project.member(cls, "model")), Value):
            model = written(declared.expr)
            text = f"{model}.objects"
        if not model:
            return None
        operation = _view_operation(route)
        access = Access(operation, "django", model, text, 0, ("pk",), (lookup_param,))
        file = queryset.file if isinstance(queryset, Value) else cls.file
        if not self._owned(route, file, access):
            return None
        return _Lookup(operation, text, lookup_param, _PATH, " through `get_object()`")

    def _queryset_method(self, route: Route, method: Function, lookup_param: str) -> _Lookup | None:
        facts = method.facts
        if self._checks(route, method) or facts.body.get(auth_checks.CREDENTIALS):  # reads `self.request.user`: scoped
            return None
        listed = [a for a in data_access.accesses(facts) if a.model and not a.owner_filter]
        if not listed or any(a.owner_filter for a in data_access.accesses(facts)):
            return None
        operation = _view_operation(route)
        access = dataclasses.replace(listed[0], operation=operation)
        if not self._owned(route, method.file, access):
            return None
        return _Lookup(operation, listed[0].text, lookup_param, _PATH, " through `get_queryset()`")

    def _filters_backends(self, cls: Class) -> bool:
        """`filter_backends = [OwnerFilter]`: a project filter backend may scope the queryset."""
        backends = self.project.member(cls, "filter_backends")
        if not isinstance(backends, Value):
            return False
        return "(" not in written(backends.expr) and any(
            isinstance(self.project.resolve_value(backends.file, item), Class) for item in _items(backends.expr)
        )

    # The message -----------------------------------------------------------------------

    def _message(self, route: Route, lookup: _Lookup) -> str:
        shown = f"`{lookup.text}`"
        if lookup.model and lookup.identifier not in lookup.text:  # `result.scalar_one()` (Invoice)
            shown += f" ({lookup.model})"
        whose = "the rows belong" if lookup.operation == FILTER else "it belongs"
        if lookup.via.startswith(" through"):  # library code loads it: name the queryset, then how
            verb = "loads" if lookup.operation == GET else "loads and changes"
            what = f"{route.label} {verb} objects of {shown} by `{lookup.identifier}` from {lookup.source}{lookup.via}"
            return (
                f"{what} with no check that they belong to the caller (`get_queryset()` is not filtered by "
                "`self.request.user`, no permission class has `has_object_permission`); filter the queryset by "
                "the owner (`.filter(owner=self.request.user)`) or add an object-level permission class"
            )
        verb = _VERBS[lookup.operation]
        what = f"{route.label} {verb} {shown}{lookup.via} by `{lookup.identifier}` from {lookup.source}"
        return (
            f"{what} with no check that {whose} to the caller (no owner filter, owner comparison or object-level "
            "permission); add the owner to the query (`owner_id=current_user.id`) or compare the owner and "
            "answer 403/404, or name your ownership helper in `ownership-checks`"
        )


def _defers(method: Function) -> bool:
    """A `get_object()` that loads nothing itself and never looks at the caller: it ends in `super().get_object()`."""
    facts = method.facts
    loads = data_access.accesses(facts) or data_access.store_accesses(facts)
    return not loads and not facts.body.get(auth_checks.CREDENTIALS)


def _loads(function: Function) -> list[Access]:
    """The database queries and dict-store lookups of a function body."""
    return [*data_access.accesses(function.facts), *data_access.store_accesses(function.facts)]


def _is_session_name(name: str) -> bool:
    """`db`, `session`, `conn`: a dependency that is the database, not the caller."""
    return bool(re.search(r"(?:^|_)(?:db|session|sess|conn|connection|cursor|uow|repo|repository)$", name, re.I))


def _view_operation(route: Route) -> str:
    methods = set(route.methods)
    if "DELETE" in methods:
        return DELETE
    return UPDATE if methods & {"PUT", "PATCH", "POST"} else GET


def _stripped(text: str) -> str:
    """`int(order_id)`, `await x`, `ObjectId(item_id)` -> the value inside."""
    for _ in range(4):
        match = _CONVERTED.match(text)
        if match is None:
            break
        text = match.group(1) if match.group(1) is not None else text[match.end() :]
    return text.strip()


def _root(text: str) -> str:
    match = _ROOT.match(text)
    return match.group(0) if match else ""


def _markers(param: Param) -> set[str]:
    """`Query`, `Depends`, ... in a parameter's default or `Annotated[...]` metadata."""
    return _markers_in(param.default) | _markers_in(param.annotation)


def _markers_in(expr: Expr | None) -> set[str]:
    if isinstance(expr, Call):
        return {written(expr.func).rsplit(".", 1)[-1]}
    if isinstance(expr, Index) and written(expr.value).rsplit(".", 1)[-1] == "Annotated":
        return {m for item in expr.items[1:] for m in _markers_in(item)}
    return set()


def _argument_texts(called: Called) -> list[str]:
    return [*called.args, *(value for _, value in called.keywords)]


def _bind(helper: Function, called: Called) -> dict[str, str]:
    """The helper's parameter names, each with the argument the call passes for it."""
    names = [p.name for p in helper.facts.params if p.kind == "positional"]
    if names and names[0] in ("self", "cls") and helper.facts.scope in helper.file.classes:
        names = names[1:]
    bound = dict(zip(names, called.args))
    bound.update(dict(called.keywords))
    return bound


def _items(expr: Expr) -> list[Expr]:
    return list(getattr(expr, "items", ()) or ())


def _words(name: str) -> set[str]:
    """`OrderItem` -> {"order", "item"}; `fake_orders_db` -> {"fake", "order", "db"}."""
    found = set()
    for word in _WORD.findall(name.replace("_", " ").replace("-", " ")):
        word = word.lower()
        found |= {word, word[:-1]} if word.endswith("s") else {word}
        if word.endswith("es"):
            found.add(word[:-2])  # addresses
    return found


def _collection(path: str) -> str:
    """The segment before the last parameter: `/api/orders/{order_id}` -> "orders"."""
    segments = [s for s in re.split(r"/+", path) if s]
    plain = [s for s in segments if not re.match(r"^[{<(]", s)]
    return plain[-1] if plain else ""

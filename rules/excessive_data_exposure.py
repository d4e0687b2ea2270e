from __future__ import annotations

from authlint.facts import data_access, models
from authlint.facts.expr import Attr, Call, Const, Expr, Index, Mapping, Name, Seq, written
from authlint.facts.file_facts import FileFacts, HTTP_METHODS, ReturnSite
from authlint.frameworks.base import serving_functions
from authlint.model import Precision, Route, Severity
from authlint.project import Class, External, Function, Symbol, Unknown, Value
from authlint.rule import ProjectRule

# Calls that send what they are given as the response body.
_RESPONSES = frozenset({
    "jsonify", "make_response", "JsonResponse", "Response", "JSONResponse", "ORJSONResponse", "UJSONResponse",
    "json_response", "dumps", "HttpResponse",
})  # fmt: skip
_RESPONSE_BODY_KEYWORDS = ("data", "content", "body", "obj", "response")
# Methods that turn a row into a dict of every column (unless the model spells out its own).
_WHOLE_METHODS = frozenset({"to_dict", "as_dict", "to_json", "dict", "model_dump", "serialize", "to_mongo", "asdict"})
# Arguments that pick fields: `to_dict(only=...)`, `model_to_dict(user, fields=[...])`, `model_dump(exclude=...)`.
_PICKING_KEYWORDS = frozenset({"only", "rules", "include", "exclude", "fields"})
# Functions that turn an object into a dict of all its fields.
_WHOLE_FUNCTIONS = {"model_to_dict": 0, "vars": 0, "asdict": 0, "jsonable_encoder": 0, "serialize": 1}
# Annotations that do not filter what a FastAPI route returns (`-> dict`, `-> list[dict]`, `-> Any`).
_UNFILTERED = frozenset({"dict", "Dict", "Any", "list", "List", "object", "JSONResponse", "Response", "ORJSONResponse"})
_WRAPPERS = frozenset({"List", "list", "Sequence", "Optional", "Union", "Annotated"})
_ROUTE_DECORATORS = frozenset({*HTTP_METHODS, "api_route"})
_DJANGO_USER = "django.contrib.auth.models.User"
_SERIALIZER_MIXIN_OPTIONS = ("serialize_only", "serialize_rules")
_ROWS = frozenset({data_access.GET, data_access.FILTER, data_access.LIST})
# Methods that run a query and hand back rows: `db.get(User, id)`, `.first()`, `.all()`, `.scalars(...)`.
_ROW_METHODS = frozenset({
    "get", "get_or_404", "first", "first_or_404", "one", "one_or_none", "one_or_404", "all", "scalar", "scalars",
    "scalar_one", "scalar_one_or_none", "get_or_none", "filter", "filter_by", "fetchone", "fetchall", "find_one",
})  # fmt: skip
_ADVICE = {
    "fastapi": "declare `response_model=` a schema that leaves the secrets out (or `response_model_exclude=`), or "
    "return only the fields the client needs",
    "flask": "return only the fields the client needs (`{\"id\": user.id, \"email\": user.email}`) or dump the row "
    "with a schema that leaves the secrets out",
    "django": "return only the fields the client needs (`model_to_dict(user, fields=[...])`) or a serializer that "
    "lists them",
}
_DEFAULT_ADVICE = "return only the fields the client needs"


class ExcessiveDataExposure(ProjectRule):
    """A response returns a whole database row, or a serializer every field, including secrets like password hashes.

    ## What it does
    Reports responses that hand the client every field of an ORM model that has secret
    fields (named like `password`, `hashed_password`, `api_key`, `reset_token`,
    `otp_secret`, `salt`, as `authlint` classifies credentials), the model being defined in
    any file of the project (SQLAlchemy, Flask-SQLAlchemy, SQLModel, Django, Tortoise,
    Peewee, MongoEngine) or Django's own user model:

    - a route returning the row itself, `jsonify(user.__dict__)`, `vars(user)`,
      `user.to_dict()` (unless the model's `to_dict` lists its fields without the
      secrets), `model_to_dict(user)`, `jsonable_encoder(user)`,
      `serializers.serialize("json", users)`, also inside `jsonify(...)`,
      `JsonResponse(...)`, `JSONResponse(...)`, dicts and lists. The row is followed
      from the query that loaded it (`user = db.get(User, id)`), the object the handler
      created, a parameter typed with the model (`current_user: User = Depends(...)`,
      also through an `Annotated` alias), a helper annotated `-> User`, or Django's
      `request.user`;
    - a FastAPI route whose `response_model` (or return annotation) has such fields, or
      that has none and returns the row;
    - a DRF `ModelSerializer` or marshmallow-sqlalchemy auto schema that reads a secret
      field: `fields = "__all__"`, an `exclude` that leaves it in, or a `fields` list
      naming it, unless it is write-only (`extra_kwargs = {"password": {"write_only":
      True}}`, `write_only=True`, `load_only`). Its `Meta.model` may be defined in any
      file. Reported at its `fields` line.

    Route findings are reported at the `return` (or, for a response model, the handler
    `def`) and name the route.

    Not reported: FastAPI routes with a `response_model` (or return annotation) that
    leaves the secrets out, `response_model_exclude`/`response_model_include` that drop
    them, explicit dicts of chosen fields, `to_dict(only=...)`, `model_to_dict(user,
    fields=[...])`, `UserOut.model_validate(user)`, a model whose `to_dict` returns chosen
    fields (or is configured with `serialize_only`/`serialize_rules`), serializers with
    explicit `fields` lists, and models without secret fields. Rows authlint cannot trace
    to a model (helpers without a return annotation, loops and comprehensions, models in
    files it did not read) are not reported.

    ## Why is this bad?
    An endpoint that returns the whole record relies on the client to show only what it
    should; anyone calling the API directly reads the rest. A leaked password hash can
    be cracked offline, and a leaked API key, reset token or OTP secret is the account
    itself. This is Broken Object Property Level Authorization, the third item of the OWASP
    API Security Top 10 (formerly Excessive Data Exposure).

    ## Example
    ```python
    @app.get("/users/{user_id}")
    def read_user(user_id: int, db: Session = Depends(get_db)):
        return db.get(User, user_id)  # User has hashed_password
    ```

    ## Use instead
    ```python
    class UserOut(BaseModel):
        id: int
        email: str

    @app.get("/users/{user_id}", response_model=UserOut)
    def read_user(user_id: int, db: Session = Depends(get_db)):
        return db.get(User, user_id)
    ```

    ## References
    - OWASP API Security Top 10 2023, API3: Broken Object Property Level Authorization
    - FastAPI, Response Model - Return Type
    - Django REST framework, Serializers: ModelSerializer
    - CWE-213: Exposure of Sensitive Information Due to Incompatible Policies
    """

    code = "AL305"
    name = "excessive-data-exposure"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API3:2023",)
    cwe = (213,)
    # Models may live in a module that imports only the ORM: collect its facts too.
    requires = models.MODEL_LIBRARIES

    def check(self) -> None:
        self._seen: set[tuple[str, int]] = set()
        for cls in models.project_classes(self.project):
            self._serializer(cls)
        for route in self.routes:
            for function in serving_functions(self.project, route):
                self._route_function(route, function)

    # Serializers ---------------------------------------------------------------------

    def _serializer(self, cls: Class) -> None:
        serializer = models.model_serializer(self.project, cls)
        if serializer is None or serializer.kind == models.MODEL_FORM or serializer.model is None:
            return
        readable = serializer.readable() or ()
        secrets = [f for f in readable if models.is_secret_field(f)]
        key = serializer.line_key("fields", "exclude", "model")
        if not secrets or key is None:
            return
        meta = serializer.meta.file
        them = "them" if len(secrets) > 1 else "it"
        how = _declared_how(serializer, them)
        if serializer.kind == models.AUTO_SCHEMA:
            hide = f"`exclude` {them} or mark {them} `load_only`"
        else:
            hide = f"mark {them} write-only (`extra_kwargs = {{\"{secrets[0]}\": {{\"write_only\": True}}}}`)"
        message = (f"{serializer.kind} `{serializer.name}` returns {_listed(secrets)} of `{serializer.model.name}` "
                   f"({how}): list only the fields clients may read, or {hide}")  # fmt: skip
        self._report(meta, meta.assignment_lines.get(key, 0), meta.assignment_sources.get(key, ""), message)

    # Routes --------------------------------------------------------------------------

    def _route_function(self, route: Route, function: Function) -> None:
        if route.framework == "fastapi":
            declared = self._fastapi_response_model(route, function)
            if declared is not None:
                if declared:
                    self._report(function.file, function.facts.line, function.facts.source_line, declared)
                return
        for site in function.facts.returns:
            found = self._exposed(route, function, site, site.value, 0)
            if found is not None:
                model, how = found
                advice = _ADVICE.get(route.framework, _DEFAULT_ADVICE)
                what = how.format(model=model.name)
                message = f"{route.label} returns {what}, with {_listed(model.secrets)}: {advice}"
                self._report(function.file, site.line, site.source_line, message)

    def _fastapi_response_model(self, route: Route, function: Function) -> str | None:
        """None when the route declares no response model; "" when it filters the secrets out; else the problem."""
        decorator = next((d for d in function.facts.decorators if _is_route_decorator(d)), None)
        if not isinstance(decorator, Call):
            return ""  # registered some other way: authlint cannot see what filters it
        declared = decorator.arg("response_model")
        if declared is None:
            declared = function.facts.return_annotation
        if declared is None or isinstance(declared, Const) and declared.value is None or _unfiltered(declared):
            return None
        symbol = models.class_symbol(self.project, function.file, declared)
        model = models.model_info(self.project, symbol)
        if model is None:
            return ""
        kept = [f for f in model.secrets if f not in _strings(decorator.arg("response_model_exclude"))]
        included = decorator.arg("response_model_include")
        if included is not None:
            kept = [f for f in kept if f in _strings(included)]
        if not kept:
            return ""
        them = "them" if len(kept) > 1 else "it"
        exclude = ", ".join(f'"{k}"' for k in kept)
        return (f"{route.label} responds with `{written(declared)}`, which has {_listed(kept)}: declare a response "
                f"model without {them}, or add `response_model_exclude={{{exclude}}}`")  # fmt: skip

    def _exposed(self, route: Route, function: Function, site: ReturnSite, expr: Expr | None, depth: int):
        """(the model, how) when `expr` sends a whole row of a model with secrets."""
        if expr is None or depth > 6:
            return None
        if isinstance(expr, Seq):
            return next((f for i in expr.items if (f := self._exposed(route, function, site, i, depth + 1))), None)
        if isinstance(expr, Mapping):
            return next((f for _, v in expr.items if (f := self._exposed(route, function, site, v, depth + 1))), None)
        if isinstance(expr, Call) and _last(written(expr.func)) in _RESPONSES:
            first = expr.args[0] if expr.args else None
            body = next((v for k, v in expr.kwargs if k in _RESPONSE_BODY_KEYWORDS), first)
            return self._exposed(route, function, site, body, depth + 1)
        whole = _whole_record(expr)
        if whole is not None:
            row, how, method = whole
            symbol = self._row_class(route, function, site, row, depth)
            model = models.model_info(self.project, symbol)
            exposed = model is not None and model.kind == models.ORM and model.secrets
            return (model, how) if exposed and not self._lists_fields(symbol, method) else None
        if route.framework == "fastapi":  # FastAPI serializes whatever a route without a response model returns
            symbol = self._row_class(route, function, site, expr, depth)
            model = models.model_info(self.project, symbol)
            if model is not None and model.kind == models.ORM and model.secrets:
                return model, f"the `{{model}}` row `{written(expr)}` as it is"
        return None

    def _row_class(self, route: Route, function: Function, site: ReturnSite, expr: Expr, depth: int) -> Symbol:
        """The model class of the row `expr` holds: a parameter typed with it, an object created here, the rows of a
        query, what a helper says it returns (`-> User`), Django's `request.user`."""
        file, facts = function.file, function.facts
        if isinstance(expr, Name) and expr.scope == facts.qualname and depth < 8:
            param = facts.param(expr.id)
            if param is not None:
                return models.class_symbol(self.project, file, param.annotation)
            if expr.key in file.assignments:
                return self._assigned_class(route, function, site, expr.key, depth)
        if isinstance(expr, Attr) and expr.attr == "user" and route.framework == "django" and _is_request(expr.value):
            return External(_DJANGO_USER)  # Django's own user model, password hash included
        if isinstance(expr, Call):
            returned = self._returned_class(file, expr)
            if returned is None and _runs_query(expr):
                return self._loaded_at(file, facts, site.line)
            return returned or Unknown()
        return Unknown()

    def _assigned_class(self, route: Route, function: Function, site: ReturnSite, key: str, depth: int) -> Symbol:
        file, facts = function.file, function.facts
        value = file.assignments[key]
        if isinstance(value, Name):
            return self._row_class(route, function, site, value, depth + 1)
        returned = self._returned_class(file, value) if isinstance(value, Call) else None
        return returned or self._loaded_at(file, facts, *_statement_lines(function, key))

    def _returned_class(self, file: FileFacts, call: Call) -> Symbol | None:
        """The class a call makes (`User(...)`) or says it returns (`def get_user(...) -> User`)."""
        callee = self.project.callee(file, call)
        if isinstance(callee, Class):
            return callee
        if isinstance(callee, Function) and callee.facts.return_annotation is not None:
            returned = models.class_symbol(self.project, callee.file, callee.facts.return_annotation)
            return returned if isinstance(returned, Class) else None
        return None

    def _loaded_at(self, file: FileFacts, facts, line: int, end: int | None = None) -> Symbol:
        """The model whose rows the query run on `line` (up to `end`, for a statement over several lines) loads,
        as `facts.data_access` recorded it."""
        last = line if end is None else end - 1
        found = data_access.accesses(facts)
        access = next((a for a in found if line <= a.line <= last and a.model and a.operation in _ROWS), None)
        return models.named_class(self.project, file, access.model) if access is not None else Unknown()

    def _lists_fields(self, symbol: Symbol, method: str | None) -> bool:
        """Whether the model's own `to_dict()` returns a dict of chosen fields, none of them secret, or
        sqlalchemy-serializer's is told which (`serialize_only`, `serialize_rules`)."""
        if method and isinstance(symbol, Class) and any(
            isinstance(self.project.member(symbol, name), Value) for name in _SERIALIZER_MIXIN_OPTIONS
        ):
            return True
        function = models.method(self.project, symbol, method) if method else None
        if function is None or not function.facts.returns:
            return False
        keys: list[str] = []
        for site in function.facts.returns:
            if not isinstance(site.value, Mapping) or any(not isinstance(k, Const) for k, _ in site.value.items):
                return False
            keys += [str(k.value) for k, _ in site.value.items if isinstance(k, Const)]
        return not any(models.is_secret_field(k) for k in keys)

    # Reporting ---------------------------------------------------------------------------

    def _report(self, file: FileFacts, line: int, source_line: str, message: str) -> None:
        if not line or (file.path, line) in self._seen:
            return
        self._seen.add((file.path, line))
        column = len(source_line) - len(source_line.lstrip()) + 1
        self.report_at(file.path, line, column, source_line, message)


def _whole_record(expr: Expr) -> tuple[Expr, str, str | None] | None:
    """(the row, how it is written, the model method used) for `user.__dict__`, `vars(user)`, `user.to_dict()`..."""
    how = f"every field of the `{{model}}` row (`{written(expr)}`)"
    if isinstance(expr, Attr) and expr.attr == "__dict__":
        return expr.value, how, None
    if not isinstance(expr, Call) or any(k in _PICKING_KEYWORDS for k, _ in expr.kwargs):
        return None
    if isinstance(expr.func, Attr) and expr.func.attr in _WHOLE_METHODS and not expr.args:
        return expr.func.value, how, expr.func.attr
    position = _WHOLE_FUNCTIONS.get(_last(written(expr.func)))
    if position is not None and position < len(expr.args):
        return expr.args[position], how, None
    return None


def _statement_lines(function: Function, key: str) -> tuple[int, int]:
    """The first line of the assignment `key` in `function`, and the line of the statement recorded after it."""
    file = function.file
    line = file.assignment_lines.get(key, 0)
    prefix = function.facts.qualname + "."
    later = [n for k, n in file.assignment_lines.items() if k.startswith(prefix) and n > line]
    later += [site.line for site in function.facts.returns if site.line > line]
    return line, min(later, default=line + 1)


def _runs_query(expr: Call) -> bool:
    return isinstance(expr.func, Attr) and expr.func.attr in _ROW_METHODS


def _declared_how(serializer: models.ModelSerializer, them: str) -> str:
    if serializer.fields == "__all__":
        return '`fields = "__all__"`'
    if isinstance(serializer.fields, tuple):
        return "listed in `fields`"
    if serializer.exclude is not None:
        return f"`exclude` leaves {them} in"
    return "every column by default"


def _is_route_decorator(expr: Expr) -> bool:
    return isinstance(expr, Call) and isinstance(expr.func, Attr) and expr.func.attr in _ROUTE_DECORATORS


def _unfiltered(expr: Expr) -> bool:
    while isinstance(expr, Index) and expr.items and _last(written(expr.value)) in _WRAPPERS:
        expr = expr.items[0]
    target = expr.value if isinstance(expr, Index) else expr
    return _last(written(target)) in _UNFILTERED


def _is_request(expr: Expr) -> bool:
    """`request` or `self.request`."""
    if isinstance(expr, Name):
        return expr.id in ("request", "req")
    return isinstance(expr, Attr) and expr.attr == "request"


def _strings(expr: Expr | None) -> set[str]:
    if isinstance(expr, Seq):
        return {i.value for i in expr.items if isinstance(i, Const) and isinstance(i.value, str)}
    if isinstance(expr, Mapping):
        return {k.value for k, _ in expr.items if isinstance(k, Const) and isinstance(k.value, str)}
    return set()


def _listed(names, last: str = "and") -> str:
    """`a`, `b` and `c`."""
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {last} {quoted[-1]}"


def _last(text: str) -> str:
    return text.rsplit(".", 1)[-1]

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst

from authlint.facts import models, request_input
from authlint.facts.names import BUILTIN_NAMES, dotted_name
from authlint.gate import DICT_UNPACK, KWARGS_PARAMETER, KWARGS_UNPACK, CodeSignals
from authlint.model import Precision, Severity
from authlint.rule import FileRule

WEB_FRAMEWORKS = frozenset(
    {"flask", "quart", "werkzeug", "django", "rest_framework", "starlette", "fastapi", "aiohttp"}
)

RAW = "raw"  # a mapping whose keys the client chooses: the JSON body, `request.POST`, a `dict` body parameter
SCHEMA = "schema"  # a Pydantic/marshmallow object the body was validated into: its class decides the keys

# Methods that hand back a mapping's (or a schema's) keys and values as they are.
_DUMPS = frozenset({"dict", "model_dump", "to_dict", "copy", "items", "keys"})
# What every finding mentions: a name or literal of these, or a `**` (`User(**data)`, `{**data}`, `**kwargs`).
_GATE_NAMES = re.compile(r"setattr|__dict__|update|model_validate|parse_obj|__all__|fields|exclude")
_DOUBLE_STARS = (KWARGS_UNPACK, DICT_UNPACK, KWARGS_PARAMETER)
_PINNING_KEYWORDS = frozenset({"include", "exclude", "only"})
# Methods that validate a mapping into a schema object.
_PARSES = frozenset({"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate", "load", "loads"})
# Attributes of a DRF serializer or Django form holding the fields it declares, validated.
_VALIDATED = frozenset({"validated_data", "cleaned_data"})
# Type names that annotate a body as a plain mapping, not a schema.
_MAPPING_TYPES = frozenset({"Dict", "Any", "Mapping", "MutableMapping", "Json", "JSON", "JsonDict", "dict", "object"})
# Writes of a model through the ORM (Django managers, active-record classes and querysets).
_MANAGER_WRITES = frozenset(
    {"create", "get_or_create", "update_or_create", "update", "create_user", "create_superuser"}
)
_ACTIVE_RECORD_WRITES = frozenset({"create", "insert", "update", "get_or_create", "update_or_create"})
_QUERY_STEPS = frozenset({"objects", "query", "filter", "filter_by", "where", "exclude", "select", "all"})
_ROW_UPDATES = frozenset({"update_from_dict", "sqlmodel_update"})
_SQL_STATEMENTS = re.compile(r"^(sqlalchemy|sqlmodel)(\.[\w.]+)?\.(insert|update)$")
# Calls that store an object they are handed, and methods an object saves itself with.
_PERSISTS = frozenset(
    {"add", "add_all", "merge", "save", "persist", "insert", "insert_one", "put", "bulk_save_objects"}
)
_SAVES = frozenset({"save", "insert", "create", "put"})
# Containers whose membership says nothing about which fields a client may set.
_EVERY_ATTRIBUTE = re.compile(r"__table__|__mapper__|__dict__|__fields__|model_fields|_meta\b|columns|\bdir\(|\bvars\(")
_GENERIC_PRIVILEGED = "`role`, `is_admin` or `owner_id`"
_MAX_DEPTH = 10


@dataclass(frozen=True)
class _Data:
    """A mapping a write copies: where its keys come from."""

    kind: str  # RAW or SCHEMA
    origin: request_input.RequestInput | None
    schema: libcst.CSTNode | None = None  # the schema class as written, for SCHEMA

    def describe(self) -> str:
        if self.kind == SCHEMA and self.schema is not None:
            return f"every field of `{_code(self.schema)}`"
        return f"every key of {self.origin.describe()}" if self.origin is not None else "every key of the request"


class MassAssignment(FileRule):
    """A model is created or updated from every key of the request body, so clients can set fields they must not.

    ## What it does
    Flags writes that copy a mapping from the request into a model, field by field, with
    no list of the fields a client may set:

    - `User(**payload)`, `User(**request.json)`, `Item(**await request.json())` for an ORM
      model (defined in the file, or stored with `session.add(...)`/`.save()` in the
      same function), `Hero.model_validate(data)` (SQLModel);
    - `Item.objects.create(**request.data)`, `update_or_create(defaults=...)`,
      `Item.objects.filter(...).update(**data)` (Django), `await User.create(**data)`,
      `User.update(**data)` (Tortoise, Peewee: a model of the file or one imported from a
      `models` module), `db.query(User).filter(...).update(data)`,
      `update(User).values(**data)` (SQLAlchemy), `obj.update_from_dict(data)`,
      `obj.sqlmodel_update(data)`;
    - `obj.__dict__.update(data)` and `setattr` loops: `for k, v in data.items():
      setattr(user, k, v)`;
    - DRF `ModelSerializer`s and Django `ModelForm`s that let clients write a
      privileged field (`role`, `is_admin`, `is_staff`, `owner`, `user`, `is_active`...)
      of their model: through `fields = "__all__"` or an `exclude` list (when the file
      shows the model, or it is Django's user), or by listing it in `fields`, unless it is
      read-only (`read_only_fields`, `extra_kwargs`, `read_only=True`, `HiddenField`,
      `CurrentUserDefault()`); and `fields = "__all__"` over a model defined in another
      file, whose fields authlint cannot see (unless `read_only_fields` is set).

    The mapping comes from the request: Flask, Django, DRF, Starlette and aiohttp
    request data, FastAPI `dict` body parameters, through local names. A Pydantic
    body (`payload: UserUpdate`, `payload.model_dump()`) is flagged only when the file
    shows its class and it declares a privileged field or allows extra keys: a schema is
    itself a list of fields.

    Not flagged: explicit fields (`User(name=data["name"])`), `model_dump(include={...})`
    or `exclude={...}`, dicts built from named keys, comprehensions and loops that check
    each key against an allowlist (`if key in EDITABLE`), DRF `serializer.validated_data`
    and Django `form.cleaned_data`, serializers with explicit `fields` lists whose
    privileged fields are read-only.

    ## Why is this bad?
    The client chooses the keys. A request to update a profile that also sends
    `"is_admin": true`, `"role": "owner"` or `"owner_id": 1` grants itself privileges or
    takes over other users' objects, because the code writes whatever it receives. This is
    Broken Object Property Level Authorization, the third item of the OWASP API Security
    Top 10 (formerly Mass Assignment).

    ## Example
    ```python
    @app.patch("/me")
    @login_required
    def update_me():
        for key, value in request.get_json().items():
            setattr(current_user, key, value)
        db.session.commit()
        return {"ok": True}
    ```

    ## Use instead
    ```python
    EDITABLE = {"display_name", "bio"}

    @app.patch("/me")
    @login_required
    def update_me():
        for key, value in request.get_json().items():
            if key in EDITABLE:
                setattr(current_user, key, value)
        db.session.commit()
        return {"ok": True}
    ```

    ## References
    - OWASP API Security Top 10 2023, API3: Broken Object Property Level Authorization
    - OWASP Mass Assignment Cheat Sheet
    - Django REST framework, Serializers: Specifying read only fields
    - CWE-915: Improperly Controlled Modification of Dynamically-Determined Object Attributes
    """

    code = "AL304"
    name = "mass-assignment"
    severity = Severity.HIGH
    precision = Precision.MEDIUM
    owasp = ("API3:2023",)
    cwe = (915,)
    requires = WEB_FRAMEWORKS
    requires_text = re.compile(rf"\*\*|{_GATE_NAMES.pattern}")

    @classmethod
    def applies_to_code(cls, code: CodeSignals) -> bool:
        """The text gate on the code alone: `**` as the syntax it is, the rest as names or literals."""
        if not super().applies_to_code(code):
            return False
        return code.has_any(_DOUBLE_STARS) or code.mentions(pattern=_GATE_NAMES)

    # Writes in function bodies ---------------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        function = request_input.current_function(self.ctx)
        if function is None:
            return
        func = node.func
        if self.ctx.qualified_name(func) == "setattr":
            self._setattr(node, function)
        elif isinstance(func, libcst.Attribute):
            self._method_write(node, func, function)
        elif _is_class_name(func):
            self._constructor(node, function)

    def _constructor(self, node: libcst.Call, function: libcst.FunctionDef) -> None:
        """`User(**payload)`: an ORM model built from a whole mapping."""
        data = self._flagged([a.value for a in node.args if a.star == "**"], function)
        if data is None:
            return
        model = models.file_model(self.ctx, node.func)
        if model is not None and model.kind != models.ORM:
            return  # building a schema from the body is validating it
        if model is None and (self._defined_here(node.func) or not self._persisted(node, function)):
            return  # a dataclass or plain class of this file, or an object that is never stored
        self._report(node, data, model, f"fills a new `{_code(node.func)}` with {{data}}")

    def _method_write(self, node: libcst.Call, func: libcst.Attribute, function: libcst.FunctionDef) -> None:
        method, receiver = func.attr.value, func.value
        if method == "update" and _is_attribute_dict(self.ctx, receiver):
            self._write(node, _mapping_arguments(node), function, None, f"writes {{data}} into `{_code(receiver)}`")
        elif method in _MANAGER_WRITES and _chain_has(receiver, _QUERY_STEPS):  # Django, Tortoise, SQLAlchemy
            arguments = [*_mapping_arguments(node, positional=method == "update"), *_keyword(node, "defaults")]
            model = _chain_root(receiver)
            action = f"{_verb(method)} `{_code(model) if model else 'model'}` rows from {{data}}"
            self._write(node, arguments, function, model, action)
        elif method in _ACTIVE_RECORD_WRITES and _is_class_name(receiver) and self._is_model(receiver):
            arguments = _mapping_arguments(node, positional=method in ("insert", "update"))
            self._write(node, arguments, function, receiver, f"{_verb(method)} `{_code(receiver)}` rows from {{data}}")
        elif method == "values" and self._sql_statement(receiver) is not None:  # `update(User).values(**data)`
            statement = self._sql_statement(receiver)
            table = statement.args[0].value if statement and statement.args else None
            action = f"writes `{_code(table) if table else 'table'}` rows from {{data}}"
            self._write(node, _mapping_arguments(node), function, table, action)
        elif method in _ROW_UPDATES:  # `member = await Member.get(...)` then `member.update_from_dict(data)`
            row = _unawait(self.ctx.resolve(receiver) if isinstance(receiver, libcst.Name) else receiver)
            model = _chain_root(row) if row is not receiver else None
            self._write(node, _mapping_arguments(node), function, model, f"updates `{_code(receiver)}` from {{data}}")
        elif method in ("model_validate", "parse_obj") and _is_class_name(receiver):
            self._model_validate(node, receiver, function)

    def _model_validate(self, node: libcst.Call, receiver: libcst.CSTNode, function: libcst.FunctionDef) -> None:
        """`Hero.model_validate(data)`: a SQLModel table row built from a whole mapping."""
        data = self._flagged([a.value for a in node.args[:1] if not a.star], function)
        model = models.file_model(self.ctx, receiver)
        orm = model.kind == models.ORM if model is not None else self._persisted(node, function)
        if data is not None and orm:
            self._report(node, data, model, f"fills a new `{_code(receiver)}` with {{data}}")

    def _write(self, node, arguments, function, model_expr, action: str) -> None:
        data = self._flagged(arguments, function)
        if data is not None:
            model = models.file_model(self.ctx, model_expr) if model_expr is not None else None
            self._report(node, data, model, action)

    def _sql_statement(self, receiver: libcst.CSTNode) -> libcst.Call | None:
        """The `update(User)`/`insert(User)` call a `.values(...)` chain starts from."""
        node = receiver
        while isinstance(node, libcst.Call) and isinstance(node.func, libcst.Attribute):
            node = node.func.value
        if isinstance(node, libcst.Call) and _SQL_STATEMENTS.match(self.ctx.qualified_name(node.func) or ""):
            return node
        return None

    # setattr loops ---------------------------------------------------------------------

    def _setattr(self, node: libcst.Call, function: libcst.FunctionDef) -> None:
        """`for key, value in data.items(): setattr(obj, key, value)` with no check of `key`."""
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        if len(args) < 3 or not isinstance(args[1], libcst.Name):
            return
        key = args[1].value
        loop = self._loop_over(key)
        if loop is None or self._key_checked(loop.body, key):
            return
        iterable = _unawait(loop.iter)
        if isinstance(iterable, libcst.Call) and isinstance(iterable.func, libcst.Attribute) \
                and iterable.func.attr.value in ("items", "keys"):  # fmt: skip
            iterable = iterable.func.value
        elif isinstance(iterable, libcst.Call) and self.ctx.qualified_name(iterable.func) in BUILTIN_NAMES:
            return  # `zip(FIELDS, values)`, `enumerate(...)`: the keys are not the mapping's
        data = self._flagged([iterable], function)
        if data is not None:
            self._report(node, data, None, f"writes {{data}} onto `{_code(args[0])}`")

    def _loop_over(self, key: str) -> libcst.For | None:
        """The innermost loop of the current function whose target (or its first item) is `key`."""
        for statement in reversed(self.ctx.tracker.statements):
            if isinstance(statement, (libcst.FunctionDef, libcst.ClassDef)):
                return None
            if isinstance(statement, libcst.For):
                target = statement.target
                if isinstance(target, (libcst.Tuple, libcst.List)) and target.elements:
                    target = target.elements[0].value
                if isinstance(target, libcst.Name) and target.value == key:
                    return statement
        return None

    def _key_checked(self, body: libcst.CSTNode, key: str) -> bool:
        """`if key in EDITABLE`, `if key not in ("name", "bio"): continue`, `if key == "name"`."""
        for node in self.ctx.nodes_in(body):
            if not isinstance(node, libcst.Comparison) or len(node.comparisons) != 1:
                continue
            left, other = node.left, node.comparisons[0].comparator
            operator = node.comparisons[0].operator
            if not isinstance(operator, (libcst.In, libcst.NotIn, libcst.Equal, libcst.NotEqual)):
                continue
            if not (isinstance(left, libcst.Name) and left.value == key) or _EVERY_ATTRIBUTE.search(_code(other)):
                continue
            if not request_input.request_inputs(self.ctx, other):  # `key in request.json` checks nothing
                return True
        return False

    # Where a mapping's keys come from ------------------------------------------------

    def _flagged(self, expressions, function: libcst.FunctionDef) -> _Data | None:
        """The first mapping among `expressions` whose keys the client picks (or a schema that lets it)."""
        for expr in expressions:
            data = self._data(expr, function, 0)
            if data is not None and self._lets_client_choose(data):
                return data
        return None

    def _lets_client_choose(self, data: _Data) -> bool:
        if data.kind == RAW:
            return True
        schema = models.file_model(self.ctx, data.schema)
        return schema is not None and (bool(schema.privileged) or schema.extra_allowed)

    def _data(self, expr: libcst.CSTNode | None, function: libcst.FunctionDef, depth: int) -> _Data | None:
        expr = _unawait(expr)
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, libcst.Name):
            resolved = self.ctx.resolve(expr)
            if resolved is not None and resolved is not expr:
                return self._data(resolved, function, depth + 1)
            return self._parameter(expr, function)
        if isinstance(expr, libcst.Attribute):
            if expr.attr.value in _VALIDATED or expr.attr.value == "data" and self._built_object(expr.value):
                return None
            return self._request_data(expr, function)
        if isinstance(expr, libcst.Subscript):
            inner = self._data(expr.value, function, depth + 1)
            return inner if inner is not None and inner.kind == RAW else None
        if isinstance(expr, libcst.Call):
            return self._call_data(expr, function, depth)
        if isinstance(expr, libcst.Dict):  # named keys are pinned; a `**spread` brings its own
            spreads = [e.value for e in expr.elements if isinstance(e, libcst.StarredDictElement)]
            return self._worst(spreads, function, depth)
        if isinstance(expr, libcst.DictComp):
            return self._comprehension(expr, function, depth)
        if isinstance(expr, libcst.BooleanOperation):  # `data or {}`
            return self._worst([expr.left, expr.right], function, depth)
        return self._request_data(expr, function)

    def _call_data(self, call: libcst.Call, function: libcst.FunctionDef, depth: int) -> _Data | None:
        func = call.func
        if isinstance(func, libcst.Attribute) and func.attr.value in _DUMPS:
            if any(a.keyword is not None and a.keyword.value in _PINNING_KEYWORDS for a in call.args):
                return None  # `payload.model_dump(include={"name", "bio"})`
            return self._data(func.value, function, depth + 1)
        parses = isinstance(func, libcst.Attribute) and func.attr.value in _PARSES
        schema = self._schema_class(func.value) if parses else None  # type: ignore[union-attr]
        if schema is not None:  # `UserIn.model_validate(data)`, `UserSchema().load(data)`
            inner = self._worst([a.value for a in call.args[:1]], function, depth)
            return _Data(SCHEMA, inner.origin, schema) if inner is not None else None
        if self.ctx.qualified_name(func) in ("dict", "vars"):
            return self._worst([a.value for a in call.args if a.keyword is None], function, depth)
        if _is_class_name(func):  # `UserUpdate(**request.json)`: validated into a schema
            inner = self._worst([a.value for a in call.args if a.keyword is None], function, depth)
            return _Data(SCHEMA, inner.origin, func) if inner is not None else None
        return self._request_data(call, function)

    def _comprehension(self, expr: libcst.DictComp, function: libcst.FunctionDef, depth: int) -> _Data | None:
        """`{k: v for k, v in data.items() if k in ALLOWED}` keeps only allowed keys; without the check, all."""
        target = expr.for_in.target
        if isinstance(target, (libcst.Tuple, libcst.List)) and target.elements:
            target = target.elements[0].value
        key = target.value if isinstance(target, libcst.Name) else None
        if key is not None and any(self._key_checked(clause, key) for clause in expr.for_in.ifs):
            return None
        iterable = _unawait(expr.for_in.iter)
        if isinstance(iterable, libcst.Call) and isinstance(iterable.func, libcst.Attribute) \
                and iterable.func.attr.value in ("items", "keys"):  # fmt: skip
            iterable = iterable.func.value
        return self._data(iterable, function, depth + 1)

    def _worst(self, expressions, function: libcst.FunctionDef, depth: int) -> _Data | None:
        found = [d for d in (self._data(e, function, depth + 1) for e in expressions) if d is not None]
        return next((d for d in found if d.kind == RAW), found[0] if found else None)

    def _parameter(self, name: libcst.Name, function: libcst.FunctionDef) -> _Data | None:
        """A FastAPI body parameter: a schema when typed with a class, raw when typed `dict`."""
        for param in request_input.handler_params(self.ctx, function):
            if param.name != name.value:
                continue
            annotation = _core_type(param.node.annotation.annotation if param.node.annotation else None)
            if annotation is not None and _is_class_name(annotation) and _last(annotation) not in _MAPPING_TYPES:
                return _Data(SCHEMA, param.input, annotation)
            return _Data(RAW, param.input)
        return self._request_data(name, function)

    def _request_data(self, expr: libcst.CSTNode, function: libcst.FunctionDef) -> _Data | None:
        origins = request_input.request_inputs(self.ctx, expr, function)
        return _Data(RAW, origins[0]) if origins else None

    def _schema_class(self, expr: libcst.CSTNode) -> libcst.CSTNode | None:
        """`UserIn` in `UserIn.model_validate(...)`, or in `UserSchema().load(...)` / `schema.load(...)`."""
        expr = self.ctx.resolve(expr) if isinstance(expr, libcst.Name) else expr
        if isinstance(expr, libcst.Call):
            expr = expr.func
        return expr if _is_class_name(expr) else None

    def _built_object(self, expr: libcst.CSTNode) -> bool:
        """`form` in `form.data` where `form = ProfileForm(...)`: the fields it declares, not the request's."""
        value = self.ctx.resolve(expr) if isinstance(expr, libcst.Name) else expr
        return isinstance(value, libcst.Call) and _is_class_name(value.func)

    # Evidence that a class is a model ---------------------------------------------

    def _is_model(self, expr: libcst.CSTNode) -> bool:
        """`Member` in `Member.create(**data)`: a model of this file, or imported from a models module."""
        model = models.file_model(self.ctx, expr)
        if model is not None:
            return model.kind == models.ORM
        return models.is_model_module(self.ctx.qualified_name(expr))

    def _defined_here(self, expr: libcst.CSTNode) -> bool:
        _, facts = models.file_project(self.ctx)
        return isinstance(expr, libcst.Name) and expr.value in facts.classes

    def _persisted(self, node: libcst.Call, function: libcst.FunctionDef) -> bool:
        """Whether the object `node` builds is stored: `db.add(user)`, `session.add(User(...))`, `user.save()`."""
        holder = self._holder(node)
        for call in self.ctx.nodes_in(function):
            if not isinstance(call, libcst.Call) or not isinstance(call.func, libcst.Attribute):
                continue
            method = call.func.attr.value
            if method in _PERSISTS and any(_holds(a.value, node, holder) for a in call.args):
                return True
            if method in _SAVES and holder is not None and _is_name(call.func.value, holder):
                return True
        return False

    def _holder(self, node: libcst.Call) -> str | None:
        """The name the object is assigned to: `user` in `user = User(**data)`."""
        statement = self.ctx.tracker.statements[-1] if self.ctx.tracker.statements else None
        for small in getattr(statement, "body", ()) if isinstance(statement, libcst.SimpleStatementLine) else ():
            if isinstance(small, (libcst.Assign, libcst.AnnAssign)) and _unawait(small.value) is node:
                targets = [t.target for t in small.targets] if isinstance(small, libcst.Assign) else [small.target]
                if len(targets) == 1 and isinstance(targets[0], libcst.Name):
                    return targets[0].value
        return None

    # Serializers and model forms -----------------------------------------------------

    def visit_ClassDef(self, node: libcst.ClassDef) -> None:
        if len(self.ctx.resolver.scopes) != 2:  # module-level classes only
            return
        cls = models.file_class(self.ctx, node)
        project, _ = models.file_project(self.ctx)
        serializer = models.model_serializer(project, cls) if cls is not None else None
        if serializer is None or serializer.kind == models.AUTO_SCHEMA:
            return
        message = _serializer_problem(serializer)
        if message is not None:
            self.report(_meta_statement(node, ("fields", "exclude")) or node.name, message)

    # Reporting -------------------------------------------------------------------------

    def _report(self, node: libcst.Call, data: _Data, model: models.ModelInfo | None, action: str) -> None:
        written = f"`{_code(node)}` {action.format(data=data.describe())}"
        if data.kind == SCHEMA:
            schema = models.file_model(self.ctx, data.schema)
            lets = [f"set {_listed(schema.privileged, 'and')}"] if schema is not None and schema.privileged else []
            if schema is not None and schema.extra_allowed:
                lets.append('add any key it likes (`extra="allow"`)')
            self.report(node, f"{written}, and that schema lets the client {' and '.join(lets)}: keep privileged "
                        "fields out of client schemas, or copy only the fields clients may set "
                        "(`.model_dump(include={...})`, explicit keyword arguments)")  # fmt: skip
            return
        privileged = _listed(model.privileged, "or") if model is not None and model.privileged else _GENERIC_PRIVILEGED
        self.report(node, f"{written}: a client can add keys such as {privileged} and set fields it must not; copy "
                    "only the fields clients may set (explicit keyword arguments, or a schema/serializer that lists "
                    "them) or check each key against an allowlist")  # fmt: skip


def _serializer_problem(serializer: models.ModelSerializer) -> str | None:
    drf = serializer.kind == models.DRF_SERIALIZER
    kind, who = ("serializer", "clients") if drf else ("form", "users")
    model = f"`{serializer.model_written}`" if serializer.model_written else "its model"
    fix = ("list the fields clients may set in `fields` and mark the others `read_only_fields`" if drf
           else "list only the fields users may edit in `fields`")  # fmt: skip
    writable = serializer.writable()
    if writable is None:
        if serializer.fields != "__all__" or serializer.read_only:
            return None
        return (f"{kind} `{serializer.name}` makes every field of {model} writable (`fields = \"__all__\"`), owner "
                f"and role fields included, and any field the model gains later: {fix}")  # fmt: skip
    privileged = [f for f in writable if models.is_privileged_field(f)]
    if not privileged:
        return None
    them = "them" if len(privileged) > 1 else "it"
    if serializer.fields == "__all__":
        how = f"`fields = \"__all__\"` over {model}"
    elif serializer.exclude is not None:
        how = f"`exclude` leaves {them} in"
    else:
        how = "listed in `fields`"
    if drf:
        fix = f"make {them} read-only (`read_only_fields`) and set {them} in the view (`serializer.save(owner=...)`)"
    else:
        fix = f"list only the fields users may edit in `fields` and set {them} in the view"
    return f"{kind} `{serializer.name}` lets {who} set {_listed(privileged)} ({how}): {fix}"


def _meta_statement(node: libcst.ClassDef, names: tuple[str, ...]) -> libcst.CSTNode | None:
    """The `fields = ...` (or `exclude = ...`) statement of the class's own `Meta`."""
    for stmt in node.body.body if isinstance(node.body, libcst.IndentedBlock) else ():
        if not isinstance(stmt, libcst.ClassDef) or stmt.name.value != "Meta":
            continue
        for line in stmt.body.body if isinstance(stmt.body, libcst.IndentedBlock) else ():
            for small in line.body if isinstance(line, libcst.SimpleStatementLine) else ():
                if isinstance(small, libcst.Assign) and any(
                    isinstance(t.target, libcst.Name) and t.target.value in names for t in small.targets
                ):
                    return small
    return None


# Small helpers -----------------------------------------------------------------------


def _mapping_arguments(node: libcst.Call, positional: bool = True) -> list[libcst.CSTNode]:
    """`**data` arguments, and the first positional one (`update(data)`, `values(data)`)."""
    found = [a.value for a in node.args if a.star == "**"]
    if positional and node.args and node.args[0].keyword is None and not node.args[0].star:
        found.append(node.args[0].value)
    return found


def _keyword(node: libcst.Call, name: str) -> list[libcst.CSTNode]:
    return [a.value for a in node.args if a.keyword is not None and a.keyword.value == name]


def _is_attribute_dict(ctx, expr: libcst.CSTNode) -> bool:
    """`obj.__dict__` or `vars(obj)`."""
    if isinstance(expr, libcst.Attribute):
        return expr.attr.value == "__dict__"
    return isinstance(expr, libcst.Call) and ctx.qualified_name(expr.func) == "vars"


def _chain_has(expr: libcst.CSTNode, steps: frozenset[str]) -> bool:
    """Whether a method chain (`Item.objects.filter(...)`) goes through one of `steps`."""
    for _ in range(_MAX_DEPTH):
        if isinstance(expr, libcst.Call):
            expr = expr.func
        elif isinstance(expr, libcst.Attribute):
            if expr.attr.value in steps:
                return True
            expr = expr.value
        else:
            return False
    return False


def _chain_root(expr: libcst.CSTNode) -> libcst.CSTNode | None:
    """`Item` in `Item.objects.filter(...)`, `User` in `db.query(User).filter(...)`."""
    for _ in range(_MAX_DEPTH):
        if isinstance(expr, libcst.Call):
            if isinstance(expr.func, libcst.Attribute) and expr.func.attr.value == "query" and expr.args:
                return expr.args[0].value
            expr = expr.func
        elif isinstance(expr, libcst.Attribute):
            if expr.attr.value in ("objects", "query") and _is_class_name(expr.value):
                return expr.value
            expr = expr.value
        else:
            break
    return expr if _is_class_name(expr) else None


def _verb(method: str) -> str:
    return "updates" if method == "update" else "creates"


def _core_type(annotation: libcst.CSTNode | None) -> libcst.CSTNode | None:
    """`UserUpdate` in `UserUpdate`, `Optional[UserUpdate]`, `Annotated[UserUpdate, Body()]`, `UserUpdate | None`."""
    for _ in range(4):
        if isinstance(annotation, libcst.Subscript) and _last(annotation.value) in ("Optional", "Annotated"):
            first = annotation.slice[0].slice
            annotation = first.value if isinstance(first, libcst.Index) else None
        elif isinstance(annotation, libcst.BinaryOperation) and isinstance(annotation.operator, libcst.BitOr):
            annotation = annotation.left
        else:
            break
    return annotation


def _is_class_name(expr: libcst.CSTNode | None) -> bool:
    last = _last(expr) if expr is not None else ""
    return bool(last) and last[0].isupper() and not last.isupper()


def _is_name(expr: libcst.CSTNode, name: str) -> bool:
    return isinstance(expr, libcst.Name) and expr.value == name


def _holds(value: libcst.CSTNode, node: libcst.CSTNode, holder: str | None) -> bool:
    value = _unawait(value)
    if value is node or holder is not None and _is_name(value, holder):
        return True
    return isinstance(value, (libcst.List, libcst.Tuple)) and any(_holds(e.value, node, holder) for e in value.elements)


def _unawait(expr):
    while isinstance(expr, libcst.Await):
        expr = expr.expression
    return expr


def _last(expr: libcst.CSTNode) -> str:
    return (dotted_name(expr) or "").rsplit(".", 1)[-1]


def _listed(names, last: str = "and") -> str:
    """`a`, `b` and `c`."""
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {last} {quoted[-1]}"


def _code(node: libcst.CSTNode) -> str:
    text = " ".join(libcst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 80 else text[:77] + "..."

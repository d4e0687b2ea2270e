"""Models: which classes are ORM models or input schemas, and which of their fields are secret or privileged.

Rules about mass assignment and data exposure ask the same questions of a class, wherever
it is defined: is `User` a database model (SQLAlchemy declarative `Base`/`DeclarativeBase`,
Flask-SQLAlchemy `db.Model`, Django `models.Model`, SQLModel with `table=True`, Tortoise,
Peewee, MongoEngine, Beanie, ormar, Pony) or a schema that validates input (Pydantic
`BaseModel`, SQLModel without `table=True`, Django Ninja `Schema`)? Which fields does it
have, with its bases' and annotation-only ones (`hashed_password: Mapped[str]`)? Which of
them are secrets (`password_hash`, `api_token`: named so by `facts.credentials`), and which
are privileged: authorization, ownership or account state a client must never set itself
(`role`, `is_admin`, `owner_id`, `is_active`)?

It also reads the `Meta` of DRF `ModelSerializer`s, Django `ModelForm`s and
marshmallow-sqlalchemy auto schemas: the model, `fields`/`exclude`, and which fields are
read-only or write-only (`read_only_fields`, `extra_kwargs`, `load_only`, declared fields).

Everything works over a `Project` (the link phase's, across files). File rules get the
same answers for their own file's classes from `file_project(ctx)`: a one-file Project
built from the module's top-level statements and class bodies (no function bodies).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import libcst

from authlint.facts import credentials
from authlint.facts.expr import Attr, Call, Const, Expr, Index, Mapping, Name, Opaque, Ref, Seq, Snapshotter, written
from authlint.facts.file_facts import ClassFacts, FileFacts, module_name
from authlint.project import Class, External, Function, Project, Symbol, Unknown, Value

if TYPE_CHECKING:
    from authlint.context import FileContext

ORM = "ORM model"
SCHEMA = "schema"

# Serializer kinds.
DRF_SERIALIZER = "DRF ModelSerializer"
MODEL_FORM = "Django ModelForm"
AUTO_SCHEMA = "marshmallow auto schema"

# What a base class denotes outside the project, spelled like `FileContext.qualified_name`:
# an imported class, an attribute of an object a call made (`db.Model` with
# `db = SQLAlchemy()`), or a value a call made (`Base = declarative_base()`).
_ORM_BASES = frozenset({
    "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta", "sqlalchemy.orm.decl_api.DeclarativeBase",
    "sqlalchemy.orm.declarative_base()", "sqlalchemy.ext.declarative.declarative_base()",
    "sqlalchemy.orm.decl_api.declarative_base()",
    "flask_sqlalchemy.SQLAlchemy().Model", "flask_sqlalchemy.extension.SQLAlchemy().Model",
    "django.db.models.Model", "django.db.models.base.Model",
    "django.contrib.auth.models.AbstractUser", "django.contrib.auth.models.AbstractBaseUser",
    "django.contrib.auth.base_user.AbstractBaseUser", "django.contrib.auth.models.PermissionsMixin",
    "django.contrib.auth.models.User",
    "tortoise.models.Model", "tortoise.Model", "peewee.Model", "ormar.Model", "pony.orm.Database().Entity",
    "mongoengine.Document", "mongoengine.DynamicDocument", "mongoengine.document.Document", "beanie.Document",
    "fastapi_users_db_sqlalchemy.SQLAlchemyBaseUserTable", "fastapi_users_db_sqlalchemy.SQLAlchemyBaseUserTableUUID",
})  # fmt: skip
_SQLMODEL = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})
_SCHEMA_BASES = frozenset({
    "pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.v1.BaseModel", "ninja.Schema", "ninja.schema.Schema",
})  # fmt: skip
# Bases that add no fields: a class built on them alone has only its own.
_PLAIN_BASES = frozenset({"object", "typing.Generic", "abc.ABC", "enum.Enum", "typing.Protocol"})

# Models of libraries, with their fields.
_DJANGO_USER_FIELDS = (
    "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
    "is_active", "date_joined", "groups", "user_permissions",
)  # fmt: skip
_FASTAPI_USERS_FIELDS = ("id", "email", "hashed_password", "is_active", "is_superuser", "is_verified")
KNOWN_MODEL_FIELDS: dict[str, tuple[str, ...]] = {
    "django.contrib.auth.models.User": _DJANGO_USER_FIELDS,
    "django.contrib.auth.models.AbstractUser": _DJANGO_USER_FIELDS,
    "django.contrib.auth.get_user_model()": _DJANGO_USER_FIELDS,
    "django.contrib.auth.models.AbstractBaseUser": ("password", "last_login", "is_active"),
    "django.contrib.auth.base_user.AbstractBaseUser": ("password", "last_login", "is_active"),
    "django.contrib.auth.models.PermissionsMixin": ("is_superuser", "groups", "user_permissions"),
    "fastapi_users_db_sqlalchemy.SQLAlchemyBaseUserTable": _FASTAPI_USERS_FIELDS,
    "fastapi_users_db_sqlalchemy.SQLAlchemyBaseUserTableUUID": _FASTAPI_USERS_FIELDS,
}

_SERIALIZER_BASES = {
    "rest_framework.serializers.ModelSerializer": DRF_SERIALIZER,
    "rest_framework.serializers.HyperlinkedModelSerializer": DRF_SERIALIZER,
    "django.forms.ModelForm": MODEL_FORM,
    "django.forms.models.ModelForm": MODEL_FORM,
    "marshmallow_sqlalchemy.SQLAlchemyAutoSchema": AUTO_SCHEMA,
    "marshmallow_sqlalchemy.schema.SQLAlchemyAutoSchema": AUTO_SCHEMA,
    "marshmallow_sqlalchemy.ModelSchema": AUTO_SCHEMA,
    "flask_marshmallow.Marshmallow().SQLAlchemyAutoSchema": AUTO_SCHEMA,
    "flask_marshmallow.sqla.SQLAlchemyAutoSchema": AUTO_SCHEMA,
}
# Declared serializer fields that clients cannot write.
_READ_ONLY_FIELD_CLASSES = frozenset({"ReadOnlyField", "HiddenField", "SerializerMethodField"})

# Class-level names that are configuration, managers or metadata, never columns.
_NOT_FIELDS = frozenset({
    "Meta", "Config", "model_config", "objects", "query", "query_class", "metadata", "registry", "Settings",
})  # fmt: skip
# Wrappers whose first item is the class a value holds: `list[UserOut]`, `Optional[User]`, `Annotated[User, ...]`.
_CONTAINERS = frozenset({
    "List", "list", "Sequence", "Iterable", "Optional", "Set", "set", "Tuple", "tuple", "FrozenSet", "frozenset",
    "Annotated", "Union", "Page", "LimitOffsetPage", "Mapped", "Type", "type",
})  # fmt: skip
_MAX_DEPTH = 12

# Privileged fields: who the caller is, what they may do, whose a row is, and whether the account is trusted.
_PRIVILEGED_NAMES = frozenset({
    "role", "roles", "is_admin", "admin", "is_superuser", "superuser", "is_staff", "staff", "is_moderator",
    "permissions", "user_permissions", "groups", "scopes", "privileges", "access_level", "permission_level",
    "is_active", "is_verified", "verified", "email_verified", "is_email_verified", "is_approved", "approved",
    "is_banned", "banned", "owner", "owner_id", "user", "user_id", "author", "author_id", "creator", "creator_id",
    "created_by", "created_by_id", "tenant", "tenant_id", "organization", "organization_id", "org_id", "account_id",
})  # fmt: skip
# Last words that make any name privileged: `is_org_admin`, `account_role`, `extra_permissions`.
_PRIVILEGED_LAST_WORDS = frozenset({"admin", "role", "roles", "superuser", "permissions"})
# Credential kinds that are no secret of the row: a document's `signature` is its text or image.
_NOT_SECRET_KINDS = frozenset({credentials.SIGNATURE, credentials.HMAC_DIGEST})


# Modules that hold models: `from .models import User`, `from app.db.tables import Account`.
# Top-level modules a file defining models or schemas imports: project rules that need
# the models of files no adapter cares about gate their facts on these.
MODEL_LIBRARIES = frozenset({
    "sqlalchemy", "flask_sqlalchemy", "sqlmodel", "django", "tortoise", "peewee", "mongoengine", "beanie",
    "ormar", "pony", "pydantic", "marshmallow", "rest_framework",
})  # fmt: skip

_MODEL_MODULE_WORDS = frozenset({"models", "model", "entities", "entity", "orm", "tables"})


def is_model_module(qualified: str | None) -> bool:
    """Whether an imported name comes from a module named for models (`app.models.User`, `.entities.Account`)."""
    parts = (qualified or "").lstrip(".").split(".")[:-1]
    return any(part in _MODEL_MODULE_WORDS for part in parts)


# Fields ---------------------------------------------------------------------------


def is_secret_field(name: str) -> bool:
    """`password`, `hashed_password`, `api_key`, `reset_token`, `otp_secret`, `salt`: never part of a response."""
    kind = credentials.credential_kind(name)
    return kind is not None and kind not in _NOT_SECRET_KINDS


def is_privileged_field(name: str) -> bool:
    """`role`, `is_admin`, `is_staff`, `owner_id`, `user`, `is_active`: never set from what a client sends."""
    normalized = credentials.normalize_name(name)
    return normalized in _PRIVILEGED_NAMES or normalized.split("_")[-1] in _PRIVILEGED_LAST_WORDS


@dataclass(frozen=True)
class ModelInfo:
    """What authlint knows of a model or schema class."""

    name: str
    kind: str  # ORM or SCHEMA
    fields: tuple[str, ...]
    extra_allowed: bool = False  # a schema that keeps keys it does not declare
    complete: bool = True  # False when a base class's fields are unknown

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if is_secret_field(f))

    @property
    def privileged(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if is_privileged_field(f))


@dataclass(frozen=True)
class _Shape:
    """A class's own and inherited fields, and what its bases make it (None: neither model nor schema)."""

    kind: str | None
    fields: tuple[str, ...]
    extra_allowed: bool
    complete: bool
    sqlmodel: bool  # SQLModel lineage: a model with `table=True`, a schema without


# Classes of the project -------------------------------------------------------------

_CACHES: weakref.WeakKeyDictionary[Project, dict[str, _Shape | None]] = weakref.WeakKeyDictionary()


def model_info(project: Project, symbol: Symbol) -> ModelInfo | None:
    """The model or schema a symbol denotes: a class of the project, or a library's user model."""
    if isinstance(symbol, Class):
        shape = _shape(project, symbol, 0)
        if shape is None or shape.kind is None:
            return None
        return ModelInfo(symbol.facts.name, shape.kind, shape.fields, shape.extra_allowed, shape.complete)
    name = _external_name(project, symbol)
    if name in KNOWN_MODEL_FIELDS:
        return ModelInfo(_short(name), ORM, KNOWN_MODEL_FIELDS[name])
    return None


def class_symbol(project: Project, file: FileFacts, expr: Expr | None, depth: int = 0) -> Symbol:
    """The class an annotation or reference names: `list[UserOut]` -> UserOut, `get_user_model()` -> Django's
    user, `CurrentUser` -> User for `CurrentUser = Annotated[User, Depends(...)]` in another module."""
    while isinstance(expr, Index) and expr.items and _last(written(expr.value)) in _CONTAINERS:
        expr = next((i for i in expr.items if not (isinstance(i, Const) and i.value is None)), expr.items[0])
    if isinstance(expr, Call):
        callee = project.callee_name(file, expr)
        return External(f"{callee}()") if callee else Unknown(written(expr))
    symbol = project.resolve_value(file, expr)
    if isinstance(symbol, Value) and isinstance(symbol.expr, (Index, Call)) and depth < _MAX_DEPTH:
        return class_symbol(project, symbol.file, symbol.expr, depth + 1)  # an alias: `CurrentUser = Annotated[...]`
    return symbol


def _shape(project: Project, cls: Class, depth: int) -> _Shape | None:
    cache = _CACHES.setdefault(project, {})
    key = cls.qualified + "@" + cls.file.path
    if key in cache:
        return cache[key]
    cache[key] = None  # a class that inherits from itself has no shape
    if depth > _MAX_DEPTH:
        return None
    shape = _compute_shape(project, cls, depth)
    cache[key] = shape
    return shape


def _compute_shape(project: Project, cls: Class, depth: int) -> _Shape:
    kind: str | None = None
    fields: list[str] = []
    extra, complete, sqlmodel = False, True, False
    for base in cls.facts.bases:
        base_expr = base.value if isinstance(base, Index) else base
        symbol = project.resolve_value(cls.file, base_expr)
        if isinstance(symbol, Class):
            inherited = _shape(project, symbol, depth + 1)
            if inherited is None:
                complete = False
                continue
            kind = kind or inherited.kind
            fields += inherited.fields
            extra |= inherited.extra_allowed
            complete &= inherited.complete
            sqlmodel |= inherited.sqlmodel
            continue
        name = _base_name(project, cls.file, base_expr, symbol)
        base_kind = _base_kind(name)
        if name in _SQLMODEL:
            sqlmodel = True
        kind = kind or base_kind
        fields += KNOWN_MODEL_FIELDS.get(name or "", ())
        if base_kind is None and name not in _PLAIN_BASES:
            complete = False
    if sqlmodel and kind != ORM:  # `class Hero(HeroBase, table=True)` is a table; HeroBase and HeroCreate are schemas
        kind = ORM if _true(dict(cls.facts.keywords).get("table")) else SCHEMA
    fields += [f for f in own_fields(cls.facts) if f not in fields]
    extra |= _allows_extra(cls.file, cls.facts)
    return _Shape(kind, tuple(dict.fromkeys(fields)), extra, complete, sqlmodel)


def own_fields(facts: ClassFacts) -> list[str]:
    """The fields a class body declares: annotated names and class attributes, not configuration or managers."""
    names = [*facts.annotations, *(n for n in facts.attributes if n not in facts.annotations)]
    return [
        n for n in names
        if not n.startswith("_") and n not in _NOT_FIELDS and not _is_class_var(facts.annotations.get(n))
    ]  # fmt: skip


def _is_class_var(annotation: Expr | None) -> bool:
    target = annotation.value if isinstance(annotation, Index) else annotation
    return target is not None and _last(written(target)) == "ClassVar"


def _allows_extra(file: FileFacts, facts: ClassFacts) -> bool:
    """`model_config = ConfigDict(extra="allow")`, `class Config: extra = Extra.allow`, `class M(BaseModel, extra="allow")`."""
    candidates: list[Expr | None] = [dict(facts.keywords).get("extra")]
    config = facts.attributes.get("model_config")
    if isinstance(config, Call):
        candidates.append(config.arg("extra"))
    elif isinstance(config, Mapping):
        candidates.append(config.get("extra"))
    inner = file.classes.get(f"{facts.qualname}.Config")
    if inner is not None:
        candidates.append(inner.attributes.get("extra"))
    return any(_names_allow(c) for c in candidates)


def _names_allow(expr: Expr | None) -> bool:
    return (isinstance(expr, Const) and expr.value == "allow") or (isinstance(expr, Attr) and expr.attr == "allow")


def _base_name(project: Project, file: FileFacts, expr: Expr, symbol: Symbol) -> str | None:
    """How a base outside the project is spelled: `django.db.models.Model`, `flask_sqlalchemy.SQLAlchemy().Model`."""
    name = _external_name(project, symbol)
    if name is not None:
        return name
    if isinstance(expr, Attr):  # `db.Model`: the attribute of an object a call made
        owner = project.resolve_value(file, expr.value)
        owner_name = _external_name(project, owner)
        return f"{owner_name}.{expr.attr}" if owner_name else None
    return None


def _external_name(project: Project, symbol: Symbol) -> str | None:
    if isinstance(symbol, External):
        return symbol.name
    if isinstance(symbol, Value) and isinstance(symbol.expr, Call):
        callee = project.callee_name(symbol.file, symbol.expr)
        return f"{callee}()" if callee else None
    if isinstance(symbol, Unknown):
        return symbol.qualified
    return None


def _base_kind(name: str | None) -> str | None:
    if name is None:
        return None
    if name in _ORM_BASES:
        return ORM
    if name in _SCHEMA_BASES or name in _SQLMODEL:
        return SCHEMA
    # A declarative base or `db` object in a module authlint did not read: `from .database import Base`.
    parts = name.split(".")
    if parts[-1] in ("Base", "DeclarativeBase") or (parts[-1] == "Model" and len(parts) > 1 and parts[-2] in ("db", "database")):
        return ORM
    return None


# Serializers, model forms and auto schemas --------------------------------------------


@dataclass(frozen=True)
class ModelSerializer:
    """A class that reads and writes a model's fields as its `Meta` declares."""

    kind: str  # DRF_SERIALIZER, MODEL_FORM or AUTO_SCHEMA
    name: str
    model: ModelInfo | None  # None: authlint cannot see the model's fields
    model_written: str  # `User`, `get_user_model()`
    fields: str | tuple[str, ...] | None  # "__all__", the names listed, or None when not given or not literal
    exclude: tuple[str, ...] | None
    read_only: frozenset[str]
    write_only: frozenset[str]
    declared: tuple[str, ...]  # fields declared on the class itself
    meta: Class  # the Meta class, for the lines of `fields`, `exclude` and `model`

    def included(self) -> tuple[str, ...] | None:
        """The fields it handles; None when that depends on model fields authlint cannot see."""
        if isinstance(self.fields, tuple):
            return self.fields
        if self.fields == "__all__" or self.fields is None and (self.exclude is not None or self.kind == AUTO_SCHEMA):
            if self.model is None:
                return None
            excluded = set(self.exclude or ())
            return tuple(f for f in dict.fromkeys((*self.model.fields, *self.declared)) if f not in excluded)
        return None

    def writable(self) -> tuple[str, ...] | None:
        included = self.included()
        return None if included is None else tuple(f for f in included if f not in self.read_only)

    def readable(self) -> tuple[str, ...] | None:
        included = self.included()
        return None if included is None else tuple(f for f in included if f not in self.write_only)

    def line_key(self, *attributes: str) -> str | None:
        """The assignment key of the first `Meta` attribute given (`UserSerializer.Meta.fields`)."""
        for attribute in attributes:
            if attribute in self.meta.facts.attributes:
                return f"{self.meta.facts.qualname}.{attribute}"
        return None


def serializer_kind(project: Project, cls: Class) -> str | None:
    for base in project.ancestors(cls):
        name = _external_name(project, base)
        if name in _SERIALIZER_BASES:
            return _SERIALIZER_BASES[name]
    for base_expr in cls.facts.bases:  # `ma.SQLAlchemyAutoSchema` with `ma = Marshmallow(app)`
        base_expr = base_expr.value if isinstance(base_expr, Index) else base_expr
        name = _base_name(project, cls.file, base_expr, project.resolve_value(cls.file, base_expr))
        if name in _SERIALIZER_BASES:
            return _SERIALIZER_BASES[name]
    return None


def model_serializer(project: Project, cls: Class) -> ModelSerializer | None:
    """The `Meta` of a DRF ModelSerializer, Django ModelForm or marshmallow auto schema, read as far as it is literal."""
    kind = serializer_kind(project, cls)
    meta_class = _meta(project, cls) if kind else None
    if kind is None or meta_class is None:
        return None
    meta = _meta_attributes(project, meta_class)
    file = meta_class.file
    model_expr = meta.get("model")
    model = model_info(project, class_symbol(project, file, model_expr)) if model_expr is not None else None
    read_only, write_only = _meta_access(meta, kind)
    declared_read, declared_write = _declared_access(cls.facts)
    fields = meta.get("fields")
    exclude = meta.get("exclude")
    return ModelSerializer(
        kind=kind,
        name=cls.facts.name,
        model=model if model is not None and model.kind == ORM else None,
        model_written=written(model_expr) if model_expr is not None else "",
        fields="__all__" if isinstance(fields, Const) and fields.value == "__all__" else _names(fields),
        exclude=_names(exclude),
        read_only=read_only | declared_read,
        write_only=write_only | declared_write,
        declared=tuple(n for n, v in cls.facts.attributes.items() if isinstance(v, Call) and not n.startswith("_")),
        meta=meta_class,
    )


def _meta(project: Project, cls: Class, depth: int = 0) -> Class | None:
    """The class's `Meta`, or the one it inherits from a serializer of the project."""
    facts = cls.file.classes.get(f"{cls.facts.qualname}.Meta")
    if facts is not None:
        return Class(cls.file, facts)
    if depth > _MAX_DEPTH:
        return None
    for base in project.base_classes(cls):
        if isinstance(base, Class):
            found = _meta(project, base, depth + 1)
            if found is not None:
                return found
    return None


def _meta_attributes(project: Project, meta: Class) -> dict[str, Expr]:
    """`Meta`'s attributes over those of the `Meta` it extends (`class Meta(BaseSerializer.Meta)`)."""
    attributes: dict[str, Expr] = {}
    for base in project.base_classes(meta):
        if isinstance(base, Class):
            attributes.update(base.facts.attributes)
    attributes.update(meta.facts.attributes)
    return attributes


def _meta_access(meta: dict[str, Expr], kind: str) -> tuple[frozenset[str], frozenset[str]]:
    """Read-only and write-only fields `Meta` names: `read_only_fields`, `extra_kwargs`, `load_only`/`dump_only`."""
    read_only = set(_names(meta.get("read_only_fields")) or ())
    write_only = set()
    if kind == AUTO_SCHEMA:
        write_only |= set(_names(meta.get("load_only")) or ())
        read_only |= set(_names(meta.get("dump_only")) or ())
    extra = meta.get("extra_kwargs")
    if isinstance(extra, Mapping):
        for key, options in extra.items:
            if isinstance(key, Const) and isinstance(key.value, str) and isinstance(options, Mapping):
                if _true(options.get("read_only")):
                    read_only.add(key.value)
                if _true(options.get("write_only")):
                    write_only.add(key.value)
    return frozenset(read_only), frozenset(write_only)


def _declared_access(facts: ClassFacts) -> tuple[frozenset[str], frozenset[str]]:
    """Fields declared on the class: `owner = serializers.ReadOnlyField()`, `password = CharField(write_only=True)`."""
    read_only, write_only = set(), set()
    for name, value in facts.attributes.items():
        if not isinstance(value, Call):
            continue
        default = value.arg("default")
        if (
            _last(written(value.func)) in _READ_ONLY_FIELD_CLASSES
            or _true(value.arg("read_only")) or _true(value.arg("dump_only")) or _true(value.arg("disabled"))
            or isinstance(default, Call) and _last(written(default.func)) == "CurrentUserDefault"
        ):  # fmt: skip
            read_only.add(name)
        if _true(value.arg("write_only")) or _true(value.arg("load_only")):
            write_only.add(name)
    return frozenset(read_only), frozenset(write_only)


def _names(expr: Expr | None) -> tuple[str, ...] | None:
    """The strings of a literal list or tuple of field names; None when it is not one."""
    if not isinstance(expr, Seq):
        return None
    names = [i.value for i in expr.items if isinstance(i, Const) and isinstance(i.value, str)]
    return tuple(names) if len(names) == len(expr.items) else None


def _true(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and expr.value is True


def _last(text: str) -> str:
    return text.rsplit(".", 1)[-1]


def _short(name: str) -> str:
    return _last(name.removesuffix("()")) if not name.endswith("get_user_model()") else "User"


# Names in the link phase -----------------------------------------------------------


def named_class(project: Project, file: FileFacts, dotted: str) -> Symbol:
    """The class a dotted name written at module level of `file` denotes: `User`, `models.User`
    (as `facts.data_access` records models)."""
    parts = dotted.split(".")
    if not dotted or not all(p.isidentifier() for p in parts):
        return Unknown(dotted)
    expr: Expr = Name(parts[0])
    for part in parts[1:]:
        expr = Attr(expr, part)
    return class_symbol(project, file, expr)


def project_classes(project: Project) -> Iterator[Class]:
    """Every class of the project (nested ones included)."""
    for file in project.files:
        for facts in file.classes.values():
            yield Class(file, facts)


def method(project: Project, symbol: Symbol, name: str) -> Function | None:
    """A method a project class defines or inherits."""
    found = project.member(symbol, name) if isinstance(symbol, Class) else None
    return found if isinstance(found, Function) else None


# One file, for file rules ---------------------------------------------------------------


def file_project(ctx: FileContext) -> tuple[Project, FileFacts]:
    """The file's module-level assignments and classes (with nested `Meta`/`Config`) as a one-file Project (cached)."""
    return ctx.cached("models_file_project", ctx.module, lambda: _build_file_project(ctx))


def file_class(ctx: FileContext, node: libcst.ClassDef) -> Class | None:
    """The facts of a module-level class of this file."""
    _, facts = file_project(ctx)
    found = facts.classes.get(node.name.value)
    return Class(facts, found) if found is not None else None


def file_model(ctx: FileContext, expr: libcst.CSTNode | None) -> ModelInfo | None:
    """The model or schema a class reference in this file denotes (`User`, `models.User`), if the file shows it."""
    if expr is None:
        return None
    project, facts = file_project(ctx)
    snapshot = _module_snapshotter(ctx)(expr)
    return model_info(project, class_symbol(project, facts, snapshot))


def _module_snapshotter(ctx: FileContext) -> Snapshotter:
    bindings = ctx.resolver.module_scope.bindings

    def lookup(name: str) -> Ref | Name:
        binding = bindings.get(name)
        if binding is not None and binding.kind == "import" and binding.qualified:
            return Ref(binding.qualified)
        return Name(name)

    return ctx.cached("models_snapshotter", ctx.module, lambda: Snapshotter(lookup))


def _build_file_project(ctx: FileContext) -> tuple[Project, FileFacts]:
    name, is_package = module_name(ctx.path)
    facts = FileFacts(ctx.path, name, is_package)
    for local, binding in ctx.resolver.module_scope.bindings.items():
        if binding.kind == "import" and binding.qualified:
            facts.imports[local] = binding.qualified
    snapshot = _module_snapshotter(ctx)
    for stmt in _module_statements(ctx.module.body):
        if isinstance(stmt, libcst.ClassDef):
            _light_class(facts, stmt, "", snapshot)
        else:
            _light_assignment(facts, stmt, "", snapshot)
    return Project([facts]), facts


def _light_class(facts: FileFacts, node: libcst.ClassDef, scope: str, snapshot: Snapshotter) -> None:
    qualname = f"{scope}.{node.name.value}" if scope else node.name.value
    cls = ClassFacts(
        name=node.name.value, qualname=qualname, scope=scope, line=0, column=0, source_line="",
        bases=tuple(snapshot(b.value) or Opaque("") for b in node.bases if not b.star),
        keywords=tuple((k.keyword.value, snapshot(k.value) or Opaque("")) for k in node.keywords if k.keyword),
    )  # fmt: skip
    facts.classes[qualname] = cls
    body = node.body.body if isinstance(node.body, libcst.IndentedBlock) else [libcst.SimpleStatementLine(node.body.body)]  # type: ignore[arg-type]
    for stmt in _module_statements(body):
        if isinstance(stmt, libcst.ClassDef):
            _light_class(facts, stmt, qualname, snapshot)
        elif isinstance(stmt, libcst.AnnAssign) and isinstance(stmt.target, libcst.Name):
            cls.annotations[stmt.target.value] = snapshot(stmt.annotation.annotation) or Opaque("")
        if not isinstance(stmt, libcst.ClassDef):
            _light_assignment(facts, stmt, qualname, snapshot)
    prefix = qualname + "."
    cls.attributes = {k[len(prefix):]: v for k, v in facts.assignments.items() if k.startswith(prefix) and "." not in k[len(prefix):]}


def _light_assignment(facts: FileFacts, stmt: libcst.CSTNode, scope: str, snapshot: Snapshotter) -> None:
    if isinstance(stmt, libcst.Assign):
        targets = [t.target for t in stmt.targets]
    elif isinstance(stmt, libcst.AnnAssign) and stmt.value is not None:
        targets = [stmt.target]
    else:
        return
    value = snapshot(stmt.value) or Opaque("")  # type: ignore[union-attr]
    for target in targets:
        if isinstance(target, libcst.Name):
            facts.assignments[Name(target.value, scope).key] = value


def _module_statements(body) -> Iterator[libcst.CSTNode]:
    """Small statements and class definitions of a block, looking inside `if`/`try` (not inside defs)."""
    for stmt in body:
        if isinstance(stmt, libcst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, libcst.ClassDef):
            yield stmt
        elif isinstance(stmt, (libcst.If, libcst.Try)) and isinstance(stmt.body, libcst.IndentedBlock):
            yield from _module_statements(stmt.body.body)

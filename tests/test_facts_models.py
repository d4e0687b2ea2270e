"""Model knowledge: ORM models and schemas across files, their secret and privileged fields, serializer Metas."""

from __future__ import annotations

import pickle
import textwrap

import libcst
import pytest

from authlint.context import FileContext
from authlint.engine import FileSettings, analyze_text, imported_modules
from authlint.facts import models
from authlint.facts.expr import Attr, Call, Const, Index, Mapping, Name, Ref
from authlint.project import Class, External, Project

FACTS_ONLY = FileSettings((), (), collect_facts=True)
# Files importing a web framework are parsed for facts; the others only have their imports read.
PARSED = "import fastapi\n"


def facts_of(path: str, source: str, parsed: bool = True):
    result = analyze_text((PARSED if parsed else "") + textwrap.dedent(source), path, FACTS_ONLY, module_path=path)
    assert result.facts is not None and not result.errors, result.errors
    return result.facts


def project_of(files: dict[str, str], unparsed: tuple[str, ...] = ()) -> Project:
    return Project(facts_of(path, source, path not in unparsed) for path, source in files.items())


def info(project: Project, module: str, name: str) -> models.ModelInfo | None:
    file = project.module(module)
    assert file is not None, module
    return models.model_info(project, Class(file, file.classes[name]))


# Field names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["password", "hashed_password", "passwordHash", "api_key", "reset_token", "otp_secret", "salt",
             "client_secret", "private_key", "session_key"],
)  # fmt: skip
def test_secret_fields(name) -> None:
    assert models.is_secret_field(name)


@pytest.mark.parametrize(
    "name", ["email", "secret_name", "token_type", "max_tokens", "is_password_set", "signature", "next_token",
             "password_changed_at"],
)  # fmt: skip
def test_fields_that_are_no_secret(name) -> None:
    assert not models.is_secret_field(name)


@pytest.mark.parametrize(
    "name", ["role", "roles", "is_admin", "isAdmin", "is_superuser", "is_staff", "owner_id", "owner", "user",
             "user_id", "is_active", "is_verified", "groups", "user_permissions", "is_org_admin", "account_role",
             "tenant_id"],
)  # fmt: skip
def test_privileged_fields(name) -> None:
    assert models.is_privileged_field(name)


@pytest.mark.parametrize("name", ["email", "display_name", "bio", "title", "admin_notes", "role_description", "username"])
def test_fields_that_are_not_privileged(name) -> None:
    assert not models.is_privileged_field(name)


@pytest.mark.parametrize(
    "qualified, expected",
    [("app.models.User", True), (".models.User", True), ("app.db.tables.Account", True), ("stripe.Customer", False),
     ("app.schemas.UserCreate", False), ("models", False), (None, False)],
)  # fmt: skip
def test_model_modules(qualified, expected) -> None:
    assert models.is_model_module(qualified) is expected


# ORM models and schemas across files ------------------------------------------------


def test_sqlalchemy_declarative_models_with_annotation_only_fields() -> None:
    project = project_of({"app/models.py": """
        from typing import ClassVar
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            hashed_password: Mapped[str]
            role: Mapped[str] = mapped_column(default="member")
            registry_name: ClassVar[str] = "users"
    """})  # fmt: skip
    user = info(project, "app.models", "User")
    assert user == models.ModelInfo("User", models.ORM, ("id", "hashed_password", "role"))
    assert user.secrets == ("hashed_password",)
    assert user.privileged == ("role",)


def test_flask_sqlalchemy_and_declarative_base_values() -> None:
    project = project_of({
        "app/ext.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
        "app/models.py": """
            from sqlalchemy import Column, String
            from sqlalchemy.orm import declarative_base
            from .ext import db

            Legacy = declarative_base()

            class Account(db.Model):
                api_key = db.Column(db.String)

            class Old(Legacy):
                __tablename__ = "old"
                password = Column(String)
        """,
    })  # fmt: skip
    assert info(project, "app.models", "Account") == models.ModelInfo("Account", models.ORM, ("api_key",))
    assert info(project, "app.models", "Old") == models.ModelInfo("Old", models.ORM, ("password",))


def test_a_declarative_base_in_a_module_authlint_did_not_parse_still_makes_models() -> None:
    project = project_of({
        "app/database.py": "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n",
        "app/models.py": """
            from sqlalchemy import Column, String
            from .database import Base

            class User(Base):
                password_hash = Column(String)
        """,
    }, unparsed=("app/database.py",))  # fmt: skip
    assert not project.module("app.database").classes and not project.module("app.database").assignments
    assert info(project, "app.models", "User").kind == models.ORM


def test_django_models_inherit_the_fields_of_djangos_user_and_of_project_mixins() -> None:
    project = project_of({
        "shop/mixins.py": """
            from django.db import models

            class Owned(models.Model):
                owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)

                class Meta:
                    abstract = True
        """,
        "shop/models.py": """
            from django.contrib.auth.models import AbstractUser
            from django.db import models
            from .mixins import Owned

            class Member(AbstractUser):
                bio = models.TextField()

            class Note(Owned):
                text = models.TextField()
                objects = models.Manager()
        """,
    })  # fmt: skip
    member = info(project, "shop.models", "Member")
    assert member.kind == models.ORM and "password" in member.secrets and "bio" in member.fields
    assert {"is_staff", "is_superuser", "groups"} <= set(member.privileged)
    assert info(project, "shop.models", "Note") == models.ModelInfo("Note", models.ORM, ("owner", "text"))


def test_sqlmodel_tables_are_models_and_the_rest_schemas() -> None:
    project = project_of({"app/models.py": """
        from sqlmodel import Field, SQLModel

        class HeroBase(SQLModel):
            name: str

        class Hero(HeroBase, table=True):
            id: int | None = Field(default=None, primary_key=True)
            secret_name: str

        class HeroCreate(HeroBase):
            pass
    """})  # fmt: skip
    assert info(project, "app.models", "Hero") == models.ModelInfo("Hero", models.ORM, ("name", "id", "secret_name"))
    assert info(project, "app.models", "HeroCreate") == models.ModelInfo("HeroCreate", models.SCHEMA, ("name",))


@pytest.mark.parametrize(
    "config",
    ['model_config = ConfigDict(extra="allow")', "class Config:\n        extra = Extra.allow",
     'model_config = {"extra": "allow"}'],
)  # fmt: skip
def test_pydantic_schemas_that_keep_unknown_keys(config) -> None:
    project = project_of({"app/schemas.py": f"""
from pydantic import BaseModel, ConfigDict, Extra

class Prefs(BaseModel):
    {config}
    theme: str

class Strict(BaseModel):
    theme: str
"""})  # fmt: skip
    assert info(project, "app.schemas", "Prefs") == models.ModelInfo("Prefs", models.SCHEMA, ("theme",), extra_allowed=True)
    assert not info(project, "app.schemas", "Strict").extra_allowed


def test_plain_classes_and_library_classes_are_neither() -> None:
    project = project_of({"app/things.py": """
        from dataclasses import dataclass
        import keras

        @dataclass
        class Point:
            x: float

        class Net(keras.Model):
            pass
    """})  # fmt: skip
    assert info(project, "app.things", "Point") is None
    assert info(project, "app.things", "Net") is None


def test_class_symbols_unwrap_containers_and_know_djangos_user_model() -> None:
    project = project_of({"app/schemas.py": "from pydantic import BaseModel\nclass UserOut(BaseModel):\n    id: int\n"})
    file = project.module("app.schemas")
    for annotation in (
        Name("UserOut"),
        Index(Ref("typing.List"), (Name("UserOut"),)),
        Index(Ref("typing.Optional"), (Name("UserOut"),)),
        Index(Ref("typing.Annotated"), (Name("UserOut"), Call(Ref("fastapi.Depends")))),
    ):
        symbol = models.class_symbol(project, file, annotation)
        assert isinstance(symbol, Class) and symbol.facts.name == "UserOut"
    aliased = project_of({
        "app/models.py": "from pydantic import BaseModel\nclass User(BaseModel):\n    id: int\n",
        "app/deps.py": "from typing import Annotated\nfrom fastapi import Depends\nfrom .models import User\n"
                       "CurrentUser = Annotated[User, Depends(get_user)]\n",
    })  # fmt: skip
    symbol = models.class_symbol(aliased, aliased.module("app.deps"), Name("CurrentUser"))
    assert isinstance(symbol, Class) and symbol.qualified == "app.models.User"
    user = models.class_symbol(project, file, Call(Ref("django.contrib.auth.get_user_model")))
    assert user == External("django.contrib.auth.get_user_model()")
    assert "password" in models.model_info(project, user).secrets
    assert models.named_class(project, file, "UserOut").facts.name == "UserOut"


# Serializers ---------------------------------------------------------------------------

_DJANGO_MODELS = """
from django.db import models

class Profile(models.Model):
    user = models.OneToOneField("auth.User", on_delete=models.CASCADE)
    bio = models.TextField()
    api_token = models.CharField(max_length=64)
"""


def _serializer(source: str, name: str) -> models.ModelSerializer | None:
    project = project_of({"accounts/models.py": _DJANGO_MODELS, "accounts/serializers.py": source})
    file = project.module("accounts.serializers")
    return models.model_serializer(project, Class(file, file.classes[name]))


def test_drf_serializer_with_all_fields_of_a_model_in_another_file() -> None:
    serializer = _serializer("""
from rest_framework import serializers
from .models import Profile

class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = "__all__"
        read_only_fields = ["user"]
""", "ProfileSerializer")  # fmt: skip
    assert serializer.kind == models.DRF_SERIALIZER and serializer.model.name == "Profile"
    assert serializer.fields == "__all__" and serializer.model_written == "Profile"
    assert serializer.readable() == ("user", "bio", "api_token")
    assert serializer.writable() == ("bio", "api_token")
    assert serializer.line_key("fields", "exclude") == "ProfileSerializer.Meta.fields"


def test_drf_serializer_write_only_and_read_only_fields() -> None:
    serializer = _serializer("""
from rest_framework import serializers
from .models import Profile

class ProfileSerializer(serializers.ModelSerializer):
    user = serializers.HiddenField(default=serializers.CurrentUserDefault())
    nickname = serializers.CharField(read_only=True)

    class Meta:
        model = Profile
        fields = ["user", "bio", "api_token", "nickname"]
        extra_kwargs = {"api_token": {"write_only": True}}
""", "ProfileSerializer")  # fmt: skip
    assert serializer.readable() == ("user", "bio", "nickname")
    assert serializer.writable() == ("bio", "api_token")


def test_exclude_and_inherited_meta() -> None:
    serializer = _serializer("""
from rest_framework import serializers
from .models import Profile

class BaseProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        exclude = ["api_token"]

class PublicProfileSerializer(BaseProfileSerializer):
    pass
""", "PublicProfileSerializer")  # fmt: skip
    assert serializer.exclude == ("api_token",) and serializer.readable() == ("user", "bio")


def test_an_unseen_model_leaves_the_fields_unknown() -> None:
    project = project_of({"accounts/serializers.py": """
from rest_framework import serializers
from elsewhere import Invoice

class InvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = "__all__"
"""})  # fmt: skip
    file = project.module("accounts.serializers")
    serializer = models.model_serializer(project, Class(file, file.classes["InvoiceSerializer"]))
    assert serializer.model is None and serializer.readable() is None and serializer.writable() is None


def test_model_forms_and_marshmallow_auto_schemas() -> None:
    form = _serializer("""
from django import forms
from .models import Profile

class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["bio"]
""", "ProfileForm")  # fmt: skip
    assert form.kind == models.MODEL_FORM and form.writable() == ("bio",)
    project = project_of({"app/schemas.py": """
from flask_marshmallow import Marshmallow
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
ma = Marshmallow()

class Account(db.Model):
    email = db.Column(db.String)
    password_hash = db.Column(db.String)

class AccountSchema(ma.SQLAlchemyAutoSchema):
    class Meta:
        model = Account
        load_only = ("password_hash",)
"""})  # fmt: skip
    file = project.module("app.schemas")
    schema = models.model_serializer(project, Class(file, file.classes["AccountSchema"]))
    assert schema.kind == models.AUTO_SCHEMA and schema.readable() == ("email",)


# One file, for file rules ------------------------------------------------------------------


def test_file_project_answers_for_the_files_own_classes() -> None:
    source = textwrap.dedent("""
        from pydantic import BaseModel
        from flask_sqlalchemy import SQLAlchemy
        from .models import Project

        db = SQLAlchemy()

        class Account(db.Model):
            is_admin = db.Column(db.Boolean)

        class AccountIn(BaseModel):
            email: str
            role: str = "member"
    """)
    module = libcst.parse_module(source)
    ctx = FileContext("app/views.py", module, imported_modules(source))
    account = models.file_model(ctx, libcst.parse_expression("Account"))
    assert account == models.ModelInfo("Account", models.ORM, ("is_admin",))
    assert models.file_model(ctx, libcst.parse_expression("AccountIn")).privileged == ("role",)
    assert models.file_model(ctx, libcst.parse_expression("Project")) is None
    class_def = next(s for s in module.body if isinstance(s, libcst.ClassDef))
    assert models.file_class(ctx, class_def).facts.name == "Account"
    assert models.file_project(ctx) is models.file_project(ctx)  # built once per file


# The class and return facts file rules and project rules rely on ---------------------------


def test_file_facts_record_annotations_class_keywords_and_returns() -> None:
    facts = facts_of("app/models.py", """
        from sqlmodel import SQLModel

        class Hero(SQLModel, table=True):
            id: int | None = None
            secret_name: str

        async def read(session) -> Hero:
            if session:
                return await session.get(Hero, 1)
            for attempt in range(3):
                try:
                    return {"attempt": attempt}
                except KeyError:
                    pass
            def inner():
                return None
            return None
    """)  # fmt: skip
    hero = facts.classes["Hero"]
    assert set(hero.annotations) == {"id", "secret_name"} and set(hero.attributes) == {"id"}
    assert hero.keywords == (("table", Const(True)),)
    read = facts.functions["read"]
    assert read.return_annotation == Name("Hero")
    assert [site.line for site in read.returns] == [11, 14, 19]
    assert read.returns[0].value == Call(Attr(Name("session", "read"), "get"), (Name("Hero"), Const(1)))
    assert read.returns[0].source_line.strip() == "return await session.get(Hero, 1)"
    assert isinstance(read.returns[1].value, Mapping)
    assert [site.line for site in facts.functions["read.inner"].returns] == [18]
    assert pickle.loads(pickle.dumps(facts)).functions["read"].returns == read.returns

from __future__ import annotations

import re

import libcst

from authlint.facts import credentials
from authlint.facts.literals import string_value
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# General-purpose hashes: fast by design, so a leaked digest of a password is cracked offline.
_FAST_HASHES = frozenset(
    {"hashlib.md5", "hashlib.sha1", "hashlib.sha224", "hashlib.sha256", "hashlib.sha384", "hashlib.sha512",
     "hashlib.sha3_224", "hashlib.sha3_256", "hashlib.sha3_384", "hashlib.sha3_512", "hashlib.blake2b",
     "hashlib.blake2s", "hashlib.new"}
)  # fmt: skip
_FAST_HASH_MODULES = ("Crypto.Hash.", "Cryptodome.Hash.")  # pycryptodome's SHA256.new(password)
# Methods that write a model: Django managers, Peewee/Tortoise classmethods.
_MANAGER_WRITES = frozenset({"create", "update", "update_or_create", "get_or_create", "bulk_create"})
# Document-store writes whose dicts are stored as they are (pymongo, motor).
_DOCUMENT_WRITES = frozenset(
    {"insert_one", "insert_many", "insert", "update_one", "update_many", "replace_one", "find_one_and_update",
     "find_one_and_replace"}
)  # fmt: skip
# by libcst class name, so that importing the module does not load libcst (authlint/lazy.py)
_VALUE_NODES = frozenset({"Name", "Attribute", "Subscript"})
_SQL_EXECUTE = frozenset({"execute", "executemany"})
_SQL_WRITE = re.compile(r"\b(?:insert\s+into|update)\b[\s\S]*\bpass(?:word|wd)?\b", re.I)
# Base classes of ORM models (SQLAlchemy, Flask-SQLAlchemy, SQLModel, Django, MongoEngine, Peewee, Tortoise).
_MODEL_BASES = frozenset(
    {"Model", "Base", "DeclarativeBase", "SQLModel", "Document", "DynamicDocument", "AbstractUser",
     "AbstractBaseUser", "PermissionsMixin"}
)  # fmt: skip
# Modules that hold models: `from .models import User`, `from app.db.tables import Account`.
_MODEL_MODULE_WORDS = frozenset({"models", "model", "entities", "entity", "orm", "tables"})
_DJANGO_USER = frozenset({"django.contrib.auth.models.User", "django.contrib.auth.get_user_model()"})
# Objects that carry what a client sent (or configuration), not what the application stores.
_INPUT_WORDS = frozenset(
    {"request", "req", "form", "data", "body", "payload", "json", "args", "params", "query", "credentials",
     "creds", "login", "signup", "register", "registration", "input", "in", "schema", "serializer",
     "validated", "cleaned", "dto", "cmd", "command", "settings", "config", "conf", "options", "opts", "env",
     "environ"}
)  # fmt: skip
_CONFIRMATION_WORDS = frozenset({"confirm", "confirmation", "confirmed", "repeat", "repeated", "again", "retype"})
_STORED_KINDS = (credentials.PASSWORD, credentials.API_KEY)
_MAX_DEPTH = 8
_HASH_ADVICE = ("use a password hash: bcrypt.hashpw, argon2 PasswordHasher().hash, passlib, Django "
                "make_password/set_password or werkzeug generate_password_hash")  # fmt: skip
_API_KEY_ADVICE = ("store hashlib.sha256(key.encode()).hexdigest() instead, look keys up by that hash, and show "
                   "the key to its owner only once")  # fmt: skip


class PlaintextSecretStorage(FileRule):
    """A password or API key is stored in plaintext, or a password is hashed with a fast hash.

    ## What it does
    Flags:

    - a password hashed with a general-purpose hash instead of a password hash:
      `hashlib.md5/sha1/sha256/sha512/...(password)`, `hashlib.new("sha256", password)`,
      `h.update(password)`, pycryptodome `SHA256.new(password)`, salted or not;
    - a plaintext password written to a model: `user.password = form.password.data`,
      `User(password=password)` for a model class (defined here with a model base, imported
      from a `models`-like module, Django's `User` or `get_user_model()`),
      `User.objects.create(password=...)` (Django: `make_password` or `create_user` is
      missing), a pymongo `insert_one({"password": password})`, or an SQL
      `INSERT`/`UPDATE` of a password column with a plaintext parameter;
    - a stored password compared with a plaintext one: `user.password == password`;
    - a freshly generated API key (`secrets.token_urlsafe(...)`, `uuid4()`) written to a
      model field named `api_key`.

    A plaintext password is a value named like one (`password`, `new_password`,
    `form.password.data`, `request.json["password"]`); any other call's result (`make_password(p)`,
    `bcrypt.hashpw(...)`, `pwd_context.hash(p)`, `generate_password_hash(p)`) counts as
    hashed. Not flagged: bcrypt, argon2, scrypt, pbkdf2, passlib and Django/werkzeug
    hashers; SHA-256 of an API key or a reset token (they are long and random, so a fast
    hash is the right lookup key); passwords given to login or connection calls; `self.password`
    of classes that are not models; comparing a password with its confirmation.

    ## Why is this bad?
    Databases leak: backups, SQL injection, a misconfigured replica. Plaintext passwords
    are then usable at once, on this service and on every other one where users reused
    them. MD5 and SHA-2 are built to be fast: a GPU tries billions of guesses per second
    against them, so most real passwords hashed that way fall within hours. Password
    hashes are slow and salted on purpose.

    ## Example
    ```python
    import hashlib

    def register(db, username, password):
        user = User(username=username)
        user.password = hashlib.sha256(password.encode()).hexdigest()
        db.session.add(user)
    ```

    ## Use instead
    ```python
    from werkzeug.security import generate_password_hash

    def register(db, username, password):
        user = User(username=username)
        user.password = generate_password_hash(password)
        db.session.add(user)
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP Password Storage Cheat Sheet
    - CWE-256: Plaintext Storage of a Password
    - CWE-916: Use of Password Hash With Insufficient Computational Effort
    """

    code = "AL204"
    name = "plaintext-secret-storage"
    severity = Severity.HIGH
    precision = Precision.MEDIUM
    owasp = ("API2:2023",)
    cwe = (256, 916)
    # Every spelling of a password or API key: a file with neither stores neither.
    requires_text = credentials.terms_pattern(_STORED_KINDS)
    requires_words = credentials.terms_words(_STORED_KINDS)
    words_in_code = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reported: set[int] = set()

    # Fast hashes of passwords --------------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        self._check_fast_hash(node)
        self._check_model_keywords(node)
        self._check_document_write(node)
        self._check_sql_write(node)

    def _check_fast_hash(self, call: libcst.Call) -> None:
        qualified = self.ctx.qualified_name(call.func) or ""
        if not _is_fast_hash(qualified):
            return
        password = next(filter(None, (self._password_in(arg.value, 0) for arg in call.args)), None)
        if password is not None:
            written = dotted_name(call.func) or qualified
            shown = credentials.value_name(password) or self._code(password)
            self._report(call, f"`{written}(...)` hashes the password `{shown}` with a fast "
                         "general-purpose hash: a GPU tries billions of guesses per second against a leaked "
                         f"digest, salted or not; {_HASH_ADVICE}")  # fmt: skip

    # Plaintext written to models -------------------------------------------------------

    def visit_Assign(self, node: libcst.Assign) -> None:
        for target in node.targets:
            attribute = target.target
            if not isinstance(attribute, libcst.Attribute) or attribute.attr.value.startswith("_"):
                continue  # `self._password` is a private attribute, not a column
            if self._is_stored_object(attribute.value):
                self._check_stored(attribute.attr.value, node.value, f"`{self._code(attribute)}`")

    def _check_model_keywords(self, call: libcst.Call) -> None:
        model = self._model_write(call)
        if model is None:
            return
        for arg in call.args:
            if arg.keyword is not None:
                self._check_stored(arg.keyword.value, arg.value, f"`{model}(..., {arg.keyword.value}=...)`")

    def _check_stored(self, field: str, value: libcst.BaseExpression, where: str) -> None:
        kind = credentials.credential_kind(field)
        if kind == credentials.PASSWORD and self._password_in(value, 0, whole=True) is not None:
            self._report(value, f"{where} stores the password `{self._code(value)}` in plaintext: whoever reads "
                         f"the database (a backup, an SQL injection) can log in as every user; {_HASH_ADVICE}")
        elif kind == credentials.API_KEY and self._is_generated(value, 0):
            self._report(value, f"{where} stores a newly generated API key in plaintext: whoever reads the "
                         f"database can call the API as every client; {_API_KEY_ADVICE}")

    def _check_document_write(self, call: libcst.Call) -> None:
        func = call.func
        if not (isinstance(func, libcst.Attribute) and func.attr.value in _DOCUMENT_WRITES):
            return
        for arg in call.args:
            for node in self.ctx.nodes_in(arg.value):
                if isinstance(node, libcst.DictElement) and isinstance(node.key, libcst.SimpleString):
                    key = string_value(node.key)
                    if isinstance(key, str):
                        self._check_stored(key, node.value, f"`{func.attr.value}()`")

    def _check_sql_write(self, call: libcst.Call) -> None:
        func = call.func
        if not (isinstance(func, libcst.Attribute) and func.attr.value in _SQL_EXECUTE) or len(call.args) < 2:
            return
        sql = self.ctx.literal(call.args[0].value)
        if not (isinstance(sql, str) and _SQL_WRITE.search(sql)):
            return
        for node in self.ctx.nodes_in(call.args[1].value):
            if type(node).__name__ in _VALUE_NODES and self._password_in(node, 0, whole=True) is not None:
                self._report(node, f"`{func.attr.value}()` writes the password `{self._code(node)}` into the "
                             f"database in plaintext: whoever reads the database can log in as every user; "
                             f"{_HASH_ADVICE}")  # fmt: skip
                return

    # Stored passwords compared with plaintext -----------------------------------------

    def visit_Comparison(self, node: libcst.Comparison) -> None:
        left = node.left
        for target in node.comparisons:
            right = target.comparator
            if isinstance(target.operator, (libcst.Equal, libcst.NotEqual)):
                self._check_compared(node, left, right) or self._check_compared(node, right, left)
            left = right

    def _check_compared(self, node: libcst.Comparison, stored, other) -> bool:
        if not self._is_stored_password(stored) or self._password_in(other, 0, whole=True) is None:
            return False
        if self._is_stored_password(other) or _is_confirmation(stored) or _is_confirmation(other):
            return False  # two records (`self.password == other.password` in __eq__), or a confirmation
        self._report(node, f"`{self._code(node)}` compares a stored password with a plaintext one: the password "
                     "is stored unhashed, and whoever reads the database can log in as every user; store a "
                     "password hash and check it with bcrypt.checkpw, argon2 PasswordHasher().verify, Django "
                     "check_password or werkzeug check_password_hash")  # fmt: skip
        return True

    # What values are ---------------------------------------------------------------

    def _password_in(self, expr, depth: int, whole: bool = False) -> libcst.CSTNode | None:
        """The plaintext password `expr` is or (unless `whole`) contains, through `.encode()`, `+`, f-strings."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, libcst.Name) and self.ctx.resolve(expr) is not expr:
            # `password = make_password(raw)` is hashed, whatever it is called.
            return self._password_in(self.ctx.resolve(expr), depth + 1, whole)
        if credentials.credential_kind(credentials.value_name(expr)) == credentials.PASSWORD:
            return expr
        if whole or isinstance(expr, libcst.Name):
            return None
        if isinstance(expr, libcst.Call) and isinstance(expr.func, libcst.Attribute):
            if expr.func.attr.value in credentials.SAME_VALUE_METHODS:  # (salt + password).encode()
                return self._password_in(expr.func.value, depth + 1)
        if isinstance(expr, libcst.BinaryOperation):
            return self._password_in(expr.left, depth + 1) or self._password_in(expr.right, depth + 1)
        if isinstance(expr, libcst.FormattedString):
            parts = [p.expression for p in expr.parts if isinstance(p, libcst.FormattedStringExpression)]
            return next(filter(None, (self._password_in(part, depth + 1) for part in parts)), None)
        if isinstance(expr, libcst.Call) and self.ctx.qualified_name(expr.func) in ("str", "bytes") and expr.args:
            return self._password_in(expr.args[0].value, depth + 1)
        return None

    def _is_generated(self, expr, depth: int) -> bool:
        """A value just made by a strong random source: `secrets.token_urlsafe(32)`, `uuid4().hex`."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, libcst.Name):
            assigned = self.ctx.resolve(expr)
            return assigned is not expr and self._is_generated(assigned, depth + 1)
        if isinstance(expr, libcst.Attribute):
            return self._is_generated(expr.value, depth + 1)
        if not isinstance(expr, libcst.Call):
            return False
        source = credentials.random_source(self.ctx.qualified_name(expr.func))
        if source is not None:
            return source[0] == credentials.STRONG
        if isinstance(expr.func, libcst.Attribute) and expr.func.attr.value in ("hex", "decode"):
            return self._is_generated(expr.func.value, depth + 1)
        return self.ctx.qualified_name(expr.func) == "str" and bool(expr.args) and self._is_generated(
            expr.args[0].value, depth + 1
        )

    def _is_stored_password(self, expr) -> bool:
        """`user.password`, `row["password"]`: a password read from a record, not from a request."""
        if not isinstance(expr, (libcst.Attribute, libcst.Subscript)):
            return False
        if credentials.credential_kind(credentials.value_name(expr)) != credentials.PASSWORD:
            return False
        if isinstance(expr, libcst.Attribute) and expr.attr.value == "data":  # WTForms: form.password.data
            return False
        return self._is_stored_object(expr.value, allow_self=True)

    def _is_stored_object(self, owner, allow_self: bool = False) -> bool:
        """An object that is persisted: not a module, a request, a form, settings, or a plain class's `self`."""
        if self._is_imported(owner):
            return False  # a module or class: `stripe.api_key = ...`
        name = credentials.value_name(owner) or ""
        if name == "self":
            return allow_self or self._in_model_class()
        return not _INPUT_WORDS & set(credentials.normalize_name(name).split("_"))

    def _is_imported(self, owner) -> bool:
        while isinstance(owner, libcst.Attribute):
            owner = owner.value
        if not isinstance(owner, libcst.Name):
            return False
        binding = self.ctx.resolver.lookup(owner.value)
        return binding is not None and binding.kind == "import"

    def _in_model_class(self) -> bool:
        for scope in reversed(self.ctx.resolver.scopes):
            if isinstance(scope.node, libcst.ClassDef):
                return _has_model_base(scope.node)
        return False

    def _model_write(self, call: libcst.Call) -> str | None:
        """How a call that creates or updates a model row is written (`User.objects.create`), or None."""
        func = call.func
        written = dotted_name(func) or ""
        if isinstance(func, libcst.Attribute) and func.attr.value in _MANAGER_WRITES:
            if isinstance(func.value, libcst.Attribute) and func.value.attr.value == "objects":
                return written or "objects.create"
            return written if self._is_model_class(func.value) else None
        if isinstance(func, libcst.Attribute) and not func.attr.value[:1].isupper():
            return None  # a method (`create_user`, `login`), not a class being instantiated
        return written if self._is_model_class(func) else None

    def _is_model_class(self, expr) -> bool:
        qualified = self.ctx.qualified_name(expr)
        if qualified in _DJANGO_USER:
            return True
        if qualified is not None:
            modules = qualified.strip(".").split(".")[:-1]
            return modules[:1] != ["sqlalchemy"] and bool(_MODEL_MODULE_WORDS & set(modules))
        if isinstance(expr, libcst.Name):
            return expr.value in self._module_models()
        return False

    def _module_models(self) -> frozenset[str]:
        """Names of the model classes defined at the top of this module (cached)."""
        module = self.ctx.module
        return self.ctx.cached("plaintext_secret_storage.models", module, lambda: frozenset(
            s.name.value for s in module.body if isinstance(s, libcst.ClassDef) and _has_model_base(s)
        ))  # fmt: skip

    # Helpers --------------------------------------------------------------------------

    def _code(self, node: libcst.CSTNode) -> str:
        code = " ".join(self.ctx.module.code_for_node(node).split())
        return code if len(code) <= 50 else code[:47] + "..."

    def _report(self, node: libcst.CSTNode, message: str) -> None:
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.report(node, message)


def _is_fast_hash(qualified: str) -> bool:
    if qualified in _FAST_HASHES:
        return True
    if qualified.startswith("hashlib.") and qualified.endswith("().update"):
        return qualified[: -len("().update")] in _FAST_HASHES
    return qualified.startswith(_FAST_HASH_MODULES) and qualified.endswith(".new") and "KDF" not in qualified


def _has_model_base(node: libcst.ClassDef) -> bool:
    return any((dotted_name(arg.value) or "").rsplit(".", 1)[-1] in _MODEL_BASES for arg in node.bases)


def _is_confirmation(expr) -> bool:
    words = credentials.normalize_name(credentials.value_name(expr) or "").split("_")
    return bool(_CONFIRMATION_WORDS & set(words))

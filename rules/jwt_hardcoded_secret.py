from __future__ import annotations

import re

import libcst

from authlint.facts import jwt
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_KEY_OPERATIONS = (jwt.ENCODE, jwt.DECODE, jwt.SIGN, jwt.VERIFY)
_ENV_LOOKUPS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})
# `OctKey.import_key("secret")`, `jwk.import_key(...)`, `JsonWebKey.import_key(...)`: a key object from raw data.
_KEY_IMPORT_MODULES = ("joserfc.jwk.", "authlib.jose.")
# Calls that hand on the secret they are given: "secret".encode(), bytes(SECRET, "utf-8").
_SAME_SECRET_CALLS = frozenset({"bytes", "str"})
_SAME_SECRET_METHODS = frozenset({"encode", "strip"})
_PEM_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_PUBLIC_PEM_LABELS = ("PUBLIC KEY", "CERTIFICATE")
# A JWK's secret members: the symmetric key "k" and the private exponent/scalar "d".
_JWK_SECRET_MEMBERS = ("k", "d")
_LITERAL = ("a string literal", "a bytes literal", "a private key PEM literal")
_MAX_DEPTH = 12


def _is_public_pem(text: str) -> bool:
    labels = _PEM_LABEL.findall(text)
    return bool(labels) and all(any(public in label for public in _PUBLIC_PEM_LABELS) for label in labels)


def _literal_kind(value: object) -> str | None:
    """How to name a constant key in a message, or None if it is no secret (empty, public)."""
    if not isinstance(value, (str, bytes)) or not value:
        return None
    text = value if isinstance(value, str) else value.decode("latin-1")
    if _is_public_pem(text):
        return None
    if _PEM_LABEL.search(text):
        return _LITERAL[2]
    return _LITERAL[0] if isinstance(value, str) else _LITERAL[1]


class JwtHardcodedSecret(FileRule):
    """A JWT is signed or verified with a secret key written into the source code.

    ## What it does
    Flags the key argument of JWT encode, decode, sign and verify calls of PyJWT,
    python-jose, Authlib and joserfc when it is a constant in the code:

    - a non-empty string or bytes literal, or a module constant or local name holding
      one (also through `.encode()` and `bytes(SECRET, "utf-8")`);
    - the fallback of an environment lookup: `os.getenv("JWT_SECRET", "dev-secret")`,
      `os.environ.get("JWT_SECRET", "dev-secret")`, `os.getenv("JWT_SECRET") or "dev"`;
    - a key object imported from such a literal (joserfc `OctKey.import_key("secret")`,
      `jwk.import_key("secret", "oct")`, Authlib `JsonWebKey.import_key(...)`) or a JWK
      dict literal holding its secret (`"k"`) or private (`"d"`) member;
    - a PEM private key literal.

    Public keys and certificates (`-----BEGIN PUBLIC KEY-----`,
    `-----BEGIN CERTIFICATE-----`) are not secret and are not flagged, nor are keys read
    from the environment without a fallback, from files or from settings objects. Decodes
    that skip signature verification are left to AL102: their key is never used.

    ## Why is this bad?
    Whoever knows an HMAC secret or a private key can mint tokens for any user with any
    claims. A key in the source is known to everyone who can read the repository, its
    history, a built image or a leaked copy, and it is the same in every deployment.
    A literal fallback is just as bad: the day the environment variable is missing, the
    service silently signs with the well-known default.

    ## Example
    ```python
    import os

    import jwt

    SECRET_KEY = "change-me"

    token = jwt.encode(claims, SECRET_KEY, algorithm="HS256")
    token = jwt.encode(claims, os.getenv("JWT_SECRET", "dev-secret"), algorithm="HS256")
    ```

    ## Use instead
    ```python
    import os

    import jwt

    SECRET_KEY = os.environ["JWT_SECRET"]  # fails loudly when missing

    token = jwt.encode(claims, SECRET_KEY, algorithm="HS256")
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP Secrets Management Cheat Sheet
    - RFC 8725, JSON Web Token Best Current Practices, section 3.5
    - CWE-798: Use of Hard-coded Credentials
    - CWE-321: Use of Hard-coded Cryptographic Key
    """

    code = "AL108"
    name = "jwt-hardcoded-secret"
    severity = Severity.HIGH
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (798, 321)
    requires = jwt.JWT_MODULES

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One secret is one finding: a constant used by ten calls is reported at its first use.
        self._reported_constants: set[int] = set()

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None or op.kind not in _KEY_OPERATIONS or jwt.signature_check_disabled(self.ctx, op) is not None:
            return
        key = op.arg("key")
        origin = self._origin(key, 0)
        if key is None or origin is None or self._already_reported(key):
            return
        self.report(key, f"the key passed to {op.written} is {origin}: anyone who can read the code can forge "
                    "tokens with it; load the key at runtime (os.environ[\"JWT_SECRET\"], a secret manager) "
                    "and rotate this one")  # fmt: skip

    def _already_reported(self, key: libcst.CSTNode) -> bool:
        constant = self.ctx.resolve(key) if isinstance(key, libcst.Name) else None
        if constant is None or constant is key:
            return False
        if id(constant) in self._reported_constants:
            return True
        self._reported_constants.add(id(constant))
        return False

    def _origin(self, expr: libcst.CSTNode | None, depth: int) -> str | None:
        """Where the constant secret in `expr` comes from, as a message phrase; None if it has none."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, libcst.Name):
            return self._name_origin(expr, depth)
        kind = _literal_kind(self.ctx.literal(expr))
        if kind is not None:
            return kind
        if isinstance(expr, libcst.BooleanOperation) and isinstance(expr.operator, libcst.Or):
            fallback = self._origin(expr.right, depth + 1)
            return f"{fallback} used as an `or` fallback" if fallback else None
        if isinstance(expr, libcst.Dict):
            return self._jwk_origin(expr)
        if isinstance(expr, libcst.Call):
            return self._call_origin(expr, depth)
        return None

    def _name_origin(self, name: libcst.Name, depth: int) -> str | None:
        assigned = self.ctx.resolver.value_of(name.value)
        inner = self._origin(assigned, depth + 1)
        if inner is None or inner.startswith(("the literal in ", "the private key PEM in ")):
            return inner
        if inner == _LITERAL[2]:
            return f"the private key PEM in `{name.value}`"
        if inner in _LITERAL:
            return f"the literal in `{name.value}`"
        return f"`{name.value}`, which is {inner}"

    def _call_origin(self, call: libcst.Call, depth: int) -> str | None:
        func = call.func
        arguments = self.ctx.arguments(call)
        if isinstance(func, libcst.Attribute) and func.attr.value in _SAME_SECRET_METHODS:
            return self._origin(func.value, depth + 1)
        qualified = self.ctx.qualified_name(func) or ""
        if qualified in _SAME_SECRET_CALLS:
            return self._origin(arguments.get(None, 0), depth + 1)
        if qualified in _ENV_LOOKUPS:
            fallback = self._origin(arguments.get("default", 1), depth + 1)
            return f"{self._env_lookup(call)} with {fallback} as its fallback" if fallback else None
        if qualified.startswith(_KEY_IMPORT_MODULES) and qualified.endswith("import_key"):
            raw = self._origin(arguments.get(None, 0), depth + 1)
            return f"a key imported from {raw}" if raw else None
        return None

    def _env_lookup(self, call: libcst.Call) -> str:
        variable = self.ctx.literal(self.ctx.arguments(call).get("key", 0))
        shown = f'"{variable}"' if isinstance(variable, str) else "..."
        return f"{dotted_name(call.func)}({shown})"

    def _jwk_origin(self, node: libcst.Dict) -> str | None:
        entries = self.ctx.dict_entries(node) or {}
        for member in _JWK_SECRET_MEMBERS:
            value = self.ctx.literal(entries.get(member))
            if isinstance(value, str) and value:
                return f'a JWK literal with its secret "{member}" member'
        return None

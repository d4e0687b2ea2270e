from __future__ import annotations

import json

import libcst

from authlint import fix
from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_HMAC = "HMAC"

# What a decode without an allowlist does, by library.
_CONSEQUENCE = {
    "PyJWT": "PyJWT 1.x lets the token's header choose the algorithm (key confusion: HS256 signed with your "
    "public key) and PyJWT 2 raises on every call",
    "python-jose": "python-jose lets the token's header choose the algorithm (key confusion: HS256 signed with "
    "your public key)",
}


def _family(algorithm: str) -> str | None:
    """The key family an algorithm name needs: HS256 -> HMAC, RS256/PS256 -> RSA, ..."""
    name = algorithm.strip().upper()
    if name.startswith("HS"):
        return _HMAC
    if name.startswith(("RS", "PS")):
        return "RSA"
    if name.startswith("ES"):
        return "EC"
    if name.startswith("ED"):
        return "EdDSA"
    return None


def _asymmetric_mixed_with_hmac(names: list[str]) -> list[str]:
    """The asymmetric families of an allowlist that also accepts HMAC (empty if not mixed)."""
    families = {family for family in map(_family, names) if family is not None}
    if _HMAC not in families:
        return []
    return sorted(families - {_HMAC})


class JwtAlgorithmsUnpinned(FileRule):
    """A JWT is verified without a fixed allowlist of algorithms of one key family.

    ## What it does
    Flags JWT verification where the token's header can choose the algorithm:

    - PyJWT `decode`/`decode_complete` and python-jose `jwt.decode` without an explicit
      `algorithms=` allowlist (or with `algorithms=None`).
    - An allowlist that mixes HMAC (`HS256`, ...) with RSA, EC, RSA-PSS or EdDSA algorithms,
      in PyJWT, python-jose, joserfc (`jwt.decode(..., algorithms=[...])`) and Authlib
      (`JsonWebToken([...])`).
    - Authlib decodes through the module-level `authlib.jose.jwt` instance, which accepts
      every algorithm Authlib has registered.

    Allowlists held in variables that cannot be evaluated statically are not flagged.
    PyJWT 2 raises an error when `algorithms` is missing, so there the finding is a latent
    crash as much as a weakness; PyJWT 1.x and python-jose accept whatever algorithm the
    token header names.

    ## Why is this bad?
    When the token picks the algorithm, an attacker picks the weakest one the library
    will run. The classic attack is key confusion: a service that verifies RS256 tokens
    with a public key also accepts an HS256 token whose HMAC secret is that same public
    key, which anyone can download. Mixing HMAC and asymmetric algorithms in one allowlist
    reopens exactly that door.

    ## Example
    ```python
    import jwt
    from authlib.jose import jwt as authlib_jwt

    claims = jwt.decode(token, public_key, audience="api", issuer="auth")
    claims = jwt.decode(token, public_key, algorithms=["RS256", "HS256"], audience="api", issuer="auth")
    claims = authlib_jwt.decode(token, public_key)
    ```

    ## Use instead
    ```python
    import jwt
    from authlib.jose import JsonWebToken

    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="api", issuer="auth")
    verifier = JsonWebToken(["RS256"])
    claims = verifier.decode(token, public_key, claims_options=CLAIMS_OPTIONS)
    ```

    ## Fix
    `--fix` pins a PyJWT or python-jose decode that has no `algorithms=` (or a literal
    `algorithms=None`) to the algorithm the same module signs with, when every `encode` of
    that library in the module passes the same literal `algorithm=` (through module
    constants too): `algorithms=["HS256"]`. Modules that sign with several algorithms, with
    one chosen at run time or not at all, and mixed allowlists are left for you.

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 8725, JSON Web Token Best Current Practices, sections 2.1 and 3.1
    - CVE-2017-11424 (PyJWT) and CVE-2024-33663 (python-jose): algorithm confusion
    - CWE-327: Use of a Broken or Risky Cryptographic Algorithm
    - CWE-347: Improper Verification of Cryptographic Signature
    """

    code = "AL103"
    name = "jwt-algorithms-unpinned"
    severity = Severity.HIGH
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (327, 347)
    requires = jwt.JWT_MODULES
    fixable = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # library -> the algorithms its encodes in this module sign with (None: one is not a literal)
        self._signing: dict[str, set[str | None]] = {}

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None:
            return
        if op.kind == jwt.ENCODE:
            algorithm = self.ctx.literal(op.arg("algorithm"))
            self._signing.setdefault(op.library, set()).add(algorithm if isinstance(algorithm, str) else None)
        elif op.kind == jwt.ALGORITHM_ALLOWLIST:
            self._check_mixed(op)
        elif jwt.is_verifying_decode(self.ctx, op):
            self._check_verifier(op)

    def _check_verifier(self, op: jwt.JwtOperation) -> None:
        if op.library == "Authlib":
            self._check_authlib_instance(op)
            return
        self._check_mixed(op)
        if op.library in _CONSEQUENCE:
            self._check_pinned(op)

    def _check_pinned(self, op: jwt.JwtOperation) -> None:
        allowlist = op.arg("algorithms")
        if allowlist is None and op.has("algorithms") is False:
            self.report(op.call, f"{op.written} is called without `algorithms=`: {_CONSEQUENCE[op.library]}; pass "
                        "algorithms=[\"RS256\"] with the one algorithm your issuer uses",
                        fix=lambda: self._pinned(op, op.call))  # fmt: skip
        elif allowlist is not None and self.ctx.literal(allowlist) is None:
            self.report(allowlist, f"{op.written} is called with `algorithms=None`: {_CONSEQUENCE[op.library]}; "
                        "pass algorithms=[\"RS256\"] with the one algorithm your issuer uses",
                        fix=lambda: self._pinned(op, allowlist))  # fmt: skip

    def _pinned(self, op: jwt.JwtOperation, where: libcst.BaseExpression) -> fix.Fix | None:
        """`algorithms=["HS256"]` when the module signs with that one literal algorithm (after the walk)."""
        signing = self._signing.get(op.library, set())
        if len(signing) != 1 or None in signing:
            return None
        pinned = fix.expression(json.dumps(sorted(signing)))
        if where is op.call:
            return fix.replace(op.call, fix.with_keywords(op.call, add=[("algorithms", pinned)]))
        if isinstance(where, libcst.Name) and where.value == "None":
            return fix.replace(where, pinned)
        return None

    def _check_mixed(self, op: jwt.JwtOperation) -> None:
        allowlist = op.arg("algorithms")
        names = jwt.algorithm_names(self.ctx, allowlist)
        others = _asymmetric_mixed_with_hmac(names) if names else []
        if allowlist is not None and others:
            self.report(allowlist, f"{op.written} accepts HMAC and {'/'.join(others)} algorithms together: a "
                        "token signed with HS256 using the public key as the secret passes (key confusion); "
                        "allow one family only, e.g. [\"RS256\"]")  # fmt: skip

    def _check_authlib_instance(self, op: jwt.JwtOperation) -> None:
        if op.kind == jwt.DECODE and op.qualified.startswith(jwt.AUTHLIB_DEFAULT_INSTANCE + "."):
            self.report(op.call, f"{op.written} uses Authlib's module-level `jwt`, which accepts every registered "
                        "algorithm: the token's header chooses one; decode with a "
                        "`JsonWebToken([\"RS256\"])` instance instead")  # fmt: skip

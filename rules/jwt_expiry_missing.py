from __future__ import annotations

import libcst

from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Libraries whose decode takes an `options` dict that can switch the expiry check off.
_OPTIONS_LIBRARIES = ("PyJWT", "python-jose")
_FIX = 'add "exp": datetime.now(timezone.utc) + timedelta(minutes=15)'


class JwtExpiryMissing(FileRule):
    """A JWT is issued without an expiry (`exp`), or verified without checking it.

    ## What it does
    Flags JWT encode calls of PyJWT (`jwt.encode(payload, key)`), python-jose
    (`jwt.encode(claims, key)`), Authlib (`jwt.encode(header, payload, key)`) and joserfc
    (`jwt.encode(header, claims, key)`) whose claims have no `"exp"` key. The claims must
    be statically known: a dict literal, `dict(...)`, or a dict built earlier in the same
    function, with keys added by `payload["exp"] = ...`, `payload.update(exp=...)` or
    `{**base, "exp": ...}` counted. Claims passed in as parameters, returned by calls, or
    handed to a helper that might add an `exp` are not flagged.

    Also flags PyJWT and python-jose decodes with `"verify_exp": False` in their options
    (unless the signature check is off too, which AL102 reports).

    ## Why is this bad?
    A token without `exp` is valid forever. Logging out, changing a password or
    disabling an account does not end it, and a token that leaks once (in a log, a
    browser history, a proxy) stays a working credential indefinitely. Turning off
    `verify_exp` on decode has the same effect for tokens that do carry an expiry.

    ## Example
    ```python
    import jwt

    token = jwt.encode({"sub": user.id}, private_key, algorithm="RS256")
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="api", issuer="auth",
                        options={"verify_exp": False})
    ```

    ## Use instead
    ```python
    from datetime import datetime, timedelta, timezone

    import jwt

    token = jwt.encode(
        {"sub": user.id, "exp": datetime.now(timezone.utc) + timedelta(minutes=15)},
        private_key, algorithm="RS256",
    )
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="api", issuer="auth")
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 7519, JSON Web Token, section 4.1.4 ("exp")
    - CWE-613: Insufficient Session Expiration
    """

    code = "AL106"
    name = "jwt-expiry-missing"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (613,)
    requires = jwt.JWT_MODULES

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None:
            return
        if op.kind == jwt.ENCODE:
            self._check_encode(op)
        elif op.kind == jwt.DECODE and op.library in _OPTIONS_LIBRARIES and jwt.is_verifying_decode(self.ctx, op):
            self._check_decode(op)

    def _check_encode(self, op: jwt.JwtOperation) -> None:
        claims = jwt.claims_payload(self.ctx, op)
        payload = op.arg("payload")
        if claims is None or payload is None or "exp" in claims:
            return
        self.report(payload, f"{op.written} signs claims without an `exp` claim: the token never expires; {_FIX}")

    def _check_decode(self, op: jwt.JwtOperation) -> None:
        disabled = jwt.disabled_check(self.ctx, op, "verify_exp")
        if disabled is not None:
            self.report(disabled, f"{op.written} is called with `\"verify_exp\": False` in its options: expired "
                        "tokens are accepted forever; remove it so tokens past their `exp` are rejected")  # fmt: skip

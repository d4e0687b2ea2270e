from __future__ import annotations

import builtins

import libcst

from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Libraries whose decode takes an `options` dict that can switch the expiry check off.
_OPTIONS_LIBRARIES = ("PyJWT", "python-jose")
_BUILTINS = frozenset(dir(builtins))
_FIX = 'add "exp": datetime.now(timezone.utc) + timedelta(minutes=15)'


def _is_name(node: libcst.CSTNode, name: str) -> bool:
    return isinstance(node, libcst.Name) and node.value == name


def _is_literal_key(node: libcst.CSTNode | None) -> bool:
    return isinstance(node, libcst.SimpleString)


def _untracked_update(node: libcst.Call) -> bool:
    """`d.update(other)`, `d.update(**kw)`, `d.setdefault(key)`: keys no one can read statically."""
    method = node.func.attr.value  # type: ignore[attr-defined]
    if method == "setdefault":
        return not node.args or not _is_literal_key(node.args[0].value)
    if method != "update":
        return False
    for arg in node.args:
        if arg.keyword is not None:
            continue
        if not isinstance(arg.value, libcst.Dict) or arg.star:
            return True
        if any(not isinstance(e, libcst.DictElement) or not _is_literal_key(e.key) for e in arg.value.elements):
            return True
    return False


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
        if claims is None or payload is None or "exp" in claims or self._may_gain_keys(op, payload):
            return
        self.report(payload, f"{op.written} signs claims without an `exp` claim: the token never expires; {_FIX}")

    def _may_gain_keys(self, op: jwt.JwtOperation, payload: libcst.BaseExpression) -> bool:
        function = self.ctx.enclosing_function
        if not isinstance(payload, libcst.Name) or function is None:
            return False
        return any(self._adds_unknown_keys(node, payload.value) for node in self.ctx.nodes_in(function))

    def _adds_unknown_keys(self, node: libcst.CSTNode, name: str) -> bool:
        """Whether `node` may add keys to the dict `name` that the facts layer cannot see."""
        if isinstance(node, libcst.AssignTarget) and isinstance(node.target, libcst.Subscript):
            target = node.target
            if _is_name(target.value, name):
                index = target.slice[0].slice if len(target.slice) == 1 else None
                return not (isinstance(index, libcst.Index) and _is_literal_key(index.value))
        if not isinstance(node, libcst.Call):
            return False
        func = node.func
        if isinstance(func, libcst.Attribute) and _is_name(func.value, name):
            return _untracked_update(node)
        if not any(_is_name(arg.value, name) for arg in node.args):
            return False
        # Handed to a helper (`add_expiry(payload)`), the dict may come back with an `exp`;
        # builtins (`len`, `str`) and JWT calls (the encode itself) do not add claims.
        qualified = self.ctx.qualified_name(func) or ""
        return qualified not in _BUILTINS and jwt.jwt_operation(self.ctx, node) is None

    def _check_decode(self, op: jwt.JwtOperation) -> None:
        disabled = jwt.disabled_check(self.ctx, op, "verify_exp")
        if disabled is not None:
            self.report(disabled, f"{op.written} is called with `\"verify_exp\": False` in its options: expired "
                        "tokens are accepted forever; remove it so tokens past their `exp` are rejected")  # fmt: skip

from __future__ import annotations

from dataclasses import dataclass, field

import libcst

from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Keys whose value decides who the caller is: reading them from an unverified header is trusting the client.
_IDENTITY_KEYS = frozenset(
    {"sub", "user", "user_id", "uid", "email", "username", "role", "roles", "scope", "admin", "is_admin"}
)


@dataclass
class _Unverified:
    """A call whose result is only safe if the function verifies the token somewhere too."""

    op: jwt.JwtOperation
    target: str | None  # the name the result was assigned to, if any
    discarded: bool  # the call is a statement of its own: its result goes nowhere


@dataclass
class _Function:
    node: libcst.FunctionDef
    verifies: bool = False
    unverified: list[_Unverified] = field(default_factory=list)


def _loaded_names(nodes: list[libcst.CSTNode]) -> list[libcst.Name]:
    """Names read in `nodes`: not attribute names, keywords, parameters or assignment targets."""
    skipped: set[int] = set()
    for node in nodes:
        if isinstance(node, libcst.Attribute):
            skipped.add(id(node.attr))
        elif isinstance(node, libcst.Arg) and node.keyword is not None:
            skipped.add(id(node.keyword))
        elif isinstance(node, (libcst.Param, libcst.FunctionDef, libcst.ClassDef)):
            skipped.add(id(node.name))
        elif isinstance(node, libcst.AssignTarget):
            skipped.add(id(node.target))
    return [n for n in nodes if isinstance(n, libcst.Name) and id(n) not in skipped]


def _receiver(node: libcst.CSTNode, subject: libcst.CSTNode | str, method: str) -> libcst.CSTNode | None:
    """`subject` in `subject.method(...)` when `node` is that call; subject is a name (by spelling) or a node."""
    if not (isinstance(node, libcst.Call) and isinstance(node.func, libcst.Attribute)):
        return None
    if node.func.attr.value == method and _is_subject(node.func.value, subject):
        return node.func.value
    return None


def _is_subject(node: libcst.CSTNode, subject: libcst.CSTNode | str) -> bool:
    if isinstance(subject, str):
        return isinstance(node, libcst.Name) and node.value == subject
    return node is subject


class JwtSignatureNotVerified(FileRule):
    """A JWT's claims are used without verifying its signature.

    ## What it does
    Flags JWT code that trusts a token it never verified:

    - PyJWT and python-jose decodes with `options={"verify_signature": False}`, whether
      the options are written in the call, built earlier in the function or a module
      constant; PyJWT 1.x `verify=False`; python-jose `jws.verify(..., verify=False)`.
    - python-jose `get_unverified_claims(token)` whose result is used in a function that
      never verifies the token. Reading the unverified `iss` or `kid` to pick a key and
      then calling a verifying decode in the same function is fine and not flagged.
    - PyJWT and python-jose `get_unverified_header(token)` whose result is read for an
      identity key (`sub`, `user_id`, `email`, `role`, `scope`, `admin`, ...) in a
      function with no verifying decode.
    - Authlib `claims = jwt.decode(...)` whose `claims` are used in a function that never
      calls `claims.validate()`: Authlib's decode checks the signature only, and expiry,
      audience and issuer only when `validate()` is called.

    ## Why is this bad?
    Without signature verification a token is just base64-encoded JSON that the client
    wrote. Anyone can change `sub` to another user's id or add `"role": "admin"` and be
    accepted as that user. An Authlib token whose claims are never validated stays valid
    forever and is accepted whatever audience or issuer it was minted for.

    ## Example
    ```python
    import jwt

    def current_user(token):
        claims = jwt.decode(token, options={"verify_signature": False})
        return claims["sub"]
    ```

    ## Use instead
    ```python
    import jwt

    def current_user(token, public_key):
        claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="api", issuer="auth")
        return claims["sub"]
    ```

    With Authlib, call `claims.validate()` before reading the claims:

    ```python
    claims = verifier.decode(token, public_key, claims_options=CLAIMS_OPTIONS)
    claims.validate()
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 8725, JSON Web Token Best Current Practices, section 3.3
    - PyJWT: Reading the claimset without validation
    - CWE-347: Improper Verification of Cryptographic Signature
    """

    code = "AL102"
    name = "jwt-signature-not-verified"
    severity = Severity.CRITICAL
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (347,)
    requires = jwt.JWT_MODULES

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._functions: list[_Function] = []
        self._targets: dict[int, str] = {}  # id(call) -> the name its result is assigned to
        self._discarded: set[int] = set()  # id(call) of calls that are whole statements

    # Where call results go (recorded before the call itself is visited) ------

    def visit_FunctionDef(self, node: libcst.FunctionDef) -> None:
        self._functions.append(_Function(node))

    def visit_Assign(self, node: libcst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, libcst.Name):
            self._targets[id(node.value)] = node.targets[0].target.value

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, libcst.Name):
            self._targets[id(node.value)] = node.target.value

    def visit_Expr(self, node: libcst.Expr) -> None:
        self._discarded.add(id(node.value))

    # The calls ----------------------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None:
            return
        disabled = jwt.signature_check_disabled(self.ctx, op)
        if disabled is not None:
            self._report_disabled(op, disabled)
            return
        if jwt.is_verifying_decode(self.ctx, op):
            for function in self._functions:  # a nested verifier verifies for its enclosing functions too
                function.verifies = True
        if self._functions and self._needs_verification(op):
            unverified = _Unverified(op, self._targets.get(id(node)), id(node) in self._discarded)
            self._functions[-1].unverified.append(unverified)

    def _needs_verification(self, op: jwt.JwtOperation) -> bool:
        authlib_decode = op.library == "Authlib" and op.kind == jwt.DECODE
        return authlib_decode or op.kind in (jwt.UNVERIFIED_CLAIMS, jwt.UNVERIFIED_HEADER)

    def _report_disabled(self, op: jwt.JwtOperation, disabled: libcst.CSTNode) -> None:
        how = "`verify=False`" if disabled is op.arg("verify") else '`"verify_signature": False` in its options'
        self.report(disabled, f"{op.written} is called with {how}: the signature is not checked, so anyone "
                    "can forge a token with any claims; verify it with the issuer's key and "
                    "algorithms=[\"RS256\"]")  # fmt: skip

    # The function's verdict, once all of it has been seen ---------------------

    def leave_FunctionDef(self, node: libcst.FunctionDef) -> None:
        function = self._functions.pop()
        for unverified in function.unverified:
            if unverified.op.kind == jwt.DECODE:
                self._check_validated(function, unverified)
            elif not function.verifies and unverified.op.kind == jwt.UNVERIFIED_CLAIMS:
                self._check_claims_used(function, unverified)
            elif not function.verifies:
                self._check_header_identity(function, unverified)

    def _check_claims_used(self, function: _Function, unverified: _Unverified) -> None:
        if not self._is_used(function, unverified):
            return
        op = unverified.op
        self.report(op.call, f"{op.written} returns claims whose signature was never checked and this function "
                    "never verifies the token: anyone can forge them; use the claims of a verifying decode "
                    "(jwt.decode(token, key, algorithms=[\"RS256\"]))")  # fmt: skip

    def _check_header_identity(self, function: _Function, unverified: _Unverified) -> None:
        subject: libcst.CSTNode | str = unverified.target or unverified.op.call
        for node in self.ctx.nodes_in(function.node):
            key = self._read_key(node, subject)
            if isinstance(key, str) and key in _IDENTITY_KEYS:
                self.report(node, f"`{key}` is read from {unverified.op.written}, which is not verified in this "
                            "function: anyone can write any identity into a token header; take identity from the "
                            "claims of a verifying decode")  # fmt: skip
                return

    def _check_validated(self, function: _Function, unverified: _Unverified) -> None:
        name = unverified.target
        if name is None or any(_receiver(n, name, "validate") is not None for n in self.ctx.nodes_in(function.node)):
            return
        if not self._is_used(function, unverified):
            return
        op = unverified.op
        self.report(op.call, f"`{name}` from {op.written} is used without `{name}.validate()`: Authlib checks only "
                    "the signature here, so expired tokens and tokens for other audiences are accepted; call "
                    f"{name}.validate() before using the claims")  # fmt: skip

    def _is_used(self, function: _Function, unverified: _Unverified) -> bool:
        """Whether the call's result is read anywhere in the function."""
        if unverified.target is None:
            return not unverified.discarded
        loaded = self.ctx.cached("loaded_names", function.node, lambda: _loaded_names(self.ctx.nodes_in(function.node)))
        return any(name.value == unverified.target for name in loaded)

    def _read_key(self, node: libcst.CSTNode, subject: libcst.CSTNode | str) -> object:
        """The key in `subject["key"]` or `subject.get("key")`, if `node` is such a read."""
        if isinstance(node, libcst.Subscript) and _is_subject(node.value, subject) and len(node.slice) == 1:
            index = node.slice[0].slice
            return self.ctx.literal(index.value) if isinstance(index, libcst.Index) else None
        if isinstance(node, libcst.Call) and _receiver(node, subject, "get") is not None and node.args:
            return self.ctx.literal(node.args[0].value)
        return None

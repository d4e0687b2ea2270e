from __future__ import annotations

import libcst

from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule


def _is_none_algorithm(name: object) -> bool:
    return isinstance(name, str) and name.strip().lower() == "none"


class JwtAlgNone(FileRule):
    """A JWT is signed with, or verified accepting, the `none` algorithm.

    ## What it does
    Flags JWT calls of PyJWT, python-jose, Authlib and joserfc that sign a token with
    the `none` algorithm (`algorithm="none"`, an Authlib/joserfc header `{"alg": "none"}`)
    or accept it when verifying (`algorithms=["none", ...]`, `JsonWebToken(["none"])`),
    in any spelling: `"none"`, `"None"`, `"NONE"`. Constants defined elsewhere in the
    module are followed.

    ## Why is this bad?
    A token with `alg: none` carries no signature. Accepting it lets anyone forge a
    token with any claims (any user id, any role) by editing the payload and dropping
    the signature. Issuing one means every token you hand out is forgeable.

    ## Example
    ```python
    import jwt

    token = jwt.encode(claims, None, algorithm="none")
    claims = jwt.decode(token, key, algorithms=["HS256", "none"])
    ```

    ## Use instead
    ```python
    import jwt

    token = jwt.encode(claims, private_key, algorithm="RS256")
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="api")
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 8725, JSON Web Token Best Current Practices, section 3.1
    - CWE-347: Improper Verification of Cryptographic Signature
    """

    code = "AL101"
    name = "jwt-alg-none"
    severity = Severity.CRITICAL
    precision = Precision.VERY_HIGH
    owasp = ("API2:2023",)
    cwe = (347,)
    requires = jwt.JWT_MODULES

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None:
            return
        if op.kind in (jwt.ENCODE, jwt.SIGN):
            self._check_signing(op)
        self._check_accepted(op)

    def _check_signing(self, op: jwt.JwtOperation) -> None:
        algorithm = op.arg("algorithm")
        if algorithm is not None and _is_none_algorithm(self.ctx.literal(algorithm)):
            self.report(algorithm, f"{op.written} signs the token with the `none` algorithm: it has no "
                        "signature and anyone can forge it; sign with RS256, ES256 or HS256")  # fmt: skip
        header_alg = jwt.header_algorithm(self.ctx, op)
        if header_alg is not None and _is_none_algorithm(header_alg[1]):
            self.report(header_alg[0], f"{op.written} signs the token with header `alg: none`: it has no "
                        "signature and anyone can forge it; set `alg` to RS256, ES256 or HS256")  # fmt: skip

    def _check_accepted(self, op: jwt.JwtOperation) -> None:
        allowlist = op.arg("algorithms")
        names = jwt.algorithm_names(self.ctx, allowlist)
        if allowlist is not None and names and any(_is_none_algorithm(n) for n in names):
            self.report(allowlist, f"{op.written} accepts the `none` algorithm in `algorithms`: an unsigned, "
                        "forged token would pass; remove `none` from the allowlist")  # fmt: skip

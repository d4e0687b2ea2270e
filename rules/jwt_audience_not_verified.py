from __future__ import annotations

import libcst

from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# joserfc validates claims separately (JWTClaimsRegistry), so its decode is not judged here.
_KEYWORD_LIBRARIES = ("PyJWT", "python-jose")


class JwtAudienceNotVerified(FileRule):
    """A JWT is verified without checking that it was issued for this service (`aud`).

    ## What it does
    Flags verifying decodes that do not check the token's audience:

    - PyJWT `decode`/`decode_complete` and python-jose `jwt.decode` without `audience=`
      (or with `audience=None`), or with `"verify_aud": False` in their options.
    - Authlib decodes whose `claims_options` has no `"aud"` entry, or that pass no
      `claims_options` at all.

    Calls whose arguments are hidden behind `*args`/`**kwargs`, or whose
    `claims_options` cannot be evaluated, are not flagged. joserfc is not checked: its
    decode never validates claims; that is done separately with `JWTClaimsRegistry`.

    ## Why is this bad?
    Tokens from one issuer are often valid for many services: the same identity provider
    signs tokens for your API, for a partner's API and for a low-privilege internal tool.
    Without an audience check, a token minted for any of them is accepted here, so a
    token leaked from (or legitimately held for) another service becomes a key to this one.

    ## Example
    ```python
    import jwt

    claims = jwt.decode(token, public_key, algorithms=["RS256"], issuer="https://auth.example.com")
    ```

    ## Use instead
    ```python
    import jwt

    claims = jwt.decode(
        token, public_key, algorithms=["RS256"], audience="https://api.example.com",
        issuer="https://auth.example.com",
    )
    ```

    With Authlib, put `"aud"` in `claims_options` and call `claims.validate()`:

    ```python
    CLAIMS_OPTIONS = {
        "iss": {"essential": True, "value": "https://auth.example.com"},
        "aud": {"essential": True, "values": ["https://api.example.com"]},
    }
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 8725, JSON Web Token Best Current Practices, section 3.9
    - RFC 7519, JSON Web Token, section 4.1.3 ("aud")
    - CWE-287: Improper Authentication
    """

    code = "AL104"
    name = "jwt-audience-not-verified"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API2:2023",)
    cwe = (287,)
    requires = jwt.JWT_MODULES

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None or op.kind != jwt.DECODE or not jwt.is_verifying_decode(self.ctx, op):
            return
        if op.library in _KEYWORD_LIBRARIES:
            self._check_keyword(op)
        elif op.library == "Authlib":
            self._check_claims_options(op)

    def _check_keyword(self, op: jwt.JwtOperation) -> None:
        disabled = jwt.disabled_check(self.ctx, op, "verify_aud")
        audience = op.arg("audience")
        if disabled is not None:
            self.report(disabled, f"{op.written} is called with `\"verify_aud\": False` in its options: a token "
                        "minted for another service is accepted here; remove it and pass "
                        "audience=\"<this API's identifier>\"")  # fmt: skip
        elif audience is None and op.has("audience") is False:
            self.report(op.call, f"{op.written} is called without `audience=`: a token minted for another "
                        "service is accepted here; pass audience=\"<this API's identifier>\"")  # fmt: skip
        elif audience is not None and self.ctx.literal(audience) is None:
            self.report(audience, f"{op.written} is called with `audience=None`: a token minted for another "
                        "service is accepted here; pass audience=\"<this API's identifier>\"")  # fmt: skip

    def _check_claims_options(self, op: jwt.JwtOperation) -> None:
        claims_options = op.arg("claims_options")
        if claims_options is None and op.has("claims_options") is False:
            self.report(op.call, f"{op.written} is called without `claims_options`: `claims.validate()` will not "
                        "check the audience, so a token minted for another service is accepted; pass "
                        "claims_options={\"aud\": {\"essential\": True, \"values\": [...]}}")  # fmt: skip
            return
        entries = self.ctx.dict_entries(claims_options)
        if entries is not None and "aud" not in entries:
            self.report(claims_options, f"{op.written} has no \"aud\" entry in `claims_options`: "
                        "`claims.validate()` will not check the audience, so a token minted for another service "
                        "is accepted; add \"aud\": {\"essential\": True, \"values\": [...]}")  # fmt: skip

from __future__ import annotations

import libcst

from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_CONSEQUENCE = "a token minted for another service is accepted here"
_MESSAGES = {
    jwt.DISABLED: "{call} is called with `\"verify_aud\": False` in its options: " + _CONSEQUENCE
    + "; remove it and pass audience=\"<this API's identifier>\"",
    jwt.NOT_PASSED: "{call} is called without `audience=`: " + _CONSEQUENCE + "; pass audience=\"<this API's identifier>\"",
    jwt.PASSED_NONE: "{call} is called with `audience=None`: " + _CONSEQUENCE + "; pass audience=\"<this API's identifier>\"",
    jwt.NO_CLAIMS_OPTIONS: "{call} is called without `claims_options`: `claims.validate()` will not check "
    "`aud`, so " + _CONSEQUENCE + "; pass claims_options={{\"aud\": {{\"essential\": True, \"values\": [...]}}}}",
    jwt.NOT_IN_CLAIMS_OPTIONS: "{call} has no \"aud\" entry in `claims_options`: `claims.validate()` will "
    "not check it, so " + _CONSEQUENCE + "; add \"aud\": {{\"essential\": True, \"values\": [...]}}",
}


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
        gap = jwt.claim_check_gap(self.ctx, op, "aud") if op is not None else None
        if gap is not None:
            self.report(gap.node, _MESSAGES[gap.reason].format(call=op.written))

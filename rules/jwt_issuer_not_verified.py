from __future__ import annotations

import libcst

from authlint.facts import jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_CONSEQUENCE = "a token from any issuer that shares the key is accepted here"
_MESSAGES = {
    jwt.DISABLED: "{call} is called with `\"verify_iss\": False` in its options: " + _CONSEQUENCE
    + "; remove it and pass issuer=\"<your identity provider>\"",
    jwt.NOT_PASSED: "{call} is called without `issuer=`: " + _CONSEQUENCE + "; pass issuer=\"<your identity provider>\"",
    jwt.PASSED_NONE: "{call} is called with `issuer=None`: " + _CONSEQUENCE + "; pass issuer=\"<your identity provider>\"",
    jwt.NO_CLAIMS_OPTIONS: "{call} is called without `claims_options`: `claims.validate()` will not check "
    "`iss`, so " + _CONSEQUENCE + "; pass claims_options={{\"iss\": {{\"essential\": True, \"value\": \"...\"}}}}",
    jwt.NOT_IN_CLAIMS_OPTIONS: "{call} has no \"iss\" entry in `claims_options`: `claims.validate()` will "
    "not check it, so " + _CONSEQUENCE + "; add \"iss\": {{\"essential\": True, \"value\": \"...\"}}",
}


class JwtIssuerNotVerified(FileRule):
    """A JWT is verified without checking who issued it (`iss`).

    ## What it does
    Flags verifying decodes that do not check the token's issuer:

    - PyJWT `decode`/`decode_complete` and python-jose `jwt.decode` without `issuer=`
      (or with `issuer=None`), or with `"verify_iss": False` in their options.
    - Authlib decodes whose `claims_options` has no `"iss"` entry, or that pass no
      `claims_options` at all.

    Calls whose arguments are hidden behind `*args`/`**kwargs`, or whose
    `claims_options` cannot be evaluated, are not flagged. joserfc is not checked: its
    decode never validates claims; that is done separately with `JWTClaimsRegistry`.

    ## Why is this bad?
    The key alone often does not pin the issuer: a JWKS or a shared HMAC secret can be
    trusted by several issuers (tenants, environments, a staging identity provider), and
    a token from any of them passes. Checking `iss` makes sure the token comes from the
    one authority this API trusts.

    ## Example
    ```python
    import jwt

    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="https://api.example.com")
    ```

    ## Use instead
    ```python
    import jwt

    claims = jwt.decode(
        token, public_key, algorithms=["RS256"], audience="https://api.example.com",
        issuer="https://auth.example.com",
    )
    ```

    With Authlib, put `"iss"` in `claims_options` and call `claims.validate()`:

    ```python
    CLAIMS_OPTIONS = {
        "iss": {"essential": True, "value": "https://auth.example.com"},
        "aud": {"essential": True, "values": ["https://api.example.com"]},
    }
    ```

    ## Options
    `severity` (every rule has it). The default severity is low, below the missing audience check (AL104), because the
    key usually narrows the issuer already. Projects that share keys between issuers
    (multi-tenant identity providers, one secret for several environments) should raise
    it in their configuration:

    ```toml
    [tool.authlint.rules.AL105]
    severity = "medium"
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 8725, JSON Web Token Best Current Practices, section 3.8
    - RFC 7519, JSON Web Token, section 4.1.1 ("iss")
    - CWE-287: Improper Authentication
    """

    code = "AL105"
    name = "jwt-issuer-not-verified"
    severity = Severity.LOW
    precision = Precision.MEDIUM
    owasp = ("API2:2023",)
    cwe = (287,)
    requires = jwt.JWT_MODULES

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        gap = jwt.claim_check_gap(self.ctx, op, "iss") if op is not None else None
        if gap is not None:
            self.report(gap.node, _MESSAGES[gap.reason].format(call=op.written))

from __future__ import annotations

from dataclasses import dataclass

import libcst

from authlint.facts import jwt, time
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Claims that label a token's kind; a refresh token is long-lived by design.
_TYPE_CLAIMS = ("type", "typ", "token_type", "token_use", "kind")
_REFRESH = "refresh"


class JwtExcessiveLifetime(FileRule):
    """A JWT is issued with an expiry (`exp`) too far in the future.

    ## What it does
    Flags the `exp` claim of tokens issued with PyJWT, python-jose, Authlib and joserfc
    when it lies further from now than `max-lifetime-minutes`. The expiry must be "now
    plus a known duration":

    - `datetime.now(timezone.utc) + timedelta(hours=24)`, `datetime.utcnow() + ...`,
      `datetime.datetime.now() + ...`, Django's `timezone.now() + ...`;
    - `time.time() + 3600 * 24 * 30`, `int(time.time()) + N`,
      `int((now + delta).timestamp())`;
    - through local names (`now = datetime.now(timezone.utc)`, `expire = now + delta`)
      and module constants (`LIFETIME = timedelta(days=7)`, `EXPIRE_MINUTES = 60 * 24`);
    - `timedelta` with positional or keyword arguments, and `relativedelta` (a month
      counted as 28 days, a year as 365).

    Durations from settings objects, the environment or parameters are not flagged.
    Refresh tokens, labelled by a `"type"`/`"token_type"` claim of `"refresh"` or issued
    in a function whose name contains `refresh_token`, are long-lived by design and are
    not flagged.

    ## Why is this bad?
    An access token cannot be revoked before its `exp`: whoever holds it, including
    whoever stole it from a log, a browser or a compromised client, is that user until it
    expires. A token valid for days or months turns any leak into long-term access.

    ## Example
    ```python
    from datetime import datetime, timedelta, timezone

    import jwt

    claims = {"sub": user.id, "exp": datetime.now(timezone.utc) + timedelta(days=30)}
    token = jwt.encode(claims, private_key, algorithm="RS256")
    ```

    ## Use instead
    ```python
    from datetime import datetime, timedelta, timezone

    import jwt

    claims = {"sub": user.id, "exp": datetime.now(timezone.utc) + timedelta(minutes=15)}
    token = jwt.encode(claims, private_key, algorithm="RS256")
    ```

    Keep sessions longer than that with a refresh token that the server can revoke.

    ## Options
    - `max-lifetime-minutes` (default `60`): the longest access-token lifetime allowed.

    ```toml
    [tool.authlint.rules.AL107]
    max-lifetime-minutes = 15
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP Session Management Cheat Sheet, "Session Expiration"
    - RFC 7519, JSON Web Token, section 4.1.4 ("exp")
    - CWE-613: Insufficient Session Expiration
    """

    code = "AL107"
    name = "jwt-excessive-lifetime"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (613,)
    requires = jwt.JWT_MODULES

    @dataclass(frozen=True)
    class Options:
        max_lifetime_minutes: int = 60

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reported: set[int] = set()  # exp values of a payload encoded more than once

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None or op.kind != jwt.ENCODE:
            return
        claims = jwt.known_claims(self.ctx, op)
        exp = claims.get("exp")
        if exp is None or id(exp) in self._reported or self._is_refresh_token(claims):
            return
        lifetime = time.seconds_from_now(self.ctx, exp)
        limit = self.options.max_lifetime_minutes
        if lifetime is None or lifetime <= limit * 60:
            return
        self._reported.add(id(exp))
        self.report(exp, f"{op.written} issues a token whose `exp` is {time.describe_seconds(lifetime)} from now, "
                    f"over the {limit}-minute limit: a stolen token stays valid that long; expire access tokens "
                    f"within {limit} minutes and keep longer sessions with a revocable refresh token")  # fmt: skip

    def _is_refresh_token(self, claims) -> bool:
        for claim in _TYPE_CLAIMS:
            label = self.ctx.literal(claims.get(claim))
            if isinstance(label, str) and _REFRESH in label.lower():
                return True
        function = self.ctx.enclosing_function
        return isinstance(function, libcst.FunctionDef) and "refresh_token" in function.name.value.lower()

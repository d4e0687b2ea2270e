from __future__ import annotations

import re

import libcst

from authlint.facts import oauth
from authlint.facts.literals import string_value
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# `response_type=token` / `grant_type=password` inside a URL or form body written as text.
_RESPONSE_TYPE_IN_TEXT = re.compile(r"(?:^|[?&#])response_type=([^&#\s]*)")
_PASSWORD_GRANT_IN_TEXT = re.compile(r"(?:^|[?&])grant_type=password(?:$|[&#])")

_IMPLICIT_FIX = "use the authorization-code flow with PKCE (`response_type=code`) instead"
_PASSWORD_FIX = ("use the authorization-code flow with PKCE for users, or the client-credentials grant "
                 "for machine-to-machine calls")  # fmt: skip
_WHY_IMPLICIT = ("which returns the access token in the redirect URL, where browser history, logs and Referer "
                 "headers leak it and nothing binds it to this client")  # fmt: skip
_WHY_PASSWORD = "which hands the user's password to this client and rules out MFA, SSO and consent"


class OauthImplicitOrPasswordGrant(FileRule):
    """An OAuth flow uses the implicit grant or the resource-owner password grant.

    ## What it does
    Flags the two OAuth 2.0 grants that the OAuth 2.0 Security Best Current Practice
    (RFC 9700) says not to use:

    - the implicit flow: `response_type=token` (also `id_token token` and `code token`)
      in a hand-written authorization URL or form, a `{"response_type": "token"}` dict,
      a `response_type="token"` argument (Authlib's `OAuth2Session` and
      `create_authorization_url`), oauthlib's `MobileApplicationClient`, and an Authlib
      server's `register_grant` of an `ImplicitGrant` (or `OpenIDImplicitGrant`) subclass;
    - the resource-owner password grant: `grant_type=password` in a token request body,
      dict or argument, `fetch_token(..., username=..., password=...)` (requests-oauthlib
      and Authlib), oauthlib's `LegacyApplicationClient`, and an Authlib server's
      `register_grant` of a `ResourceOwnerPasswordCredentialsGrant` subclass.

    Grant classes defined in the same module are followed to their Authlib base class.
    FastAPI's `OAuth2PasswordRequestForm` (a first-party login form that issues the API's
    own tokens) is not flagged.

    ## Why is this bad?
    The implicit flow delivers the access token in the redirect URL's fragment: it lands
    in browser history, can leak through `Referer` headers, logs and injected scripts, and
    nothing ties it to the client that asked for it, so a token injected by an attacker
    is accepted. The password grant hands the user's password to the client application,
    trains users to type it outside the identity provider and cannot support MFA, SSO or
    consent. OAuth 2.1 removes both grants.

    ## Example
    ```python
    from oauthlib.oauth2 import LegacyApplicationClient
    from requests_oauthlib import OAuth2Session

    session = OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))
    token = session.fetch_token(TOKEN_URL, username=username, password=password)

    login_url = f"{AUTHORIZE_URL}?response_type=token&client_id={CLIENT_ID}&state={state}"
    ```

    ## Use instead
    ```python
    from requests_oauthlib import OAuth2Session

    session = OAuth2Session(CLIENT_ID, redirect_uri=REDIRECT_URI, pkce="S256")
    login_url, state = session.authorization_url(AUTHORIZE_URL)
    # ... and in the callback:
    token = session.fetch_token(TOKEN_URL, authorization_response=request.url)
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 9700, OAuth 2.0 Security Best Current Practice, sections 2.1.2 and 2.4
    - The OAuth 2.1 Authorization Framework (draft), section 10
    - CWE-522: Insufficiently Protected Credentials
    """

    code = "AL401"
    name = "oauth-implicit-or-password-grant"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (522,)
    requires_words = (
        "response_type", "grant_type", "legacyapplicationclient", "mobileapplicationclient", "register_grant",
        "fetch_token",
    )  # fmt: skip
    requires_text = re.compile(
        r"response_type|grant_type|LegacyApplicationClient|MobileApplicationClient|register_grant|fetch_token"
    )
    words_in_code = True

    # Calls ---------------------------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        if self._check_client_class(node) or self._check_grant_registration(node) or self._check_fetch_token(node):
            return
        for keyword, value in self.ctx.arguments(node).keywords.items():
            self._check_parameter(keyword, value, "`{name}={value!r}`")

    def _check_client_class(self, node: libcst.Call) -> bool:
        client = oauth.constructed_client(self.ctx, node)
        if client is None or client.grant not in (oauth.IMPLICIT, oauth.PASSWORD):
            return False
        written = f"`{dotted_name(node.func)}()`"
        if client.grant == oauth.IMPLICIT:
            self.report(node, f"{written} runs the implicit flow, {_WHY_IMPLICIT}; use `WebApplicationClient` "
                        "(requests-oauthlib's default) with PKCE: "
                        "`OAuth2Session(client_id, pkce=\"S256\")`")  # fmt: skip
        else:
            self.report(node, f"{written} runs the resource-owner password grant, {_WHY_PASSWORD}; "
                        f"{_PASSWORD_FIX}")  # fmt: skip
        return True

    def _check_grant_registration(self, node: libcst.Call) -> bool:
        registration = oauth.grant_registration(self.ctx, node)
        if registration is None or registration.grant not in (oauth.IMPLICIT, oauth.PASSWORD):
            return False
        grant_class = dotted_name(registration.grant_class) or "the grant"
        if registration.grant == oauth.IMPLICIT:
            self.report(node, f"`{registration.written}` enables the implicit grant (`{grant_class}`), which "
                        "returns access tokens in redirect URLs where browser history, logs and Referer headers leak "
                        "them; drop it and serve the authorization-code grant with "
                        "`CodeChallenge(required=True)`")  # fmt: skip
        else:
            self.report(node, f"`{registration.written}` enables the resource-owner password grant "
                        f"(`{grant_class}`), which has client applications collect users' passwords and rules out "
                        "MFA, SSO and consent; drop it and serve the authorization-code grant "
                        "with PKCE (and client credentials for services)")  # fmt: skip
        return True

    def _check_fetch_token(self, node: libcst.Call) -> bool:
        func = node.func
        if not (isinstance(func, libcst.Attribute) and func.attr.value == "fetch_token"):
            return False
        password = self.ctx.arguments(node).get("password")
        if password is None or self.ctx.literal(password) is None:
            return False
        if not self._session_has_reported_client(func.value):
            self.report(node, f"`{dotted_name(func) or 'fetch_token'}()` sends the user's username and password "
                        f"to the token endpoint (the resource-owner password grant), {_WHY_PASSWORD}; "
                        f"{_PASSWORD_FIX}")  # fmt: skip
        return True

    def _session_has_reported_client(self, receiver: libcst.CSTNode) -> bool:
        """A session built with `client=LegacyApplicationClient(...)` is reported at that client."""
        client = oauth.client_of(self.ctx, receiver)
        if client is None or client.constructor is None:
            return False
        given = self.ctx.arguments(client.constructor).get("client")
        return oauth.oauthlib_client_grant(self.ctx, given) == oauth.PASSWORD

    # Parameters in dicts, keywords and text --------------------------------------

    def visit_Dict(self, node: libcst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, libcst.DictElement):
                key = self.ctx.literal(element.key)
                if isinstance(key, str):
                    self._check_parameter(key, element.value, "`{name!r}: {value!r}`")

    def _check_parameter(self, name: str, value: libcst.BaseExpression, spelling: str) -> None:
        """`spelling` shows the parameter as written: "`{name}={value!r}`" for a keyword."""
        literal = self.ctx.literal(value)
        if name == "response_type" and oauth.response_type_grant(literal) == oauth.IMPLICIT:
            self.report(value, f"{spelling.format(name=name, value=literal)} asks for the implicit flow, "
                        f"{_WHY_IMPLICIT}; {_IMPLICIT_FIX}")  # fmt: skip
        elif name == "grant_type" and literal == "password":
            self.report(value, f"{spelling.format(name=name, value=literal)} asks for the resource-owner password "
                        f"grant, {_WHY_PASSWORD}; {_PASSWORD_FIX}")  # fmt: skip

    def visit_SimpleString(self, node: libcst.SimpleString) -> None:
        value = string_value(node)
        if isinstance(value, str):
            self._check_text(node, value)

    def visit_FormattedStringText(self, node: libcst.FormattedStringText) -> None:
        self._check_text(node, node.value)

    def _check_text(self, node: libcst.CSTNode, text: str) -> None:
        for match in _RESPONSE_TYPE_IN_TEXT.finditer(text):
            if oauth.response_type_grant(match.group(1)) == oauth.IMPLICIT:
                self.report(node, f"`response_type={match.group(1)}` asks for the implicit flow, {_WHY_IMPLICIT}; "
                            f"{_IMPLICIT_FIX}")  # fmt: skip
                return
        if _PASSWORD_GRANT_IN_TEXT.search(text):
            self.report(node, f"`grant_type=password` asks for the resource-owner password grant, {_WHY_PASSWORD}; "
                        f"{_PASSWORD_FIX}")  # fmt: skip

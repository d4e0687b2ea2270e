from __future__ import annotations

import re

import libcst

from authlint.facts import oauth
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_WHY = "an authorization code that is intercepted or injected into the callback can be redeemed by someone else"
# Keywords of `register()` showing a login client configured here (without either endpoint it
# may be a machine client, or read everything from the app's config).
_INLINE_SETTINGS = frozenset({"authorize_url", "server_metadata_url"})


class OauthMissingPkce(FileRule):
    """An OAuth authorization-code flow is started, or served, without PKCE.

    ## What it does
    Flags authorization-code flows that do not use PKCE (RFC 7636):

    - Authlib's `OAuth2Session`/`OAuth2Client` whose `create_authorization_url()` runs on a
      session built without `code_challenge_method`, or is called without `code_verifier`
      (Authlib adds the challenge only when it has both);
    - Authlib's Flask, Django and Starlette `oauth.register(...)` without
      `code_challenge_method` in `client_kwargs` (OAuth 1.0a registrations are left alone,
      and so is a registration without `client_kwargs` that names neither `authorize_url`
      nor `server_metadata_url`: it may read them all from the app's config);
    - requests-oauthlib's `OAuth2Session.authorization_url()` on a session built without
      `pkce=` and called without `code_challenge`;
    - oauthlib's `WebApplicationClient.prepare_request_uri()` without `code_challenge`;
    - authorization URLs written by hand (f-strings, `+`, `.format`, `urlencode(params)`
      with `client_id` and `response_type=code`, or a GitHub-style `/authorize` endpoint)
      that carry no `code_challenge`;
    - an Authlib authorization server's `register_grant()` of an `AuthorizationCodeGrant`
      subclass without `CodeChallenge` among its extensions.

    Sessions and registries built elsewhere, and arguments passed through `**kwargs`, are
    not judged. Implicit flows are left to AL401.

    ## Why is this bad?
    Without PKCE an authorization code is a bearer secret from the moment the identity
    provider redirects with it: a code that leaks through logs, a malicious app on the same
    device or a `Referer` header, or an attacker's own code injected into a victim's
    callback, is exchanged for tokens with nothing proving that the party redeeming it is
    the one that started the login. RFC 9700 requires PKCE for public clients and
    recommends it for all clients; OAuth 2.1 makes it mandatory.

    ## Example
    ```python
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        "google",
        server_metadata_url="https://accounts.google.com/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"},
    )
    ```

    ## Use instead
    ```python
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        "google",
        server_metadata_url="https://accounts.google.com/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    ```

    requests-oauthlib: `OAuth2Session(client_id, redirect_uri=..., pkce="S256")`. Authlib
    servers: `server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])`.

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 7636, Proof Key for Code Exchange by OAuth Public Clients
    - RFC 9700, OAuth 2.0 Security Best Current Practice, section 2.1.1
    - CWE-294: Authentication Bypass by Capture-replay
    """

    code = "AL402"
    name = "oauth-missing-pkce"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (294,)
    # Library flows need the library imported; hand-built URLs carry `client_id`.
    requires_words = ("client_id", "authlib", "oauthlib")
    requires_text = re.compile(r"client_id|authlib|oauthlib")
    words_in_code = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._judged_urls: set[int] = set()

    def visit_Call(self, node: libcst.Call) -> None:
        start = oauth.flow_start(self.ctx, node)
        if start is not None:
            self._check_flow_start(start)
        elif oauth.is_registry_register(self.ctx, node):
            self._check_registration(node)
        else:
            self._check_grant_registration(node)
        self._judge_urls(oauth.authorization_urls_passed(self.ctx, node))

    def visit_Return(self, node: libcst.Return) -> None:
        self._judge_urls(oauth.hand_built_authorization_urls(self.ctx, node.value))

    # Client libraries ---------------------------------------------------------------

    def _check_flow_start(self, start: oauth.FlowStart) -> None:
        if oauth.flow_grant(self.ctx, start) != oauth.AUTHORIZATION_CODE or start.has("code_challenge") is not False:
            return
        if start.library == oauth.AUTHLIB and start.client.kind == oauth.SESSION:
            self._check_authlib_session(start)
        elif start.library == oauth.REQUESTS_OAUTHLIB:
            self._check_requests_oauthlib(start)
        elif start.library == oauth.OAUTHLIB:
            self.report(start.call, f"`{start.written}` builds an authorization URL without `code_challenge`: {_WHY}; "
                        "pass `code_challenge=client.create_code_challenge(verifier, 'S256')` and "
                        "`code_challenge_method='S256'`, and send `code_verifier` with the token request")  # fmt: skip

    def _check_authlib_session(self, start: oauth.FlowStart) -> None:
        constructor = start.client.constructor
        if constructor is not None:
            arguments = self.ctx.arguments(constructor)
            method = arguments.get("code_challenge_method")
            if (method is None and arguments.complete) or (method is not None and self.ctx.literal(method) is None):
                self.report(start.call, f"`{start.written}` starts an authorization-code flow without PKCE: its "
                            f"`{dotted_name(constructor.func)}(...)` has no `code_challenge_method`, so {_WHY}; "
                            "create it with `code_challenge_method='S256'` and pass "
                            "`code_verifier=generate_token(48)` here and to `fetch_token`")  # fmt: skip
                return
        if start.has("code_verifier") is False:
            self.report(start.call, f"`{start.written}` sends no PKCE challenge: Authlib adds `code_challenge` only "
                        f"when it is given `code_verifier`, so {_WHY}; pass `code_verifier=generate_token(48)` "
                        "here and the same value to `fetch_token`")  # fmt: skip

    def _check_requests_oauthlib(self, start: oauth.FlowStart) -> None:
        constructor = start.client.constructor
        if constructor is None:
            return  # the session may have been built with `pkce=` elsewhere
        arguments = self.ctx.arguments(constructor)
        pkce = arguments.get("pkce")
        if pkce is None and not arguments.complete:
            return
        if pkce is None or self.ctx.literal(pkce) is None:
            self.report(start.call, f"`{start.written}` starts an authorization-code flow without PKCE: {_WHY}; "
                        "build the session with `OAuth2Session(client_id, ..., pkce=\"S256\")` and use the "
                        "same session for `fetch_token`")  # fmt: skip

    def _check_registration(self, call: libcst.Call) -> None:
        arguments = self.ctx.arguments(call)
        if not arguments.complete or "request_token_url" in arguments.keywords:  # OAuth 1.0a has no PKCE
            return
        name = self.ctx.literal(arguments.get("name", 0))
        written = f"`{dotted_name(call.func)}({name!r})`" if isinstance(name, str) else f"`{dotted_name(call.func)}()`"
        client_kwargs = arguments.get("client_kwargs")
        if client_kwargs is None:
            if arguments.keywords.keys() & _INLINE_SETTINGS:
                self.report(call, f"{written} registers an OAuth client whose logins run without PKCE: {_WHY}; "
                            "pass `client_kwargs={'code_challenge_method': 'S256', ...}` and Authlib sends the "
                            "challenge and verifier itself")  # fmt: skip
            return
        entries = self.ctx.dict_entries(client_kwargs)
        if entries is None or "code_challenge_method" in entries:
            return
        grant_type = entries.get("grant_type")
        if grant_type is None or self.ctx.literal(grant_type) == oauth.AUTHORIZATION_CODE:  # not a machine client
            self.report(client_kwargs, f"{written} registers an OAuth client whose logins run without PKCE: "
                        f"{_WHY}; add `'code_challenge_method': 'S256'` to its `client_kwargs` and Authlib "
                        "sends the challenge and verifier itself")  # fmt: skip

    # Authorization servers ---------------------------------------------------------

    def _check_grant_registration(self, call: libcst.Call) -> None:
        registration = oauth.grant_registration(self.ctx, call)
        if registration is None or registration.grant != oauth.AUTHORIZATION_CODE:
            return
        if oauth.registers_code_challenge(self.ctx, registration) is False:
            grant_class = dotted_name(registration.grant_class) or "the grant"
            self.report(call, f"`{registration.written}` serves the authorization-code grant (`{grant_class}`) "
                        f"without PKCE: {_WHY}; register it with `[CodeChallenge(required=True)]` as "
                        "extensions")  # fmt: skip

    # Hand-built authorization URLs -------------------------------------------------

    def _judge_urls(self, urls: list[oauth.AuthorizationUrl]) -> None:
        for url in urls:
            if id(url.node) in self._judged_urls:
                continue
            self._judged_urls.add(id(url.node))
            if url.grant == oauth.AUTHORIZATION_CODE and url.lacks("code_challenge"):
                self.report(url.node, f"this authorization URL starts an authorization-code flow without "
                            f"`code_challenge`: {_WHY}; add `code_challenge` (the S256 hash of a per-login "
                            "`code_verifier` kept server-side) and `code_challenge_method=S256`, and send "
                            "`code_verifier` with the token request")  # fmt: skip


from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst

from authlint.facts import oauth, request_input
from authlint.facts.literals import string_value
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_WHY = ("an attacker can send a victim's browser to the callback with the attacker's own authorization code "
        "and sign the victim into the attacker's account (login CSRF)")  # fmt: skip
_CHECK = ("compare the callback's `state` with the value saved in the session at login "
          "(`secrets.compare_digest(...)`) before exchanging the code")  # fmt: skip

# Where a callback finds `code` and `state`: the query string, or the form of `response_mode=form_post`.
_CALLBACK_SOURCES = request_input.QUERY_SOURCES | {request_input.FORM}
_GETTERS = frozenset({"get", "getone", "getfirst", "getlist", "pop"})
# Calls that exchange an authorization code for tokens.
_TOKEN_EXCHANGES = frozenset({"fetch_token", "fetch_access_token"})
# Authlib framework clients compare the state themselves.
_STATE_CHECKING_EXCHANGES = frozenset({"authorize_access_token"})
_STATE_KEY = re.compile(r"[\w.:-]*state[\w.:-]*", re.I)
_PKCE_WORDS = ("code_verifier", "pkce")


class OauthMissingState(FileRule):
    """An OAuth authorization request has no (or a fixed) `state`, or a callback never checks it.

    ## What it does
    Flags OAuth's CSRF protection going missing, where the login starts and where it ends:

    - authorization URLs sent without `state`: URLs written by hand (f-strings, `+`,
      `.format`, `urlencode(params)`) and oauthlib's `prepare_request_uri()`, unless they
      carry a PKCE `code_challenge` (RFC 9700 lets PKCE stand in for `state`);
    - a `state` that is a constant string, in a hand-built URL or passed to
      `authorization_url()`, `create_authorization_url()`, `authorize_redirect()` or
      requests-oauthlib's `OAuth2Session(state=...)`;
    - callbacks that take the authorization `code` from the query string or form
      (Flask `request.args.get("code")`, Django `request.GET["code"]`, Starlette
      `request.query_params["code"]`, aiohttp `request.query["code"]`, a FastAPI query
      parameter named `code`) and exchange it (`fetch_token`, a `grant_type` of
      `authorization_code`) without ever looking at a `state`, and
      `fetch_token(authorization_response=...)` calls that cannot check it: Authlib's
      `OAuth2Session` given no `state=`, requests-oauthlib's `OAuth2Session` built in the
      callback without `state=`.

    Authlib's `create_authorization_url()` and `authorize_redirect()`, requests-oauthlib's
    `authorization_url()` and oauthlib's `prepare_authorization_request()` generate a random
    `state` themselves, and Authlib's `authorize_access_token()` checks it: none of them is
    flagged. A callback that mentions a stored state anywhere (a comparison, a
    `compare_digest`, a `state=` argument, a helper named like `verify_state`) or sends a
    PKCE `code_verifier` is trusted.

    ## Why is this bad?
    Without a per-login `state` that the callback compares with the one it stored, an
    attacker can start a login with their own account, stop before the callback, and send
    the callback URL (with their authorization code) to a victim. The victim's browser
    completes the login and the victim is now working in the attacker's account, where
    whatever they upload or type is visible to the attacker. A constant `state` is no
    better: the attacker knows it.

    ## Example
    ```python
    @app.route("/callback")
    def callback():
        code = request.args.get("code")
        token = oauth.fetch_token(TOKEN_URL, code=code)
        ...
    ```

    ## Use instead
    ```python
    import secrets

    @app.route("/callback")
    def callback():
        expected = session.pop("oauth_state", "")
        if not secrets.compare_digest(request.args.get("state", ""), expected):
            abort(400)
        token = oauth.fetch_token(TOKEN_URL, code=request.args["code"])
        ...
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 6749, The OAuth 2.0 Authorization Framework, section 10.12
    - RFC 9700, OAuth 2.0 Security Best Current Practice, section 4.7
    - CWE-352: Cross-Site Request Forgery (CSRF)
    """

    code = "AL403"
    name = "oauth-missing-state"
    severity = Severity.HIGH
    precision = Precision.MEDIUM
    owasp = ("API2:2023",)
    cwe = (352,)
    requires_words = ("client_id", "authlib", "oauthlib", "fetch_token", "fetch_access_token", "authorization_code")
    requires_text = re.compile(r"client_id|authlib|oauthlib|fetch_token|fetch_access_token|authorization_code")
    words_in_code = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._judged_urls: set[int] = set()
        self._callbacks: list[_Callback] = []

    # Authorization requests -------------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        start = oauth.flow_start(self.ctx, node)
        if start is not None:
            self._check_flow_start(start)
        else:
            self._check_session_state(node)
        self._judge_urls(oauth.authorization_urls_passed(self.ctx, node))
        if self._callbacks:
            self._record_call(node)

    def visit_Return(self, node: libcst.Return) -> None:
        self._judge_urls(oauth.hand_built_authorization_urls(self.ctx, node.value))

    def _check_flow_start(self, start: oauth.FlowStart) -> None:
        state = start.arg("state")
        if state is not None:
            self._check_fixed_state(state, start.written)
        elif not start.generates_state and start.has("state") is False and start.has("code_challenge") is False:
            self.report(start.call, f"`{start.written}` builds an authorization URL without `state`, and oauthlib "
                        f"does not add one: {_WHY}; pass `state=secrets.token_urlsafe(32)`, save it in the "
                        "session and compare it in the callback")  # fmt: skip

    def _check_session_state(self, node: libcst.Call) -> None:
        client = oauth.constructed_client(self.ctx, node)
        if client is not None and client.library == oauth.REQUESTS_OAUTHLIB and client.kind == oauth.SESSION:
            state = self.ctx.arguments(node).get("state", 7)
            if state is not None:
                self._check_fixed_state(state, f"{dotted_name(node.func)}()")

    def _check_fixed_state(self, state: libcst.BaseExpression, written: str) -> None:
        value = self.ctx.literal(state)
        if isinstance(value, str) and value:
            self.report(state, f"`{written}` uses the constant state {value!r}: anyone can forge a callback that "
                        "passes the check, so it gives no CSRF protection; omit `state=` and let the library "
                        "generate one per login, or use `secrets.token_urlsafe(32)`")  # fmt: skip

    def _judge_urls(self, urls: list[oauth.AuthorizationUrl]) -> None:
        for url in urls:
            if id(url.node) in self._judged_urls:
                continue
            self._judged_urls.add(id(url.node))
            state = url.param("state")
            if state is not None and state and oauth.UNKNOWN_TEXT not in state:
                self.report(url.node, f"this authorization URL sends the constant state {state!r}: anyone can "
                            "forge a callback that passes the check; generate `secrets.token_urlsafe(32)` per "
                            "login, save it in the session and compare it in the callback")  # fmt: skip
            elif url.lacks("state") and url.lacks("code_challenge"):
                self.report(url.node, f"this authorization URL has no `state` parameter (and no PKCE "
                            f"`code_challenge`): {_WHY}; add `state=secrets.token_urlsafe(32)`, save it in the "
                            "session and compare it in the callback")  # fmt: skip

    # Callbacks --------------------------------------------------------------------
    # What each function does with the token endpoint is gathered during the walk (while
    # its names resolve) and judged when the function is left.

    def visit_FunctionDef(self, node: libcst.FunctionDef) -> None:
        self._callbacks.append(_Callback())

    def _record_call(self, node: libcst.Call) -> None:
        callback = self._callbacks[-1]
        name = _called_name(node)
        if name in _STATE_CHECKING_EXCHANGES:
            callback.library_checks_state = True
        elif name in _TOKEN_EXCHANGES:
            callback.exchanges = True
            unchecked = self._unchecked_callback_parse(node, callback)
            if unchecked is not None:
                callback.code_reads.append(unchecked)
        elif name == "authorization_url" and isinstance(node.func, libcst.Attribute):
            callback.started_flows.add(dotted_name(node.func.value))

    def visit_SimpleString(self, node: libcst.SimpleString) -> None:
        if self._callbacks and string_value(node) == "authorization_code":
            self._callbacks[-1].exchanges = True

    def leave_FunctionDef(self, node: libcst.FunctionDef) -> None:
        callback = self._callbacks.pop()
        if not callback.exchanges or callback.library_checks_state:
            return
        nodes = self.ctx.nodes_in(node)
        reads = callback.code_reads + self._request_code_reads(node, nodes)
        if not reads or self._mentions_state(node, nodes) or _mentions_pkce(nodes):
            return
        where, description, fix = reads[0]
        self.report(where, f"`{node.name.value}()` {description}: {_WHY}; {fix}")

    def _request_code_reads(self, function: libcst.FunctionDef, nodes: list[libcst.CSTNode]) -> list[tuple]:
        """Where the function takes `code` from the request: a keyed read or a route parameter."""
        fix = f"{_CHECK}, or use PKCE"
        reads = [(p.node, "takes the authorization `code` as a query parameter and exchanges it without checking "
                  "`state`", fix) for p in request_input.handler_params(self.ctx, function)
                 if p.input.key == "code" and p.input.source in _CALLBACK_SOURCES]  # fmt: skip
        for node in nodes:
            read = _keyed_request_read(self.ctx, node, function)
            if read is not None and read[0] == "code":
                reads.append((node, f"reads the authorization `code` from `{read[2]}` and exchanges it without "
                                    "checking `state`", fix))  # fmt: skip
        return reads

    def _unchecked_callback_parse(self, call: libcst.Call, callback: _Callback) -> tuple | None:
        """`fetch_token(authorization_response=...)` on a session that has no state to compare."""
        func = call.func
        if not isinstance(func, libcst.Attribute) or func.attr.value != "fetch_token":
            return None
        arguments = self.ctx.arguments(call)
        client = oauth.client_of(self.ctx, func.value)
        if arguments.get("authorization_response") is None or client is None or client.kind != oauth.SESSION:
            return None
        written = f"`{dotted_name(func)}()`"
        if client.library == oauth.AUTHLIB:
            if arguments.has("state") is not False:
                return None
            return (call, f"passes the callback URL to {written}, which checks its `state` only when given "
                          "`state=`", "pass `state=session.pop('oauth_state')` (the value saved at login), or use "
                          "PKCE")  # fmt: skip
        # requests-oauthlib compares with the state of its own authorization_url() or its `state=`
        receiver = func.value
        if not isinstance(receiver, libcst.Name) or client.constructor is None:
            return None
        scope = self.ctx.resolver.binding_scope(receiver.value)
        built_here = scope is not None and scope.kind == "function"
        if not built_here or receiver.value in callback.started_flows:
            return None
        if self.ctx.arguments(client.constructor).has("state", 7) is not False:
            return None
        return (call, f"passes the callback URL to {written}, whose session was built here without `state=` and so "
                      "checks nothing", "build the session with `OAuth2Session(..., state=session['oauth_state'])` "
                      "(the value saved at login), or use PKCE")  # fmt: skip

    def _mentions_state(self, function: libcst.FunctionDef, nodes: list[libcst.CSTNode]) -> bool:
        """Whether the function uses a state beyond reading it from the request into a name."""
        ignored = {id(param.name) for param in _params(function)}
        for candidate in nodes:
            if isinstance(candidate, (libcst.Assign, libcst.AnnAssign, libcst.AugAssign)):
                targets = candidate.targets if isinstance(candidate, libcst.Assign) else [candidate]
                ignored |= {id(n) for t in targets for n in self.ctx.nodes_in(t.target)}
                read = _keyed_request_read(self.ctx, candidate.value, function)
                if read is not None:  # `state = request.args.get("state")` only reads it
                    ignored.add(id(read[1]))
        return any(id(n) not in ignored and _names_state(n) for n in nodes)


@dataclass
class _Callback:
    """What one function does with an OAuth callback, gathered as the walk goes through it."""

    code_reads: list[tuple[libcst.CSTNode, str, str]] = field(default_factory=list)  # (node, what, fix)
    exchanges: bool = False
    library_checks_state: bool = False
    started_flows: set[str | None] = field(default_factory=set)  # receivers of `.authorization_url()`


def _params(function: libcst.FunctionDef) -> list[libcst.Param]:
    params = function.params
    return [*params.posonly_params, *params.params, *params.kwonly_params]


def _keyed_request_read(ctx, node: libcst.CSTNode, function: libcst.FunctionDef) -> tuple | None:
    """(key, key node, as written) for `request.args.get("code")`, `request.GET["state"]`, ..."""
    if isinstance(node, libcst.Call) and isinstance(node.func, libcst.Attribute) and node.args:
        if node.func.attr.value not in _GETTERS or node.args[0].keyword is not None:
            return None
        container, key, written = node.func.value, node.args[0].value, f"{dotted_name(node.func)}({{!r}})"
    elif isinstance(node, libcst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, libcst.Index):
        container, key, written = node.value, node.slice[0].slice.value, f"{dotted_name(node.value)}[{{!r}}]"
    else:
        return None
    value = ctx.literal(key)
    if not isinstance(value, str):
        return None
    written = written.format(value)
    origin = request_input.request_input_origin(ctx, container, function)
    if origin is None or origin.key is not None or origin.source not in _CALLBACK_SOURCES:
        return None
    return value, key, written


def _called_name(call: libcst.Call) -> str | None:
    func = call.func
    if isinstance(func, libcst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, libcst.Name) else None


def _names_state(node: libcst.CSTNode) -> bool:
    if isinstance(node, libcst.Name):
        return "state" in node.value.lower()
    if isinstance(node, libcst.SimpleString):
        value = string_value(node)
        return isinstance(value, str) and _STATE_KEY.fullmatch(value) is not None
    return False


def _mentions_pkce(nodes: list[libcst.CSTNode]) -> bool:
    for node in nodes:
        text = node.value if isinstance(node, libcst.Name) else None
        if isinstance(node, libcst.SimpleString):
            value = string_value(node)
            text = value if isinstance(value, str) else None
        if text is not None and any(word in text.lower() for word in _PKCE_WORDS):
            return True
    return False

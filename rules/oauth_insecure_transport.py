from __future__ import annotations

import ipaddress
import re

import libcst

from authlint.facts import oauth
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

_INSECURE_TRANSPORT_VARIABLES = frozenset({"OAUTHLIB_INSECURE_TRANSPORT", "AUTHLIB_INSECURE_TRANSPORT"})
_ENVIRON = "os.environ"
# Keyword arguments and settings keys that name an OAuth endpoint (Authlib, requests-oauthlib,
# google-auth-oauthlib's client config).
_ENDPOINT_KEYWORDS = frozenset(
    {
        "token_url", "access_token_url", "refresh_token_url", "auto_refresh_url", "token_endpoint", "token_uri",
        "authorize_url", "authorization_url", "authorization_base_url", "authorization_endpoint", "auth_uri",
        "server_metadata_url",
    }
)  # fmt: skip
# Constants named like an endpoint: TOKEN_URL, GOOGLE_ACCESS_TOKEN_URL, AUTHORIZATION_ENDPOINT.
_ENDPOINT_NAME = re.compile(
    r"(?:^|_)(?:token_(?:url|uri|endpoint)|authori[sz](?:e|ation)_(?:url|uri|endpoint)|"
    r"authorization_base_url|server_metadata_url)$",
    re.I,
)
# Methods whose first argument is a token or authorization endpoint, whatever the client.
_ENDPOINT_FIRST_METHODS = frozenset({"fetch_token", "refresh_token"})
_POSTS = frozenset({"requests.post", "requests.api.post", "httpx.post"})


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class OauthInsecureTransport(FileRule):
    """OAuth runs over plain HTTP: insecure transport is allowed in code, or an endpoint is `http://`.

    ## What it does
    Flags:

    - `OAUTHLIB_INSECURE_TRANSPORT` or `AUTHLIB_INSECURE_TRANSPORT` set in code
      (`os.environ[...] = "1"`, `os.environ.setdefault(...)`, `os.environ.update(...)`,
      `os.putenv(...)`), which makes oauthlib/requests-oauthlib and Authlib accept
      `http://` endpoints and callbacks;
    - token and authorization endpoints with an `http://` URL whose host is not the
      loopback interface (`localhost`, `127.0.0.1`, `::1`): endpoint keyword arguments and
      settings keys (`token_url=`, `access_token_url=`, `authorize_url=`,
      `token_endpoint=`, `server_metadata_url=`, ...), constants named like one
      (`TOKEN_URL`, `AUTHORIZATION_ENDPOINT`), the URL given to `fetch_token()`,
      `refresh_token()`, `authorization_url()`, `create_authorization_url()` and
      `prepare_request_uri()`, hand-built authorization URLs, and `requests.post`/
      `httpx.post` token requests (a body with `grant_type`).

    URLs whose host is a variable are not flagged.

    ## Why is this bad?
    OAuth's tokens, authorization codes and client secrets are bearer credentials: anyone
    who sees them can use them. Over `http://` every network hop between the client and
    the identity provider (Wi-Fi, proxies, the cloud network) can read and replay them,
    or rewrite the redirect. The libraries refuse plain HTTP for this reason; the
    insecure-transport variables turn that protection off for the whole process, and a
    development shortcut set in code ships to production with it.

    ## Example
    ```python
    import os

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    TOKEN_URL = "http://auth.example.com/oauth/token"
    ```

    ## Use instead
    ```python
    TOKEN_URL = "https://auth.example.com/oauth/token"
    ```

    For local development against an identity provider on `http://localhost`, set
    `OAUTHLIB_INSECURE_TRANSPORT=1` in the development shell or `.env` file, never in code.

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - RFC 6749, The OAuth 2.0 Authorization Framework, sections 3.1, 3.2 and 10.9
    - RFC 9700, OAuth 2.0 Security Best Current Practice, section 4.1
    - CWE-319: Cleartext Transmission of Sensitive Information
    """

    code = "AL404"
    name = "oauth-insecure-transport"
    severity = Severity.HIGH
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (319,)
    requires_words = ("insecure_transport", "http://")
    words_in_code = True  # an environment variable's name or a URL literal

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._judged: set[int] = set()  # URL expressions already looked at

    # The insecure-transport switches ------------------------------------------------

    def visit_Assign(self, node: libcst.Assign) -> None:
        for target in node.targets:
            self._check_environ_item(target.target, node.value)
            if isinstance(target.target, libcst.Name) and _ENDPOINT_NAME.search(target.target.value):
                self._check_endpoint(node.value, f"`{target.target.value}`")

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        target = node.target
        if node.value is not None and isinstance(target, libcst.Name) and _ENDPOINT_NAME.search(target.value):
            self._check_endpoint(node.value, f"`{target.value}`")

    def _check_environ_item(self, target: libcst.BaseExpression, value: libcst.BaseExpression) -> None:
        if not (isinstance(target, libcst.Subscript) and self.ctx.qualified_name(target.value) == _ENVIRON):
            return
        index = target.slice[0].slice if len(target.slice) == 1 else None
        if isinstance(index, libcst.Index):
            self._check_variable(self.ctx.literal(index.value), value)

    def _check_variable(self, variable: object, value: libcst.BaseExpression | None) -> None:
        if variable not in _INSECURE_TRANSPORT_VARIABLES or value is None or self.ctx.literal(value) in ("", None):
            return
        library = "oauthlib and requests-oauthlib" if variable.startswith("OAUTHLIB") else "Authlib"
        self.report(value, f"setting `{variable}` in code makes {library} accept `http://` token and "
                    "authorization endpoints and callbacks for the whole process, so tokens and codes can cross the "
                    "network in clear text; remove it and use HTTPS (set it only in a local development "
                    "environment, never in code)")  # fmt: skip

    def visit_Call(self, node: libcst.Call) -> None:
        qualified = self.ctx.qualified_name(node.func)
        if qualified in (f"{_ENVIRON}.setdefault", "os.putenv"):
            self._check_variable(self.ctx.literal(_positional(node, 0)), _positional(node, 1))
        elif qualified == f"{_ENVIRON}.update":
            self._check_environ_update(node)
        self._check_endpoint_arguments(node, qualified)
        self._check_authorization_urls(oauth.authorization_urls_passed(self.ctx, node))

    def _check_environ_update(self, node: libcst.Call) -> None:
        for arg in node.args:
            if arg.keyword is not None:
                self._check_variable(arg.keyword.value, arg.value)
            elif not arg.star:
                for key, value in (self.ctx.dict_entries(arg.value) or {}).items():
                    self._check_variable(key, value)

    # Endpoints -----------------------------------------------------------------------

    def _check_endpoint_arguments(self, node: libcst.Call, qualified: str | None) -> None:
        written = f"`{dotted_name(node.func) or 'the call'}()`"
        arguments = self.ctx.arguments(node)
        for keyword, value in arguments.keywords.items():
            if keyword in _ENDPOINT_KEYWORDS:
                self._check_endpoint(value, f"{written}'s `{keyword}`")
        start = oauth.flow_start(self.ctx, node)
        if start is not None and start.arg("endpoint") is not None:
            self._check_endpoint(start.arg("endpoint"), f"the authorization endpoint of `{start.written}`")
        elif isinstance(node.func, libcst.Attribute) and node.func.attr.value in _ENDPOINT_FIRST_METHODS:
            self._check_endpoint(arguments.get(None, 0), f"the token endpoint of {written}")
        elif qualified in _POSTS and self._is_token_request(arguments):
            self._check_endpoint(arguments.get("url", 0), f"the token request of {written}")

    def _is_token_request(self, arguments) -> bool:
        for keyword in ("data", "json"):
            entries = self.ctx.dict_entries(arguments.get(keyword))
            if entries is not None and "grant_type" in entries:
                return True
        return False

    def visit_Dict(self, node: libcst.Dict) -> None:
        """Settings such as Django's `AUTHLIB_OAUTH_CLIENTS = {"google": {"access_token_url": ...}}`."""
        for element in node.elements:
            if isinstance(element, libcst.DictElement) and self.ctx.literal(element.key) in _ENDPOINT_KEYWORDS:
                self._check_endpoint(element.value, f"`{self.ctx.literal(element.key)}`")

    def visit_Return(self, node: libcst.Return) -> None:
        self._check_authorization_urls(oauth.hand_built_authorization_urls(self.ctx, node.value))

    def _check_authorization_urls(self, urls: list[oauth.AuthorizationUrl]) -> None:
        for url in urls:
            self._check_endpoint(url.node, "this authorization URL")

    def _check_endpoint(self, expr: libcst.BaseExpression | None, described: str) -> None:
        node = self.ctx.resolve(expr) if isinstance(expr, libcst.Name) else expr
        if node is None or id(node) in self._judged:
            return
        self._judged.add(id(node))
        text = oauth.url_text(self.ctx, node)
        url = oauth.parse_url(text) if text is not None else None
        if url is None or url.scheme != "http" or url.host is None or _is_loopback(url.host):
            return
        self.report(node, f"{described} is `http://{url.host}...`: tokens, codes and client secrets sent to it cross "
                    "the network in clear text and can be read or replayed; use `https://`")  # fmt: skip


def _positional(call: libcst.Call, index: int) -> libcst.BaseExpression | None:
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index] if index < len(positional) else None

from __future__ import annotations

import re

import libcst

from authlint.facts import outbound, request_input
from authlint.facts.literals import string_value
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Query parameter names that carry a credential. A local list for now: the credential-name
# classifier of authlint/facts/credentials.py is broader (it matches `password_hint`-style
# names a query-string check does not need), and pagination keys such as `next_token` or
# `page_token` must not match here.
CREDENTIAL_PARAMETERS = frozenset(
    {
        "api_key", "apikey", "x_api_key", "api_token", "apitoken", "token", "access_token", "accesstoken",
        "auth_token", "authtoken", "refresh_token", "key", "secret", "client_secret", "secret_key", "auth",
        "authorization", "password", "passwd", "pwd", "jwt", "bearer", "private_token", "session_token",
    }
)  # fmt: skip

_CREDENTIAL_IN_URL = re.compile(r"[?&](" + "|".join(sorted(CREDENTIAL_PARAMETERS, key=len, reverse=True)) + r")=", re.I)
_KEYED_READS = frozenset({"get", "getlist", "getone", "getall", "get_all", "getfirst", "pop"})
_API_KEY_QUERY = frozenset({"fastapi.security.APIKeyQuery", "fastapi.security.api_key.APIKeyQuery"})
WEB_FRAMEWORKS = frozenset({"flask", "quart", "django", "rest_framework", "starlette", "fastapi", "aiohttp"})


def is_credential_parameter(name: object) -> bool:
    return isinstance(name, str) and name.strip().lower().replace("-", "_") in CREDENTIAL_PARAMETERS


class ApiKeyInQuery(FileRule):
    """An API key, token or secret travels in the URL's query string.

    ## What it does
    Flags credentials read from, or sent in, a query string:

    - reads of a credential-named key from the query string: Flask
      `request.args["api_key"]`, `request.args.get("token")`, `request.values.get(...)`,
      Django `request.GET.get("token")`, DRF and Starlette `request.query_params[...]`,
      aiohttp `request.query.get(...)`/`request.rel_url.query[...]`, also through a local
      copy (`params = request.args.to_dict(); params["token"]`);
    - FastAPI query parameters named like a credential, declared with `Query()`,
      `Annotated[str, Query()]` or implicitly (a plain `token: str` on a route), and
      `APIKeyQuery(...)` security schemes;
    - outbound requests (requests, httpx, aiohttp, urllib, urllib3) that put a credential
      into the URL: `?api_key=` or `&token=` in the URL text, or `params={"api_key": key}`.

    Credential names: `api_key`, `apikey`, `x-api-key`, `api_token`, `token`,
    `access_token`, `auth_token`, `refresh_token`, `key`, `secret`, `client_secret`,
    `auth`, `password`, `jwt` and a few spellings of them. Pagination keys
    (`next_token`, `page_token`), one-time codes (`code`, `state`) and path parameters are
    not flagged, nor are credentials read from headers, cookies or the body.

    ## Why is this bad?
    URLs are logged everywhere: web server and proxy access logs, load balancers, CDN
    logs, browser history, bookmarks, and the `Referer` header sent to every third-party
    resource a page loads. A credential in the query string is copied into all of them,
    where many more people and systems can read it than should, and it outlives any
    rotation you do not know you need.

    ## Example
    ```python
    from fastapi import FastAPI, Query

    app = FastAPI()

    @app.get("/reports")
    def reports(api_key: str = Query(...)):
        ...
    ```

    ## Use instead
    ```python
    from fastapi import FastAPI, Security
    from fastapi.security import APIKeyHeader

    app = FastAPI()
    api_key_header = APIKeyHeader(name="X-API-Key")

    @app.get("/reports")
    def reports(api_key: str = Security(api_key_header)):
        ...
    ```

    When calling an API, send the key in a header (`Authorization: Bearer ...` or the
    provider's API-key header) if it accepts one.

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP REST Security Cheat Sheet, "Sensitive information in HTTP requests"
    - CWE-598: Use of GET Request Method With Sensitive Query Strings
    """

    code = "AL201"
    name = "api-key-in-query"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (598,)
    requires = WEB_FRAMEWORKS | outbound.HTTP_CLIENT_MODULES
    requires_words = ("key", "token", "secret", "auth", "passw", "pwd", "jwt", "bearer")
    words_in_code = True  # the parameter or key name the credential travels under

    # Reads from the request's query string ------------------------------------------

    def visit_Subscript(self, node: libcst.Subscript) -> None:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, libcst.Index):
            return
        if is_credential_parameter(self.ctx.literal(node.slice[0].slice.value)):
            self._check_read(node)

    def visit_Call(self, node: libcst.Call) -> None:
        func = node.func
        if isinstance(func, libcst.Attribute) and func.attr.value in _KEYED_READS and node.args:
            if is_credential_parameter(self.ctx.literal(node.args[0].value)):
                self._check_read(node)
        if self.ctx.qualified_name(func) in _API_KEY_QUERY:
            self._report_scheme(node)
        call = outbound.outbound_request(self.ctx, node)
        if call is not None:
            self._check_outbound(call)

    def _check_read(self, node: libcst.CSTNode) -> None:
        function = request_input.current_function(self.ctx)
        if function is None:
            return
        for origin in request_input.request_inputs(self.ctx, node, function):
            if origin.source in request_input.QUERY_SOURCES and is_credential_parameter(origin.key):
                self.report(node, f"{_written(node)} reads the {_what(origin.key)} `{origin.key}` from the "
                            f"{origin.source}: URLs end up in access logs, proxies, browser history and Referer "
                            "headers; accept it in a header instead (`Authorization: Bearer ...` or "
                            "`X-API-Key`)")  # fmt: skip
                return

    def _report_scheme(self, node: libcst.Call) -> None:
        self.report(node, f"{_written(node.func)}() takes the API key from the query string, where access logs, "
                    "proxies and browser history keep it; use APIKeyHeader(name=\"X-API-Key\") "
                    "instead")  # fmt: skip

    # FastAPI parameters -----------------------------------------------------------

    def visit_FunctionDef(self, node: libcst.FunctionDef) -> None:
        if "fastapi" not in self.ctx.imported_modules or not _may_take_query_parameters(node):
            return
        for param in request_input.handler_params(self.ctx, node):
            key = param.input.key
            if param.input.source == request_input.QUERY and param.marker in (None, "Query") and \
                    is_credential_parameter(key):  # fmt: skip
                what = _with_article(_what(key))
                self.report(param.node, f"`{param.name}` is a query parameter carrying {what}: URLs end up "
                            "in access logs, proxies and browser history; take it from a header "
                            "(Security(APIKeyHeader(name=\"X-API-Key\")) or Header()) instead")  # fmt: skip

    # Outbound requests ------------------------------------------------------------

    def _check_outbound(self, call: outbound.OutboundRequest) -> None:
        name = self._credential_in_url(call.url)
        if name is not None:
            self.report(call.url, f"{call.written} puts `{name}` into the URL's query string, so it is logged by "
                        "every proxy and server on the way; send it in a header (e.g. `Authorization: Bearer ...`) "
                        "if the API accepts one")  # fmt: skip
            return
        params = call.arguments.get("params")
        entries = self.ctx.dict_entries(params) or {}
        name = next((key for key in entries if is_credential_parameter(key)), None)
        if params is not None and name is not None:
            self.report(params, f"{call.written} sends `{name}` in `params=`, that is in the query string, where "
                        "proxies and servers log it; send it in a header (e.g. `Authorization: Bearer ...`) if the "
                        "API accepts one")  # fmt: skip

    def _credential_in_url(self, url: libcst.CSTNode | None, depth: int = 0) -> str | None:
        """The credential parameter written into a URL's text (`?api_key=`), following names to their values."""
        resolved = self.ctx.resolve(url) if url is not None and depth < 4 else None
        if resolved is None or isinstance(resolved, libcst.Name):
            return None
        for node in self.ctx.nodes_in(resolved):
            if isinstance(node, libcst.Name):
                found = self._credential_in_url(node, depth + 1)
            else:
                text = _literal_text(node)
                match = _CREDENTIAL_IN_URL.search(text) if text else None
                found = match.group(1) if match else None
            if found:
                return found
        return None


def _may_take_query_parameters(function: libcst.FunctionDef) -> bool:
    """Cheap: a parameter named like a credential, or one declared with an `alias=`."""
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if is_credential_parameter(param.name.value):
            return True
        declared = [param.default, param.annotation.annotation if param.annotation else None]
        if any(isinstance(d, (libcst.Call, libcst.Subscript)) and _has_alias(d) for d in declared):
            return True
    return False


def _has_alias(node: libcst.CSTNode) -> bool:
    calls = [node] if isinstance(node, libcst.Call) else [
        e.slice.value for e in node.slice if isinstance(e.slice, libcst.Index)  # type: ignore[attr-defined]
    ]
    return any(
        isinstance(call, libcst.Call) and any(a.keyword is not None and a.keyword.value == "alias" for a in call.args)
        for call in calls
    )


def _literal_text(node: libcst.CSTNode) -> str | None:
    if isinstance(node, libcst.SimpleString):
        value = string_value(node)
        return value if isinstance(value, str) else None
    if isinstance(node, libcst.FormattedStringText):
        return node.value
    return None


def _what(key: str | None) -> str:
    normalized = (key or "").lower().replace("-", "_")
    if "key" in normalized:
        return "API key"
    if normalized in ("password", "passwd", "pwd"):
        return "password"
    if "secret" in normalized:
        return "secret"
    return "token"


def _with_article(noun: str) -> str:
    return ("an " if noun[0] in "AEIOUaeiou" else "a ") + noun


def _written(node: libcst.CSTNode) -> str:
    text = libcst.Module(body=[]).code_for_node(node)
    return " ".join(text.split())

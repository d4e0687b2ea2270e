from __future__ import annotations

import libcst

from authlint.facts import outbound, request_input
from authlint.model import Precision, Severity
from authlint.rule import FileRule


class Ssrf(FileRule):
    """An outbound HTTP request goes to a URL or host taken from the client's request.

    ## What it does
    Flags outbound HTTP calls of `requests` (functions and sessions), `httpx` (functions,
    `Client`, `AsyncClient`), `urllib.request.urlopen`/`Request`, `urllib3` and
    `aiohttp.ClientSession` whose URL, or the host part of it, comes from request input in
    the same function: Flask `request.args/form/json/get_json()/values/headers/cookies`,
    Django and DRF `request.GET/POST/data/query_params/headers/META`, FastAPI query, path,
    header and body parameters (and Pydantic body fields), Starlette
    `request.query_params/json()`, aiohttp `request.query/match_info/json()/post()`.
    The value is followed through assignments, f-strings, `+`, `%`, `.format`, `urljoin`
    and simple helpers in the same module. A `base_url=` from request input given to an
    httpx or aiohttp client is flagged too.

    Not flagged: a request value that only fills the path or the query after a fixed
    host (`f"https://api.example.com/items/{item_id}"`, `params={"q": q}`), and URLs the
    function checks first: the host from `urlparse(url).hostname`/`.netloc` tested
    against an allowlist (`if host not in ALLOWED_HOSTS: abort(400)`), membership or
    equality with constants, a `startswith("https://api.example.com/")` check, or a
    validator named like `is_allowed_url(url)`. Checking only the scheme is not enough.

    ## Why is this bad?
    Server-side request forgery: the server sends the request from inside your network,
    with its own credentials and reach. A caller who picks the URL can read cloud
    metadata (`http://169.254.169.254/` hands out instance credentials), call internal
    admin APIs and databases that trust the internal network, scan ports, or make your
    server attack third parties.

    ## Example
    ```python
    import requests
    from flask import request

    @app.get("/preview")
    def preview():
        url = request.args["url"]
        return requests.get(url, timeout=5).text
    ```

    ## Use instead
    ```python
    from urllib.parse import urlparse

    import requests
    from flask import abort, request

    ALLOWED_HOSTS = {"images.example.com", "cdn.example.com"}

    @app.get("/preview")
    def preview():
        url = request.args["url"]
        parsed = urlparse(url)
        if parsed.scheme != "https" or parsed.hostname not in ALLOWED_HOSTS:
            abort(400)
        return requests.get(url, timeout=5, allow_redirects=False).text
    ```

    Where callers must supply arbitrary URLs (webhooks), resolve the host and refuse
    private, loopback and link-local addresses, and send the request through an egress
    proxy that enforces the same.

    ## References
    - OWASP API Security Top 10 2023, API7: Server Side Request Forgery
    - OWASP Server-Side Request Forgery Prevention Cheat Sheet
    - CWE-918: Server-Side Request Forgery (SSRF)
    """

    code = "AL601"
    name = "ssrf"
    severity = Severity.HIGH
    precision = Precision.HIGH
    owasp = ("API7:2023",)
    cwe = (918,)
    requires = outbound.HTTP_CLIENT_MODULES

    def visit_Call(self, node: libcst.Call) -> None:
        call = outbound.outbound_request(self.ctx, node)
        if call is None or call.url is None or isinstance(call.url, libcst.SimpleString):
            return
        function = request_input.current_function(self.ctx)
        if function is None:
            return
        for origin in request_input.request_inputs(self.ctx, call.url, function):
            if request_input.controls_destination(origin) and not request_input.is_sanitized(
                self.ctx, origin, node, function
            ):
                self._report(call, origin)
                return

    def _report(self, call: outbound.OutboundRequest, origin: request_input.RequestInput) -> None:
        what = "URL" if call.url_keyword == "url" else "`base_url`"
        part = what if origin.leading == "" else f"{what}'s host"
        self.report(call.call, f"{call.written} sends a request whose {part} comes from {origin.describe()}, "
                    "unchecked: a caller can point the server at internal addresses (cloud metadata at "
                    "169.254.169.254, admin APIs); check urlparse(url).hostname against an allowlist before "
                    "sending")  # fmt: skip

from __future__ import annotations

import libcst

from authlint.facts import request_input
from authlint.model import Precision, Severity
from authlint.rule import FileRule

WEB_FRAMEWORKS = frozenset({"flask", "quart", "werkzeug", "django", "starlette", "fastapi", "aiohttp"})

# redirect function or response class -> keyword of its URL argument (always first positionally)
_REDIRECTS = {
    "flask.redirect": "location",
    "flask.helpers.redirect": "location",
    "quart.redirect": "location",
    "werkzeug.utils.redirect": "location",
    "django.shortcuts.redirect": "to",
    "starlette.responses.RedirectResponse": "url",
    "fastapi.responses.RedirectResponse": "url",
}
for _module in ("django.http", "django.http.response"):
    for _class in ("HttpResponseRedirect", "HttpResponsePermanentRedirect"):
        _REDIRECTS[f"{_module}.{_class}"] = "redirect_to"
for _module in ("aiohttp.web", "aiohttp.web_exceptions"):
    for _class in ("HTTPMultipleChoices", "HTTPMovedPermanently", "HTTPFound", "HTTPSeeOther",
                   "HTTPTemporaryRedirect", "HTTPPermanentRedirect"):  # fmt: skip
        _REDIRECTS[f"{_module}.{_class}"] = "location"


class OpenRedirect(FileRule):
    """A redirect sends the client to a URL taken from the request without checking where it goes.

    ## What it does
    Flags redirects whose target comes from request input in the same function: Flask
    and Quart `redirect()`, Django `redirect()`, `HttpResponseRedirect` and
    `HttpResponsePermanentRedirect`, Starlette/FastAPI `RedirectResponse`, and aiohttp
    `web.HTTPFound`, `HTTPSeeOther`, `HTTPMovedPermanently`, `HTTPTemporaryRedirect`,
    `HTTPPermanentRedirect`. Typical targets are `next`, `return_to`, `redirect_uri`
    or the `Referer` header, read from Flask `request.args/form/values/referrer`, Django
    `request.GET/POST/META`, FastAPI query parameters, Starlette `request.query_params`
    or aiohttp `request.query`/`await request.post()`, also through local variables,
    f-strings, concatenation and helpers in the same module (`self.get_success_url()`).

    Not flagged: targets checked first with `url_has_allowed_host_and_scheme()`, a
    membership test against an allowlist (`urlparse(url).netloc in ALLOWED_HOSTS`), a
    comparison with a constant or stored value (`redirect_uri == client.redirect_uri`),
    a relative-path check (`url.startswith("/") and not url.startswith("//")`, or
    refusing a URL whose `urlparse(url).netloc` is set), a validator named like
    `is_safe_url(url)`, and targets whose host the code fixes: `f"/users/{user_id}"`,
    `url_for("profile", next=...)`. A bare `startswith("/")` is not enough:
    `//evil.example` starts with `/`.

    ## Why is this bad?
    An open redirect lends your domain to phishing: a link to
    `https://app.example.com/login?next=https://evil.example` looks trustworthy and lands
    the user on the attacker's page after they log in. In OAuth and SSO flows an
    unchecked `redirect_uri` or `return_to` sends authorization codes and tokens to the
    attacker. The OWASP API Security Top 10 2023 has no item of its own for it; it is
    listed under API8 (Security Misconfiguration): the API is missing the hardening of
    allowed redirect targets. (API10 is about the API following redirects as a client,
    the opposite direction.)

    ## Example
    ```python
    from flask import redirect, request

    @app.get("/login/done")
    def login_done():
        return redirect(request.args.get("next", "/"))
    ```

    ## Use instead
    ```python
    from django.utils.http import url_has_allowed_host_and_scheme
    from flask import redirect, request

    @app.get("/login/done")
    def login_done():
        target = request.args.get("next", "/")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={"app.example.com"}):
            target = "/"
        return redirect(target)
    ```

    ## References
    - OWASP API Security Top 10 2023, API8: Security Misconfiguration
    - OWASP Unvalidated Redirects and Forwards Cheat Sheet
    - RFC 9700, OAuth 2.0 Security Best Current Practice, section 4.11 (Open Redirection)
    - CWE-601: URL Redirection to Untrusted Site ('Open Redirect')
    """

    code = "AL406"
    name = "open-redirect"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API8:2023",)
    cwe = (601,)
    requires = WEB_FRAMEWORKS
    requires_words = ("redirect", "httpfound", "httpseeother", "httpmoved", "httpmultiplechoices")
    words_in_code = True

    def visit_Call(self, node: libcst.Call) -> None:
        keyword = _REDIRECTS.get(self.ctx.qualified_name(node.func) or "")
        if keyword is None:
            return
        target = self.ctx.arguments(node).get(keyword, 0)
        function = request_input.current_function(self.ctx)
        if target is None or isinstance(target, libcst.SimpleString) or function is None:
            return
        for origin in request_input.request_inputs(self.ctx, target, function):
            if request_input.controls_destination(origin) and not request_input.is_sanitized(
                self.ctx, origin, node, function
            ):
                self._report(node, origin)
                return

    def _report(self, node: libcst.Call, origin: request_input.RequestInput) -> None:
        written = libcst.Module(body=[]).code_for_node(node.func)
        self.report(node, f"{written}() redirects to {origin.describe()} without checking it: a link to this "
                    "endpoint can send users, and any code or token in the URL, to an attacker's site; allow "
                    "only relative paths or known hosts (url_has_allowed_host_and_scheme(url, allowed_hosts=...) "
                    "or urlparse(url).netloc in ALLOWED_HOSTS)")  # fmt: skip

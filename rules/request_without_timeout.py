from __future__ import annotations

from dataclasses import dataclass

import libcst

from authlint import fix
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

REQUESTS = "requests"
HTTPX = "httpx"

_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
_HTTPX_FUNCTIONS = _METHODS | {"stream"}
# Session.request(method, url, params, data, headers, cookies, files, auth, timeout, ...)
_SESSION_REQUEST_TIMEOUT_POSITION = 8

_REQUESTS_FUNCTIONS = {f"requests.{m}" for m in _METHODS} | {f"requests.api.{m}" for m in _METHODS}
_REQUESTS_SESSIONS = frozenset(
    {"requests.Session", "requests.session", "requests.sessions.Session", "requests.sessions.session"}
)
_HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
_HTTPX_TIMEOUT = "httpx.Timeout"
# urlopen(url, data=None, timeout=...): timeout is the third positional parameter.
_URLOPEN = frozenset(
    {"urllib.request.urlopen", "urllib.request.build_opener().open", "urllib.request.OpenerDirector().open"}
)
_URLOPEN_TIMEOUT_POSITION = 2
_STANDARD_ADAPTER = "requests.adapters.HTTPAdapter"


class RequestWithoutTimeout(FileRule):
    """An outbound HTTP request can wait forever: `requests`/`urlopen` without `timeout`, httpx with `timeout=None`.

    ## What it does
    Flags outbound HTTP calls that have no time limit:

    - `requests.get/post/put/patch/delete/head/options/request(...)` without `timeout=`,
      or with `timeout=None`;
    - the same methods on a `requests.Session()`: `s = requests.Session(); s.get(url)`,
      `with requests.Session() as s:`, `requests.Session().get(url)` and
      `self.session = requests.Session()` used as `self.session.get(url)` in the same class;
    - `urllib.request.urlopen(url)` (and `build_opener().open(url)`) without `timeout`;
    - httpx calls and clients that switch off httpx's 5-second default:
      `httpx.get(url, timeout=None)`, `httpx.Client(timeout=None)`,
      `httpx.AsyncClient(timeout=httpx.Timeout(None))`, `client.get(url, timeout=None)`.

    Calls that pass `**kwargs` (which may hold a timeout) are not flagged, nor are
    sessions given a custom transport adapter (`session.mount(...)` with an adapter other
    than a plain `HTTPAdapter`, or one built with `timeout=`), which commonly adds a
    default timeout.

    ## Why is this bad?
    `requests` and `urllib` wait for a response as long as the server keeps the
    connection open: a slow, overloaded or malicious upstream (or one an attacker points
    the API at) then holds the worker, thread or connection-pool slot forever. A handful
    of such requests exhausts the API's workers and takes it down: unrestricted
    resource consumption.

    ## Example
    ```python
    import requests

    response = requests.get(f"{BILLING_API}/invoices/{invoice_id}")
    ```

    ## Use instead
    ```python
    import requests

    response = requests.get(f"{BILLING_API}/invoices/{invoice_id}", timeout=10)
    ```

    ## Fix
    `--fix` adds `timeout=10` (the `timeout` option) as the last argument of a call that has
    none, and replaces a literal `timeout=None` (also `httpx.Timeout(None)`) with it. A
    timeout that is `None` through a name (`timeout=NO_LIMIT`) is left for you: the name may
    be used elsewhere.

    ## Options
    - `timeout` (default `10`): the number of seconds the messages suggest.

    ```toml
    [tool.authlint.rules.AL503]
    timeout = 5
    ```

    ## References
    - OWASP API Security Top 10 2023, API4: Unrestricted Resource Consumption
    - requests documentation, "Timeouts"
    - CWE-400: Uncontrolled Resource Consumption
    - CWE-1088: Synchronous Access of Remote Resource without Timeout
    """

    code = "AL503"
    name = "request-without-timeout"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API4:2023",)
    cwe = (400, 1088)
    requires = frozenset({"requests", "urllib", "httpx"})
    fixable = True

    @dataclass(frozen=True)
    class Options:
        timeout: float = 10.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._with_clients: list[dict[str, tuple[str, int]]] = []  # `with ... as name` -> (library, client id)
        self._classes: list[dict[str, tuple[str, int]]] = []  # `self.attr = Session()` -> (library, client id)
        self._adapted: set[int] = set()  # sessions given a custom adapter

    # Which client a name refers to -----------------------------------------------

    def _client_class(self, expr: libcst.CSTNode | None) -> str | None:
        """REQUESTS or HTTPX when `expr` constructs a session or client."""
        if not isinstance(expr, libcst.Call):
            return None
        qualified = self.ctx.qualified_name(expr.func)
        if qualified in _REQUESTS_SESSIONS:
            return REQUESTS
        return HTTPX if qualified in _HTTPX_CLIENTS else None

    def _client_of(self, receiver: libcst.CSTNode) -> tuple[str, int] | None:
        """(library, identity) of the session or client a method is called on."""
        constructor = self.ctx.resolve(receiver) if isinstance(receiver, libcst.Name) else receiver
        library = self._client_class(constructor)
        if library is not None:
            return library, id(constructor)
        name = dotted_name(receiver)
        if isinstance(receiver, libcst.Name):
            for bound in reversed(self._with_clients):
                if name in bound:
                    return bound[name]
        elif name is not None and name.startswith("self.") and self._classes:
            return self._classes[-1].get(name.removeprefix("self."))
        return None

    def visit_With(self, node: libcst.With) -> None:
        bound = {}
        for item in node.items:
            library = self._client_class(item.item)
            if library is not None and item.asname is not None and isinstance(item.asname.name, libcst.Name):
                bound[item.asname.name.value] = (library, id(item.item))
        self._with_clients.append(bound)

    def leave_With(self, node: libcst.With) -> None:
        self._with_clients.pop()

    def visit_ClassDef(self, node: libcst.ClassDef) -> None:
        self._classes.append({})

    def leave_ClassDef(self, node: libcst.ClassDef) -> None:
        self._classes.pop()

    def visit_Assign(self, node: libcst.Assign) -> None:
        value = self.ctx.resolve(node.value) if isinstance(node.value, libcst.Name) else node.value
        library = self._client_class(value)
        if library is None or not self._classes:
            return
        in_class_body = self.ctx.resolver.current.kind == "class"
        for target in node.targets:
            name = dotted_name(target.target) or ""
            if name.startswith("self.") and name.count(".") == 1:
                self._classes[-1][name.removeprefix("self.")] = (library, id(value))
            elif in_class_body and isinstance(target.target, libcst.Name):  # a class attribute
                self._classes[-1][name] = (library, id(value))

    # The calls -------------------------------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        qualified = self.ctx.qualified_name(node.func)
        if qualified in _REQUESTS_FUNCTIONS:
            self._check_required(node, f"`{_spelled(node.func)}()`", None)
        elif qualified in _URLOPEN:
            self._check_required(node, f"`{_spelled(node.func)}()`", _URLOPEN_TIMEOUT_POSITION)
        elif qualified is not None and qualified.startswith("httpx.") and qualified[6:] in _HTTPX_FUNCTIONS:
            self._check_not_disabled(node)
        elif qualified in _HTTPX_CLIENTS:
            self._check_not_disabled(node)
        elif isinstance(node.func, libcst.Attribute):
            self._check_client_method(node, node.func)

    def _check_client_method(self, node: libcst.Call, func: libcst.Attribute) -> None:
        method = func.attr.value
        client = self._client_of(func.value)
        if client is None:
            return
        library, identity = client
        if method == "mount" and library == REQUESTS:
            self._note_adapter(node, identity)
        elif method in _METHODS and library == REQUESTS and identity not in self._adapted:
            position = _SESSION_REQUEST_TIMEOUT_POSITION if method == "request" else None
            self._check_required(node, f"`{_spelled(func)}()` on a `requests.Session`", position)
        elif method in _HTTPX_FUNCTIONS and library == HTTPX:
            self._check_not_disabled(node)

    def _note_adapter(self, node: libcst.Call, identity: int) -> None:
        adapter = self.ctx.arguments(node).get("adapter", 1)
        if isinstance(adapter, libcst.Name):
            adapter = self.ctx.resolve(adapter)
        if not isinstance(adapter, libcst.Call):
            self._adapted.add(identity)  # an adapter built elsewhere may set a default timeout
            return
        plain = self.ctx.qualified_name(adapter.func) == _STANDARD_ADAPTER
        if not plain or self.ctx.arguments(adapter).has("timeout") is not False:
            self._adapted.add(identity)

    def _check_required(self, node: libcst.Call, written: str, position: int | None) -> None:
        arguments = self.ctx.arguments(node)
        timeout = arguments.get("timeout", position)
        seconds = self.options.timeout
        if timeout is None and arguments.has("timeout", position) is False:
            added = fix.with_keywords(node, add=[("timeout", self._seconds())])
            self.report(node, f"{written} has no `timeout`: it waits for as long as the server keeps the "
                        "connection open, so a slow or hostile upstream can hold this worker forever; pass "
                        f"`timeout={seconds:g}` (seconds)", fix=fix.replace(node, added))  # fmt: skip
        elif timeout is not None and self.ctx.literal(timeout) is None:
            self.report(timeout, f"{written} passes `timeout=None`, which waits forever for a slow or hostile "
                        f"upstream; pass `timeout={seconds:g}` (seconds)", fix=self._replaced(timeout))  # fmt: skip

    def _check_not_disabled(self, node: libcst.Call) -> None:
        timeout = self.ctx.arguments(node).get("timeout")
        if timeout is not None and self._disables_timeout(timeout):
            seconds = self.options.timeout
            self.report(timeout, f"`{_spelled(node.func)}()` turns off httpx's 5-second default timeout, so a slow "
                        "or hostile upstream can hold this worker forever; drop `timeout=None` or pass "
                        f"`timeout={seconds:g}`", fix=self._replaced(timeout))  # fmt: skip

    def _seconds(self) -> libcst.BaseExpression:
        return fix.expression(f"{self.options.timeout:g}")

    def _replaced(self, timeout: libcst.BaseExpression) -> fix.Fix | None:
        """`None` or `httpx.Timeout(None)` written in the call, replaced by the configured seconds."""
        written = timeout.args[0].value if isinstance(timeout, libcst.Call) and timeout.args else timeout
        if not (isinstance(written, libcst.Name) and written.value == "None"):
            return None
        return fix.replace(timeout, self._seconds())

    def _disables_timeout(self, timeout: libcst.BaseExpression) -> bool:
        if self.ctx.literal(timeout) is None:
            return True
        call = self.ctx.resolve(timeout) if isinstance(timeout, libcst.Name) else timeout
        if not isinstance(call, libcst.Call) or self.ctx.qualified_name(call.func) != _HTTPX_TIMEOUT:
            return False
        arguments = self.ctx.arguments(call)
        only = arguments.get("timeout", 0)
        return (arguments.complete and only is not None and self.ctx.literal(only) is None
                and len(arguments.positional) + len(arguments.keywords) == 1)  # fmt: skip


def _spelled(func: libcst.BaseExpression) -> str:
    """`session.get`, or `requests.Session().get` for a method called on a fresh object."""
    if isinstance(func, libcst.Attribute) and isinstance(func.value, libcst.Call):
        return f"{_spelled(func.value.func)}().{func.attr.value}"
    return dotted_name(func) or "the call"

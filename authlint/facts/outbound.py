"""Outbound HTTP calls: requests, httpx, urllib, urllib3 and aiohttp, and where each takes its URL.

Clients are recognised through imports and local names alike: `requests.get(url)`,
`session.get(url)` after `session = requests.Session()` or `with requests.Session() as
session`, `client.get(url)` for a parameter typed `client: httpx.AsyncClient`, and
`async with aiohttp.ClientSession() as s: s.get(url)`. Client constructors that fix a
`base_url` count too: that argument decides where every request of the client goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst

from authlint.facts import request_input
from authlint.facts.calls import CallArguments
from authlint.facts.names import dotted_name

if TYPE_CHECKING:
    from authlint.context import FileContext

HTTP_CLIENT_MODULES = frozenset({"requests", "httpx", "urllib", "urllib3", "aiohttp"})

_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")

# qualified name -> (library, position of the URL, keyword of the URL)
_CALLS: dict[str, tuple[str, int | None, str]] = {}


def _register(library: str, prefixes: tuple[str, ...], methods: dict[str, int]) -> None:
    for prefix in prefixes:
        for method, position in methods.items():
            _CALLS[f"{prefix}.{method}"] = (library, position, "url")


_URL_FIRST = {verb: 0 for verb in _VERBS}
_register("requests", ("requests", "requests.api"), {**_URL_FIRST, "request": 1})
_register(
    "requests",
    ("requests.Session()", "requests.sessions.Session()", "requests.session()"),
    {**_URL_FIRST, "request": 1},
)
_register("httpx", ("httpx",), {**_URL_FIRST, "request": 1, "stream": 1})
_register("httpx", ("httpx.Client()", "httpx.AsyncClient()"), {**_URL_FIRST, "request": 1, "stream": 1})
_register(
    "aiohttp",
    ("aiohttp.ClientSession()", "aiohttp.client.ClientSession()"),
    {**_URL_FIRST, "request": 1, "ws_connect": 0},
)
_register("aiohttp", ("aiohttp",), {"request": 1})
# `urllib.request.Request(url)` only builds a request: `urlopen(req)` sends it (and carries its URL).
_register("urllib", ("urllib.request",), {"urlopen": 0, "urlretrieve": 0})
_register("urllib3", ("urllib3",), {"request": 1})
_register("urllib3", ("urllib3.PoolManager()", "urllib3.poolmanager.PoolManager()"), {"request": 1, "urlopen": 1})
for _client in ("httpx.Client", "httpx.AsyncClient", "aiohttp.ClientSession", "aiohttp.client.ClientSession"):
    _CALLS[_client] = (_client.split(".", 1)[0], None, "base_url")

_METHOD_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _CALLS)


@dataclass(frozen=True)
class OutboundRequest:
    """One call that sends an HTTP request (or fixes where a client sends them)."""

    call: libcst.Call
    library: str
    qualified: str
    url: libcst.BaseExpression | None  # None when not given or hidden in *args/**kwargs
    arguments: CallArguments

    @property
    def written(self) -> str:
        """The call as the source spells it: `session.get()`."""
        return f"{dotted_name(self.call.func) or self.qualified}()"

    @property
    def url_keyword(self) -> str:
        return _CALLS[self.qualified][2]


def outbound_request(ctx: FileContext, call: libcst.Call) -> OutboundRequest | None:
    """The outbound HTTP request `call` makes, or None (cached per call)."""
    if not ctx.imported_modules & HTTP_CLIENT_MODULES:
        return None
    return ctx.cached("outbound", call, lambda: _recognise(ctx, call))


def _recognise(ctx: FileContext, call: libcst.Call) -> OutboundRequest | None:
    qualified = _qualified(ctx, call.func)
    if qualified not in _CALLS:
        return None
    library, position, keyword = _CALLS[qualified]
    arguments = ctx.arguments(call)
    return OutboundRequest(call, library, qualified, arguments.get(keyword, position), arguments)


def _qualified(ctx: FileContext, func: libcst.BaseExpression) -> str | None:
    """The client call's dotted name, looking at the function's own names when imports do not tell."""
    qualified = ctx.qualified_name(func)
    if qualified in _CALLS or not isinstance(func, libcst.Attribute):
        return qualified
    if func.attr.value not in _METHOD_NAMES or not isinstance(func.value, libcst.Name):
        return qualified
    binding = ctx.resolver.lookup(func.value.value)
    function = request_input.current_function(ctx)
    if function is None or binding is None or binding.kind != "unknown":
        return qualified  # a with-target or a parameter is what imports cannot resolve
    return request_input.function_facts(ctx, function).qualified_name(func)

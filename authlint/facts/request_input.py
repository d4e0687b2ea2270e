"""Request input: which expressions in a function hold what the client sent, and what checked them.

Rules about redirects, outbound calls, credentials or mass assignment ask two questions
about a candidate sink: does this value come from the request (`request_inputs`), and
did the function check it first (`is_sanitized`)? Both are answered inside one function
(intra-procedural), lazily: a function is indexed the first time a rule asks about
something in it, and the index is cached for the file.

Sources: Flask/Quart `request.args/form/json/get_json()/values/headers/cookies/data`,
Django and DRF `request.GET/POST/COOKIES/META/headers/body/data/query_params` (a view's
`request` parameter or `self.request`), Starlette/FastAPI `request.query_params/
path_params/headers/cookies/json()/form()/body()`, aiohttp `request.query/match_info/
rel_url.query/json()/post()/text()`, and FastAPI handler parameters (`Query`, `Path`,
`Body`, `Form`, `Header`, `Cookie`, `APIKeyQuery` schemes, implicit query and path
parameters and Pydantic body models). Values flow through assignments, f-strings, `+`,
`%` and `.format`, `urljoin`, subscripts, `.get()`, attributes, string methods and the
returns of simple helpers in the same module.

Where a value starts matters for URLs: `f"https://api.example.com/items/{item}"` lets
the client pick a path, not a host. Each `RequestInput` keeps the text known to precede
it (`leading`), and `controls_destination` says whether that text leaves the host open.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

import libcst

from authlint.facts.literals import string_value
from authlint.facts.names import (
    UNKNOWN_BINDING,
    Binding,
    Resolver,
    Scope,
    dotted_name,
    import_bindings,
)
from authlint.walk import iter_children

if TYPE_CHECKING:
    from authlint.context import FileContext

# Where a request input comes from (also how messages name it).
QUERY = "query string"
FORM = "form body"
JSON = "JSON body"
BODY = "request body"
VALUES = "query string or form body"  # Flask's request.values merges both
HEADER = "headers"
COOKIE = "cookies"
PATH = "URL path"
# A plain parameter of a helper: what the caller passes decides (never reported as input).
PARAMETER = "parameter"

QUERY_SOURCES = frozenset({QUERY, VALUES})

# Stands for text the code chose but authlint cannot read (`settings.BASE_URL`).
UNKNOWN_TEXT = "\x00"

_MAX_DEPTH = 24


@dataclass(frozen=True)
class RequestInput:
    """A value the client controls, where it was read and what text precedes it in the value."""

    source: str  # QUERY, FORM, JSON, ... or PARAMETER
    key: str | None  # "next" for request.args["next"]; the parameter name for handler parameters
    node: libcst.CSTNode  # where the request is read
    leading: str = ""  # text before the client's part ("" = the client's text starts the value)
    part: str | None = None  # a URL component taken from it: "netloc", "scheme", ...
    via: tuple[str, ...] = ()  # local names it flowed through

    def describe(self) -> str:
        """`next` from the query string, the JSON body, the `Referer` header..."""
        if self.source == HEADER and self.key:
            return f"the `{self.key}` header"
        if self.key:
            return f"`{self.key}` from the {self.source}"
        return f"the {self.source}"

    def keyed(self, key: object) -> RequestInput:
        """An item of this value: `data["url"]`, `form.get("next")`."""
        new_key = self.key if self.key is not None or not isinstance(key, str) else key
        return dataclasses.replace(self, key=new_key, leading="", part=None)

    def after(self, prefix: str) -> RequestInput:
        return dataclasses.replace(self, leading=prefix + self.leading) if prefix else self

    def through(self, name: str) -> RequestInput:
        return self if name in self.via else dataclasses.replace(self, via=self.via + (name,))


# Public API -------------------------------------------------------------------------


def request_inputs(ctx: FileContext, expr: libcst.CSTNode, function: libcst.FunctionDef | None = None):
    """Every request input `expr` carries, in its function (the walk's current one by default)."""
    facts = _facts_for(ctx, function)
    if facts is None:
        return ()
    return tuple(o for o in facts.origins(expr) if o.source != PARAMETER)


def request_input_origin(
    ctx: FileContext, expr: libcst.CSTNode, function: libcst.FunctionDef | None = None
) -> RequestInput | None:
    """The first request input `expr` carries, or None."""
    found = request_inputs(ctx, expr, function)
    return found[0] if found else None


def is_sanitized(
    ctx: FileContext, origin: RequestInput, sink: libcst.CSTNode, function: libcst.FunctionDef | None = None
) -> bool:
    """Whether the function checks `origin` against an allowlist or constant before `sink` uses it."""
    facts = _facts_for(ctx, function)
    return facts is not None and facts.sanitized(origin, sink)


def controls_destination(origin: RequestInput) -> bool:
    """Whether the client's text can choose the host of the URL it ends up in.

    True when it starts the value, or follows only a scheme or a partial host
    (`"https://" + host`, `f"https://{sub}.example.com"`), or a lone "/" (`"/" + next`
    becomes `//evil.example`). False after a complete host (`https://api.example.com/`),
    a local path (`/profile/`) or text the code chose that authlint cannot read.
    """
    return _leaves_host_open(origin.leading)


def _leaves_host_open(leading: str) -> bool:
    if leading in ("", "/", "\\"):
        return True
    if UNKNOWN_TEXT in leading:
        return False
    return _OPEN_AUTHORITY.match(leading) is not None


_OPEN_AUTHORITY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?:/{0,2}|[/\\]{2}[^/?#\\]*)$")


def function_facts(ctx: FileContext, function: libcst.FunctionDef) -> FunctionFacts:
    """The cached request-input index of one function."""
    return ctx.cached("request_input", function, lambda: FunctionFacts(ctx, function))


def current_function(ctx: FileContext) -> libcst.FunctionDef | None:
    """The innermost `def` the walk is in (a lambda belongs to its enclosing def)."""
    for node in reversed(ctx.tracker.functions):
        if isinstance(node, libcst.FunctionDef):
            return node
    return None


def function_signature(ctx: FileContext, function: libcst.FunctionDef) -> Signature:
    """The cached parameters-only facts of one function (no look at its body)."""
    return ctx.cached("request_input_signature", function, lambda: Signature(ctx, function))


def is_request_handler(ctx: FileContext, function: libcst.FunctionDef) -> bool:
    """A route-decorated function, or one taking a request object (a view)."""
    return route_paths(function) is not None or bool(function_signature(ctx, function).request_names)


@dataclass(frozen=True)
class HandlerParam:
    """A parameter through which a framework hands a function request input."""

    name: str
    node: libcst.Param
    input: RequestInput
    marker: str | None  # "Query", "Header", "Depends", ... or None when implicit


def handler_params(ctx: FileContext, function: libcst.FunctionDef) -> tuple[HandlerParam, ...]:
    return function_signature(ctx, function).handler_params


def _facts_for(ctx: FileContext, function: libcst.FunctionDef | None) -> FunctionFacts | None:
    function = function or current_function(ctx)
    return function_facts(ctx, function) if function is not None else None


# Where request input lives --------------------------------------------------------

_REQUEST_PROXIES = frozenset({"flask.request", "flask.globals.request", "quart.request", "quart.globals.request"})
_REQUEST_CLASSES = frozenset(
    {
        "starlette.requests.Request", "starlette.requests.HTTPConnection", "starlette.websockets.WebSocket",
        "fastapi.Request", "fastapi.requests.Request", "fastapi.WebSocket", "fastapi.websockets.WebSocket",
        "aiohttp.web.Request", "aiohttp.web.BaseRequest", "aiohttp.web_request.Request",
        "django.http.HttpRequest", "django.http.request.HttpRequest", "django.core.handlers.wsgi.WSGIRequest",
        "rest_framework.request.Request", "flask.Request", "werkzeug.wrappers.Request", "quart.Request",
    }
)  # fmt: skip
_REQUEST_PARAM_NAMES = frozenset({"request", "req"})

# request.<attribute> -> what it holds
_CONTAINERS = {
    "args": QUERY, "GET": QUERY, "query_params": QUERY, "query": QUERY, "query_string": QUERY,
    "form": FORM, "POST": FORM, "json": JSON, "values": VALUES, "data": BODY, "body": BODY,
    "headers": HEADER, "META": HEADER, "cookies": COOKIE, "COOKIES": COOKIE,
    "view_args": PATH, "path_params": PATH, "match_info": PATH,
}  # fmt: skip
_SINGLE_VALUES = {"referrer": (HEADER, "Referer")}
# request.<method>() -> what it returns
_READ_METHODS = {
    "get_json": JSON, "json": JSON, "form": FORM, "post": FORM, "body": BODY, "text": BODY,
    "read": BODY, "get_data": BODY,
}  # fmt: skip

# Methods of a request-derived value that read one item of it.
_KEYED_METHODS = frozenset({"get", "getlist", "getone", "getall", "get_all", "pop", "setdefault", "getfirst"})
# Methods that return (part of) the same text or mapping.
_SAME_VALUE_METHODS = frozenset(
    {
        "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "replace", "removeprefix", "removesuffix",
        "encode", "decode", "format", "split", "rsplit", "partition", "rpartition", "splitlines", "copy",
        "to_dict", "dict", "model_dump", "items", "values", "geturl", "_replace", "with_path", "with_query",
    }
)  # fmt: skip
# Parsing a request body into a model keeps it request input.
_PARSING_METHODS = frozenset({"model_validate", "model_validate_json", "parse_obj", "parse_raw", "load", "loads"})
# Attributes of a form/serializer built from request data that hold that data.
_VALIDATED_ATTRIBUTES = frozenset({"validated_data", "cleaned_data", "initial_data", "data"})
# Parts of a parsed URL; only the host ones say where a request goes.
_URL_PARTS = frozenset({"scheme", "netloc", "hostname", "host", "port", "path", "query", "fragment", "params",
                        "username", "password", "raw_host"})  # fmt: skip
_HOST_PARTS = frozenset({"netloc", "hostname", "host", "raw_host"})

_URL_JOINS = frozenset(
    {"urllib.parse.urljoin", "urlparse.urljoin", "requests.compat.urljoin", "six.moves.urllib.parse.urljoin"}
)
_PASS_THROUGH = frozenset(
    {
        "str", "dict", "list", "tuple", "set", "sorted", "reversed", "next", "iter",
        "urllib.parse.urlparse", "urllib.parse.urlsplit", "urllib.parse.urlunparse", "urllib.parse.urlunsplit",
        "urllib.parse.unquote", "urllib.parse.unquote_plus", "urllib.parse.urlencode", "urllib.parse.parse_qs",
        "urllib.parse.parse_qsl", "html.unescape", "json.loads", "yarl.URL", "httpx.URL",
        "django.utils.encoding.iri_to_uri", "django.utils.encoding.force_str",
    }
)  # fmt: skip

# Functions that check a URL against allowed hosts.
_URL_CHECKS = frozenset(
    {
        "django.utils.http.url_has_allowed_host_and_scheme", "django.utils.http.is_safe_url",
        "is_safe_url.is_safe_url",
    }
)  # fmt: skip
# A local function named like this is taken to check its argument.
_CHECK_NAME = re.compile(r"safe|allow|trusted|permit|whitelist|valid", re.I)
_VALIDATOR_NAME = re.compile(r"safe|allow|trusted|permit|whitelist|valid|verify|check|ensure|assert", re.I)
_ABORT_NAME = re.compile(r"(^|_)abort$|^exit$|^fail$")


# FastAPI handler parameters -------------------------------------------------------

_ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "route", "api_route", "websocket"}
)
_FASTAPI_MARKERS = {"Query": QUERY, "Path": PATH, "Body": JSON, "Form": FORM, "Header": HEADER, "Cookie": COOKIE}
_API_KEY_SCHEMES = {"APIKeyQuery": QUERY, "APIKeyHeader": HEADER, "APIKeyCookie": COOKIE}
_TEXT_TYPES = frozenset(
    {"str", "bytes", "Any", "EmailStr", "HttpUrl", "AnyUrl", "AnyHttpUrl", "SecretStr", "constr", "Literal",
     "NameEmail"}  # fmt: skip
)
_NON_TEXT_TYPES = frozenset(
    {
        "int", "float", "bool", "complex", "UUID", "date", "datetime", "time", "timedelta", "Decimal", "conint",
        "confloat", "condecimal", "PositiveInt", "NegativeInt", "NonNegativeInt", "StrictInt", "StrictBool",
        "StrictFloat", "UploadFile",
    }
)  # fmt: skip
_WRAPPER_TYPES = frozenset(
    {"Optional", "Union", "List", "list", "Set", "set", "Sequence", "Tuple", "tuple", "FrozenSet", "frozenset"}
)
_PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}|<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_NON_TEXT_CONVERTERS = frozenset({"int", "float", "uuid"})


def route_paths(function: libcst.FunctionDef) -> list[str] | None:
    """Paths of the route decorators on `function` ("" when not a literal); None if it has none."""
    paths: list[str] | None = None
    for decorator in function.decorators:
        call = decorator.decorator
        if not (isinstance(call, libcst.Call) and isinstance(call.func, libcst.Attribute)):
            continue
        if call.func.attr.value not in _ROUTE_METHODS:
            continue
        path = next((a.value for a in call.args if a.keyword is None or a.keyword.value in ("path", "rule")), None)
        value = string_value(path) if isinstance(path, libcst.SimpleString) else ""
        paths = (paths or []) + [value if isinstance(value, str) else ""]
    return paths


def _path_parameters(paths: list[str]) -> dict[str, bool]:
    """Parameter names in route paths, and whether each can carry text (`<int:id>` cannot)."""
    found: dict[str, bool] = {}
    for path in paths:
        for match in _PATH_PARAM.finditer(path):
            name = match.group(1) or match.group(3)
            found[name] = (match.group(2) or "") not in _NON_TEXT_CONVERTERS
    return found


# The index of one function --------------------------------------------------------


@dataclass(frozen=True)
class _Binding:
    """A local name getting a value: `how` is "value", "element", "aug", "with" or "unknown"."""

    name: str
    node: libcst.CSTNode  # the statement or expression that binds
    value: libcst.CSTNode | None
    visible_from: int  # position from which reads see it
    how: str


class _Layout:
    """Pre-order positions of a function's nodes; a node's subtree spans [start, end)."""

    def __init__(self, root: libcst.CSTNode) -> None:
        self.start: dict[int, int] = {}
        self.end: dict[int, int] = {}
        self.block_ids: list[int] = []
        count = 0
        stack: list[tuple[libcst.CSTNode, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                self.end[id(node)] = count
                continue
            self.start[id(node)] = count
            count += 1
            stack.append((node, True))
            self.block_ids.extend(id(b) for b in _conditional_blocks(node))
            stack.extend((child, False) for child in reversed(list(iter_children(node))))
        self.blocks = [(self.start[b], self.end[b]) for b in self.block_ids if b in self.start]

    def position(self, node: libcst.CSTNode, default: int) -> int:
        return self.start.get(id(node), default)

    def within(self, node: libcst.CSTNode, container: libcst.CSTNode | None) -> bool:
        if container is None or id(container) not in self.start or id(node) not in self.start:
            return False
        return self.start[id(container)] <= self.start[id(node)] < self.end[id(container)]

    def before(self, node: libcst.CSTNode, at: int) -> bool:
        """Whether all of `node` runs before position `at`."""
        return id(node) in self.end and self.end[id(node)] <= at

    def dominates(self, node: libcst.CSTNode, at: int, or_at: int | None = None) -> bool:
        """Whether `node` surely runs before `at`: every branch holding it also holds `at` (or `or_at`)."""
        where = self.start.get(id(node))
        if where is None:
            return False
        return all(
            start <= at < end or (or_at is not None and start <= or_at < end)
            for start, end in self.blocks
            if start <= where < end
        )


def _conditional_blocks(node: libcst.CSTNode) -> Iterator[libcst.CSTNode]:
    """The blocks of a compound statement that may not run."""
    if isinstance(node, (libcst.If, libcst.For, libcst.While)):
        yield node.body
        if node.orelse is not None:
            yield node.orelse
    elif isinstance(node, (libcst.Try, libcst.TryStar)):
        yield node.body
        yield from node.handlers
        if node.orelse is not None:
            yield node.orelse
    elif isinstance(node, libcst.Match):
        yield from node.cases


class _LocalResolver(Resolver):
    """Qualified names as seen from inside one function, whatever the walk is doing."""

    def __init__(self, scopes: list[Scope]) -> None:
        # Not super().__init__: the module scope is the file's, already built once.
        self.scopes = scopes


class Signature:
    """What a function receives: `self`, the request object, and framework-injected request input.

    Cheap on purpose (no look at the body): rules ask it of every handler they visit.
    """

    def __init__(self, ctx: FileContext, function: libcst.FunctionDef) -> None:
        self.ctx = ctx
        self.function = function
        self.resolver = _LocalResolver([ctx.resolver.module_scope, _parameter_scope(function)])
        self.self_name = self._self_name()
        self.request_names = self._request_parameters()
        self.handler_params = tuple(self._handler_params())

    def qualified_name(self, expr: libcst.CSTNode) -> str | None:
        return self.resolver.qualified_name(expr)

    def _self_name(self) -> str | None:
        params = self.function.params.params
        if params and params[0].name.value in ("self", "cls"):
            return params[0].name.value
        return None

    def _request_parameters(self) -> frozenset[str]:
        """Parameters holding the request object: `request`/`req` first (after self), or typed as one."""
        names = set()
        params = [p for p in (*self.function.params.posonly_params, *self.function.params.params)]
        if params and params[0].name.value == self.self_name:
            params = params[1:]
        if params and params[0].name.value in _REQUEST_PARAM_NAMES and params[0].default is None:
            names.add(params[0].name.value)
        for param in _all_params(self.function):
            annotation = _annotation(param)
            if annotation is not None and self.qualified_name(_unwrapped_type(self, annotation)) in _REQUEST_CLASSES:
                names.add(param.name.value)
        return frozenset(names)

    def _handler_params(self) -> Iterator[HandlerParam]:
        paths = route_paths(self.function)
        if "fastapi" not in self.ctx.imported_modules and paths is None:
            return
        path_params = _path_parameters(paths or [])
        for param in _all_params(self.function):
            name = param.name.value
            if name in self.request_names or name == self.self_name:
                continue
            found = self._classify_param(param, paths is not None, path_params)
            if found is not None:
                yield HandlerParam(name, param, *found)

    def _classify_param(self, param: libcst.Param, is_route: bool, path_params: dict[str, bool]):
        """(RequestInput, marker) for a framework-injected parameter that can carry text, else None."""
        name = param.name.value
        annotation, markers = _annotated(self, _annotation(param))
        if isinstance(param.default, libcst.Call):
            markers.insert(0, param.default)
        for marker in markers:
            kind = self._marker_kind(marker)
            if kind is not None:
                return self._marked_input(param, annotation, marker, kind)
        if name in path_params and is_route:
            return (RequestInput(PATH, name, param), None) if path_params[name] and self._is_text(annotation) else None
        if not is_route or "fastapi" not in self.ctx.imported_modules or self._is_framework_type(annotation):
            return None
        if self._is_text(annotation):
            return RequestInput(QUERY, name, param), None
        if annotation is not None and _type_name(self, annotation) not in _NON_TEXT_TYPES:
            return RequestInput(JSON, None, param), None  # a Pydantic body model
        return None

    def _marker_kind(self, marker: libcst.CSTNode) -> str | None:
        qualified = self.qualified_name(marker.func) if isinstance(marker, libcst.Call) else None
        if not qualified or not qualified.startswith("fastapi."):
            return None
        last = qualified.rsplit(".", 1)[-1]
        return last if last in _FASTAPI_MARKERS or last in ("Depends", "Security") else None

    def _marked_input(self, param, annotation, marker: libcst.Call, kind: str):
        name = param.name.value
        if kind in ("Depends", "Security"):
            return self._api_key_dependency(param, marker, kind)
        if kind != "Body" and annotation is not None and not self._is_text(annotation):
            return None
        alias = next((a.value for a in marker.args if a.keyword is not None and a.keyword.value == "alias"), None)
        key = self.ctx.literal(alias) if alias is not None else None
        source = _FASTAPI_MARKERS[kind]
        key = key if isinstance(key, str) else (name if source != JSON or self._is_text(annotation) else None)
        return RequestInput(source, key, param), kind

    def _api_key_dependency(self, param: libcst.Param, marker: libcst.Call, kind: str):
        """`api_key: str = Security(APIKeyQuery(name="api_key"))`: the key's location and name."""
        dependency = marker.args[0].value if marker.args else None
        scheme = self.ctx.resolve(dependency) if isinstance(dependency, libcst.Name) else dependency
        if not isinstance(scheme, libcst.Call):
            return None
        qualified = self.qualified_name(scheme.func) or ""
        source = _API_KEY_SCHEMES.get(qualified.rsplit(".", 1)[-1]) if qualified.startswith("fastapi.") else None
        if source is None:
            return None
        key_name = next((a.value for a in scheme.args if a.keyword is not None and a.keyword.value == "name"), None)
        key = self.ctx.literal(key_name)
        return RequestInput(source, key if isinstance(key, str) else None, param), kind

    def _is_text(self, annotation: libcst.CSTNode | None) -> bool:
        return annotation is None or _type_name(self, annotation) in _TEXT_TYPES

    def _is_framework_type(self, annotation: libcst.CSTNode | None) -> bool:
        qualified = self.qualified_name(annotation) if annotation is not None else None
        return bool(qualified) and qualified.split(".", 1)[0] in ("fastapi", "starlette")  # type: ignore[union-attr]

    def param_inputs(self) -> dict[str, RequestInput]:
        """Inputs by parameter name; a plain parameter stands for whatever a caller passes (PARAMETER)."""
        inputs = {p.name: p.input for p in self.handler_params}
        for param in _all_params(self.function):
            name = param.name.value
            if name not in inputs and name not in self.request_names and name != self.self_name:
                inputs[name] = RequestInput(PARAMETER, name, param)
        return inputs


class FunctionFacts:
    """What one function binds, receives and checks, for request-input questions."""

    def __init__(self, ctx: FileContext, function: libcst.FunctionDef) -> None:
        self.ctx = ctx
        self.function = function
        self.layout = _Layout(function)
        self.bindings: dict[str, list[_Binding]] = {}
        self.guards: list[libcst.CSTNode] = []  # if/assert/call statements that may check input
        self.returns: list[libcst.Return] = []
        self._collect(function)
        self.resolver = _LocalResolver([ctx.resolver.module_scope, self._local_scope()])
        signature = function_signature(ctx, function)
        self.self_name = signature.self_name
        self.request_names = signature.request_names
        self.param_inputs = signature.param_inputs()
        self._memo: dict[tuple[int, int], tuple[RequestInput, ...]] = {}
        self._returned: tuple[RequestInput, ...] | None = None

    # Collecting bindings and guards (one pass; nested defs keep their own names) ----

    def _collect(self, function: libcst.FunctionDef) -> None:
        stack: list[libcst.CSTNode] = list(reversed(list(iter_children(function.body))))
        while stack:
            node = stack.pop()
            if isinstance(node, (libcst.FunctionDef, libcst.ClassDef)):
                self._bind(node.name.value, node, None, "unknown", self.layout.end[id(node)])
                continue
            if isinstance(node, libcst.Lambda) or type(node).__name__ in _COMPREHENSIONS:
                continue
            self._record(node)
            stack.extend(reversed(list(iter_children(node))))

    def _record(self, node: libcst.CSTNode) -> None:
        end = self.layout.end[id(node)]
        if isinstance(node, libcst.Assign):
            for target in node.targets:
                self._bind_target(target.target, node, node.value, end)
        elif isinstance(node, libcst.AnnAssign) and node.value is not None:
            self._bind_target(node.target, node, node.value, end)
        elif isinstance(node, libcst.AugAssign) and isinstance(node.target, libcst.Name):
            self._bind(node.target.value, node, node.value, "aug", end)
        elif isinstance(node, libcst.For):
            self._bind_target(node.target, node, node.iter, self.layout.end[id(node.iter)], element=True)
        elif isinstance(node, libcst.WithItem) and node.asname is not None:
            self._bind_target(node.asname.name, node, node.item, end, how="with")
        elif isinstance(node, libcst.NamedExpr) and isinstance(node.target, libcst.Name):
            self._bind(node.target.value, node, node.value, "value", end)
        elif isinstance(node, libcst.ExceptHandler) and node.name is not None:
            self._bind_target(node.name.name, node, None, self.layout.start[id(node.body)], how="unknown")
        elif isinstance(node, (libcst.Import, libcst.ImportFrom)):
            for name, _ in import_bindings(node):
                self._bind(name, node, None, "import", end)
        elif isinstance(node, (libcst.If, libcst.Assert)) or _is_call_statement(node):
            self.guards.append(node)
        elif isinstance(node, libcst.Return):
            self.returns.append(node)

    def _bind_target(self, target, node, value, visible_from, element=False, how="value") -> None:
        if isinstance(target, libcst.Name):
            self._bind(target.value, node, value, "element" if element else how, visible_from)
        elif isinstance(target, (libcst.Tuple, libcst.List)):
            pairs = _unpacked(target, value)
            for item, item_value in pairs:
                self._bind_target(item, node, item_value, visible_from, element or item_value is value, how)
        elif isinstance(target, libcst.StarredElement):
            self._bind_target(target.value, node, value, visible_from, True, how)

    def _bind(self, name: str, node, value, how: str, visible_from: int) -> None:
        self.bindings.setdefault(name, []).append(_Binding(name, node, value, visible_from, how))

    def _local_scope(self) -> Scope:
        """The function's names, each with its last binding (enough for qualified names)."""
        scope = _parameter_scope(self.function)
        for name, bindings in self.bindings.items():
            last = bindings[-1]
            if last.how == "import":
                scope.bind(name, dict(import_bindings(last.node))[name])
            elif last.how in ("value", "with") and last.value is not None:
                scope.bind(name, Binding("value", value=last.value))  # type: ignore[arg-type]
            else:
                scope.bind(name, UNKNOWN_BINDING)
        return scope

    def qualified_name(self, expr: libcst.CSTNode) -> str | None:
        """`requests.Session().get` for `s.get` after `with requests.Session() as s`, from inside this function."""
        return self.resolver.qualified_name(expr)

    # Where request input comes from -------------------------------------------

    def is_request_object(self, expr: libcst.CSTNode, at: int, depth: int = 0) -> bool:
        if isinstance(expr, libcst.Name):
            if expr.value in self.request_names:
                return True
            bindings, _ = self._reaching(expr.value, self.layout.position(expr, at))
            if bindings:
                return len(bindings) == 1 and bindings[0].how == "value" and depth < 4 and \
                    self.is_request_object(bindings[0].value, bindings[0].visible_from, depth + 1)  # fmt: skip
            return expr.value not in self.param_inputs and self.qualified_name(expr) in _REQUEST_PROXIES
        if isinstance(expr, libcst.Attribute) and expr.attr.value == "request":
            return self._is_self(expr.value) or self.qualified_name(expr) in _REQUEST_PROXIES
        return False

    def _is_self(self, expr: libcst.CSTNode) -> bool:
        return self.self_name is not None and isinstance(expr, libcst.Name) and expr.value == self.self_name

    def _source(self, expr: libcst.CSTNode, at: int) -> RequestInput | None:
        """The request input `expr` reads directly (`request.args`, `await request.json()`)."""
        if isinstance(expr, libcst.Attribute):
            attr, base = expr.attr.value, expr.value
            if attr in _CONTAINERS and self.is_request_object(base, at):
                return RequestInput(_CONTAINERS[attr], None, expr)
            if attr in _SINGLE_VALUES and self.is_request_object(base, at):
                return RequestInput(*_SINGLE_VALUES[attr], expr)  # type: ignore[misc]
            if attr == "query" and isinstance(base, libcst.Attribute) and base.attr.value in ("rel_url", "url") \
                    and self.is_request_object(base.value, at):  # fmt: skip
                return RequestInput(QUERY, None, expr)
        if isinstance(expr, libcst.Call) and isinstance(expr.func, libcst.Attribute):
            method = expr.func.attr.value
            if method in _READ_METHODS and self.is_request_object(expr.func.value, at):
                return RequestInput(_READ_METHODS[method], None, expr)
        return None

    def origins(self, expr: libcst.CSTNode | None, at: int | None = None, depth: int = 0) -> tuple[RequestInput, ...]:
        """Every request input (or helper parameter) `expr` carries at position `at` (its own by default)."""
        if expr is None or depth > _MAX_DEPTH:
            return ()
        at = self.layout.position(expr, at if at is not None else 1 << 30)
        if id(expr) not in self.layout.start:  # a node made up here: its id may be reused, never cache it
            return _unique(self._compute(expr, at, depth + 1))
        key = (id(expr), at)
        if key not in self._memo:
            self._memo[key] = ()  # a cycle reads as "no input"
            self._memo[key] = _unique(self._compute(expr, at, depth + 1))
        return self._memo[key]

    def _compute(self, expr: libcst.CSTNode, at: int, depth: int) -> tuple[RequestInput, ...]:
        source = self._source(expr, at)
        if source is not None:
            return (source,)
        propagate = _PROPAGATORS.get(type(expr).__name__)
        return propagate(self, expr, at, depth) if propagate else ()

    def _reaching(self, name: str, at: int) -> tuple[list[_Binding], bool]:
        """Bindings of `name` that may be the one seen at `at` (latest first), and whether one surely is."""
        found = []
        for binding in reversed(self.bindings.get(name, ())):
            if binding.visible_from > at:
                continue
            found.append(binding)
            if self.layout.dominates(binding.node, at):
                return found, True
        return found, False

    def _name(self, expr: libcst.Name, at: int, depth: int) -> tuple[RequestInput, ...]:
        bindings, certain = self._reaching(expr.value, at)
        found: list[RequestInput] = []
        for binding in bindings:
            found += [o.through(expr.value) for o in self._binding_origins(binding, depth)]
        if not certain and expr.value in self.param_inputs:
            found.append(self.param_inputs[expr.value].through(expr.value))
        return tuple(found)

    def _binding_origins(self, binding: _Binding, depth: int) -> tuple[RequestInput, ...]:
        if binding.how in ("unknown", "import", "with") or binding.value is None:
            return ()
        found = self.origins(binding.value, binding.visible_from, depth)
        if binding.how == "element":
            return tuple(dataclasses.replace(o, leading="", part=None) for o in found)
        if binding.how == "aug":
            before = self.layout.start[id(binding.node)]
            earlier = libcst.Name(binding.name)  # the name as it was before `+=`
            prefix = self.text(earlier, before)
            added = tuple(o.after(prefix if prefix is not None else UNKNOWN_TEXT) for o in found)
            return self.origins(earlier, before, depth) + added
        return found

    # Constant text -----------------------------------------------------------

    def text(self, expr: libcst.CSTNode | None, at: int, depth: int = 0) -> str | None:
        """The string `expr` surely holds, when the code spells it out."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, libcst.SimpleString):
            value = string_value(expr)
            return value if isinstance(value, str) else None
        if isinstance(expr, (libcst.ConcatenatedString, libcst.BinaryOperation)):
            if isinstance(expr, libcst.BinaryOperation) and not isinstance(expr.operator, libcst.Add):
                return None
            left, right = self.text(expr.left, at, depth + 1), self.text(expr.right, at, depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(expr, libcst.FormattedString):
            return self._fstring_text(expr, at, depth)
        if isinstance(expr, libcst.Name):
            return self._name_text(expr, at, depth)
        return None

    def _fstring_text(self, expr: libcst.FormattedString, at: int, depth: int) -> str | None:
        pieces = []
        for part in expr.parts:
            piece = _fstring_literal(part) if isinstance(part, libcst.FormattedStringText) else \
                self.text(part.expression, at, depth + 1)  # type: ignore[union-attr]  # fmt: skip
            if piece is None:
                return None
            pieces.append(piece)
        return "".join(pieces)

    def _name_text(self, expr: libcst.Name, at: int, depth: int) -> str | None:
        at = self.layout.position(expr, at)
        bindings, certain = self._reaching(expr.value, at)
        if bindings:
            only = bindings[0]
            if len(bindings) == 1 and certain and only.how == "value":
                return self.text(only.value, only.visible_from, depth + 1)
            return None
        if expr.value in self.param_inputs or expr.value in self.request_names:
            return None
        binding = self.ctx.resolver.module_scope.bindings.get(expr.value)
        if binding is None or binding.kind != "value":
            return None
        value = self.ctx.literal(binding.value)
        return value if isinstance(value, str) else None

    # Checks ------------------------------------------------------------------

    def sanitized(self, origin: RequestInput, sink: libcst.CSTNode) -> bool:
        """Whether a check before `sink` (or around it) limits `origin` to allowed values."""
        at = self.layout.position(sink, 1 << 30)
        return any(self._guard_checks(guard, origin, sink, at) for guard in self.guards)

    def _guard_checks(self, guard: libcst.CSTNode, origin: RequestInput, sink: libcst.CSTNode, at: int) -> bool:
        if isinstance(guard, libcst.If):
            return self._if_checks(guard, origin, sink, at)
        if not self._guards_before(guard, origin, at):
            return False
        if isinstance(guard, libcst.Assert):
            return self.polarity(guard.test, origin) > 0
        statement = guard.body[0] if isinstance(guard, libcst.SimpleStatementLine) else None
        call = statement.value if isinstance(statement, libcst.Expr) else None
        call = call.expression if isinstance(call, libcst.Await) else call
        return isinstance(call, libcst.Call) and self._validator_call(call, origin)

    def _if_checks(self, guard: libcst.If, origin: RequestInput, sink: libcst.CSTNode, at: int) -> bool:
        if self.layout.within(sink, guard.body):
            return self.polarity(guard.test, origin) > 0
        if self.layout.within(sink, guard.orelse):
            return self.polarity(guard.test, origin) < 0
        if not self._guards_before(guard, origin, at):
            return False
        polarity = self.polarity(guard.test, origin)
        if polarity < 0:
            return _leaves(guard.body, origin)
        return polarity > 0 and guard.orelse is not None and _leaves(guard.orelse, origin)

    def _guards_before(self, guard: libcst.CSTNode, origin: RequestInput, at: int) -> bool:
        """A check before the sink that runs on every path to it, or at least on every path from the read.

        `if x: url = request.META["HTTP_REFERER"]; if not is_safe(url): url = "/"` checks the
        Referer wherever it is read, though the check itself is conditional.
        """
        if not self.layout.before(guard, at):
            return False
        read_at = self.layout.start.get(id(origin.node))
        after_read = read_at is not None and read_at < self.layout.start[id(guard)]
        return self.layout.dominates(guard, at, read_at if after_read else None)

    def polarity(self, test: libcst.CSTNode, origin: RequestInput) -> int:
        """+1 if `test` being true means `origin` passed a check, -1 if false means it, else 0."""
        if isinstance(test, libcst.UnaryOperation) and isinstance(test.operator, libcst.Not):
            return -self.polarity(test.expression, origin)
        if isinstance(test, libcst.BooleanOperation):
            return self._boolean_polarity(test, origin)
        if isinstance(test, libcst.Comparison):
            return self._comparison_polarity(test, origin)
        if isinstance(test, libcst.Call):
            return 1 if self._check_call(test, origin) else 0
        if isinstance(test, libcst.Name):
            return self._named_check_polarity(test, origin)
        if self._is_host_part_of(test, origin):
            return -1  # `if urlparse(url).netloc: abort(400)`: past it, the URL is a local path
        return 0

    def _named_check_polarity(self, test: libcst.Name, origin: RequestInput) -> int:
        """`ok = url_has_allowed_host_and_scheme(url, ...)` then `if ok:`."""
        bindings, certain = self._reaching(test.value, self.layout.position(test, 1 << 30))
        if len(bindings) == 1 and certain and bindings[0].how == "value" and bindings[0].value is not None:
            return self.polarity(bindings[0].value, origin)
        return 0

    def _boolean_polarity(self, test: libcst.BooleanOperation, origin: RequestInput) -> int:
        relative = self._relative_path_check(test, origin)
        if relative:
            return relative
        operands = _flatten_boolean(test)
        polarities = [self.polarity(operand, origin) for operand in operands]
        if isinstance(test.operator, libcst.And):
            # `if url and not is_safe(url): url = "/"`: the other operands are taken as preconditions.
            return 1 if 1 in polarities else (-1 if -1 in polarities else 0)
        return -1 if -1 in polarities else (1 if all(p > 0 for p in polarities) else 0)

    def _comparison_polarity(self, test: libcst.Comparison, origin: RequestInput) -> int:
        if len(test.comparisons) != 1:
            return 0
        target = test.comparisons[0]
        operator, other = target.operator, target.comparator
        if isinstance(operator, (libcst.In, libcst.NotIn)):
            if not self._checks_value(test.left, origin) or not self._is_allowlist(other):
                return 0
            return 1 if isinstance(operator, libcst.In) else -1
        if isinstance(operator, (libcst.Equal, libcst.NotEqual)):
            sides = (test.left, other)
            if not any(self._checks_value(a, origin) and not self.origins(b) for a, b in (sides, sides[::-1])):
                return 0
            return 1 if isinstance(operator, libcst.Equal) else -1
        return 0

    def _is_allowlist(self, container: libcst.CSTNode) -> bool:
        """A set, list, dict or name the code chose (not a string: `"a.com" in url` is a substring test)."""
        if isinstance(container, (libcst.SimpleString, libcst.FormattedString, libcst.ConcatenatedString)):
            return False
        return not self.origins(container)

    def _check_call(self, call: libcst.Call, origin: RequestInput) -> bool:
        func = call.func
        if isinstance(func, libcst.Attribute) and func.attr.value in ("startswith", "endswith"):
            return self._prefix_check(call, origin)
        if isinstance(func, libcst.Attribute) and func.attr.value in ("match", "fullmatch"):
            return any(self._checks_value(a.value, origin) for a in call.args)
        return self._validator_call(call, origin, _CHECK_NAME)

    def _validator_call(self, call: libcst.Call, origin: RequestInput, pattern: re.Pattern = _VALIDATOR_NAME) -> bool:
        qualified = self.qualified_name(call.func)
        named = qualified in _URL_CHECKS or bool(pattern.search(_last_name(call.func)))
        if qualified in ("re.match", "re.fullmatch"):
            named = True
        return named and any(self._checks_value(a.value, origin) for a in call.args)

    def _prefix_check(self, call: libcst.Call, origin: RequestInput) -> bool:
        """`url.startswith("https://api.example.com/")` fixes the host; `.startswith("/")` does not."""
        func = call.func
        assert isinstance(func, libcst.Attribute)
        if not call.args or not self._checks_value(func.value, origin):
            return False
        prefixes = _texts(self, call.args[0].value)
        if not prefixes:
            return False
        if func.attr.value == "endswith":  # a host suffix such as ".example.com"
            return all(p.startswith(".") for p in prefixes) and self._is_host_part_of(func.value, origin)
        return all(not _leaves_host_open(p) for p in prefixes)

    def _relative_path_check(self, test: libcst.BooleanOperation, origin: RequestInput) -> int:
        """`url.startswith("/") and not url.startswith("//")`: a local path, whichever way it is written."""
        calls = list(_prefix_calls(test, negated=False))
        found = {}
        for call, negated in calls:
            func = call.func
            if isinstance(func, libcst.Attribute) and func.attr.value == "startswith" and call.args \
                    and self._checks_value(func.value, origin):  # fmt: skip
                for prefix in _texts(self, call.args[0].value) or []:
                    found[prefix] = negated
        if "/" not in found or not ({"//", "/\\", "\\"} & found.keys()):
            return 0
        return -1 if found["/"] else 1

    def _checks_value(self, subject: libcst.CSTNode, origin: RequestInput) -> bool:
        """Whether `subject` is `origin` or its host, so checking it checks the destination."""
        return any(
            _same_input(found, origin) and (found.part is None or found.part in _HOST_PARTS)
            for found in self.origins(subject)
        )

    def _is_host_part_of(self, subject: libcst.CSTNode, origin: RequestInput) -> bool:
        return any(_same_input(found, origin) and found.part in _HOST_PARTS for found in self.origins(subject))

    # Helpers in the same module ---------------------------------------------

    def returned_inputs(self) -> tuple[RequestInput, ...]:
        """What the function's returns carry that it does not check first (parameters included)."""
        if self._returned is None:
            self._returned = ()  # a recursive helper returns nothing new
            found: list[RequestInput] = []
            for ret in self.returns:
                found += [o for o in self.origins(ret.value) if not self.sanitized(o, ret)]
            self._returned = _unique(found)
        return self._returned

    def helper_origins(self, call: libcst.Call, at: int, depth: int) -> tuple[RequestInput, ...]:
        helper = self._helper(call.func, at)
        if helper is None or helper is self.function:
            return ()
        facts = function_facts(self.ctx, helper)
        found: list[RequestInput] = []
        for origin in facts.returned_inputs():
            if origin.source != PARAMETER:
                found.append(origin)
                continue
            argument = _argument_for(call, helper, origin.key, skip_self=facts.self_name is not None)
            found += [o.after(origin.leading) for o in self.origins(argument, at, depth)]
        return tuple(found)

    def _helper(self, func: libcst.CSTNode, at: int) -> libcst.FunctionDef | None:
        definitions = _module_definitions(self.ctx)
        if isinstance(func, libcst.Name):
            if func.value in self.bindings or func.value in self.param_inputs:
                return None
            return definitions.functions.get(func.value)
        if isinstance(func, libcst.Attribute) and self._is_self(func.value):
            return definitions.methods.get(id(self.function), {}).get(func.attr.value)
        return None


# How values carry request input ---------------------------------------------------


def _attribute(facts: FunctionFacts, expr: libcst.Attribute, at: int, depth: int):
    attr = expr.attr.value
    found = facts.origins(expr.value, at, depth)
    if found:
        if attr in _URL_PARTS:  # `parsed.netloc`, or a body model's `host` field
            return tuple(dataclasses.replace(o.keyed(attr), part=attr) for o in found)
        return tuple(o.keyed(attr) for o in found)
    if attr in _VALIDATED_ATTRIBUTES:
        return _constructed_from(facts, expr.value, at, depth)
    return ()


def _constructed_from(facts: FunctionFacts, expr: libcst.CSTNode, at: int, depth: int):
    """`form.cleaned_data` where `form = Form(request.POST)`: the data the object was built from."""
    if isinstance(expr, libcst.Name):
        bindings, certain = facts._reaching(expr.value, facts.layout.position(expr, at))
        if len(bindings) != 1 or bindings[0].how != "value":
            return ()
        expr, at = bindings[0].value, bindings[0].visible_from  # type: ignore[assignment]
    if not isinstance(expr, libcst.Call):
        return ()
    data = next((a.value for a in expr.args if a.keyword is not None and a.keyword.value == "data"), None)
    if data is None and expr.args and expr.args[0].keyword is None and not expr.args[0].star:
        data = expr.args[0].value
    return tuple(o.keyed(None) for o in facts.origins(data, at, depth))


def _subscript(facts: FunctionFacts, expr: libcst.Subscript, at: int, depth: int):
    found = facts.origins(expr.value, at, depth)
    if not found or len(expr.slice) != 1:
        return found
    index = expr.slice[0].slice
    if isinstance(index, libcst.Slice):
        return found
    key = facts.text(index.value, at) if isinstance(index, libcst.Index) else None
    return tuple(o.keyed(key) for o in found)


def _call(facts: FunctionFacts, expr: libcst.Call, at: int, depth: int):
    func = expr.func
    if isinstance(func, libcst.Attribute):
        found = _method_call(facts, expr, func, at, depth)
        if found is not None:
            return found
    qualified = facts.qualified_name(func)
    if qualified in _URL_JOINS:  # an absolute URL as the second argument replaces the base
        return tuple(dataclasses.replace(o, leading="") for a in expr.args for o in facts.origins(a.value, at, depth))
    if qualified in _PASS_THROUGH:
        return facts.origins(expr.args[0].value, at, depth) if expr.args else ()
    helper = facts.helper_origins(expr, at, depth)
    if helper:
        return helper
    if _is_class_name(func):  # an object built from input: `URL(url)`, `Request(url)`, `Model(**data)`
        built_from = [a for i, a in enumerate(expr.args) if (i == 0 and a.keyword is None) or a.star == "**"]
        return tuple(o for a in built_from for o in facts.origins(a.value, at, depth))
    return ()


def _method_call(facts: FunctionFacts, expr: libcst.Call, func: libcst.Attribute, at: int, depth: int):
    """Origins of `receiver.method(...)`, or None when the method says nothing about input."""
    method = func.attr.value
    if method == "join":
        return _joined(facts, func.value, expr.args[0].value, at, depth) if expr.args else ()
    receiver = facts.origins(func.value, at, depth)
    if receiver:
        if method in _KEYED_METHODS:
            key = facts.text(expr.args[0].value, at) if expr.args else None
            return tuple(o.keyed(key) for o in receiver)
        return receiver if method in _SAME_VALUE_METHODS else ()
    if method == "format":
        template = facts.text(func.value, at)
        if template is None:
            return None
        positional = [a.value for a in expr.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in expr.args if a.keyword is not None}
        return _filled_template(facts, _BRACE_FIELD, template, positional, keywords, at, depth)
    if method in _PARSING_METHODS:
        return tuple(o.keyed(None) for a in expr.args[:1] for o in facts.origins(a.value, at, depth))
    return None


def _joined(facts: FunctionFacts, separator, items, at: int, depth: int):
    """`"/".join([BASE, path])` reads like `BASE + "/" + path`."""
    if not isinstance(items, (libcst.List, libcst.Tuple)):
        return tuple(o.keyed(None) for o in facts.origins(items, at, depth))
    glue = facts.text(separator, at)
    prefix, found = "", []
    for index, element in enumerate(items.elements):
        if index:
            prefix += glue if glue is not None else UNKNOWN_TEXT
        inner = facts.origins(element.value, at, depth)
        found += [o.after(prefix) for o in inner]
        text = facts.text(element.value, at) if not inner else None
        prefix += text if text is not None else UNKNOWN_TEXT
    return tuple(found)


def _formatted_string(facts: FunctionFacts, expr: libcst.FormattedString, at: int, depth: int):
    prefix, found = "", []
    for part in expr.parts:
        if isinstance(part, libcst.FormattedStringText):
            prefix += _fstring_literal(part)
            continue
        inner = facts.origins(part.expression, at, depth)  # type: ignore[union-attr]
        found += [o.after(prefix) for o in inner]
        text = facts.text(part.expression, at) if not inner else None  # type: ignore[union-attr]
        prefix += text if text is not None else UNKNOWN_TEXT
    return tuple(found)


def _concatenation(facts: FunctionFacts, expr, at: int, depth: int):
    if isinstance(expr, libcst.BinaryOperation) and isinstance(expr.operator, libcst.Modulo):
        return _percent_format(facts, expr, at, depth)
    if isinstance(expr, libcst.BinaryOperation) and not isinstance(expr.operator, libcst.Add):
        return ()
    left = facts.origins(expr.left, at, depth)
    right = facts.origins(expr.right, at, depth)
    prefix = facts.text(expr.left, at) if not left else None
    return left + tuple(o.after(prefix if prefix is not None else UNKNOWN_TEXT) for o in right)


def _percent_format(facts: FunctionFacts, expr: libcst.BinaryOperation, at: int, depth: int):
    template = facts.origins(expr.left, at, depth)
    if template:
        return template
    text = facts.text(expr.left, at)
    right = expr.right
    if text is None:
        return tuple(o.after(UNKNOWN_TEXT) for o in facts.origins(right, at, depth))
    positional = [e.value for e in right.elements] if isinstance(right, libcst.Tuple) else [right]
    keywords: dict[str, libcst.CSTNode] = {}
    if isinstance(right, libcst.Dict):
        keywords = {k: v for e in right.elements if isinstance(e, libcst.DictElement)
                    and isinstance(k := facts.text(e.key, at), str) for v in [e.value]}  # fmt: skip
    return _filled_template(facts, _PERCENT_FIELD, text, positional, keywords, at, depth)


def _if_expression(facts: FunctionFacts, expr: libcst.IfExp, at: int, depth: int):
    """`url if is_safe(url) else "/"`: the checked branch carries nothing unchecked."""
    body = [o for o in facts.origins(expr.body, at, depth) if facts.polarity(expr.test, o) <= 0]
    orelse = [o for o in facts.origins(expr.orelse, at, depth) if facts.polarity(expr.test, o) >= 0]
    return tuple(body + orelse)


def _either(facts: FunctionFacts, expr: libcst.BooleanOperation, at: int, depth: int):
    return facts.origins(expr.left, at, depth) + facts.origins(expr.right, at, depth)


def _elements(facts: FunctionFacts, expr, at: int, depth: int):
    found: list[RequestInput] = []
    for element in expr.elements:
        value = element.value
        found += [o.keyed(None) for o in facts.origins(value, at, depth)]
    return tuple(found)


def _comprehension(facts: FunctionFacts, expr, at: int, depth: int):
    found: list[RequestInput] = []
    clause = expr.for_in
    while clause is not None:
        found += [o.keyed(None) for o in facts.origins(clause.iter, at, depth)]
        clause = clause.inner_for_in
    return tuple(found)


def _inner(attribute: str) -> Callable:
    def propagate(facts: FunctionFacts, expr, at: int, depth: int):
        return facts.origins(getattr(expr, attribute), at, depth)

    return propagate


# By libcst class name, so that importing this module does not load libcst (authlint/lazy.py).
_COMPREHENSIONS = frozenset({"ListComp", "SetComp", "GeneratorExp", "DictComp"})
_PROPAGATORS: dict[str, Callable] = {
    "Name": lambda facts, expr, at, depth: facts._name(expr, at, depth),
    "Attribute": _attribute,
    "Subscript": _subscript,
    "Call": _call,
    "FormattedString": _formatted_string,
    "BinaryOperation": _concatenation,
    "ConcatenatedString": _concatenation,
    "IfExp": _if_expression,
    "BooleanOperation": _either,
    "Await": _inner("expression"),
    "NamedExpr": _inner("value"),
    "Tuple": _elements,
    "List": _elements,
    "Set": _elements,
    "Dict": _elements,
    "ListComp": _comprehension,
    "SetComp": _comprehension,
    "GeneratorExp": _comprehension,
    "DictComp": _comprehension,
}


# Small helpers -----------------------------------------------------------------------


def _unique(found) -> tuple[RequestInput, ...]:
    seen: dict[tuple, RequestInput] = {}
    for origin in found:
        seen.setdefault((id(origin.node), origin.source, origin.key, origin.leading, origin.part), origin)
    return tuple(seen.values())


def _same_input(found: RequestInput, origin: RequestInput) -> bool:
    """The same read of the request, or a re-read of the same key from the same place."""
    if found.key != origin.key:
        return False
    return found.node is origin.node or (found.key is not None and found.source == origin.source)


def _leaves(block: libcst.CSTNode, origin: RequestInput) -> bool:
    """Whether a block ends the request (return, raise, abort) or overwrites the checked value."""
    for stmt in _block_statements(block):
        if isinstance(stmt, (libcst.Return, libcst.Raise, libcst.Continue, libcst.Break)):
            return True
        if isinstance(stmt, libcst.Expr) and isinstance(stmt.value, libcst.Call):
            if _ABORT_NAME.search(_last_name(stmt.value.func)):
                return True
        if isinstance(stmt, libcst.Assign) and any(
            isinstance(t.target, libcst.Name) and t.target.value in origin.via for t in stmt.targets
        ):
            return True
    return False


def _block_statements(block: libcst.CSTNode) -> Iterator[libcst.CSTNode]:
    while isinstance(block, libcst.Else):
        block = block.body
    for stmt in getattr(block, "body", ()):
        if isinstance(stmt, libcst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, libcst.BaseSmallStatement):
            yield stmt


def _is_call_statement(node: libcst.CSTNode) -> bool:
    return (
        isinstance(node, libcst.SimpleStatementLine)
        and len(node.body) == 1
        and isinstance(node.body[0], libcst.Expr)
        and isinstance(node.body[0].value, (libcst.Call, libcst.Await))
    )


def _flatten_boolean(test: libcst.BooleanOperation) -> list[libcst.CSTNode]:
    operands: list[libcst.CSTNode] = []
    for side in (test.left, test.right):
        same = isinstance(side, libcst.BooleanOperation) and type(side.operator) is type(test.operator)
        operands += _flatten_boolean(side) if same else [side]  # type: ignore[arg-type]
    return operands


def _prefix_calls(test: libcst.CSTNode, negated: bool) -> Iterator[tuple[libcst.Call, bool]]:
    if isinstance(test, libcst.UnaryOperation) and isinstance(test.operator, libcst.Not):
        yield from _prefix_calls(test.expression, not negated)
    elif isinstance(test, libcst.BooleanOperation):
        yield from _prefix_calls(test.left, negated)
        yield from _prefix_calls(test.right, negated)
    elif isinstance(test, libcst.Call):
        yield test, negated


def _texts(facts: FunctionFacts, expr: libcst.CSTNode) -> list[str] | None:
    """The prefix(es) in `startswith(prefix)` or `startswith((a, b))`."""
    if isinstance(expr, libcst.Tuple):
        texts = [facts.text(e.value, 1 << 30) for e in expr.elements]
        return None if any(t is None for t in texts) else texts  # type: ignore[return-value]
    text = facts.text(expr, 1 << 30)
    return [text] if text is not None else None


def _fstring_literal(part: libcst.FormattedStringText) -> str:
    return part.value.replace("{{", "{").replace("}}", "}")


# Placeholders of `%` and `str.format` templates; group 1 names the field ("" or None: the next positional).
_PERCENT_FIELD = re.compile(r"%%|%(?:\((\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z]")
_BRACE_FIELD = re.compile(r"\{\{|\}\}|\{([^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")


def _filled_template(facts: FunctionFacts, fields: re.Pattern, template: str, positional, keywords, at, depth):
    """Origins of the values a template interpolates, each after the text that precedes it."""
    prefix, found, index, position = "", [], 0, 0
    for match in fields.finditer(template):
        prefix += template[position : match.start()]
        position = match.end()
        if match.group(0) in ("%%", "{{", "}}"):
            prefix += match.group(0)[0]
            continue
        name = (match.group(1) or "").split(".")[0].split("[")[0]
        if not name:
            value, index = (positional[index] if index < len(positional) else None), index + 1
        else:
            value = positional[int(name)] if name.isdigit() and int(name) < len(positional) else keywords.get(name)
        inner = facts.origins(value, at, depth) if value is not None else ()
        found += [o.after(prefix) for o in inner]
        text = facts.text(value, at) if value is not None and not inner else None
        prefix += text if text is not None else UNKNOWN_TEXT
    return tuple(found)


def _is_class_name(func: libcst.CSTNode) -> bool:
    last = _last_name(func)
    return bool(last) and last[0].isupper() and not last.isupper()


def _all_params(function: libcst.FunctionDef) -> list[libcst.Param]:
    params = function.params
    return [*params.posonly_params, *params.params, *params.kwonly_params]


def _annotation(param: libcst.Param) -> libcst.BaseExpression | None:
    return param.annotation.annotation if param.annotation is not None else None


def _parameter_scope(function: libcst.FunctionDef) -> Scope:
    scope = Scope("function", function)
    for param in _all_params(function):
        scope.bind(param.name.value, _annotation_binding(param))
    return scope


def _annotation_binding(param: libcst.Param) -> Binding:
    """A parameter typed `session: aiohttp.ClientSession` is an instance of it."""
    annotation = _annotation(param)
    if isinstance(annotation, (libcst.Name, libcst.Attribute)):
        return Binding("value", value=libcst.Call(func=annotation))
    return UNKNOWN_BINDING


def _annotated(facts: FunctionFacts, annotation):
    """(the type, [metadata calls]) of `Annotated[str, Query()]`; (annotation, []) otherwise."""
    if isinstance(annotation, libcst.Subscript) and (facts.qualified_name(annotation.value) or "").endswith(
        "Annotated"
    ):
        items = [e.slice.value for e in annotation.slice if isinstance(e.slice, libcst.Index)]
        if items:
            return items[0], [i for i in items[1:] if isinstance(i, libcst.Call)]
    return annotation, []


def _unwrapped_type(facts: FunctionFacts, annotation: libcst.CSTNode) -> libcst.CSTNode:
    """`str` for `Optional[str]`, `str | None`, `list[str]`, `Annotated[str, ...]`."""
    for _ in range(6):
        annotation = _annotated(facts, annotation)[0]
        inner = _wrapped_type(annotation)
        if inner is None:
            break
        annotation = inner
    return annotation


def _wrapped_type(annotation: libcst.CSTNode) -> libcst.CSTNode | None:
    """The `T` of `Optional[T]`, `list[T]` or `T | None`; None when not such a wrapper."""
    if isinstance(annotation, libcst.BinaryOperation) and isinstance(annotation.operator, libcst.BitOr):
        return annotation.right if _is_none(annotation.left) else annotation.left
    if isinstance(annotation, libcst.Subscript) and _last_name(annotation.value) in _WRAPPER_TYPES:
        first = annotation.slice[0].slice
        return first.value if isinstance(first, libcst.Index) else None
    return None


def _last_name(expr: libcst.CSTNode) -> str:
    return (dotted_name(expr) or "").rsplit(".", 1)[-1]


def _type_name(facts: FunctionFacts, annotation: libcst.CSTNode) -> str:
    core = _unwrapped_type(facts, annotation)
    if isinstance(core, libcst.Subscript):
        core = core.value
    return _last_name(core)


def _is_none(node: libcst.CSTNode) -> bool:
    return isinstance(node, libcst.Name) and node.value == "None"


def _unpacked(target, value):
    """(target element, value element) pairs; the whole value when it cannot be paired."""
    items = [e.value for e in target.elements]
    if isinstance(value, (libcst.Tuple, libcst.List)) and len(value.elements) == len(items):
        return list(zip(items, [e.value for e in value.elements]))
    return [(item, value) for item in items]


def _argument_for(call: libcst.Call, helper: libcst.FunctionDef, name: str | None, skip_self: bool):
    """The argument a call passes for the helper's parameter `name`."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    positional = [p.name.value for p in (*helper.params.posonly_params, *helper.params.params)]
    if skip_self:
        positional = positional[1:]
    args = [a.value for a in call.args if a.keyword is None and not a.star]
    index = positional.index(name) if name in positional else -1
    return args[index] if 0 <= index < len(args) else None


@dataclass
class _Definitions:
    functions: dict[str, libcst.FunctionDef]
    methods: dict[int, dict[str, libcst.FunctionDef]]  # id(method) -> its class's methods


def _module_definitions(ctx: FileContext) -> _Definitions:
    """Top-level functions, and for each method its sibling methods (cached per file)."""

    def compute() -> _Definitions:
        functions, methods = {}, {}
        for stmt in ctx.module.body:
            if isinstance(stmt, libcst.FunctionDef):
                functions[stmt.name.value] = stmt
            elif isinstance(stmt, libcst.ClassDef) and isinstance(stmt.body, libcst.IndentedBlock):
                siblings = {s.name.value: s for s in stmt.body.body if isinstance(s, libcst.FunctionDef)}
                methods.update({id(s): siblings for s in siblings.values()})
        return _Definitions(functions, methods)

    return ctx.cached("module_definitions", ctx.module, compute)

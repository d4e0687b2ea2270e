"""OAuth 2.0 flows as the OAuth rules see them: client libraries, grants, hand-built URLs.

Authlib, requests-oauthlib and oauthlib spell the same step differently. An authorization
URL is Authlib's `OAuth2Session.create_authorization_url(url, state, code_verifier)`,
requests-oauthlib's `OAuth2Session.authorization_url(url, state)`, oauthlib's
`WebApplicationClient.prepare_request_uri(uri, redirect_uri, scope, state, code_challenge)`
or an Authlib framework client's `authorize_redirect(redirect_uri)`. A `FlowStart` knows
where each of them takes its arguments and which of them make up a `state` when none is
given, so rules never need to. Authorization URLs written by hand (f-strings, `+`,
`.format`, `urlencode(params)`) are read into an `AuthorizationUrl` with their query
parameters. Server-side, a `GrantRegistration` is an Authlib `register_grant(...)` call
with the grant it enables and the extensions (PKCE's `CodeChallenge`) it adds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping
from urllib.parse import quote_plus, unquote_plus

import libcst

from authlint.facts.calls import CallArguments
from authlint.facts.literals import string_value
from authlint.facts.names import dotted_name

if TYPE_CHECKING:
    from authlint.context import FileContext

AUTHLIB = "Authlib"
REQUESTS_OAUTHLIB = "requests-oauthlib"
OAUTHLIB = "oauthlib"

# Grants (RFC 6749 section 4), named like their `grant_type`.
AUTHORIZATION_CODE = "authorization_code"
IMPLICIT = "implicit"
PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"

# What kind of object a client call is made on.
SESSION = "session"  # Authlib's and requests-oauthlib's OAuth2Session (and Authlib's httpx clients)
CLIENT = "client"  # an oauthlib client: WebApplicationClient, LegacyApplicationClient, ...
APP = "app"  # an Authlib framework client: `oauth.register(...)`, `oauth.google`

_MAX_DEPTH = 16

# Library classes ---------------------------------------------------------------

_AUTHLIB_SESSIONS = frozenset(
    {
        "authlib.integrations.requests_client.OAuth2Session",
        "authlib.integrations.requests_client.oauth2_session.OAuth2Session",
        "authlib.integrations.httpx_client.OAuth2Client",
        "authlib.integrations.httpx_client.AsyncOAuth2Client",
        "authlib.integrations.httpx_client.oauth2_client.OAuth2Client",
        "authlib.integrations.httpx_client.oauth2_client.AsyncOAuth2Client",
        "authlib.oauth2.OAuth2Client",
        "authlib.oauth2.client.OAuth2Client",
        "authlib.client.OAuth2Session",  # Authlib < 0.13
    }
)
_REQUESTS_OAUTHLIB_SESSIONS = frozenset(
    {"requests_oauthlib.OAuth2Session", "requests_oauthlib.oauth2_session.OAuth2Session"}
)
# `OAuth()` registries of the framework integrations; `.register(...)` adds a client app.
_AUTHLIB_REGISTRIES = frozenset(
    {
        "authlib.integrations.flask_client.OAuth",
        "authlib.integrations.django_client.OAuth",
        "authlib.integrations.starlette_client.OAuth",
        "authlib.flask.client.OAuth",  # Authlib < 0.13
        "authlib.django.client.OAuth",
    }
)
_OAUTHLIB_CLIENTS = {
    "WebApplicationClient": AUTHORIZATION_CODE,
    "MobileApplicationClient": IMPLICIT,
    "LegacyApplicationClient": PASSWORD,
    "BackendApplicationClient": CLIENT_CREDENTIALS,
}
_AUTHLIB_GRANTS = {
    "AuthorizationCodeGrant": AUTHORIZATION_CODE,
    "OpenIDCodeGrant": AUTHORIZATION_CODE,  # Authlib < 0.12
    "ImplicitGrant": IMPLICIT,
    "OpenIDImplicitGrant": IMPLICIT,
    "ResourceOwnerPasswordCredentialsGrant": PASSWORD,
    "ClientCredentialsGrant": CLIENT_CREDENTIALS,
}
_AUTHLIB_GRANT_MODULES = ("authlib.oauth2.rfc6749", "authlib.oidc.core", "authlib.specs.rfc6749", "authlib.specs.oidc")
_CODE_CHALLENGE_MODULES = ("authlib.oauth2.rfc7636", "authlib.specs.rfc7636")


def _library_class(qualified: str | None, modules: tuple[str, ...], names: Mapping[str, str]) -> str | None:
    """`LegacyApplicationClient` for `oauthlib.oauth2.rfc6749.clients.LegacyApplicationClient`."""
    if not qualified or "." not in qualified:
        return None
    module, name = qualified.rsplit(".", 1)
    if name in names and any(module == m or module.startswith(m + ".") for m in modules):
        return name
    return None


def response_type_grant(value: object) -> str | None:
    """IMPLICIT when a `response_type` hands out an access token, AUTHORIZATION_CODE for `code`.

    `token`, `id_token token` and the hybrid `code token` put an access token in the
    redirect; `code` and `code id_token` do not.
    """
    if not isinstance(value, str):
        return None
    words = value.replace("+", " ").replace("%20", " ").split()
    if "token" in words:
        return IMPLICIT
    return AUTHORIZATION_CODE if "code" in words else None


# Client objects ----------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """The OAuth client object a call is made on, with the call that built it when visible."""

    library: str
    kind: str  # SESSION, CLIENT or APP
    constructor: libcst.Call | None
    grant: str | None = None  # for oauthlib clients: the grant their class runs


def constructed_client(ctx: FileContext, call: libcst.Call) -> Client | None:
    """The client `call` builds: `OAuth2Session(...)`, `LegacyApplicationClient(...)`."""
    return _client_from_class(ctx.qualified_name(call.func), call)


def _client_from_class(qualified: str | None, constructor: libcst.Call | None) -> Client | None:
    if qualified in _AUTHLIB_SESSIONS:
        return Client(AUTHLIB, SESSION, constructor)
    if qualified in _REQUESTS_OAUTHLIB_SESSIONS:
        return Client(REQUESTS_OAUTHLIB, SESSION, constructor)
    name = _library_class(qualified, ("oauthlib.oauth2",), _OAUTHLIB_CLIENTS)
    if name is not None:
        return Client(OAUTHLIB, CLIENT, constructor, _OAUTHLIB_CLIENTS[name])
    return None


def client_of(ctx: FileContext, receiver: libcst.CSTNode) -> Client | None:
    """The client object `receiver` is: `oauth` after `oauth = OAuth2Session(...)`, `oauth.google`."""
    qualified = ctx.qualified_name(receiver)
    if qualified is None:
        return None
    if any(qualified.startswith(f"{registry}().") for registry in _AUTHLIB_REGISTRIES):
        return Client(AUTHLIB, APP, None)
    if not qualified.endswith("()"):
        return None
    return _client_from_class(qualified[:-2], _constructor(ctx, receiver))


def _constructor(ctx: FileContext, receiver: libcst.CSTNode) -> libcst.Call | None:
    expr = ctx.resolve(receiver) if isinstance(receiver, libcst.Name) else receiver
    return expr if isinstance(expr, libcst.Call) else None


def oauthlib_client_grant(ctx: FileContext, expr: libcst.CSTNode | None) -> str | None:
    """The grant of the oauthlib client `expr` builds or names (`client=LegacyApplicationClient(...)`)."""
    if isinstance(expr, libcst.Name):
        expr = ctx.resolve(expr)
    if not isinstance(expr, libcst.Call):
        return None
    client = constructed_client(ctx, expr)
    return client.grant if client is not None else None


def is_registry_register(ctx: FileContext, call: libcst.Call) -> bool:
    """Whether `call` is `oauth.register(...)` on an Authlib Flask/Django/Starlette `OAuth()`."""
    qualified = ctx.qualified_name(call.func)
    return qualified is not None and any(qualified == f"{registry}().register" for registry in _AUTHLIB_REGISTRIES)


# Where a flow starts: library calls that build an authorization URL ------------

Role = tuple  # (keyword or None, position or None)

_AUTHLIB_SESSION_START = {
    "endpoint": ("url", 0), "state": ("state", 1), "code_verifier": ("code_verifier", 2),
    "code_challenge": ("code_challenge", None), "response_type": ("response_type", None),
}  # fmt: skip
_AUTHLIB_APP_START = {
    "state": ("state", None), "code_verifier": ("code_verifier", None), "response_type": ("response_type", None),
}  # fmt: skip
_REQUESTS_OAUTHLIB_START = {"endpoint": ("url", 0), "state": ("state", 1), "code_challenge": ("code_challenge", None)}
_OAUTHLIB_REQUEST_URI = {"endpoint": ("uri", 0), "state": ("state", 3), "code_challenge": ("code_challenge", 4)}
_OAUTHLIB_AUTHORIZATION_REQUEST = {
    "endpoint": ("authorization_url", 0), "state": ("state", 1), "code_challenge": ("code_challenge", None),
}  # fmt: skip

# (library, kind, method) -> (argument roles, whether the library makes up a state)
_FLOW_STARTS: dict[tuple[str, str, str], tuple[Mapping[str, Role], bool]] = {
    (AUTHLIB, SESSION, "create_authorization_url"): (_AUTHLIB_SESSION_START, True),
    (AUTHLIB, APP, "create_authorization_url"): (_AUTHLIB_APP_START, True),
    (AUTHLIB, APP, "authorize_redirect"): (_AUTHLIB_APP_START, True),
    (REQUESTS_OAUTHLIB, SESSION, "authorization_url"): (_REQUESTS_OAUTHLIB_START, True),
    # oauthlib's prepare_request_uri sends whatever state it is given, possibly none
    (OAUTHLIB, CLIENT, "prepare_request_uri"): (_OAUTHLIB_REQUEST_URI, False),
    (OAUTHLIB, CLIENT, "prepare_authorization_request"): (_OAUTHLIB_AUTHORIZATION_REQUEST, True),
}


@dataclass(frozen=True)
class FlowStart:
    """A library call that builds the authorization URL a user is sent to."""

    call: libcst.Call
    client: Client
    method: str
    arguments: CallArguments
    roles: Mapping[str, Role]
    generates_state: bool  # the library makes up a random `state` when none is given

    @property
    def library(self) -> str:
        return self.client.library

    @property
    def written(self) -> str:
        """The call as the source spells it, for messages: `oauth.authorization_url()`."""
        return f"{dotted_name(self.call.func) or self.method}()"

    def arg(self, role: str) -> libcst.BaseExpression | None:
        keyword, position = self.roles.get(role, (None, None))
        if keyword is None and position is None:
            return None
        return self.arguments.get(keyword, position)

    def has(self, role: str) -> bool | None:
        """True/False if the role's argument is known to be given or not; None if unknowable."""
        if self.arg(role) is not None:
            return True
        return False if self.arguments.complete else None


def flow_start(ctx: FileContext, call: libcst.Call) -> FlowStart | None:
    """The authorization-URL call `call` is, or None (cached per call)."""
    return ctx.cached("oauth-flow-start", call, lambda: _recognise_flow_start(ctx, call))


def _recognise_flow_start(ctx: FileContext, call: libcst.Call) -> FlowStart | None:
    func = call.func
    if not isinstance(func, libcst.Attribute):
        return None
    method = func.attr.value
    if method not in ("create_authorization_url", "authorize_redirect", "authorization_url",
                      "prepare_request_uri", "prepare_authorization_request"):  # fmt: skip
        return None
    client = client_of(ctx, func.value)
    if client is None:
        return None
    known = _FLOW_STARTS.get((client.library, client.kind, method))
    if known is None:
        return None
    roles, generates_state = known
    return FlowStart(call, client, method, ctx.arguments(call), roles, generates_state)


def flow_grant(ctx: FileContext, start: FlowStart) -> str | None:
    """The grant a flow start asks for: AUTHORIZATION_CODE, IMPLICIT, or None when unknowable."""
    response_type = start.arg("response_type")
    if response_type is None and start.library == AUTHLIB and start.client.constructor is not None:
        response_type = ctx.arguments(start.client.constructor).get("response_type")
    if response_type is not None:
        return response_type_grant(ctx.literal(response_type))
    if start.client.kind == CLIENT:
        return start.client.grant
    if start.library == REQUESTS_OAUTHLIB:
        return _requests_oauthlib_grant(ctx, start.client.constructor)
    return AUTHORIZATION_CODE


def _requests_oauthlib_grant(ctx: FileContext, constructor: libcst.Call | None) -> str | None:
    """requests-oauthlib runs the code grant unless its session is given another `client=`."""
    if constructor is None:
        return None
    arguments = ctx.arguments(constructor)
    client = arguments.get("client", 1)
    if client is None:
        return AUTHORIZATION_CODE if arguments.complete else None
    if ctx.literal(client) is None:
        return AUTHORIZATION_CODE
    return oauthlib_client_grant(ctx, client)


# Server side: Authlib's `register_grant` ---------------------------------------


@dataclass(frozen=True)
class GrantRegistration:
    """`server.register_grant(GrantClass, [extensions])` on an Authlib AuthorizationServer."""

    call: libcst.Call
    grant: str  # AUTHORIZATION_CODE, IMPLICIT, PASSWORD, CLIENT_CREDENTIALS
    grant_class: libcst.BaseExpression
    extensions: libcst.BaseExpression | None
    complete: bool

    @property
    def written(self) -> str:
        return f"{dotted_name(self.call.func) or 'register_grant'}()"


def grant_registration(ctx: FileContext, call: libcst.Call) -> GrantRegistration | None:
    """The grant `call` registers, when it is `register_grant` with a class Authlib defines or derives."""
    func = call.func
    if not (isinstance(func, libcst.Attribute) and func.attr.value == "register_grant"):
        return None
    arguments = ctx.arguments(call)
    grant_class = arguments.get("grant_cls", 0)
    grant = authlib_grant(ctx, grant_class)
    if grant_class is None or grant is None:
        return None
    return GrantRegistration(call, grant, grant_class, arguments.get("extensions", 1), arguments.complete)


def authlib_grant(ctx: FileContext, expr: libcst.CSTNode | None, _depth: int = 0) -> str | None:
    """The grant an Authlib grant class runs, following subclasses defined in this module."""
    if expr is None or _depth > _MAX_DEPTH:
        return None
    name = _library_class(ctx.qualified_name(expr), _AUTHLIB_GRANT_MODULES, _AUTHLIB_GRANTS)
    if name is not None:
        return _AUTHLIB_GRANTS[name]
    class_def = module_class(ctx, expr)
    if class_def is None:
        return None
    for base in class_def.bases:
        grant = authlib_grant(ctx, base.value, _depth + 1)
        if grant is not None:
            return grant
    return None


def module_class(ctx: FileContext, expr: libcst.CSTNode) -> libcst.ClassDef | None:
    """The class a plain name refers to when this module defines it at top level."""
    if not isinstance(expr, libcst.Name):
        return None
    binding = ctx.resolver.lookup(expr.value)
    if binding is None or binding.kind != "definition":
        return None
    classes = ctx.cached("oauth-module-classes", ctx.module, lambda: _top_level_classes(ctx.module))
    return classes.get(expr.value)


def _top_level_classes(module: libcst.Module) -> dict[str, libcst.ClassDef]:
    return {stmt.name.value: stmt for stmt in module.body if isinstance(stmt, libcst.ClassDef)}


def registers_code_challenge(ctx: FileContext, registration: GrantRegistration) -> bool | None:
    """Whether the registration's extensions include PKCE's `CodeChallenge`; None if unknowable."""
    extensions = registration.extensions
    if extensions is None:
        return False if registration.complete else None
    if isinstance(extensions, libcst.Name):
        extensions = ctx.resolve(extensions)
    if not isinstance(extensions, (libcst.List, libcst.Tuple)):
        return None
    known = True
    for element in extensions.elements:
        value = element.value
        if not isinstance(element, libcst.Element) or not isinstance(value, libcst.Call):
            known = False
            continue
        if _library_class(ctx.qualified_name(value.func), _CODE_CHALLENGE_MODULES, {"CodeChallenge": ""}):
            return True
        if ctx.qualified_name(value.func) is None:
            known = False  # a local extension class may derive from CodeChallenge
    return False if known else None


# Hand-built URLs -----------------------------------------------------------------

UNKNOWN_TEXT = "\x00"  # stands for a part of a string whose text cannot be known

_URLENCODE = frozenset({"urllib.parse.urlencode", "urllib.urlencode"})
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")


def url_text(ctx: FileContext, expr: libcst.CSTNode | None) -> str | None:
    """The text of a string built in this module, UNKNOWN_TEXT standing for each unknown part.

    `f"{AUTHORIZE_URL}?client_id={client_id}&state={state}"` with `AUTHORIZE_URL` a module
    constant reads `https://idp.example/authorize?client_id=\\x00&state=\\x00`;
    `urlencode({"response_type": "code", "state": state})` reads `response_type=code&state=\\x00`.
    None when `expr` is not a string built from literals at all.
    """
    if expr is None:
        return None
    return ctx.cached("oauth-url-text", expr, lambda: _text(ctx, expr, 0))


def _text(ctx: FileContext, expr: libcst.CSTNode, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, libcst.SimpleString):
        value = string_value(expr)
        return value if isinstance(value, str) else None
    if isinstance(expr, libcst.ConcatenatedString):
        return _joined(ctx, [expr.left, expr.right], depth)
    if isinstance(expr, libcst.FormattedString):
        return "".join(_formatted_part(ctx, part, depth) for part in expr.parts)
    if isinstance(expr, libcst.Name):
        value = ctx.literal(expr)
        if isinstance(value, str):
            return value
        resolved = ctx.resolve(expr)
        return None if resolved is expr or resolved is None else _text(ctx, resolved, depth + 1)
    if isinstance(expr, libcst.BinaryOperation):
        return _operation_text(ctx, expr, depth)
    if isinstance(expr, libcst.Call):
        return _call_text(ctx, expr, depth)
    return None


def _joined(ctx: FileContext, parts: list[libcst.CSTNode], depth: int) -> str | None:
    texts = [_text(ctx, part, depth + 1) for part in parts]
    if all(text is None for text in texts):
        return None
    return "".join(UNKNOWN_TEXT if text is None else text for text in texts)


def _formatted_part(ctx: FileContext, part: libcst.BaseFormattedStringContent, depth: int) -> str:
    if isinstance(part, libcst.FormattedStringText):
        return part.value.replace("{{", "{").replace("}}", "}")
    if isinstance(part, libcst.FormattedStringExpression) and part.format_spec is None:
        text = _text(ctx, part.expression, depth + 1)
        return UNKNOWN_TEXT if text is None else text
    return UNKNOWN_TEXT


def _operation_text(ctx: FileContext, node: libcst.BinaryOperation, depth: int) -> str | None:
    if isinstance(node.operator, libcst.Add):
        return _joined(ctx, [node.left, node.right], depth)
    if isinstance(node.operator, libcst.Modulo):
        template = _text(ctx, node.left, depth + 1)
        return _PERCENT_FIELD.sub(UNKNOWN_TEXT, template.replace("%%", "%")) if template is not None else None
    return None


def _call_text(ctx: FileContext, call: libcst.Call, depth: int) -> str | None:
    func = call.func
    if isinstance(func, libcst.Attribute) and func.attr.value == "format":
        template = _text(ctx, func.value, depth + 1)
        if template is None:
            return None
        fields = _FORMAT_FIELD.sub(UNKNOWN_TEXT, template.replace("{{", "\x01").replace("}}", "\x02"))
        return fields.replace("\x01", "{").replace("\x02", "}")
    if ctx.qualified_name(func) in _URLENCODE and call.args and not call.args[0].star:
        return _query_text(ctx, call.args[0].value)
    return None


def _query_text(ctx: FileContext, params: libcst.BaseExpression) -> str:
    """`a=1&b=\\x00` for `urlencode({"a": 1, "b": b})`; UNKNOWN_TEXT when the keys are unknowable."""
    entries = ctx.dict_entries(params)
    if entries is None:
        return UNKNOWN_TEXT
    pairs = []
    for key, value_expr in entries.items():
        value = ctx.literal(value_expr)
        known = isinstance(value, (str, int)) and not isinstance(value, bool)
        rendered = quote_plus(str(value)) if known else UNKNOWN_TEXT
        pairs.append(f"{quote_plus(key)}={rendered}")
    return "&".join(pairs)


@dataclass(frozen=True)
class UrlParts:
    """A URL read from `url_text`: what of its scheme, host, path and query is known."""

    scheme: str | None  # "http" or "https"; None when unknown
    host: str | None  # lower-case, without port or credentials; None when unknown
    path: str | None  # may hold UNKNOWN_TEXT; None when unknown
    params: Mapping[str, str]  # query parameters with known names (values may hold UNKNOWN_TEXT)
    complete: bool  # False when an unknown part could add more parameters

    def last_path_segment(self) -> str | None:
        if self.path is None:
            return None
        segment = self.path.rstrip("/").rsplit("/", 1)[-1]
        return None if UNKNOWN_TEXT in segment else segment


_SCHEME_AND_AUTHORITY = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/?#\x00]*)")


def parse_url(text: str) -> UrlParts | None:
    """Scheme, host, path and query of `url_text` output; None if the text is not a URL."""
    base, question, query = text.partition("?")
    if not question and "&" in base and UNKNOWN_TEXT in base:  # `f"{url}&state={state}"`
        base, _, query = base.partition("&")
        question = "&"
    scheme = host = path = None
    match = _SCHEME_AND_AUTHORITY.match(base)
    if match:
        scheme = match.group(1).lower()
        rest = base[match.end():]
        host = _host(match.group(2), port_follows=rest.startswith(UNKNOWN_TEXT))
        path = rest
    elif base.startswith("/"):
        path = base
    elif base.startswith(UNKNOWN_TEXT):
        path = base if "/" in base else None  # `f"{ISSUER}/authorize"` keeps its path
    else:
        return None
    params, complete = _query_params(query.split("#", 1)[0]) if question else ({}, True)
    if question == "&":
        complete = False
    return UrlParts(scheme, host, path, params, complete)


def _host(authority: str, port_follows: bool) -> str | None:
    """The host of `user@host:port`; None when an unknown part continues it."""
    authority = authority.rsplit("@", 1)[-1]
    if authority.startswith("["):
        end = authority.find("]")
        return authority[: end + 1].lower() if end > 0 else None
    host, colon, _ = authority.partition(":")
    if port_follows and not colon:
        return None
    return host.lower() or None


def _query_params(query: str) -> tuple[dict[str, str], bool]:
    params: dict[str, str] = {}
    complete = True
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if UNKNOWN_TEXT in key:
            complete = False
            continue
        if UNKNOWN_TEXT * 2 in value:  # two unknown parts side by side may hide `&name=...`
            complete = False
        params[unquote_plus(key)] = unquote_plus(value)
    return params, complete


# Parameters only a token request carries: a URL with them is not an authorization request.
_TOKEN_REQUEST_PARAMS = frozenset({"code", "client_secret", "grant_type", "refresh_token"})
_AUTHORIZE_PATHS = frozenset({"authorize", "authorization", "auth", "oauth", "oauth2"})  # `dialog/oauth`: Facebook


@dataclass(frozen=True)
class AuthorizationUrl:
    """An OAuth authorization request URL built by hand, and what its query is known to carry."""

    node: libcst.CSTNode  # the expression that builds the URL (a name's value, followed)
    url: UrlParts

    def param(self, name: str) -> str | None:
        return self.url.params.get(name)

    def lacks(self, name: str) -> bool:
        """Whether the URL is known not to carry the parameter."""
        return name not in self.url.params and self.url.complete

    @property
    def grant(self) -> str | None:
        """AUTHORIZATION_CODE, IMPLICIT, or None for an unknown `response_type`."""
        response_type = self.param("response_type")
        if response_type is None:
            return AUTHORIZATION_CODE  # GitHub-style endpoints default to the code grant
        return None if UNKNOWN_TEXT in response_type else response_type_grant(response_type)


def authorization_url(ctx: FileContext, expr: libcst.CSTNode | None) -> AuthorizationUrl | None:
    """The authorization request URL `expr` builds (following a name to its value), or None.

    A URL is one when its query has `client_id` and either `response_type`, a path ending
    in `/authorize`, `/authorization`, `/auth` or `/oauth`, or (the endpoint being a variable) a
    `redirect_uri`; and none of a token request's `code`, `client_secret`, `grant_type`.
    """
    node = ctx.resolve(expr) if isinstance(expr, libcst.Name) else expr
    if node is None:
        return None
    text = url_text(ctx, node)
    url = parse_url(text) if text is not None else None
    if url is None or not _is_authorization_request(url):
        return None
    return AuthorizationUrl(node, url)


def _is_authorization_request(url: UrlParts) -> bool:
    params = url.params
    if "client_id" not in params or params.keys() & _TOKEN_REQUEST_PARAMS:
        return False
    if "response_type" in params:
        return True
    segment = url.last_path_segment()
    if segment is not None:
        return segment in _AUTHORIZE_PATHS
    return "redirect_uri" in params  # the endpoint is a variable: a redirect makes it one


def hand_built_authorization_urls(ctx: FileContext, expr: libcst.BaseExpression | None) -> list[AuthorizationUrl]:
    """Authorization URLs an argument or return value hands on: itself, or a dict's values.

    Rules judge URLs where they are used (passed to `redirect(...)`, returned, put in a
    JSON body) rather than where a piece of them is written, so a base URL completed
    later (`f"{LOGIN_URL}&state={state}"`) is judged whole.
    """
    if isinstance(expr, libcst.Dict):
        candidates = [element.value for element in expr.elements if isinstance(element, libcst.DictElement)]
    else:
        candidates = [expr] if expr is not None else []
    found = (authorization_url(ctx, candidate) for candidate in candidates)
    return [url for url in found if url is not None]


def authorization_urls_passed(ctx: FileContext, call: libcst.Call) -> list[AuthorizationUrl]:
    """Hand-built authorization URLs given to `call`; none for a test's `assert...(url, expected)`."""
    func = call.func
    name = func.attr.value if isinstance(func, libcst.Attribute) else getattr(func, "value", "")
    if isinstance(name, str) and name.startswith("assert"):
        return []
    return [url for arg in call.args for url in hand_built_authorization_urls(ctx, arg.value)]

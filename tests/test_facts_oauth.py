"""The OAuth facts: library flow starts, grants, and authorization URLs written by hand."""

from __future__ import annotations

import libcst
import pytest

from authlint.context import FileContext
from authlint.engine import imported_modules
from authlint.facts import oauth
from authlint.walk import Dispatch, walk

UNKNOWN = oauth.UNKNOWN_TEXT


def probe_calls(source: str, probe) -> list:
    """Walk `source` and apply `probe(ctx, call)` to every call, as a rule would."""
    module = libcst.parse_module(source)
    ctx = FileContext("t.py", module, imported_modules(source))
    seen = []

    class Recorder:
        def visit_Call(self, node):
            seen.append(probe(ctx, node))

    walk(module, Dispatch([ctx.tracker, Recorder()]))
    return seen


def last(source: str, probe):
    """`probe` applied to the last call of the source that gives a result."""
    found = [result for result in probe_calls(source, probe) if result is not None]
    return found[-1] if found else None


def sink_argument(probe):
    """Applies `probe(ctx, expr)` to the argument of `sink(...)` calls."""

    def on_call(ctx, call):
        if isinstance(call.func, libcst.Name) and call.func.value == "sink":
            return probe(ctx, call.args[0].value)
        return None

    return on_call


# The text of strings built in the module ---------------------------------------------


@pytest.mark.parametrize(
    "source, text",
    [
        ('sink("https://idp.example/authorize")', "https://idp.example/authorize"),
        ('BASE = "https://idp.example"\nsink(f"{BASE}/authorize?client_id={cid}")',
         f"https://idp.example/authorize?client_id={UNKNOWN}"),
        ('sink("https://idp.example" "/authorize")', "https://idp.example/authorize"),
        ('sink(base + "?state=" + state)', f"{UNKNOWN}?state={UNKNOWN}"),
        ('sink("https://a/authorize?client_id={}&state={{x}}".format(cid))',
         f"https://a/authorize?client_id={UNKNOWN}&state={{x}}"),
        ('sink("https://a/authorize?client_id=%s&state=%d" % (cid, 1))',
         f"https://a/authorize?client_id={UNKNOWN}&state={UNKNOWN}"),
        ('from urllib.parse import urlencode\nsink(urlencode({"response_type": "code", "state": s}))',
         f"response_type=code&state={UNKNOWN}"),
        ('from urllib.parse import urlencode\np = {"a": "x y"}\np["b"] = 2\nsink(urlencode(p))', "a=x+y&b=2"),
        ("from urllib.parse import urlencode\nsink(urlencode(params))", UNKNOWN),
        ('sink(f"{url:>10}")', UNKNOWN),
    ],
)  # fmt: skip
def test_url_text(source, text) -> None:
    assert last(source, sink_argument(oauth.url_text)) == text


@pytest.mark.parametrize("source", ["sink(get_url())", "sink(user.url)", "sink(42)", 'sink(b"bytes")'])
def test_url_text_is_none_for_what_is_not_a_string_built_here(source) -> None:
    assert probe_calls(source, sink_argument(oauth.url_text))[-1] is None


# Reading URLs --------------------------------------------------------------------------


def test_parse_url_reads_scheme_host_path_and_query() -> None:
    url = oauth.parse_url("HTTPS://user:pw@IdP.example:8443/oauth/authorize?client_id=abc&state=x%20y#frag")
    assert (url.scheme, url.host, url.path) == ("https", "idp.example", "/oauth/authorize")
    assert dict(url.params) == {"client_id": "abc", "state": "x y"}
    assert url.complete
    assert url.last_path_segment() == "authorize"


@pytest.mark.parametrize(
    "text, host",
    [
        (f"http://{UNKNOWN}/token", None),
        (f"http://auth.{UNKNOWN}/token", None),
        (f"http://localhost:{UNKNOWN}/token", "localhost"),
        ("http://[::1]:9000/token", "[::1]"),
    ],
)
def test_parse_url_host_is_unknown_when_a_variable_continues_it(text, host) -> None:
    assert oauth.parse_url(text).host == host


@pytest.mark.parametrize(
    "text, complete",
    [
        ("https://a/authorize?client_id=1&state=2", True),
        (f"https://a/authorize?client_id=1&{UNKNOWN}", False),  # `&{extra}`
        (f"https://a/authorize?{UNKNOWN}", False),
        (f"https://a/authorize?client_id={UNKNOWN}{UNKNOWN}", False),  # two unknowns may hide `&x=y`
        (f"{UNKNOWN}&state={UNKNOWN}", False),  # the query started in an unknown base
    ],
)
def test_parse_url_completeness(text, complete) -> None:
    assert oauth.parse_url(text).complete is complete


def test_parse_url_rejects_prose() -> None:
    assert oauth.parse_url("Send users to /authorize?client_id=x") is None
    assert oauth.parse_url("see https://a/authorize?client_id=1") is None


@pytest.mark.parametrize(
    "value, grant",
    [
        ("token", oauth.IMPLICIT),
        ("id_token token", oauth.IMPLICIT),
        ("code+token", oauth.IMPLICIT),
        ("code", oauth.AUTHORIZATION_CODE),
        ("code id_token", oauth.AUTHORIZATION_CODE),
        ("id_token", None),
        (None, None),
    ],
)
def test_response_type_grant(value, grant) -> None:
    assert oauth.response_type_grant(value) == grant


# Authorization URLs written by hand ----------------------------------------------------

AUTHORIZATION_URLS = [
    'sink(f"https://idp/authorize?response_type=code&client_id={c}&state={s}")',
    'sink(f"https://github.com/login/oauth/authorize?client_id={c}")',  # no response_type: a GitHub-style path
    'sink(f"https://accounts.google.com/o/oauth2/v2/auth?client_id={c}&redirect_uri={r}")',
    'sink(f"{settings.AUTHORIZE_URL}?client_id={c}&redirect_uri={r}")',  # endpoint unknown: redirect_uri decides
    'from urllib.parse import urlencode\np = {"response_type": "code", "client_id": c}\nsink(AUTH + "?" + urlencode(p))',
    'u = f"https://idp/authorize?response_type=code&client_id={c}"\nsink(u)',  # a name is followed
]
NOT_AUTHORIZATION_URLS = [
    'sink(f"https://idp/v2/logout?client_id={c}&returnTo={r}")',
    'sink(f"https://github.com/login/oauth/access_token?client_id={c}&code={code}")',  # a token request
    'sink(f"https://idp/authorize?response_type=code&scope=openid")',  # no client_id
    'sink(f"https://idp/userinfo?client_id={c}")',
    'sink("Send users to /authorize?client_id=...")',
    "sink(build_login_url())",
]


@pytest.mark.parametrize("source", AUTHORIZATION_URLS)
def test_authorization_url_recognised(source) -> None:
    assert last(source, sink_argument(oauth.authorization_url)) is not None


@pytest.mark.parametrize("source", NOT_AUTHORIZATION_URLS)
def test_not_authorization_url(source) -> None:
    assert probe_calls(source, sink_argument(oauth.authorization_url))[-1] is None


def test_authorization_url_parameters_and_grant() -> None:
    source = 'sink(f"https://idp/authorize?response_type=id_token%20token&client_id={c}&state=fixed")'
    url = last(source, sink_argument(oauth.authorization_url))
    assert url.grant == oauth.IMPLICIT
    assert url.param("state") == "fixed"
    assert url.lacks("code_challenge") and not url.lacks("state")


def test_authorization_url_node_is_the_named_value() -> None:
    source = 'u = f"https://idp/authorize?response_type=code&client_id={c}"\nsink(u)'
    url = last(source, sink_argument(oauth.authorization_url))
    assert isinstance(url.node, libcst.FormattedString)


def test_hand_built_urls_in_a_dict_built_in_place() -> None:
    source = 'sink({"url": f"https://idp/authorize?response_type=code&client_id={c}", "n": 1})'
    urls = last(source, sink_argument(oauth.hand_built_authorization_urls))
    assert len(urls) == 1 and urls[0].url.host == "idp"


# Library calls that start a flow -------------------------------------------------------

AUTHLIB = "from authlib.integrations.requests_client import OAuth2Session\n"
REQUESTS_OAUTHLIB = "from requests_oauthlib import OAuth2Session\n"
OAUTHLIB = "from oauthlib.oauth2 import WebApplicationClient, MobileApplicationClient\n"
FLASK_REGISTRY = "from authlib.integrations.flask_client import OAuth\noauth = OAuth(app)\n"


def flow_start(source: str):
    return last(source, oauth.flow_start)


@pytest.mark.parametrize(
    "source, library, generates_state",
    [
        (AUTHLIB + "c = OAuth2Session(cid)\nc.create_authorization_url(URL, 'st')", oauth.AUTHLIB, True),
        (REQUESTS_OAUTHLIB + "s = OAuth2Session(cid)\ns.authorization_url(URL, 'st')", oauth.REQUESTS_OAUTHLIB, True),
        (OAUTHLIB + "c = WebApplicationClient(cid)\nc.prepare_request_uri(URL, R, S, 'st')", oauth.OAUTHLIB, False),
        (OAUTHLIB + "c = WebApplicationClient(cid)\nc.prepare_authorization_request(URL, 'st')", oauth.OAUTHLIB, True),
        (FLASK_REGISTRY + "oauth.google.authorize_redirect(R, state='st')", oauth.AUTHLIB, True),
    ],
)  # fmt: skip
def test_flow_starts_across_libraries(source, library, generates_state) -> None:
    """Each library's `state` is found where it takes it, positionally or by keyword."""
    start = flow_start(source)
    assert start.library == library
    assert start.generates_state is generates_state
    assert isinstance(start.arg("state"), libcst.SimpleString)


def test_flow_start_keeps_the_visible_constructor() -> None:
    start = flow_start(AUTHLIB + "c = OAuth2Session(cid, code_challenge_method='S256')\nc.create_authorization_url(U)")
    assert start.client.kind == oauth.SESSION
    assert isinstance(start.client.constructor, libcst.Call)
    assert start.has("code_verifier") is False


def test_flow_start_arguments_hidden_in_kwargs_are_unknowable() -> None:
    start = flow_start(AUTHLIB + "c = OAuth2Session(cid)\nc.create_authorization_url(U, **extra)")
    assert start.has("code_verifier") is None


@pytest.mark.parametrize(
    "source",
    [
        "def authorization_url(u):\n    return u\nauthorization_url(U)",  # a local helper
        "def f(session):\n    session.authorization_url(U)",  # a session built elsewhere
        "import requests\nrequests.Session().authorization_url(U)",
    ],
)
def test_not_a_flow_start(source) -> None:
    assert flow_start(source) is None


@pytest.mark.parametrize(
    "source, grant",
    [
        (AUTHLIB + "c = OAuth2Session(cid)\nc.create_authorization_url(U)", oauth.AUTHORIZATION_CODE),
        (AUTHLIB + "c = OAuth2Session(cid, response_type='token')\nc.create_authorization_url(U)", oauth.IMPLICIT),
        (AUTHLIB + "c = OAuth2Session(cid)\nc.create_authorization_url(U, response_type='token')", oauth.IMPLICIT),
        (REQUESTS_OAUTHLIB + "s = OAuth2Session(cid)\ns.authorization_url(U)", oauth.AUTHORIZATION_CODE),
        (REQUESTS_OAUTHLIB + OAUTHLIB + "s = OAuth2Session(client=MobileApplicationClient(cid))\n"
         "s.authorization_url(U)", oauth.IMPLICIT),
        (REQUESTS_OAUTHLIB + "s = OAuth2Session(client=make_client())\ns.authorization_url(U)", None),
        (OAUTHLIB + "c = MobileApplicationClient(cid)\nc.prepare_request_uri(U)", oauth.IMPLICIT),
    ],
)  # fmt: skip
def test_flow_grant(source, grant) -> None:
    def probe(ctx, call):
        start = oauth.flow_start(ctx, call)
        return "not a flow start" if start is None else oauth.flow_grant(ctx, start)

    assert [g for g in probe_calls(source, probe) if g != "not a flow start"] == [grant]


@pytest.mark.parametrize(
    "source",
    [
        FLASK_REGISTRY + "oauth.google.authorize_redirect(R)",
        FLASK_REGISTRY + "oauth.create_client('google').authorize_redirect(R)",
        FLASK_REGISTRY + "google = oauth.register('google')\ngoogle.authorize_redirect(R)",
        "from authlib.integrations.starlette_client import OAuth\noauth = OAuth()\n"
        "async def f(request):\n    await oauth.google.authorize_redirect(request, R)",
    ],
)
def test_framework_clients_are_authlib_apps(source) -> None:
    assert flow_start(source).client.kind == oauth.APP


def test_registry_register_is_recognised() -> None:
    found = probe_calls(FLASK_REGISTRY + "oauth.register('google')\nother.register('x')", oauth.is_registry_register)
    assert found[-2:] == [True, False]


# Authorization servers ------------------------------------------------------------------

SERVER = "from authlib.oauth2.rfc6749 import grants\nfrom authlib.oauth2.rfc7636 import CodeChallenge\n"


@pytest.mark.parametrize(
    "source, grant",
    [
        ("server.register_grant(grants.AuthorizationCodeGrant)", oauth.AUTHORIZATION_CODE),
        ("class G(grants.AuthorizationCodeGrant):\n    pass\nserver.register_grant(G)", oauth.AUTHORIZATION_CODE),
        ("class P(grants.ResourceOwnerPasswordCredentialsGrant):\n    pass\nclass Q(P):\n    pass\n"
         "server.register_grant(Q)", oauth.PASSWORD),
        ("from authlib.oauth2.rfc6749.grants import ImplicitGrant\nserver.register_grant(ImplicitGrant)",
         oauth.IMPLICIT),
        ("from authlib.oidc.core.grants import OpenIDImplicitGrant\nserver.register_grant(OpenIDImplicitGrant)",
         oauth.IMPLICIT),
    ],
)  # fmt: skip
def test_grant_registration(source, grant) -> None:
    registration = last(SERVER + source, oauth.grant_registration)
    assert registration.grant == grant


@pytest.mark.parametrize(
    "source",
    [
        "from myapp.grants import CodeGrant\nserver.register_grant(CodeGrant)",  # defined elsewhere
        "server.register_grant(grants.RefreshTokenGrant)",
        "server.register_hook(grants.AuthorizationCodeGrant)",
    ],
)
def test_not_a_known_grant_registration(source) -> None:
    assert last(SERVER + source, oauth.grant_registration) is None


@pytest.mark.parametrize(
    "extensions, registers",
    [
        ("", False),
        (", [CodeChallenge(required=True)]", True),
        (", extensions=[CodeChallenge(required=False)]", True),
        (", EXTENSIONS", True),
        (", [OpenIDCode(require_nonce=True)]", False),
        (", [MyChallenge()]", None),  # a local class may derive from CodeChallenge
        (", make_extensions()", None),
        (", *extra", None),
    ],
)
def test_registers_code_challenge(extensions, registers) -> None:
    source = SERVER + "from authlib.oidc.core.grants import OpenIDCode\nclass MyChallenge:\n    pass\n"
    source += "EXTENSIONS = [CodeChallenge(required=True)]\n"
    source += f"server.register_grant(grants.AuthorizationCodeGrant{extensions})"

    def probe(ctx, call):
        registration = oauth.grant_registration(ctx, call)
        return "no" if registration is None else oauth.registers_code_challenge(ctx, registration)

    assert [r for r in probe_calls(source, probe) if r != "no"] == [registers]


# Client objects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, grant",
    [
        ("from oauthlib.oauth2 import LegacyApplicationClient\nLegacyApplicationClient(cid)", oauth.PASSWORD),
        ("from oauthlib.oauth2 import MobileApplicationClient\nMobileApplicationClient(cid)", oauth.IMPLICIT),
        ("from oauthlib.oauth2.rfc6749.clients import BackendApplicationClient\nBackendApplicationClient(cid)",
         oauth.CLIENT_CREDENTIALS),
        ("from oauthlib.oauth2 import WebApplicationClient\nWebApplicationClient(cid)", oauth.AUTHORIZATION_CODE),
    ],
)  # fmt: skip
def test_oauthlib_client_classes(source, grant) -> None:
    client = last(source, oauth.constructed_client)
    assert (client.library, client.kind, client.grant) == (oauth.OAUTHLIB, oauth.CLIENT, grant)


def test_a_local_class_with_a_library_name_is_not_the_library() -> None:
    source = "class LegacyApplicationClient:\n    pass\nLegacyApplicationClient(cid)"
    assert last(source, oauth.constructed_client) is None

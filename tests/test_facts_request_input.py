"""Request-input tracking: sources per framework, how values carry them, and the checks that clear them."""

from __future__ import annotations

import textwrap

import libcst
import pytest

from authlint.context import FileContext
from authlint.engine import imported_modules
from authlint.facts import request_input as ri
from authlint.walk import Dispatch, walk


def sinks(source: str) -> list[tuple[tuple[ri.RequestInput, ...], list[bool]]]:
    """For every `sink(x)` call in `source`: the request inputs of `x`, and whether each is checked."""
    source = textwrap.dedent(source)
    module = libcst.parse_module(source)
    ctx = FileContext("t.py", module, imported_modules(source))
    seen = []

    class Probe:
        def visit_Call(self, node: libcst.Call) -> None:
            if isinstance(node.func, libcst.Name) and node.func.value == "sink":
                found = ri.request_inputs(ctx, node.args[0].value)
                seen.append((found, [ri.is_sanitized(ctx, origin, node) for origin in found]))

    walk(module, Dispatch([ctx.tracker, Probe()]))
    return seen


def only(source: str) -> ri.RequestInput:
    found, _ = sinks(source)[-1]
    assert len(found) == 1, found
    return found[0]


def unchecked(source: str) -> bool:
    """Whether the last sink receives request input that no check cleared."""
    found, checked = sinks(source)[-1]
    return any(not c for c in checked) if found else False


FLASK = "from flask import request\nfrom urllib.parse import urlparse\n"
DJANGO = "from django.shortcuts import redirect\n"
FASTAPI = "from fastapi import FastAPI, Query, Header, Body, Request, Security\napp = FastAPI()\n"


# Sources ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, kind, key",
    [
        (FLASK + "def v():\n    sink(request.args['next'])", ri.QUERY, "next"),
        (FLASK + "def v():\n    sink(request.args.get('next', '/'))", ri.QUERY, "next"),
        (FLASK + "def v():\n    sink(request.form['url'])", ri.FORM, "url"),
        (FLASK + "def v():\n    sink(request.get_json()['url'])", ri.JSON, "url"),
        (FLASK + "def v():\n    sink(request.json.get('url'))", ri.JSON, "url"),
        (FLASK + "def v():\n    sink(request.values.get('next'))", ri.VALUES, "next"),
        (FLASK + "def v():\n    sink(request.headers.get('X-Forward'))", ri.HEADER, "X-Forward"),
        (FLASK + "def v():\n    sink(request.cookies['back'])", ri.COOKIE, "back"),
        (FLASK + "def v():\n    sink(request.referrer)", ri.HEADER, "Referer"),
        ("import flask\ndef v():\n    sink(flask.request.args['next'])", ri.QUERY, "next"),
        (DJANGO + "def v(request):\n    sink(request.GET.get('next'))", ri.QUERY, "next"),
        (DJANGO + "def v(request):\n    sink(request.POST['next'])", ri.FORM, "next"),
        (DJANGO + "def v(request):\n    sink(request.META['HTTP_REFERER'])", ri.HEADER, "HTTP_REFERER"),
        (DJANGO + "def v(request):\n    sink(request.COOKIES['back'])", ri.COOKIE, "back"),
        (DJANGO + "class V:\n    def get(self, request):\n        sink(request.query_params['url'])", ri.QUERY, "url"),
        (DJANGO + "class V:\n    def get(self):\n        sink(self.request.GET['next'])", ri.QUERY, "next"),
        (DJANGO + "class V:\n    def post(self, request):\n        sink(request.data['url'])", ri.BODY, "url"),
        (FASTAPI + "async def v(request: Request):\n    sink(request.query_params['u'])", ri.QUERY, "u"),
        (FASTAPI + "async def v(request: Request):\n    sink(request.path_params['u'])", ri.PATH, "u"),
        (FASTAPI + "async def v(request: Request):\n    sink((await request.json())['u'])", ri.JSON, "u"),
        (FASTAPI + "async def v(request: Request):\n    sink((await request.form())['u'])", ri.FORM, "u"),
        ("from aiohttp import web\nasync def v(request):\n    sink(request.query['u'])", ri.QUERY, "u"),
        ("from aiohttp import web\nasync def v(request):\n    sink(request.match_info['u'])", ri.PATH, "u"),
        ("from aiohttp import web\nasync def v(request):\n    sink(request.rel_url.query['u'])", ri.QUERY, "u"),
        ("from aiohttp import web\nasync def v(request):\n    sink((await request.post())['u'])", ri.FORM, "u"),
        ("from aiohttp import web\nasync def v(req: web.Request):\n    sink((await req.json())['u'])", ri.JSON, "u"),
    ],
)
def test_framework_sources(source, kind, key) -> None:
    origin = only(source)
    assert (origin.source, origin.key) == (kind, key)


@pytest.mark.parametrize(
    "signature, kind, key",
    [
        ("@app.get('/f')\ndef v(url: str):", ri.QUERY, "url"),
        ("@app.get('/f')\ndef v(url: str = Query(...)):", ri.QUERY, "url"),
        ("@app.get('/f')\ndef v(url: str = Query(alias='target')):", ri.QUERY, "target"),
        ("@app.get('/f/{url:path}')\ndef v(url: str):", ri.PATH, "url"),
        ("@app.get('/f')\ndef v(url: Optional[str] = None):", ri.QUERY, "url"),
        ("@app.get('/f')\ndef v(url: Annotated[str, Header()]):", ri.HEADER, "url"),
        ("@app.post('/f')\ndef v(url: str = Body(embed=True)):", ri.JSON, "url"),
        ("def dependency(url: str = Query()):", ri.QUERY, "url"),  # a dependency receives query params too
    ],
)
def test_fastapi_parameters(signature, kind, key) -> None:
    source = FASTAPI + "from typing import Annotated, Optional\n" + signature + "\n    sink(url)"
    origin = only(source)
    assert (origin.source, origin.key) == (kind, key)


def test_pydantic_body_model_attributes() -> None:
    source = FASTAPI + "class Hook(BaseModel):\n    url: str\n@app.post('/h')\ndef v(hook: Hook):\n    sink(hook.url)"
    origin = only(source)
    assert (origin.source, origin.key) == (ri.JSON, "url")


def test_api_key_query_scheme_parameter() -> None:
    source = FASTAPI + "from fastapi.security import APIKeyQuery\nscheme = APIKeyQuery(name='api_key')\n"
    source += "def v(key: str = Security(scheme)):\n    sink(key)"
    assert (only(source).source, only(source).key) == (ri.QUERY, "api_key")


@pytest.mark.parametrize(
    "source",
    [
        FASTAPI + "@app.get('/f')\ndef v(limit: int = Query(10)):\n    sink(limit)",  # cannot carry text
        FASTAPI + "@app.get('/f/{id}')\ndef v(id: int):\n    sink(id)",
        FASTAPI + "def helper(url: str):\n    sink(url)",  # not a route: a plain parameter
        FASTAPI + "@app.get('/f')\ndef v(request: Request):\n    sink(request.url)",  # the URL it was called at
        FLASK + "@app.route('/a/<int:n>')\ndef v(n):\n    sink(n)",
        FLASK + "def v():\n    sink(request.path)",
        FLASK + "def w(request):\n    sink(request.user.email)",
        DJANGO + "def helper(data, request):\n    sink(request.GET['next'])",  # `request` not first: not a view
        FLASK + "def v():\n    request = make()\n    sink(request.args['next'])",  # a local shadows flask.request
        FLASK + "def v():\n    sink(int(request.args['page']))",
        FLASK + "def v():\n    sink(len(request.args['page']))",
        "def v():\n    sink(request.args['next'])",  # never imported
    ],
)
def test_not_request_input(source) -> None:
    assert sinks(source)[-1][0] == ()


def test_flask_route_path_parameter() -> None:
    source = FLASK + "@bp.route('/go/<path:target>')\ndef go(target):\n    sink(target)"
    assert (only(source).source, only(source).key) == (ri.PATH, "target")


# How values carry it ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body, leading",
    [
        ("u = request.args['u']\n    sink(u)", ""),
        ("u = request.args['u']\n    v = u\n    sink(v.strip())", ""),
        ("u = request.args['u']\n    u = u.strip()\n    sink(u)", ""),
        ("u = request.args['u']\n    sink(f'https://{u}/api')", "https://"),
        ("u = request.args['u']\n    sink(f'https://api.example.com/items/{u}')", "https://api.example.com/items/"),
        ("u = request.args['u']\n    sink('https://' + u + '/x')", "https://"),
        ("u = request.args['u']\n    sink('https://%s/x' % u)", "https://"),
        ("u = request.args['u']\n    sink('https://{}/x'.format(u))", "https://"),
        ("u = request.args['u']\n    sink('{}/{}'.format('https://api.example.com', u))", "https://api.example.com/"),
        ("u = request.args['u']\n    sink('https://{host}/x'.format(host=u))", "https://"),
        ("u = request.args['u']\n    sink('https://%(h)s/x' % {'h': u})", "https://"),
        ("u = request.args['u']\n    sink('%s?%s' % (BASE, u))", ri.UNKNOWN_TEXT + "?"),
        ("u = request.args['u']\n    sink('100%% %s' % u)", "100% "),
        ("u = request.args['u']\n    sink(urljoin('https://api.example.com/', u))", ""),
        ("u = request.args['u']\n    sink('/'.join(['https://api.example.com', u]))", "https://api.example.com/"),
        ("u = request.args['u']\n    sink(BASE + u)", ri.UNKNOWN_TEXT),
        ("u = request.args['u']\n    sink(f'{BASE}/{u}')", ri.UNKNOWN_TEXT + "/"),
        ("u = 'https://'\n    u += request.args['u']\n    sink(u)", "https://"),
        ("data = request.get_json()\n    sink(data['hook']['url'])", ""),
        ("u = request.args.get('u') or '/'\n    sink(u)", ""),
        ("for u in request.args.getlist('u'):\n        sink(u)", ""),
        ("host, port = request.args['h'], 80\n    sink(f'http://{host}:{port}/')", "http://"),
        ("sink(URL(request.args['u']))", ""),
        ("sink(urlparse(request.args['u']).geturl())", ""),
    ],
)
def test_propagation_keeps_the_leading_text(body, leading) -> None:
    source = FLASK + "from urllib.parse import urljoin, urlparse\nfrom yarl import URL\nBASE = settings.BASE\n"
    source += "def v():\n    " + body
    assert only(source).leading == leading


def test_a_later_plain_assignment_replaces_the_input() -> None:
    source = FLASK + "def v():\n    u = request.args['u']\n    u = '/home'\n    sink(u)"
    assert sinks(source)[-1][0] == ()


def test_a_conditional_assignment_keeps_both_values() -> None:
    source = FLASK + "def v(flag):\n    u = request.args['u']\n    if flag:\n        u = '/home'\n    sink(u)"
    assert only(source).key == "u"


def test_a_value_assigned_after_the_sink_does_not_reach_it() -> None:
    source = FLASK + "def v():\n    u = '/home'\n    sink(u)\n    u = request.args['u']"
    assert sinks(source)[-1][0] == ()


def test_helper_returns_in_the_same_module() -> None:
    source = FLASK + textwrap.dedent(
        """
        def target():
            return request.args.get("next")

        def build(host):
            return f"https://{host}/api"

        def view():
            sink(target())
            sink(build(request.args["h"]))
            sink(build("example.com"))
        """
    )
    found = [f for f, _ in sinks(source)]
    assert found[0][0].key == "next"
    assert (found[1][0].key, found[1][0].leading) == ("h", "https://")
    assert found[2] == ()


def test_method_helper_on_self() -> None:
    source = DJANGO + textwrap.dedent(
        """
        class Login:
            def next_url(self):
                return self.request.GET.get("next")

            def post(self, request):
                sink(self.next_url())
        """
    )
    assert only(source).key == "next"


def test_django_form_and_serializer_data() -> None:
    source = DJANGO + "def v(request):\n    form = F(request.POST)\n    sink(form.cleaned_data['next'])"
    assert (only(source).source, only(source).key) == (ri.FORM, "next")


# Where the client's text lands in a URL -------------------------------------------


@pytest.mark.parametrize(
    "leading, opens",
    [
        ("", True),
        ("/", True),
        ("https://", True),
        ("https://api.", True),
        ("//", True),
        ("https://api.example.com", True),  # "https://api.example.com.evil.example" or "@evil.example"
        ("https://api.example.com/", False),
        ("https://api.example.com?q=", False),
        ("/profile/", False),
        ("/login?next=", False),
        (ri.UNKNOWN_TEXT, False),
        ("https://" + ri.UNKNOWN_TEXT, False),
    ],
)
def test_controls_destination(leading, opens) -> None:
    origin = ri.RequestInput(ri.QUERY, "u", libcst.Name("x"), leading=leading)
    assert ri.controls_destination(origin) is opens


# Checks -----------------------------------------------------------------------------

CHECKED = [
    "if u not in ALLOWED:\n        abort(400)\n    sink(u)",
    "if u not in ALLOWED:\n        raise ValueError(u)\n    sink(u)",
    "if u in ALLOWED:\n        sink(u)",
    "if u != HOME:\n        return\n    sink(u)",
    "if urlparse(u).netloc not in ALLOWED_HOSTS:\n        abort(400)\n    sink(u)",
    "host = urlparse(u).hostname\n    if host not in ALLOWED_HOSTS:\n        return None\n    sink(u)",
    "if not url_has_allowed_host_and_scheme(u, allowed_hosts={'a.example'}):\n        u = '/'\n    sink(u)",
    "ok = url_has_allowed_host_and_scheme(u, None)\n    if ok:\n        sink(u)",
    "if is_safe_url(u):\n        sink(u)\n    return None",
    "if not is_safe_url(u):\n        return\n    else:\n        sink(u)",
    "if urlparse(u).netloc:\n        abort(400)\n    sink(u)",
    "if not u.startswith('/') or u.startswith('//'):\n        u = '/'\n    sink(u)",
    "if u.startswith('/') and not u.startswith('//'):\n        sink(u)",
    "if not u.startswith('https://api.example.com/'):\n        abort(400)\n    sink(u)",
    "assert u in ALLOWED\n    sink(u)",
    "validate_redirect_url(u)\n    sink(u)",
    "for allowed in ALLOWED:\n        if u == allowed:\n            sink(u)",
]

NOT_CHECKED = [
    "sink(u)",
    "if not u:\n        u = '/'\n    sink(u)",
    "if u in ALLOWED:\n        log(u)\n    sink(u)",  # the check does not guard the sink
    "if flag:\n        if u not in ALLOWED:\n            abort(400)\n    sink(u)",  # only on one branch
    "if 'example.com' not in u:\n        abort(400)\n    sink(u)",  # a substring test
    "if not u.startswith('/'):\n        abort(400)\n    sink(u)",  # '//evil.example' starts with '/'
    "if not u.startswith('https://api.example.com'):\n        abort(400)\n    sink(u)",
    "if urlparse(u).scheme not in ('http', 'https'):\n        abort(400)\n    sink(u)",  # the host is still open
    "if other not in ALLOWED:\n        abort(400)\n    sink(u)",
    "if u not in ALLOWED:\n        log(u)\n    sink(u)",  # no exit
    "sink(u)\n    if u not in ALLOWED:\n        abort(400)",  # too late
]


@pytest.mark.parametrize("body", CHECKED)
def test_checks_that_clear_the_input(body) -> None:
    source = FLASK + "def v(flag, other):\n    u = request.args.get('next')\n    " + body
    found, checked = sinks(source)[-1]
    assert found and all(checked)


@pytest.mark.parametrize("body", NOT_CHECKED)
def test_checks_that_do_not(body) -> None:
    source = FLASK + "def v(flag, other):\n    u = request.args.get('next')\n    " + body
    assert unchecked(source)


def test_the_checked_branch_of_a_conditional_expression_is_clean() -> None:
    source = FLASK + "def v():\n    u = request.args.get('next')\n    sink(u if u in ALLOWED else '/')"
    assert sinks(source)[-1][0] == ()
    source = FLASK + "def v():\n    u = request.args.get('next')\n    sink('/' if u in ALLOWED else u)"
    assert unchecked(source)


def test_a_check_in_the_branch_that_reads_the_input() -> None:
    source = DJANGO + textwrap.dedent(
        """
        from django.utils.http import url_has_allowed_host_and_scheme

        def set_language(request):
            next_url = request.POST.get("next")
            if next_url and not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
                next_url = request.META.get("HTTP_REFERER")
                if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
                    next_url = "/"
            sink(next_url)
        """
    )
    found, checked = sinks(source)[-1]
    assert {o.key for o in found} == {"next", "HTTP_REFERER"} and all(checked)


def test_a_check_in_another_branch_does_not_count() -> None:
    source = FLASK + textwrap.dedent(
        """
        def view(flag):
            url = request.args["next"]
            if flag:
                if url not in ALLOWED:
                    abort(400)
            else:
                log(url)
            sink(url)
        """
    )
    assert unchecked(source)


def test_a_check_on_another_field_of_the_same_body_does_not_count() -> None:
    source = FASTAPI + textwrap.dedent(
        """
        @app.post("/hook")
        def v(hook: Hook):
            if hook.name not in ALLOWED:
                raise HTTPException(400)
            sink(hook.url)
        """
    )
    assert unchecked(source)


def test_a_checked_helper_return_is_clean() -> None:
    source = FLASK + textwrap.dedent(
        """
        def get_redirect_target():
            for target in request.values.get("next"), request.referrer:
                if not target:
                    continue
                if is_safe_url(target):
                    return target

        def view():
            sink(get_redirect_target())
        """
    )
    assert sinks(source)[-1][0] == ()


def test_local_qualified_names_see_with_and_annotations() -> None:
    source = textwrap.dedent(
        """
        import aiohttp, httpx

        async def v(client: httpx.AsyncClient):
            async with aiohttp.ClientSession() as session:
                sink(session.get)
            sink(client.get)
        """
    )
    module = libcst.parse_module(source)
    ctx = FileContext("t.py", module, imported_modules(source))
    names = []

    class Probe:
        def visit_Call(self, node):
            if isinstance(node.func, libcst.Name) and node.func.value == "sink":
                facts = ri.function_facts(ctx, ri.current_function(ctx))
                names.append(facts.qualified_name(node.args[0].value))

    walk(module, Dispatch([ctx.tracker, Probe()]))
    assert names == ["aiohttp.ClientSession().get", "httpx.AsyncClient().get"]

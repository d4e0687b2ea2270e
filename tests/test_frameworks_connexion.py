"""The connexion adapter: spec files found as connexion finds them, handlers named as its
resolvers name them, and security read as connexion enforces it."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from authlint.engine import FileSettings, analyze_text
from authlint.frameworks.base import LinkSettings
from authlint.frameworks.connexion import (
    Connexion,
    Resolver,
    base_path,
    describe_scheme,
    load_spec,
    render,
    security_evidence,
)
from authlint.model import Location, Route
from authlint.project import Project

FACTS_ONLY = FileSettings((), (), collect_facts=True)

SPEC = """
openapi: 3.0.3
info: {title: Shop, version: "1"}
servers:
  - url: https://{host}/api/{version}/
    variables:
      host: {default: shop.example}
      version: {default: v1}
security:
  - bearerAuth: []
paths:
  /health:
    get:
      operationId: api.health.check
      security: []
  /orders:
    get:
      operationId: api.orders.list_orders
    post:
      operationId: api.orders.create_order
      security:
        - oauth: [orders:write]
  /orders/{order_id}:
    delete:
      operationId: api.orders.delete_order
      security:
        - {}
        - bearerAuth: []
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer, x-bearerInfoFunc: api.auth.decode_token}
    oauth:
      type: oauth2
      flows: {clientCredentials: {tokenUrl: /token, scopes: {"orders:write": write}}}
"""

ORDERS = """
    def list_orders():
        return []


    def create_order(body):
        return body, 201


    def delete_order(order_id):
        return None, 204
"""

HEALTH = """
    from connexion import NoContent


    def check():
        return NoContent, 200
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch) -> Path:
    """Files are written under tmp_path, which is the working directory (as in a scan)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(text), encoding="utf-8")


def scan(root: Path, files: dict[str, str], settings: LinkSettings | None = None) -> tuple[dict[str, Route], Project]:
    """Write `files`, build facts for the Python ones, return `{"POST /orders": route}`."""
    write(root, files)
    facts = []
    for path in files:
        if path.endswith(".py"):
            result = analyze_text(dedent(files[path]), path, FACTS_ONLY, module_path=path)
            assert result.facts is not None, result.errors
            facts.append(result.facts)
    project = Project(facts)
    found = Connexion().routes(project, settings or LinkSettings())
    table = {f"{','.join(r.methods)} {r.path}": r for r in found}
    assert len(table) == len(found), [r.label for r in found]
    return table, project


def auth(route: Route) -> list[str]:
    return [f"{e.mechanism} [{e.level}]" for e in route.auth]


MAIN = """
    import connexion

    app = connexion.FlaskApp(__name__, specification_dir="spec/")
    app.add_api("openapi.yaml")
"""


def test_routes_come_from_the_spec_with_the_server_path_and_handlers_at_their_defs(tree: Path) -> None:
    routes, project = scan(tree, {
        "main.py": MAIN, "spec/openapi.yaml": SPEC, "api/orders.py": ORDERS, "api/health.py": HEALTH,
    })  # fmt: skip
    assert sorted(routes) == ["DELETE /api/v1/orders/{order_id}", "GET /api/v1/health", "GET /api/v1/orders",
                              "POST /api/v1/orders"]  # fmt: skip
    create = routes["POST /api/v1/orders"]
    assert create.handler == "api.orders.create_order"
    assert (create.location.path, create.location.line) == ("api/orders.py", 6)
    assert create.source_line == "def create_order(body):"
    assert routes["DELETE /api/v1/orders/{order_id}"].path_params == ("order_id",)
    assert not project.warnings


def test_operation_security_replaces_the_global_one_and_an_empty_list_or_alternative_is_public(tree: Path) -> None:
    routes, _ = scan(tree, {"main.py": MAIN, "spec/openapi.yaml": SPEC, "api/orders.py": ORDERS})
    listed = routes["GET /api/v1/orders"]
    assert auth(listed) == ["bearerAuth (http bearer) from openapi.yaml [app]"]
    assert listed.authenticated and listed.auth[0].location == Location("spec/openapi.yaml", 9, "")

    create = routes["POST /api/v1/orders"]
    assert auth(create) == ["oauth (oauth2) from openapi.yaml [handler]"]  # the global bearer does not apply
    assert create.auth[0].kind == "authorization" and create.requirements == ("orders:write",)
    assert create.auth[0].location.line == 21

    health = routes["GET /api/v1/health"]
    assert auth(health) == ["security: [] in openapi.yaml (anyone may call) [handler]"]
    assert not health.authenticated and health.effective_auth[0].kind == "public"

    optional = routes["DELETE /api/v1/orders/{order_id}"]
    assert auth(optional) == ["security: [{}, bearerAuth] in openapi.yaml (authentication optional) [handler]"]
    assert not optional.authenticated


def test_levels_point_at_the_operation_and_the_global_security_of_the_spec(tree: Path) -> None:
    routes, _ = scan(tree, {"main.py": MAIN, "spec/openapi.yaml": SPEC, "api/orders.py": ORDERS})
    levels = routes["POST /api/v1/orders"].levels
    assert levels == (
        Location("spec/openapi.yaml", 19, "POST /orders in openapi.yaml"),
        Location("spec/openapi.yaml", 9, "global `security` of openapi.yaml"),
    )


def test_a_handler_outside_the_scanned_code_is_placed_at_its_operation_in_the_spec(tree: Path) -> None:
    routes, _ = scan(tree, {"main.py": MAIN, "spec/openapi.yaml": SPEC, "api/orders.py": ORDERS})
    health = routes["GET /api/v1/health"]  # api/health.py is not part of this scan
    assert health.handler == "api.health.check"
    assert (health.location.path, health.location.line, health.column) == ("spec/openapi.yaml", 13, 5)
    assert health.source_line == "    get:"


def test_a_handler_module_nothing_made_worth_parsing_has_its_def_found_in_its_text(tree: Path) -> None:
    write(tree, {"main.py": MAIN, "spec/openapi.yaml": SPEC, "api/orders.py": ORDERS})
    facts = [analyze_text(dedent(MAIN), "main.py", FACTS_ONLY, module_path="main.py").facts]
    orders = analyze_text(dedent(ORDERS), "api/orders.py", FACTS_ONLY, module_path="api/orders.py").facts
    assert not orders.functions  # imports nothing any rule or adapter cares about
    found = Connexion().routes(Project([*facts, orders]), LinkSettings())
    delete = next(r for r in found if r.methods == ("DELETE",))
    assert delete.handler == "api.orders.delete_order"
    assert (delete.location.path, delete.location.line, delete.source_line) == ("api/orders.py", 10, "def delete_order(order_id):")


def test_an_operation_without_security_anywhere_has_no_auth_and_a_handler_check_counts(tree: Path) -> None:
    spec = """
        swagger: "2.0"
        info: {title: t, version: "1"}
        basePath: /v2/
        paths:
          /items:
            post:
              operationId: items.create
            put:
              operationId: items.replace
    """
    items = """
        from flask import abort, request

        import connexion


        def create(body):
            return body, 201


        def replace(body):
            if not request.headers.get("Authorization"):
                abort(401)
            return body
    """
    routes, _ = scan(tree, {"app.py": 'import connexion\napp = connexion.App(__name__)\napp.add_api("swagger.yaml")\n',
                            "swagger.yaml": spec, "items.py": items})  # fmt: skip
    assert routes["POST /v2/items"].auth == () and not routes["POST /v2/items"].authenticated
    assert auth(routes["PUT /v2/items"]) == ["replace (checks credentials, abort(401)) [handler]"]


def test_swagger2_security_definitions_and_base_path_argument(tree: Path) -> None:
    spec = """
        swagger: "2.0"
        info: {title: t, version: "1"}
        basePath: /ignored
        securityDefinitions:
          api_key: {type: apiKey, in: header, name: X-API-Key}
          basic: {type: basic}
        security:
          - api_key: []
            basic: []
        paths:
          /things:
            get:
              operationId: things.list_things
    """
    main = 'import connexion\napp = connexion.App(__name__)\napp.add_api("swagger.yaml", base_path="/v3/")\n'
    routes, _ = scan(tree, {"main.py": main, "swagger.yaml": spec, "things.py": "import connexion\ndef list_things():\n    return []\n"})
    assert list(routes) == ["GET /v3/things"]
    assert auth(routes["GET /v3/things"]) == ["api_key (api key in header X-API-Key) + basic (http basic) from swagger.yaml [app]"]


def test_resolvers_name_handlers_as_connexion_does(tree: Path) -> None:
    spec = """
        openapi: 3.0.0
        info: {title: t, version: "1"}
        paths:
          /pets:
            get: {}
            post: {}
          /pets/{pet_id}:
            get: {}
          /pets/{pet_id}/toys:
            put:
              x-openapi-router-controller: api.toys
              operationId: replace_toys
    """
    pets = """
        import connexion


        def search():
            return []


        def post(body):
            return body, 201


        def get(pet_id):
            return {}
    """
    toys = "import connexion\n\n\ndef replace_toys(pet_id, body):\n    return body\n"
    main = """
        import connexion
        from connexion.resolver import RestyResolver


        class ApiResolver(RestyResolver):
            pass


        RESOLVER = ApiResolver("api")
        app = connexion.AsyncApp(__name__)
        app.add_api("openapi.yaml", resolver=RESOLVER)
    """
    routes, _ = scan(tree, {"main.py": main, "openapi.yaml": spec, "api/pets.py": pets, "api/toys.py": toys})
    handlers = {label: route.handler for label, route in routes.items()}
    assert handlers == {
        "GET /pets": "api.pets.search", "POST /pets": "api.pets.post", "GET /pets/{pet_id}": "api.pets.get",
        "PUT /pets/{pet_id}/toys": "api.toys.replace_toys",
    }  # fmt: skip
    assert all(route.location.path.startswith("api/") for route in routes.values())


@pytest.mark.parametrize(
    ("resolver", "path", "method", "operation", "expected"),
    [
        (Resolver(), "/a", "get", {"operationId": "m.f"}, "m.f"),
        (Resolver(), "/a", "get", {"operationId": "f", "x-openapi-router-controller": "ctl"}, "ctl.f"),
        (Resolver(), "/a", "get", {}, None),
        (Resolver("relative", "api"), "/a", "get", {"operationId": "f"}, "api.f"),
        (Resolver("relative", "api"), "/a", "get", {"operationId": "f", "x-openapi-router-controller": "c"}, "c.f"),
        (Resolver("resty", "api"), "/", "get", {}, "api.get"),
        (Resolver("resty", "api"), "/foo-bar/{id}/baz", "delete", {}, "api.foo_bar.baz.delete"),
        (Resolver("resty", "api", "list"), "/foo", "get", {}, "api.foo.list"),
        (Resolver("resty", "api"), "/foo/{id}", "get", {"x-openapi-router-controller": "ctl"}, "ctl.get"),
        (Resolver("methodview", "api"), "/foo_bar", "get", {}, "api.FooBarView.get"),
        (Resolver("method", "api"), "/foo_bar", "get", {}, "api.FooBarView.search"),
    ],
)
def test_operation_ids(resolver: Resolver, path: str, method: str, operation: dict, expected: str | None) -> None:
    assert resolver.operation_id(path, method, operation, swagger2=False) == expected


def test_swagger2_reads_its_own_router_controller_key() -> None:
    operation = {"operationId": "f", "x-swagger-router-controller": "ctl"}
    assert Resolver().operation_id("/a", "get", operation, swagger2=True) == "ctl.f"


def test_spec_dir_is_relative_to_the_module_that_creates_the_app_and_arguments_fill_placeholders(tree: Path) -> None:
    spec = """
        openapi: 3.0.0
        info: {title: "{{ title }}", version: "1"}
        servers: [{url: "/{{ prefix }}"}]
        paths:
          /ping:
            get: {operationId: "{{ module }}.ping", security: []}
    """
    factory = """
        import connexion

        def create_app():
            app = connexion.FlaskApp(__name__, specification_dir="openapi", arguments={"prefix": "svc"})
            return app
    """
    wiring = """
        from service.factory import create_app

        application = create_app()
        application.add_api("api.yaml", arguments={"module": "service.views"})
    """
    views = "import connexion\ndef ping():\n    return 'pong'\n"
    routes, project = scan(tree, {
        "service/__init__.py": "", "service/factory.py": factory, "service/openapi/api.yaml": spec,
        "wsgi.py": wiring, "service/views.py": views,
    })  # fmt: skip
    assert list(routes) == ["GET /svc/ping"] and not project.warnings
    assert routes["GET /svc/ping"].handler == "service.views.ping"
    assert routes["GET /svc/ping"].location == Location("service/views.py", 2)


def test_an_app_authlint_cannot_follow_looks_for_the_spec_beside_the_add_api_call(tree: Path) -> None:
    wiring = """
        def register(app):
            app.add_api("openapi.yaml")
    """
    spec = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get: {operationId: views.x}\n"
    routes, project = scan(tree, {"svc/wiring.py": wiring, "svc/openapi.yaml": spec})
    assert list(routes) == ["GET /x"] and not project.warnings
    routes, project = scan(tree, {"other/wiring.py": wiring})
    assert routes == {}
    (warning,) = project.warnings
    assert warning.message.startswith("OpenAPI spec other/openapi.yaml of `app.add_api('openapi.yaml')` at line 3: no such file")


def test_import_name_names_the_root_module(tree: Path) -> None:
    main = """
        import connexion

        app = connexion.App("pkg", specification_dir="specs")
        app.add_api("openapi.yaml")
    """
    spec = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post: {operationId: pkg.views.x}\n"
    routes, project = scan(tree, {"run/main.py": main, "pkg/__init__.py": "", "pkg/specs/openapi.yaml": spec,
                                  "pkg/views.py": "import connexion\ndef x():\n    return 1\n"})  # fmt: skip
    assert not project.warnings
    assert routes["POST /x"].location == Location("pkg/views.py", 2)


def test_refs_are_followed_in_the_spec_and_into_files_beside_it_but_never_to_urls(tree: Path) -> None:
    spec = """
        openapi: 3.0.0
        info: {title: t, version: "1"}
        paths:
          /local:
            $ref: "#/components/x-items/local"
          /split:
            $ref: "paths/split.yaml"
          /remote:
            $ref: "https://example.com/paths.yaml#/remote"
          /absolute:
            $ref: "/etc/specs/paths.yaml"
          /not-a-spec:
            $ref: "secrets.txt#/x"
        components:
          x-items:
            local:
              post: {operationId: h.local, security: [{key: []}]}
          securitySchemes:
            key: {$ref: "schemes.yaml#/key"}
    """
    files = {
        "main.py": 'import connexion\napp = connexion.App(__name__)\napp.add_api("openapi.yaml")\n',
        "openapi.yaml": spec,
        "paths/split.yaml": "delete:\n  operationId: h.split\n",
        "schemes.yaml": "key: {type: apiKey, in: cookie, name: sid}\n",
        "secrets.txt": "x:\n  get: {operationId: h.secret}\n",
    }
    routes, project = scan(tree, files)
    assert sorted(routes) == ["DELETE /split", "POST /local"]
    assert auth(routes["POST /local"]) == ["key (api key in cookie sid) from openapi.yaml [handler]"]
    assert not project.warnings


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("paths: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "not an OpenAPI or Swagger document"),
        ("paths: {}\n", "no `openapi` or `swagger` version key"),
        ("!!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
    ],
)
def test_a_missing_or_invalid_spec_gives_no_routes_and_a_warning(tree: Path, content: str | None, problem: str) -> None:
    files = {"main.py": 'import connexion\napp = connexion.App(__name__)\napp.add_api("openapi.yaml")\n'}
    if content is not None:
        files["openapi.yaml"] = content
    routes, project = scan(tree, files)
    assert routes == {}
    (warning,) = project.warnings
    assert warning.path == "main.py" and not warning.is_internal
    assert problem in warning.message and "openapi.yaml" in warning.message and "line 3" in warning.message


def test_add_api_of_another_library_or_with_a_dict_is_ignored(tree: Path) -> None:
    files = {
        "a.py": "from other import Registry\nregistry = Registry()\nregistry.add_api(handler)\n",
        "b.py": 'import connexion\napp = connexion.App(__name__)\napp.add_api({"openapi": "3.0.0", "paths": {}})\n',
    }
    routes, project = scan(tree, files)
    assert routes == {} and not project.warnings


def test_json_specs_and_line_numbers(tree: Path) -> None:
    spec = '{\n  "openapi": "3.0.0",\n  "info": {"title": "t", "version": "1"},\n  "paths": {\n    "/j": {\n      "post": {"operationId": "gone.handler"}\n    }\n  }\n}\n'
    files = {"main.py": 'import connexion\napp = connexion.App(__name__)\napp.add_api("api.json")\n', "api.json": spec}
    routes, _ = scan(tree, files)
    assert routes["POST /j"].location == Location("api.json", 6)
    assert routes["POST /j"].handler == "gone.handler" and routes["POST /j"].column == 7


def test_describe_scheme() -> None:
    assert describe_scheme({"type": "http", "scheme": "Bearer"}) == "http bearer"
    assert describe_scheme({"type": "apiKey", "in": "query", "name": "k"}) == "api key in query k"
    assert describe_scheme({"type": "apiKey", "in": "header", "name": "A", "x-authentication-scheme": "Bearer"}) == "bearer token"
    assert describe_scheme({"type": "openIdConnect"}) == "openid connect"
    assert describe_scheme(None) == "not defined in the spec"


def test_security_evidence_global_empty_is_no_evidence_and_scopes_make_authorization() -> None:
    where = Location("s.yaml", 3)
    assert security_evidence([], {}, "s.yaml", "app", where) == []
    assert security_evidence(None, {}, "s.yaml", "app", where) == []
    two = security_evidence([{"a": []}, {"b": ["x", "y"]}], {}, "s.yaml", "handler", where)
    assert [(e.kind, e.requirements) for e in two] == [("authentication", ()), ("authorization", ("x", "y"))]
    assert two[0].mechanism == "a (not defined in the spec) from s.yaml"


def test_base_path_and_render() -> None:
    assert base_path({"swagger": "2.0", "basePath": "/v1/"}) == "/v1"
    assert base_path({"openapi": "3.0.0", "servers": [{"url": "http://h:8080/api/"}]}) == "/api"
    assert base_path({"openapi": "3.0.0", "servers": [{"url": "/{v}", "variables": {"v": {"default": "v9"}}}]}) == "/v9"
    assert base_path({"openapi": "3.0.0"}) == ""
    assert render("a: {{ x }}\nb: {{y}}\n", {"x": 1}) == "a: 1\nb: \n"


def test_load_spec_never_constructs_python_objects(tree: Path) -> None:
    (tree / "evil.yaml").write_text("openapi: !!python/name:os.system\npaths: {}\n", encoding="utf-8")
    assert isinstance(load_spec("evil.yaml"), str)


def test_connexion_middleware_an_app_level_resolver_and_a_handler_decorator(tree: Path) -> None:
    main = """
        from connexion import ConnexionMiddleware
        from connexion.resolver import RelativeResolver
        from flask import Flask

        from svc import views

        flask_app = Flask(__name__)
        app = ConnexionMiddleware(flask_app, import_name="svc", specification_dir="spec", resolver=RelativeResolver(views))
        app.add_api("openapi.yaml")
    """
    views = """
        import functools

        from flask import abort, request

        import connexion


        def require_token(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                if not request.headers.get("Authorization"):
                    abort(401)
                return view(*args, **kwargs)
            return wrapper


        @require_token
        def export(body):
            return body
    """
    spec = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /export:\n    post: {operationId: export}\n"
    routes, project = scan(tree, {"main.py": main, "svc/__init__.py": "", "svc/views.py": views, "svc/spec/openapi.yaml": spec})
    assert not project.warnings
    export = routes["POST /export"]
    assert export.handler == "svc.views.export" and export.authenticated
    assert auth(export) == ["require_token (checks credentials, abort(401)) [handler]"]

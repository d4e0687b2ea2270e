"""The aiohttp adapter: tables and router calls, setup helpers, sub-apps, and middleware allowlists."""

from __future__ import annotations

from authlint.facts import auth_checks
from authlint.frameworks.aiohttp import Aiohttp
from authlint.frameworks.base import LinkSettings
from authlint.frameworks.starlette import Starlette
from authlint.model import Route
from authlint.testing import auth_labels, file_facts, project_of, routes_by_label


def routes(files: dict[str, str], settings: LinkSettings | None = None) -> dict[str, Route]:
    return routes_by_label(Aiohttp(), files, settings)


auth = auth_labels


MIDDLEWARE = """
    from aiohttp import web

    PUBLIC = {"/health", "/login"}

    @web.middleware
    async def auth_mw(request, handler):
        if request.path in PUBLIC or request.path.startswith("/static/"):
            return await handler(request)
        if request.match_info.route.name in ("catalog",):
            return await handler(request)
        if "Authorization" not in request.headers:
            raise web.HTTPUnauthorized()
        return await handler(request)
"""


def test_setup_helpers_register_on_the_app_handed_to_them_through_a_chain_of_calls() -> None:
    found = routes({
        "svc/mw.py": MIDDLEWARE,
        "svc/routes.py": """
            from .views import index, create

            def setup_routes(app):
                router = app.router
                router.add_get("/", index)
                router.add_post("/items", create)
        """,
        "svc/setup.py": """
            from . import routes
            from .views import ping

            def setup(application):
                routes.setup_routes(application)
                application.router.add_get("/ping", ping)
        """,
        "svc/main.py": """
            from aiohttp import web
            from .mw import auth_mw
            from .setup import setup

            def create_app():
                app = web.Application()
                app.middlewares.append(auth_mw)
                setup(app)
                return app
        """,
        "svc/views.py": """
            from aiohttp import web

            async def index(request): ...
            async def create(request): ...
            async def ping(request): ...
        """,
    })
    assert sorted(found) == ["GET /", "GET /ping", "POST /items"]
    assert auth(found["POST /items"]) == ["auth_mw (middleware, HTTPUnauthorized) [middleware]"]
    assert found["POST /items"].handler == "svc.views.create"


def test_a_helper_nobody_is_seen_calling_still_lists_its_routes_without_app_evidence() -> None:
    found = routes({
        "routes.py": """
            from views import delete_item

            def setup_routes(app):
                app.router.add_delete("/items/{item_id}", delete_item)
        """,
        "views.py": "from aiohttp import web\n\nasync def delete_item(request): ...\n",
    })
    assert list(found) == ["DELETE /items/{item_id}"]
    assert found["DELETE /items/{item_id}"].auth == ()
    assert found["DELETE /items/{item_id}"].path_params == ("item_id",)


def test_sub_apps_get_the_parent_middleware_and_its_allowlist_sees_the_full_path() -> None:
    found = routes({
        "mw.py": MIDDLEWARE,
        "main.py": """
            from aiohttp import web
            from mw import auth_mw

            async def health(request): ...
            async def login(request): ...
            async def users(request): ...

            def make_admin():
                admin = web.Application()
                admin.router.add_get("/health", health)
                admin.router.add_post("/login", login)
                return admin

            app = web.Application(middlewares=[auth_mw])
            app.add_subapp("/admin/", make_admin())
            app.router.add_get("/health", health)
            other = web.Application()
            other.router.add_get("/users", users)
        """,
    })
    assert found["GET /health"].auth == ()  # allowlisted by the middleware
    assert auth(found["GET /admin/health"]) == ["auth_mw (middleware, HTTPUnauthorized) [middleware]"]
    assert auth(found["POST /admin/login"]) == ["auth_mw (middleware, HTTPUnauthorized) [middleware]"]
    assert found["GET /users"].auth == ()  # another app: the middleware is not attached to it
    levels = [level.message for level in found["GET /admin/health"].levels]
    assert levels == ["app = web.Application(...)", "app.add_subapp('/admin/', ...)", "admin = web.Application(...)"]


def test_route_names_and_factory_arguments_are_allowlists_too() -> None:
    found = routes({
        "mw.py": MIDDLEWARE + """

    def token_auth(public_paths):
        @web.middleware
        async def middleware(request, handler):
            if request.path in public_paths:
                return await handler(request)
            if not request.headers.get("X-Token"):
                raise web.HTTPForbidden()
            return await handler(request)
        return middleware
        """,
        "main.py": """
            from aiohttp import web
            from mw import auth_mw, token_auth

            async def products(request): ...
            async def ping(request): ...

            app = web.Application(middlewares=[auth_mw])
            app.add_routes([web.get("/products", products, name="catalog"), web.get("/items", products)])
            api = web.Application(middlewares=[token_auth(["/ping"])])
            api.router.add_get("/ping", ping)
            api.router.add_get("/pong", ping)
        """,
    })
    assert found["GET /products"].auth == ()
    assert auth(found["GET /items"]) == ["auth_mw (middleware, HTTPUnauthorized) [middleware]"]
    assert found["GET /ping"].auth == ()
    assert auth(found["GET /pong"]) == ["token_auth (middleware, HTTPForbidden) [middleware]"]


def test_class_based_views_give_one_route_per_method_and_a_declared_method_filters_them() -> None:
    found = routes({
        "views.py": """
            from aiohttp import web
            from aiohttp_security import check_authorized

            routes = web.RouteTableDef()

            class Base(web.View):
                async def get(self):
                    return web.json_response([])

            @routes.view("/orders")
            class Orders(Base):
                async def post(self):
                    await check_authorized(self.request)

            class Report(web.View):
                async def get(self): ...
                async def delete(self): ...

            app = web.Application()
            app.add_routes(routes)
            app.router.add_route("GET", "/report", Report)
            app.router.add_view("/report/all", Report)
        """,
    })
    assert sorted(found) == ["DELETE /report/all", "GET /orders", "GET /report", "GET /report/all", "POST /orders"]
    assert found["GET /orders"].handler == "views.Base.get"
    assert auth(found["POST /orders"]) == ["check_authorized() [handler]"]
    assert found["GET /orders"].auth == ()


def test_resources_take_their_path_and_name_from_add_resource() -> None:
    found = routes({
        "main.py": """
            from aiohttp import web
            from mw import auth_mw

            async def handler(request): ...

            app = web.Application(middlewares=[auth_mw])
            items = app.router.add_resource("/items/{item_id}", name="catalog")
            items.add_route("GET", handler)
            items.add_route("PUT", handler)
            app.router.add_resource("/carts").add_route("POST", handler)
        """,
        "mw.py": MIDDLEWARE,
    })
    assert sorted(found) == ["GET /items/{item_id}", "POST /carts", "PUT /items/{item_id}"]
    assert found["PUT /items/{item_id}"].auth == ()  # the resource's name is allowlisted
    assert auth(found["POST /carts"]) == ["auth_mw (middleware, HTTPUnauthorized) [middleware]"]


def test_library_decorators_and_guards_name_their_permissions() -> None:
    found = routes({
        "views.py": """
            from aiohttp import web
            from aiohttp_security import check_permission, has_permission, login_required
            import aiohttp_jwt

            routes = web.RouteTableDef()

            @routes.post("/refunds")
            @has_permission("billing:refund")
            async def refund(request): ...

            @routes.put("/settings")
            @login_required
            async def settings(request): ...

            @routes.delete("/users/{user_id}")
            async def delete_user(request):
                await check_permission(request, permission="users:delete")

            @routes.post("/scopes")
            @aiohttp_jwt.check_permissions(["admin", "write"])
            async def scopes(request): ...
        """,
    })
    refund = found["POST /refunds"].auth[0]
    assert (refund.mechanism, refund.kind, refund.requirements) == ("has_permission('billing:refund')", "authorization", ("billing:refund",))
    assert auth(found["PUT /settings"]) == ["login_required [handler]"]
    assert found["DELETE /users/{user_id}"].requirements == ("users:delete",)
    assert found["POST /scopes"].requirements == ("admin", "write")


def test_jwt_middleware_protects_all_but_its_whitelist_unless_credentials_are_optional() -> None:
    found = routes({
        "main.py": """
            import os
            from aiohttp import web
            from aiohttp_jwt import JWTMiddleware

            async def handler(request): ...

            WHITELIST = [r"/public/.*", r"/login$"]
            app = web.Application(middlewares=[JWTMiddleware(os.environ["KEY"], whitelist=WHITELIST)])
            app.router.add_post("/public/upload", handler)
            app.router.add_post("/orders", handler)
            loose = web.Application(middlewares=[JWTMiddleware(os.environ["KEY"], credentials_required=False)])
            loose.router.add_post("/carts", handler)
        """,
    })
    assert found["POST /public/upload"].auth == ()
    assert auth(found["POST /orders"]) == ["JWTMiddleware (middleware) [middleware]"]
    assert found["POST /carts"].auth == ()


def test_a_handler_that_reads_the_session_counts_only_when_it_turns_callers_away() -> None:
    found = routes({
        "views.py": """
            from aiohttp import web
            from aiohttp_session import get_session

            async def guarded(request):
                session = await get_session(request)
                if "user_id" not in session:
                    raise web.HTTPFound("/login")

            async def open_(request):
                session = await get_session(request)
                return web.json_response({"user": session.get("user_id")})

            app = web.Application()
            app.router.add_post("/a", guarded)
            app.router.add_post("/b", open_)
        """,
    })
    assert auth(found["POST /a"]) == ["guarded (checks credentials, redirect to login) [handler]"]
    assert found["POST /b"].auth == ()


def test_starlette_apps_and_their_add_route_are_not_aiohttp() -> None:
    files = {
        "main.py": """
            from starlette.applications import Starlette

            async def create(request): ...

            def setup(app):
                app.add_route("/items", create, methods=["POST"])

            app = Starlette()
            app.add_route("/orders", create, methods=["POST"])
            setup(app)
        """,
    }
    assert routes(files) == {}
    starlette = Starlette().routes(project_of(files), LinkSettings())
    assert [r.label for r in starlette] == ["POST /orders"]


def test_the_auth_check_facts_know_aiohttp_guards_redirects_and_asgi_scope_paths() -> None:
    facts = file_facts("mw.py", """
        from aiohttp import web
        from aiohttp_security import check_permission

        async def handler(request):
            await check_permission(request, "edit")

        async def asgi(scope, receive, send):
            if scope["path"] in ("/health", "/ping") or scope["path"].startswith("/static"):
                return
            raise web.HTTPSeeOther(location="/auth/login")
    """)
    body = facts.functions["handler"].body
    assert body[auth_checks.GUARDS] == ["check_permission('edit')"]
    assert auth_checks.checks_caller(facts.functions["handler"])
    asgi = facts.functions["asgi"].body
    assert asgi[auth_checks.ALLOWLIST] == ["/health", "/ping", "/static*"]
    assert asgi[auth_checks.DENIES] == ["redirect to login"]


def test_plain_function_call_statements_that_hand_over_a_name_are_facts() -> None:
    facts = file_facts("main.py", """
        from aiohttp import web

        def create_app():
            app = make()
            setup_routes(app)
            print("no name handed over")
    """)
    assert [(site.scope, site.line) for site in facts.function_calls] == [("create_app", 6)]

"""The Starlette adapter: Route/Mount trees across modules, @requires, and which middleware is evidence."""

from __future__ import annotations

from authlint.frameworks.base import LinkSettings
from authlint.frameworks.starlette import Starlette
from authlint.model import Route
from authlint.testing import auth_labels, routes_by_label


def routes(files: dict[str, str], settings: LinkSettings | None = None) -> dict[str, Route]:
    return routes_by_label(Starlette(), files, settings)


auth = auth_labels


TOKEN_MIDDLEWARE = """
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.responses import JSONResponse

    class TokenAuth(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            if request.url.path in ("/health", "/"):
                return await call_next(request)
            if "authorization" not in request.headers:
                return JSONResponse({}, status_code=401)
            return await call_next(request)
"""


def test_authentication_middleware_alone_is_no_evidence_but_requires_is() -> None:
    found = routes({
        "app.py": """
            from starlette.applications import Starlette
            from starlette.authentication import requires
            from starlette.middleware import Middleware
            from starlette.middleware.authentication import AuthenticationMiddleware
            from starlette.routing import Route

            from backends import Backend

            async def create(request): ...

            @requires("authenticated")
            async def update(request): ...

            @requires(["authenticated", "admin", "users:write"], status_code=404)
            async def purge(request): ...

            app = Starlette(
                routes=[
                    Route("/items", create, methods=["POST"]),
                    Route("/items", update, methods=["PUT", "PATCH"]),
                    Route("/items", purge, methods=["DELETE"]),
                ],
                middleware=[Middleware(AuthenticationMiddleware, backend=Backend())],
            )
        """,
    })
    assert found["POST /items"].auth == ()
    assert auth(found["PUT,PATCH /items"]) == ["requires('authenticated') [handler]"]
    purge = found["DELETE /items"].auth[0]
    assert (purge.kind, purge.requirements) == ("authorization", ("admin", "users:write"))


def test_routes_lists_mounts_and_routers_across_modules_with_middleware_per_level() -> None:
    found = routes({
        "proj/auth.py": TOKEN_MIDDLEWARE,
        "proj/endpoints.py": """
            from starlette.endpoints import HTTPEndpoint

            async def health(request): ...
            async def home(request): ...
            async def orders(request): ...

            class Users(HTTPEndpoint):
                async def get(self, request): ...
                async def delete(self, request): ...
        """,
        "proj/routes.py": """
            from starlette.middleware import Middleware
            from starlette.routing import Mount, Route, Router

            from .auth import TokenAuth
            from .endpoints import Users, health, home, orders

            users_route = Route("/users/{user_id}", Users, methods=["DELETE"])
            v2 = Router([Route("/orders", orders, methods=["POST"])])
            routes = [
                Route("/health", health),
                Mount("/api", routes=[users_route, Route("/", home), Route("/health", health)], middleware=[Middleware(TokenAuth)]),
                Mount("/v2", app=v2),
            ]
        """,
        "proj/main.py": """
            from starlette.applications import Starlette
            from .routes import routes

            app = Starlette(routes=routes)
        """,
    })
    assert sorted(found) == ["DELETE /api/users/{user_id}", "GET /api/", "GET /api/health", "GET /health", "POST /v2/orders"]
    assert found["GET /health"].auth == ()
    # The middleware's allowlist is written for paths as the mount sees them: /api/ and /api/health pass.
    assert found["GET /api/"].auth == () and found["GET /api/health"].auth == ()
    assert auth(found["DELETE /api/users/{user_id}"]) == ["TokenAuth (middleware, JSONResponse(401)) [middleware]"]
    assert found["DELETE /api/users/{user_id}"].handler == "proj.endpoints.Users.delete"
    assert found["POST /v2/orders"].auth == ()


def test_a_mounted_app_is_not_listed_again_at_the_root_and_gets_the_parent_middleware() -> None:
    found = routes({
        "auth.py": TOKEN_MIDDLEWARE,
        "main.py": """
            from starlette.applications import Starlette
            from starlette.middleware import Middleware
            from starlette.routing import Mount, Route
            from auth import TokenAuth

            async def report(request): ...

            def create_admin():
                admin = Starlette(routes=[Route("/reports", report, methods=["POST"])])
                return admin

            app = Starlette(routes=[Mount("/admin", app=create_admin())])
            app.add_middleware(TokenAuth)
        """,
    })
    assert list(found) == ["POST /admin/reports"]
    assert auth(found["POST /admin/reports"]) == ["TokenAuth (middleware, JSONResponse(401)) [middleware]"]


def test_fastapi_apps_are_left_to_the_fastapi_adapter() -> None:
    found = routes({
        "main.py": """
            from fastapi import FastAPI
            from starlette.applications import Starlette
            from starlette.routing import Route

            async def legacy(request): ...

            class Api(FastAPI):
                pass

            api = FastAPI(routes=[Route("/from-fastapi", legacy, methods=["POST"])])
            sub = Api(routes=[Route("/from-subclass", legacy, methods=["POST"])])
            old = Starlette(routes=[Route("/old", legacy, methods=["POST"])])
            api.mount("/legacy", old)
        """,
    })
    # The Starlette app mounted on the FastAPI app keeps the mount prefix, once.
    assert list(found) == ["POST /legacy/old"]


def test_pure_asgi_middleware_and_paths_handed_to_a_middleware_are_allowlists() -> None:
    found = routes({
        "main.py": """
            from starlette.applications import Starlette
            from starlette.datastructures import Headers
            from starlette.middleware import Middleware
            from starlette.responses import PlainTextResponse
            from starlette.routing import Route

            class ApiKey:
                def __init__(self, app, public=()):
                    self.app, self.public = app, public

                async def __call__(self, scope, receive, send):
                    if scope["path"].startswith("/static") or scope["path"] in self.public:
                        return await self.app(scope, receive, send)
                    if Headers(scope=scope).get("x-api-key") is None:
                        return await PlainTextResponse("forbidden", status_code=403)(scope, receive, send)
                    return await self.app(scope, receive, send)

            async def endpoint(request): ...

            app = Starlette(
                routes=[
                    Route("/static/upload", endpoint, methods=["POST"]),
                    Route("/hooks", endpoint, methods=["POST"]),
                    Route("/jobs", endpoint, methods=["POST"]),
                ],
                middleware=[Middleware(ApiKey, public=["/hooks"])],
            )
        """,
    })
    assert found["POST /static/upload"].auth == ()
    assert found["POST /hooks"].auth == ()
    assert auth(found["POST /jobs"]) == ["ApiKey (middleware, PlainTextResponse(403)) [middleware]"]


def test_decorator_routes_websockets_and_custom_decorators() -> None:
    found = routes({
        "main.py": """
            from starlette.applications import Starlette
            from starlette.authentication import requires
            from starlette.exceptions import HTTPException

            def api_key_required(func):
                async def wrapper(request):
                    if request.headers.get("X-API-Key") is None:
                        raise HTTPException(status_code=401)
                    return await func(request)
                return wrapper

            app = Starlette()

            @app.route("/keys", methods=["POST"])
            @api_key_required
            async def create_key(request): ...

            @app.websocket_route("/ws")
            @requires("authenticated")
            async def stream(websocket): ...

            async def open_socket(websocket): ...

            app.add_websocket_route("/ws/open", open_socket)
        """,
    })
    assert auth(found["POST /keys"]) == ["api_key_required (checks credentials, HTTPException(401)) [handler]"]
    assert auth(found["WEBSOCKET /ws"]) == ["requires('authenticated') [handler]"]
    assert found["WEBSOCKET /ws/open"].auth == ()

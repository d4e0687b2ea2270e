"""The Flask adapter: blueprints and their prefixes, hooks with allowlists, decorators and view classes."""

from __future__ import annotations

import pytest

from authlint.facts import auth_checks
from authlint.frameworks.base import LinkSettings
from authlint.frameworks.flask import Flask
from authlint.model import Route
from authlint.testing import auth_labels, file_facts, routes_by_label


def routes(files: dict[str, str], settings: LinkSettings | None = None) -> dict[str, Route]:
    return routes_by_label(Flask(), files, settings)


auth = auth_labels


def test_app_factory_with_function_local_imports_mounts_blueprints_with_their_prefixes() -> None:
    found = routes({
        "app/__init__.py": """
            from flask import Flask

            def create_app():
                app = Flask(__name__)
                from .views import users
                from .views.admin import admin, api
                app.register_blueprint(users.bp, url_prefix="/people")
                api.register_blueprint(admin, url_prefix="/admin")
                app.register_blueprint(api)

                @app.route("/health")
                def health():
                    return "ok"

                return app
        """,
        "app/views/__init__.py": "",
        "app/views/users.py": """
            from flask import Blueprint
            bp = Blueprint("users", __name__, url_prefix="/users")

            @bp.route("/", methods=["GET", "POST"])
            def index():
                return []
        """,
        "app/views/admin.py": """
            from flask import Blueprint
            api = Blueprint("api", __name__, url_prefix="/api/v1")
            admin = Blueprint("admin", __name__, url_prefix="/ignored-when-mounted-with-a-prefix")

            @admin.delete("/users/<int:user_id>")
            def delete_user(user_id):
                return {}
        """,
    })  # fmt: skip
    assert sorted(found) == ["DELETE /api/v1/admin/users/<int:user_id>", "GET /health", "GET,POST /people/"]
    route = found["DELETE /api/v1/admin/users/<int:user_id>"]
    assert route.handler == "app.views.admin.delete_user"
    assert (route.location.path, route.location.line) == ("app/views/admin.py", 7)
    assert route.path_params == ("user_id",)
    assert found["GET /health"].handler == "app.create_app.health"
    # Where auth could have been declared: the app, both mounts and both blueprints.
    assert [level.line for level in route.levels] == [5, 10, 3, 9, 4]


def test_only_decorators_below_the_route_decorator_protect_the_view() -> None:
    found = routes({
        "app.py": """
            from flask import Flask
            from flask_login import login_required
            app = Flask(__name__)

            @login_required
            @app.post("/above")
            def above():
                return {}

            @app.post("/below")
            @login_required
            def below():
                return {}
        """
    })  # fmt: skip
    assert found["POST /above"].auth == ()
    assert auth(found["POST /below"]) == ["login_required [handler]"]


@pytest.mark.parametrize(
    ("decorator", "kind", "requirements"),
    [
        ("@jwt_required()", "authentication", ()),
        ("@jwt_required(fresh=True)", "authentication", ()),
        ("@jwt_required", "authentication", ()),
        ("@fresh_jwt_required", "authentication", ()),
        ("@jwt_required(optional=True)", None, ()),
        ("@jwt_optional", None, ()),
        ("@basic.login_required", "authentication", ()),
        ("@basic.login_required(optional=True)", None, ()),
        ('@basic.login_required(role="admin")', "authorization", ("admin",)),
        ('@basic.login_required(role=["admin", "staff"])', "authorization", ("admin", "staff")),
        ("@admin_permission.require(http_exception=403)", "authorization", ("admin",)),
        ('@Permission(RoleNeed("auditor")).require()', "authorization", ("auditor",)),
        ("@Permission().require()", None, ()),
        ('@roles_accepted("admin", "owner")', "authorization", ("admin", "owner")),
        ("@admin_only", "authorization", ("admin",)),
        ('@auth_required("token")', "authentication", ()),
        ("@fresh_login_required", "authentication", ()),
        ('@require_oauth("profile")', "authorization", ("profile",)),
        ("@require_oauth()", "authentication", ()),
        ("@requires_auth", "authentication", ()),  # outside the scan, taken by its name
        ("@cache.cached(timeout=60)", None, ()),
    ],
)
def test_library_decorators(decorator: str, kind: str | None, requirements: tuple[str, ...]) -> None:
    source = f"""
        from authlib.integrations.flask_oauth2 import ResourceProtector
        from flask import Flask
        from flask_caching import Cache
        from flask_httpauth import HTTPBasicAuth
        from flask_jwt_extended import fresh_jwt_required, jwt_optional, jwt_required
        from flask_login import fresh_login_required
        from flask_principal import Permission, RoleNeed
        from flask_security import auth_required, roles_accepted, roles_required
        from sso_client import requires_auth

        app = Flask(__name__)
        basic = HTTPBasicAuth()
        cache = Cache()
        admin_permission = Permission(RoleNeed("admin"))
        admin_only = roles_required("admin")
        require_oauth = ResourceProtector()

        @app.post("/things")
        {decorator}
        def create():
            return {{}}
    """
    [route] = routes({"app.py": source}).values()
    if kind is None:
        assert route.auth == ()
        return
    [evidence] = route.auth
    assert (evidence.kind, evidence.requirements, evidence.level) == (kind, requirements, "handler")
    assert evidence.mechanism.startswith(decorator[1:].split("(")[0])


def test_custom_decorators_count_when_their_body_checks_the_caller_or_they_are_configured() -> None:
    source = """
        from functools import wraps
        from flask import Flask, abort, request
        from flask_login import current_user

        app = Flask(__name__)

        def token_required(view):
            @wraps(view)
            def wrapper(*args, **kwargs):
                if not request.headers.get("Authorization"):
                    abort(401)
                return view(*args, **kwargs)
            return wrapper

        def role_required(role):
            def decorator(view):
                def wrapper(*args, **kwargs):
                    if current_user.role != role:
                        abort(403)
                    return view(*args, **kwargs)
                return wrapper
            return decorator

        def timed(view):
            return view

        @app.post("/a")
        @token_required
        def a():
            return {}

        @app.post("/b")
        @role_required("editor")
        def b():
            return {}

        @app.post("/c")
        @timed
        def c():
            return {}
    """
    found = routes({"app.py": source})
    assert auth(found["POST /a"]) == ["token_required (checks credentials, abort(401)) [handler]"]
    [role] = found["POST /b"].auth
    assert (role.kind, role.requirements) == ("authorization", ("editor",))
    assert found["POST /c"].auth == ()
    configured = routes({"app.py": source}, LinkSettings(auth_decorators=("timed",)))
    assert auth(configured["POST /c"]) == ["app.timed (configured auth decorator) [handler]"]


def test_a_view_that_checks_the_caller_in_its_body_is_authenticated() -> None:
    found = routes({
        "app.py": """
            from flask import Flask, abort, session
            from flask_jwt_extended import verify_jwt_in_request
            app = Flask(__name__)

            @app.post("/session")
            def with_session():
                if "user_id" not in session:
                    abort(401)
                return {}

            @app.post("/jwt")
            def with_jwt():
                verify_jwt_in_request()
                return {}

            @app.post("/optional")
            def optional():
                verify_jwt_in_request(optional=True)
                return {}
        """
    })  # fmt: skip
    assert auth(found["POST /session"]) == ["with_session (checks credentials, abort(401)) [handler]"]
    assert auth(found["POST /jwt"]) == ["verify_jwt_in_request() [handler]"]
    assert found["POST /optional"].auth == ()


HOOKS_APP = {
    "app/__init__.py": """
        from flask import Flask
        from .auth import require_login
        from .views import bp, public

        app = Flask(__name__)
        app.before_request(require_login)
        app.register_blueprint(bp, url_prefix="/api")
        app.register_blueprint(public)

        @app.get("/health")
        def health():
            return "ok"

        @app.post("/login")
        def login():
            return {}
    """,
    "app/auth.py": """
        from flask import abort, request
        from flask_login import current_user

        OPEN = frozenset({"login", "health", "api.webhook"})

        def require_login():
            if request.endpoint in OPEN or request.path.startswith("/static/"):
                return None
            if request.blueprint == "public":
                return
            if not current_user.is_authenticated:
                abort(401)
    """,
    "app/views.py": """
        from flask import Blueprint, abort, request
        from flask_login import current_user

        bp = Blueprint("api", __name__)
        public = Blueprint("public", __name__, url_prefix="/pub")

        @bp.before_request
        def admins_only_under_admin():
            if request.path.startswith("/api/admin") and not current_user.is_admin:
                abort(403)

        @bp.post("/orders")
        def orders():
            return {}

        @bp.post("/webhook")
        def webhook():
            return {}

        @bp.post("/admin/reindex")
        def reindex():
            return {}

        @public.get("/terms")
        def terms():
            return ""

        @bp.get("/static/logo.png")
        def logo():
            return ""
    """,
}


def test_a_before_request_hook_protects_everything_below_it_but_its_allowlist() -> None:
    found = routes(HOOKS_APP)
    app_hook = "require_login (before_request, abort(401)) [app]"
    assert auth(found["POST /api/orders"]) == [app_hook]
    # Let through by endpoint name (`bp_name.func_name`, or the function's name on the app),
    # by path prefix and by blueprint name.
    for let_through in ("POST /api/webhook", "GET /health", "POST /login", "GET /pub/terms"):
        assert found[let_through].auth == (), let_through
    # The allowlist is matched against the full path: /api/static/... is not /static/...
    assert auth(found["GET /api/static/logo.png"]) == [app_hook]
    # A hook that compares the path to decide *whether to check* is limited to those paths.
    admin = "admins_only_under_admin (before_request, abort(403), role check) [blueprint]"
    assert auth(found["POST /api/admin/reindex"]) == [admin, app_hook]
    assert found["POST /api/admin/reindex"].auth[0].kind == "authorization"


def test_allowlist_and_scope_facts_follow_the_branch() -> None:
    facts = file_facts("hooks.py", """
        from flask import abort, request
        from flask_login import current_user
        PUBLIC = ("/health", "/login")

        def skip_public():
            if request.path in PUBLIC: return
            if not current_user.is_authenticated:
                abort(401)

        def check_unless_public():
            if request.endpoint not in PUBLIC and not current_user.is_authenticated:
                abort(401)

        def only_admin():
            if request.path.startswith("/admin") and not current_user.is_admin:
                abort(403)

        def only_api():
            if not request.path.startswith("/api"):
                return None
            if not current_user.is_authenticated:
                abort(401)
    """)  # fmt: skip
    body = {name: f.body for name, f in facts.functions.items()}
    assert body["skip_public"][auth_checks.ALLOWLIST] == ["/health", "/login"]
    assert body["check_unless_public"][auth_checks.ALLOWLIST] == ["/health", "/login"]
    assert body["only_admin"][auth_checks.SCOPE] == ["/admin*"]
    assert auth_checks.ALLOWLIST not in body["only_admin"]
    assert body["only_api"][auth_checks.SCOPE] == ["/api*"]


def test_before_app_request_on_a_blueprint_guards_the_whole_app_and_decorated_hooks_count() -> None:
    found = routes({
        "app.py": """
            from flask import Blueprint, Flask, g, session
            from flask_login import login_required

            app = Flask(__name__)
            auth = Blueprint("auth", __name__)
            orders = Blueprint("orders", __name__, url_prefix="/orders")
            reports = Blueprint("reports", __name__, url_prefix="/reports")

            @auth.before_app_request
            def load_user():
                g.user = session.get("user")  # no check: not auth

            @reports.before_request
            @login_required
            def reports_need_login():
                pass

            @orders.post("/")
            def create_order():
                return {}

            @reports.post("/")
            def create_report():
                return {}

            app.register_blueprint(auth)
            app.register_blueprint(orders)
            app.register_blueprint(reports)
        """,
    })  # fmt: skip
    assert found["POST /orders/"].auth == ()
    assert auth(found["POST /reports/"]) == ["reports_need_login (before_request, login_required) [blueprint]"]

    guarded = routes({
        "app.py": """
            from flask import Blueprint, Flask, abort, session
            app = Flask(__name__)
            auth = Blueprint("auth", __name__)
            orders = Blueprint("orders", __name__, url_prefix="/orders")

            @auth.before_app_request
            def require_user():
                if "user" not in session:
                    abort(401)

            @orders.post("/")
            def create_order():
                return {}

            app.register_blueprint(auth)
            app.register_blueprint(orders)
        """,
    })  # fmt: skip
    assert auth(guarded["POST /orders/"]) == ["require_user (before_app_request, abort(401)) [app]"]


def test_a_blueprint_mounted_in_a_loop_is_taken_as_mounted_on_that_app() -> None:
    found = routes({
        "app/__init__.py": """
            from flask import Flask, abort, session
            from .views import BLUEPRINTS

            def create_app():
                app = Flask(__name__)
                for blueprint in BLUEPRINTS:
                    app.register_blueprint(blueprint)

                @app.before_request
                def require_user():
                    if "user" not in session:
                        abort(401)

                return app
        """,
        "app/views.py": """
            from flask import Blueprint
            bp = Blueprint("orders", __name__, url_prefix="/orders")
            BLUEPRINTS = [bp]

            @bp.post("/")
            def create_order():
                return {}
        """,
        "tools/admin.py": """
            from flask import Blueprint
            bp = Blueprint("tools", __name__, url_prefix="/tools")

            @bp.post("/run")
            def run():
                return {}
        """,
    })  # fmt: skip
    assert auth(found["POST /orders/"]) == ["require_user (before_request, abort(401)) [app]"]
    # Another package's blueprint is not assumed to be among them.
    assert found["POST /tools/run"].auth == ()


def test_class_based_views_route_at_the_class_with_class_and_method_decorators() -> None:
    found = routes({
        "app.py": """
            from flask import Flask
            from flask.views import MethodView, View
            from flask_jwt_extended import jwt_required
            from flask_login import login_required
            from flask_security import roles_required

            app = Flask(__name__)

            class Base(MethodView):
                decorators = [login_required]

            class UserAPI(Base):
                def get(self, user_id):
                    return {}

                def put(self, user_id):
                    return {}

                @roles_required("admin")
                def delete(self, user_id):
                    return {}

            class Export(View):
                methods = ["POST"]

                def dispatch_request(self):
                    return {}

            class Tags(MethodView):
                @jwt_required()
                def get(self):
                    return []

                def post(self):
                    return {}

            def export():
                return {}

            user_view = UserAPI.as_view("user")
            app.add_url_rule("/users/<int:user_id>", view_func=user_view, methods=["GET", "PUT", "DELETE", "PATCH"])
            app.add_url_rule("/export", view_func=Export.as_view("export"))
            app.add_url_rule("/tags", view_func=Tags.as_view("tags"))
            app.add_url_rule("/export-all", "export_all", login_required(export), methods=["POST"])
        """,
    })  # fmt: skip
    assert sorted(found) == [
        "DELETE /users/<int:user_id>", "GET /tags", "GET,PUT /users/<int:user_id>", "POST /export",
        "POST /export-all", "POST /tags",
    ]  # fmt: skip
    users = found["GET,PUT /users/<int:user_id>"]
    assert (users.handler, users.location.line) == ("app.UserAPI", 13)
    assert auth(users) == ["login_required [class]"]
    assert auth(found["DELETE /users/<int:user_id>"]) == ["login_required [class]", "roles_required('admin') [handler]"]
    assert found["POST /export"].auth == ()
    assert found["POST /tags"].auth == ()
    assert auth(found["GET /tags"]) == ["jwt_required() [handler]"]
    assert auth(found["POST /export-all"]) == ["login_required [handler]"]
    assert found["POST /export-all"].handler == "app.export"


def test_views_on_an_app_imported_from_the_project_and_no_routes_without_flask() -> None:
    found = routes({
        "site/__init__.py": "from flask import Flask\napp = Flask(__name__)\n",
        "site/views.py": """
            from site import app

            @app.route("/about", methods=("GET", "POST"))
            def about():
                return ""
        """,
    })
    assert list(found) == ["GET,POST /about"]
    assert routes({"other.py": "@app.route('/x')\ndef x():\n    pass\n"}) == {}


def test_the_gate_matches_flask_imports_and_route_registrations() -> None:
    assert "flask" in Flask.modules and "flask_login" in Flask.modules
    assert Flask.text is not None
    assert Flask.text.search("@app.route('/x')") and Flask.text.search("app.register_blueprint(bp)")
    assert not Flask.text.search("router = make_router()")

"""The Django / DRF adapter: URLconf trees, views, permission levels and settings, and AL306."""

from __future__ import annotations

from textwrap import dedent

from authlint.rules.permissive_default_permissions import PermissiveDefaultPermissions

from authlint.config import Config, link_settings
from authlint.engine import imported_modules
from authlint.facts import auth_checks
from authlint.facts.expr import Attr, Name, Seq
from authlint.frameworks import LinkSettings, build_routes, wants_facts
from authlint.frameworks.django import is_permissive, object_checks
from authlint.link import ProjectRuleSetting, link
from authlint.model import Route, Severity
from authlint.project import Project
from authlint.testing import file_facts


def routes_of(files: dict[str, str], settings: LinkSettings | None = None) -> list[Route]:
    project = Project(file_facts(path, source) for path, source in files.items())
    errors: list = []
    routes = build_routes(project, settings or link_settings(Config()), errors)
    assert not errors, errors
    return [r for r in routes if r.framework == "django"]


def table(routes: list[Route]) -> dict[tuple[str, str], str]:
    """(methods, path) -> auth summary, as the inventory prints it."""
    return {
        (",".join(r.methods), r.path): "; ".join(f"{e.mechanism} [{e.level}]" for e in r.effective_auth) or "none"
        for r in routes
    }


def al306(files: dict[str, str]) -> list[tuple[str, int, str]]:
    facts = [file_facts(path, source) for path, source in files.items()]
    rule = ProjectRuleSetting(PermissiveDefaultPermissions, PermissiveDefaultPermissions.Options(), Severity.MEDIUM)
    result = link(facts, link_settings(Config()), [rule])
    assert not result.errors, result.errors
    return [(f.path, f.span.line, f.message) for f in result.findings]


VIEWS_IMPORTS = """\
from django.urls import include, path, re_path
from rest_framework import mixins, permissions, routers, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.views import APIView
"""


def drf(body: str) -> str:
    return VIEWS_IMPORTS + dedent(body)


# Facts the adapter relies on ----------------------------------------------------------


def test_sums_and_augmented_lists_keep_their_operands() -> None:
    facts = file_facts(
        "urls.py",
        """
        urlpatterns = [path("a/", a)] + router.urls
        extra = [1]
        extra += other.items
        extra += [2]
        count = 1
        count -= 1
        class View:
            permission_classes = [AllowAny]
        """,
    )
    assert [type(o).__name__ for o in facts.operands["urlpatterns"]] == ["Seq", "Attr"]
    assert facts.operands["urlpatterns"][1] == Attr(Name("router"), "urls")
    assert facts.operands["extra"][0] == Seq((facts.operands["extra"][0].items[0],))
    assert len(facts.operands["extra"]) == 3
    assert "count" not in facts.operands
    assert facts.assignment_sources["View.permission_classes"] == "    permission_classes = [AllowAny]"
    assert facts.assignment_sources["urlpatterns"].startswith("urlpatterns = [")


def test_a_view_body_tells_which_methods_it_handles() -> None:
    facts = file_facts(
        "views.py",
        """
        from django.http import HttpResponse
        def edit(request):
            if request.method in ("POST", "put"):
                pass
            return HttpResponse()
        def upload(request):
            return HttpResponse(request.FILES["f"])
        def show(request):
            return HttpResponse(method == "DELETE")
        """,
    )
    assert sorted(facts.functions["edit"].body[auth_checks.METHODS]) == ["POST", "PUT"]
    assert facts.functions["upload"].body[auth_checks.METHODS] == ["POST"]
    assert auth_checks.METHODS not in facts.functions["show"].body


def test_settings_and_urlconfs_matter_even_without_django_imports() -> None:
    for text in ("REST_FRAMEWORK = {}\n", "urlpatterns = []\n", "MIDDLEWARE = []\n", "INSTALLED_APPS = []\n"):
        assert wants_facts(imported_modules(text), text), text
    assert not wants_facts(frozenset(), "ANSWER = 42\n")


# URLconfs ------------------------------------------------------------------------------


def test_includes_nest_prefixes_across_modules_and_routers_join_them() -> None:
    routes = routes_of({
        "config/urls.py": """
            from django.urls import include, path, re_path
            from shop import urls as shop_urls
            from . import views
            urlpatterns = [
                path("api/", include("api.urls")),
                re_path(r"^shop/", include(shop_urls)),
                path("v2/", include(([path("ping/", views.ping)], "v2"))),
            ]
            """,
        "config/views.py": "from django.http import HttpResponse\ndef ping(request): return HttpResponse()\n",
        "api/urls.py": drf("""
            from .views import ItemViewSet
            router = routers.SimpleRouter(trailing_slash=False)
            router.register(r"items", ItemViewSet)
            urlpatterns = [path("", include(router.urls))]
            """),
        "api/views.py": drf("""
            class ItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
                lookup_field = "slug"
                @action(detail=False, methods=["post"], url_path="bulk-import")
                def bulk_import(self, request): ...
                @action(detail=True)
                def history(self, request, slug=None): ...
            """),
        "shop/urls.py": drf("""
            from . import views
            router = routers.DefaultRouter()
            router.register("orders", views.OrderViewSet)
            urlpatterns = [path("cart/", views.cart)]
            urlpatterns += router.urls
            urlpatterns.append(re_path(r"^checkout/(?P<step>\\w+)/$", views.checkout))
            """),
        "shop/views.py": drf("""
            from django.views.decorators.http import require_POST
            class OrderViewSet(viewsets.ModelViewSet):
                def destroy(self, request, pk=None): ...
            def cart(request): ...
            @require_POST
            def checkout(request, step): ...
            """),
    })  # fmt: skip
    found = {(",".join(r.methods), r.path, r.handler) for r in routes}
    assert found == {
        ("GET", "/api/items", "api.views.ItemViewSet"),
        ("GET", "/api/items/{slug}", "api.views.ItemViewSet"),
        ("POST", "/api/items/bulk-import", "api.views.ItemViewSet.bulk_import"),
        ("GET", "/api/items/{slug}/history", "api.views.ItemViewSet.history"),
        ("GET", "/shop/cart/", "shop.views.cart"),
        ("POST", "/shop/checkout/(?P<step>\\w+)/", "shop.views.checkout"),
        ("GET,POST", "/shop/orders/", "shop.views.OrderViewSet"),
        ("GET,PUT,PATCH", "/shop/orders/{pk}/", "shop.views.OrderViewSet"),
        ("DELETE", "/shop/orders/{pk}/", "shop.views.OrderViewSet.destroy"),
        ("GET", "/v2/ping/", "config.views.ping"),
    }


def test_class_views_route_their_methods_and_generic_ones() -> None:
    routes = routes_of({
        "urls.py": drf("""
            from django.views.generic import UpdateView, View
            from rest_framework import generics
            class Plain(View):
                def get(self, request): ...
                def delete(self, request): ...
            class Edit(UpdateView): ...
            class Items(generics.ListCreateAPIView): ...
            class Mapped(viewsets.ViewSet):
                def list(self, request): ...
            class Unmapped(viewsets.ViewSet):
                def list(self, request): ...
            urlpatterns = [
                path("plain/", Plain.as_view()),
                path("edit/<int:pk>/", Edit.as_view()),
                path("items/", Items.as_view()),
                path("mapped/", Mapped.as_view({"get": "list"})),
                path("unmapped/", Unmapped.as_view()),
            ]
            """),
    })  # fmt: skip
    found = {(",".join(r.methods), r.path, r.handler) for r in routes}
    assert found == {
        ("GET", "/plain/", "urls.Plain.get"),
        ("DELETE", "/plain/", "urls.Plain.delete"),
        ("GET,POST", "/edit/<int:pk>/", "urls.Edit"),
        ("GET,POST", "/items/", "urls.Items"),
        ("GET", "/mapped/", "urls.Mapped.list"),
    }


# Auth levels ---------------------------------------------------------------------------


def test_read_only_permissions_make_reads_public_and_writes_authenticated() -> None:
    routes = routes_of({
        "urls.py": drf("""
            class Books(viewsets.ModelViewSet):
                permission_classes = [permissions.IsAuthenticatedOrReadOnly]
            router = routers.DefaultRouter()
            router.register("books", Books)
            urlpatterns = router.urls
            """),
    })  # fmt: skip
    auth = table(routes)
    assert auth[("GET", "/books/")] == "IsAuthenticatedOrReadOnly (reads are public) [class]"
    assert auth[("POST", "/books/")] == "IsAuthenticatedOrReadOnly [class]"
    assert auth[("PUT,PATCH,DELETE", "/books/{pk}/")] == "IsAuthenticatedOrReadOnly [class]"
    reads = next(r for r in routes if r.path == "/books/" and r.methods == ("GET",))
    assert not reads.authenticated and not is_permissive(reads.effective_auth[0])


def test_an_object_only_permission_guards_detail_routes_and_names_the_check() -> None:
    routes = routes_of({
        "urls.py": drf("""
            class IsOwner(permissions.BasePermission):
                def has_object_permission(self, request, view, obj):
                    return obj.owner == request.user
            class Notes(viewsets.ModelViewSet):
                permission_classes = [IsOwner]
            router = routers.SimpleRouter()
            router.register("notes", Notes)
            urlpatterns = router.urls
            """),
    })  # fmt: skip
    collection = next(r for r in routes if r.path == "/notes/")
    detail = next(r for r in routes if r.path == "/notes/{pk}/")
    assert collection.effective_auth == () and object_checks(collection) == ()
    assert detail.authenticated and object_checks(detail) == ("IsOwner.has_object_permission",)
    assert detail.effective_auth[0].kind == "authorization"


def test_custom_permissions_inherited_attributes_and_get_permissions() -> None:
    routes = routes_of({
        "urls.py": drf("""
            class IsManager(permissions.BasePermission):
                def has_permission(self, request, view):
                    return request.user.is_staff
            class StrictUser(permissions.IsAuthenticated):
                pass
            class Base(APIView):
                permission_classes = [StrictUser]
            class Reports(Base):
                def get(self, request): ...
            class Managers(APIView):
                permission_classes = (IsManager,)
                def post(self, request): ...
            class Dynamic(APIView):
                def get_permissions(self):
                    return []
                def delete(self, request): ...
            urlpatterns = [
                path("reports/", Reports.as_view()),
                path("managers/", Managers.as_view()),
                path("dynamic/", Dynamic.as_view()),
                path("open/", Managers.as_view(permission_classes=[])),
            ]
            """),
    })  # fmt: skip
    auth = table(routes)
    assert auth[("GET", "/reports/")] == "StrictUser (a IsAuthenticated) (from Base) [class]"
    assert auth[("POST", "/managers/")] == "IsManager [class]"
    assert auth[("DELETE", "/dynamic/")] == "Dynamic.get_permissions() (decided per request) [class]"
    assert auth[("POST", "/open/")] == "as_view(permission_classes=[]) [class]"
    managers = next(r for r in routes if r.path == "/managers/")
    assert managers.requirements == ("IsManager",)


def test_drf_settings_apply_to_drf_views_only() -> None:
    routes = routes_of({
        "config/settings.py": """
            ROOT_URLCONF = "config.urls"
            REST_FRAMEWORK = {"DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"]}
            """,
        "config/urls.py": drf("""
            from django.http import HttpResponse
            class Api(APIView):
                def post(self, request): ...
            @api_view(["POST"])
            def api_function(request): ...
            def django_view(request):
                if request.method == "POST":
                    return HttpResponse()
            urlpatterns = [path("api/", Api.as_view()), path("fn/", api_function), path("page/", django_view)]
            """),
    })  # fmt: skip
    auth = table(routes)
    assert auth[("POST", "/api/")] == "IsAdminUser [settings]"
    assert auth[("POST", "/fn/")] == "IsAdminUser [settings]"
    assert auth[("GET,POST", "/page/")] == "none"
    api = next(r for r in routes if r.path == "/api/")
    assert api.requirements == ("is_staff",)
    assert any(level.message == "REST_FRAMEWORK" for level in api.levels)


URLS = drf("""
class Api(APIView):
    def post(self, request): ...
urlpatterns = [path("api/", Api.as_view())]
""")


def _settings(classes: str) -> str:
    return f'REST_FRAMEWORK = {{"DEFAULT_PERMISSION_CLASSES": [{classes}]}}\n'


def test_settings_are_chosen_by_root_urlconf_then_settings_module_then_production() -> None:
    authenticated = _settings('"rest_framework.permissions.IsAuthenticated"')
    allow_any = _settings('"rest_framework.permissions.AllowAny"')
    # Two settings modules that disagree, nothing to choose between them: none applies.
    assert table(routes_of({"a.py": authenticated, "b.py": allow_any, "urls.py": URLS})) == {("POST", "/api/"): "none"}
    # ROOT_URLCONF ties a settings module to its urlconf.
    claimed = {"a.py": authenticated + 'ROOT_URLCONF = "urls"\n', "b.py": allow_any, "urls.py": URLS}
    assert table(routes_of(claimed)) == {("POST", "/api/"): "IsAuthenticated [settings]"}
    # DJANGO_SETTINGS_MODULE names the one in use.
    named = {
        "settings/prod.py": authenticated, "settings/other.py": allow_any, "urls.py": URLS,
        "manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.prod")\n',
    }  # fmt: skip
    assert table(routes_of(named)) == {("POST", "/api/"): "IsAuthenticated [settings]"}
    # Development settings give way to production ones.
    dev = {"settings/base.py": authenticated, "settings/dev.py": allow_any, "urls.py": URLS}
    assert table(routes_of(dev)) == {("POST", "/api/"): "IsAuthenticated [settings]"}
    # A default written over a star import cannot be read: it does not contradict a readable one.
    spread = {
        "settings/base.py": authenticated, "settings/prod.py": "REST_FRAMEWORK = {**REST_FRAMEWORK}\n", "urls.py": URLS,
    }  # fmt: skip
    assert table(routes_of(spread)) == {("POST", "/api/"): "IsAuthenticated [settings]"}


def test_allow_any_as_the_default_is_no_evidence() -> None:
    routes = routes_of({"settings.py": _settings('"rest_framework.permissions.AllowAny"'), "urls.py": URLS})
    assert table(routes) == {("POST", "/api/"): "none"}


def test_django_decorators_mixins_and_method_decorator() -> None:
    routes = routes_of({
        "urls.py": """
            from django.contrib.auth.decorators import login_required, permission_required
            from django.contrib.auth.mixins import PermissionRequiredMixin
            from django.urls import path
            from django.utils.decorators import method_decorator
            from django.views import View
            @method_decorator(login_required, name="get")
            class Half(View):
                def get(self, request): ...
                def post(self, request): ...
            class Perm(PermissionRequiredMixin, View):
                permission_required = ("shop.view_order", "shop.change_order")
                def put(self, request): ...
            class Dispatch(View):
                @method_decorator([login_required, permission_required("shop.delete_order")])
                def dispatch(self, request, *args, **kwargs): ...
                def delete(self, request): ...
            def page(request): ...
            urlpatterns = [
                path("half/", Half.as_view()),
                path("perm/", Perm.as_view()),
                path("dispatch/", Dispatch.as_view()),
                path("wrapped/", login_required(page)),
            ]
            """,
    })  # fmt: skip
    auth = table(routes)
    assert auth[("GET", "/half/")] == "login_required [handler]"
    assert auth[("POST", "/half/")] == "none"
    assert auth[("PUT", "/perm/")] == "PermissionRequiredMixin [class]"
    assert auth[("DELETE", "/dispatch/")] == "login_required [class]; permission_required('shop.delete_order') [class]"
    assert auth[("GET", "/wrapped/")] == "login_required [handler]"
    perm = next(r for r in routes if r.path == "/perm/")
    assert perm.requirements == ("shop.view_order", "shop.change_order")


def test_login_required_middleware_and_project_middleware_with_an_allowlist() -> None:
    routes = routes_of({
        "settings.py": """
            MIDDLEWARE = [
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.auth.middleware.LoginRequiredMiddleware",
                "middleware.ApiKeyMiddleware",
            ]
            """,
        "middleware.py": """
            from django.http import HttpResponseForbidden
            class ApiKeyMiddleware:
                def __init__(self, get_response):
                    self.get_response = get_response
                def __call__(self, request):
                    if request.path in ("/hooks/",):
                        return self.get_response(request)
                    if request.headers.get("X-API-Key") != "k":
                        return HttpResponseForbidden()
                    return self.get_response(request)
            """,
        "urls.py": """
            from django.contrib.auth.decorators import login_not_required
            from django.urls import path
            def home(request): ...
            @login_not_required
            def hooks(request): ...
            urlpatterns = [path("", home), path("hooks/", hooks)]
            """,
    })  # fmt: skip
    auth = table(routes)
    assert auth[("GET", "/")] == (
        "LoginRequiredMiddleware [middleware]; ApiKeyMiddleware (middleware, HttpResponseForbidden) [middleware]"
    )
    assert auth[("GET", "/hooks/")] == "login_not_required [handler]"
    hooks = next(r for r in routes if r.path == "/hooks/")
    assert not hooks.authenticated and is_permissive(hooks.effective_auth[0])


# AL306 ---------------------------------------------------------------------------------


def test_al306_reports_settings_that_leave_drf_open() -> None:
    findings = al306({
        "settings.py": 'INSTALLED_APPS = ["rest_framework"]\nREST_FRAMEWORK = {"PAGE_SIZE": 10}\n',
        "settings_local.py": _settings('"rest_framework.permissions.AllowAny"'),
        "prod.py": _settings("'rest_framework.permissions.AllowAny', 'rest_framework.permissions.IsAuthenticated'"),
    })  # fmt: skip
    assert [(path, line) for path, line, _ in findings] == [("prod.py", 1), ("settings.py", 2)]
    assert "DEFAULT_PERMISSION_CLASSES is AllowAny" in findings[0][2]
    assert "sets no DEFAULT_PERMISSION_CLASSES" in findings[1][2]


def test_al306_reports_installed_apps_when_drf_is_used_and_never_configured() -> None:
    settings = 'import os\nINSTALLED_APPS = [\n    "django.contrib.auth",\n    "rest_framework",\n]\n'
    assert al306({"settings.py": settings}) == []  # DRF listed but never imported: no views to open
    findings = al306({"settings.py": settings, "views.py": URLS})
    assert [(path, line) for path, line, _ in findings] == [("settings.py", 2)]
    assert "no REST_FRAMEWORK setting sets DEFAULT_PERMISSION_CLASSES" in findings[0][2]


def test_al306_reports_each_permissive_declaration_once_with_the_routes_it_opens() -> None:
    findings = al306({
        "urls.py": drf("""
            class Open(viewsets.ModelViewSet):
                permission_classes = [permissions.AllowAny]
            class Login(APIView):
                permission_classes = [permissions.AllowAny]
                def post(self, request): ...
            router = routers.SimpleRouter()
            router.register("customers", Open)
            urlpatterns = [path("auth/login/", Login.as_view())] + router.urls
            """),
    })  # fmt: skip
    assert len(findings) == 1
    path, line, message = findings[0]
    assert (path, line) == ("urls.py", 7)
    assert "GET|POST /customers/, GET|PUT|PATCH|DELETE /customers/{pk}/, which are not public routes" in message

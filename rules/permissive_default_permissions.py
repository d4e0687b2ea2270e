from __future__ import annotations

from dataclasses import dataclass, field

from authlint.facts import settings
from authlint.facts.expr import Expr
from authlint.facts.file_facts import FileFacts
from authlint.frameworks import django
from authlint.model import AuthEvidence, Location, Precision, Route, Severity
from authlint.project import Value, qualified_name
from authlint.rule import ProjectRule

_FIX_SETTING = '"DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"]'
_MAX_ROUTES_NAMED = 3
_OPEN = "so every view without its own permission_classes is open to anyone"
_UNCONFIGURED = (
    "INSTALLED_APPS enables Django REST framework but no REST_FRAMEWORK setting sets DEFAULT_PERMISSION_CLASSES, "
    f"{_OPEN} (DRF defaults to AllowAny); add REST_FRAMEWORK = {{{_FIX_SETTING}}}"
)


class PermissiveDefaultPermissions(ProjectRule):
    """DRF lets anyone call views by default, or a view that is not public opts out of auth on purpose.

    ## What it does
    Reports the places where Django REST framework is told to let every caller in:

    - `REST_FRAMEWORK` in a settings module without `DEFAULT_PERMISSION_CLASSES` (DRF then
      defaults to `AllowAny`), or with `AllowAny` or an empty list there; reported at the
      `REST_FRAMEWORK = ...` assignment. A project that serves DRF views, lists
      `"rest_framework"` in `INSTALLED_APPS` and sets no `REST_FRAMEWORK` anywhere is
      reported at its `INSTALLED_APPS`;
    - `permission_classes = []` or `[AllowAny]` on a view class (or a project base class it
      inherits them from), `@permission_classes([AllowAny])` on an `@api_view` function,
      `@action(permission_classes=[AllowAny])`, `as_view(permission_classes=[])`, and
      Django's `login_not_required` under `LoginRequiredMiddleware`, when the view serves a
      route that is not public by nature or configuration (login, register, token,
      password reset, health, docs and `public-routes` are); reported where the view says so.

    Settings files for development and tests (`settings/dev.py`, `local_settings.py`,
    `settings_test.py`; see `non-production-patterns`) are not reported. `IsAuthenticatedOrReadOnly`
    is not reported: it keeps writes authenticated and makes reads public on purpose.
    Routes with no authentication at all are AL301's.

    ## Why is this bad?
    DRF's default permission is `AllowAny`: every view that forgets `permission_classes`
    is open to the internet, and nothing fails when someone forgets. Making authentication
    the default (`IsAuthenticated`) turns a forgotten declaration into a locked endpoint
    instead of a data leak. A view that opts out with `AllowAny` or an empty list on a
    private route is the same hole, written on purpose and easy to miss in review.

    ## Example
    ```python
    # settings.py
    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    }


    # views.py
    class InvoiceViewSet(viewsets.ModelViewSet):
        permission_classes = [AllowAny]
    ```

    ## Use instead
    ```python
    # settings.py
    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    }


    # views.py
    class InvoiceViewSet(viewsets.ModelViewSet):
        permission_classes = [IsAuthenticated, IsInvoiceOwner]
    ```

    Keep `AllowAny` for views that are public by design (sign-in, sign-up, health) and
    list other deliberately public paths in `public-routes`.

    ## Options
    - `non-production-patterns` (default `["dev", "devel", "develop", "development", "local",
      "test", "tests", "testing", "unittest", "unittests", "conftest", "ci"]`): fnmatch
      patterns for the words of settings file names (and the whole names of their nearest
      folders) that mark development or test settings, which are not reported.
    - `severity`: override the severity of the rule's findings.

    ## References
    - OWASP API Security Top 10 2023, API5: Broken Function Level Authorization
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - Django REST framework documentation, "Permissions": "Setting the permission policy"
    - CWE-1188: Initialization of a Resource with an Insecure Default
    - CWE-862: Missing Authorization
    """

    code = "AL306"
    name = "permissive-default-permissions"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API5:2023", "API2:2023")
    cwe = (1188, 862)

    @dataclass(frozen=True)
    class Options:
        non_production_patterns: list[str] = field(default_factory=lambda: list(settings.NON_PRODUCTION_PATTERNS))

    def check(self) -> None:
        self._check_settings()
        self._check_views()

    # Settings -------------------------------------------------------------------------

    def _check_settings(self) -> None:
        assigned = django.rest_framework_settings(self.project)
        for setting in assigned:
            if not self._production(setting.file):
                continue
            reading = django.default_permissions(self.project, setting)
            problem = self._settings_problem(reading)
            if problem is not None:
                self._report_assignment(setting, problem)
        if not assigned and self._serves_drf():
            for file in self.project.files:
                installed = self._installed_apps(file)
                if installed is not None and self._production(file):
                    self._report_assignment(installed, _UNCONFIGURED)

    def _settings_problem(self, reading: django.DefaultPermissions) -> str | None:
        if reading.state == "missing":
            return (f"REST_FRAMEWORK sets no DEFAULT_PERMISSION_CLASSES, {_OPEN} (DRF defaults to AllowAny); "
                    f"add {_FIX_SETTING}")  # fmt: skip
        if reading.state != "set":
            return None
        names = [self._class_name(file, item) for file, item in reading.classes]
        if names and "AllowAny" not in names:
            return None
        problem = "is empty" if not names else "is AllowAny"
        return f"DEFAULT_PERMISSION_CLASSES {problem}, {_OPEN}; set {_FIX_SETTING}"

    def _class_name(self, file: FileFacts, item: Expr) -> str:
        """`"rest_framework.permissions.AllowAny"` or an imported `AllowAny`: "AllowAny"."""
        text = self.project.constant(file, item)
        name = text if isinstance(text, str) else qualified_name(self.project.resolve_value(file, item))
        return (name or "").rsplit(".", 1)[-1]

    def _installed_apps(self, file: FileFacts) -> Value | None:
        if "INSTALLED_APPS" not in file.assignments:
            return None
        value = Value(file, "INSTALLED_APPS", file.assignments["INSTALLED_APPS"])
        items = django.value_items(self.project, value) or []
        listed = {self.project.constant(f, item) for f, item in items}
        return value if "rest_framework" in listed else None

    def _serves_drf(self) -> bool:
        return any(target.startswith("rest_framework") for f in self.project.files for target in f.imports.values())

    def _production(self, file: FileFacts) -> bool:
        return not settings.is_non_production_path(file.path, self.options.non_production_patterns)

    def _report_assignment(self, value: Value, message: str) -> None:
        source = value.file.assignment_sources.get(value.key, "")
        column = len(source) - len(source.lstrip()) + 1
        self.report_at(value.file.path, value.line, column, source, message)

    # Views ----------------------------------------------------------------------------

    def _check_views(self) -> None:
        opened: dict[Location, tuple[AuthEvidence, list[Route]]] = {}
        for route in self.routes:
            if route.framework != "django" or route.public or route.authenticated:
                continue
            for evidence in route.effective_auth:
                if django.is_permissive(evidence):
                    opened.setdefault(evidence.location, (evidence, []))[1].append(route)
        for where, (evidence, routes) in opened.items():
            labels = ", ".join(r.label for r in routes[:_MAX_ROUTES_NAMED])
            more = f" and {len(routes) - _MAX_ROUTES_NAMED} more" if len(routes) > _MAX_ROUTES_NAMED else ""
            what = "which is not a public route" if len(routes) == 1 else "which are not public routes"
            fix = ("remove `login_not_required` (or check the caller in the view)"
                   if evidence.mechanism.startswith("login_not_required")
                   else "require authentication (`IsAuthenticated` or a permission class that checks the caller)")
            declared, _, note = evidence.mechanism.partition(" (")
            shown = f"`{declared}` ({note}" if note else f"`{declared}`"
            message = (f"{shown} lets anyone call {labels}{more}, {what}; {fix}, "
                       "or list the path in `public-routes` if it is public by design")  # fmt: skip
            source, column = self._source_at(where)
            self.report_at(where.path, where.line, column, source, message)

    def _source_at(self, where: Location) -> tuple[str, int]:
        """The text of the reported line, from the facts of what starts there."""
        file = next((f for f in self.project.files if f.path == where.path), None)
        source = ""
        if file is not None:
            key = next((k for k, line in file.assignment_lines.items() if line == where.line), None)
            source = file.assignment_sources.get(key, "") if key is not None else ""
            definitions = [*file.functions.values(), *file.classes.values()]
            source = source or next((d.source_line for d in definitions if d.line == where.line), "")
        return source, len(source) - len(source.lstrip()) + 1

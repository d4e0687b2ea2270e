from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst

from authlint.facts import settings
from authlint.facts.names import call_label, dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Settings that turn on debug behaviour, with what that behaviour shows.
_DEBUG_SETTINGS = {
    "DEBUG": "shows stack traces, local variables and settings to whoever triggers an error",
    "PROPAGATE_EXCEPTIONS": "re-raises errors past the app's error handlers, to the server and its error pages",
    "DEBUG_PROPAGATE_EXCEPTIONS": "skips Django's 500 handling and error logging, handing raw errors to the server",
}
# App constructors that take `debug=`.
_APP_CONSTRUCTORS = frozenset({
    "fastapi.FastAPI", "fastapi.applications.FastAPI", "starlette.applications.Starlette",
    "starlette.Starlette", "litestar.Litestar", "litestar.app.Litestar",
})  # fmt: skip
# Libraries whose `.run(debug=True)` starts a server with its debugger.
_SERVER_LIBRARIES = ("flask.", "quart.", "sanic.", "flask_socketio.", "uvicorn.")
_RUN_SIMPLE = frozenset({"werkzeug.serving.run_simple", "werkzeug.run_simple"})
_DEBUGGED_APPLICATION = frozenset({"werkzeug.debug.DebuggedApplication", "werkzeug.DebuggedApplication"})
_TRACEBACKS = "whoever triggers an error gets the traceback, with source code and local values"
_DEBUGGER = "whoever triggers an error gets tracebacks and Werkzeug's interactive Python console, behind a PIN"
# An application object, by how code usually names it: `app`, `api`, `flask_app`, `create_app()`.
_APP_NAME = re.compile(r"(app|application|api|socketio|server)$", re.I)


class DebugModeEnabled(FileRule):
    """A web app or server runs with debug mode, or a production config turns it on.

    ## What it does
    Flags debug mode switched on in code that is not explicitly development or test code:

    - `app.run(debug=True)` (Flask, Quart, Sanic, Flask-SocketIO), `app.run(use_debugger=True)`;
    - `FastAPI(debug=True)`, `Starlette(debug=True)`, `Litestar(debug=True)`, `app.debug = True`;
    - Werkzeug's debugger: `run_simple(..., use_debugger=True)`, `DebuggedApplication(app)`;
    - `DEBUG = True` in a Django settings module (`settings.py`, `settings/*.py`, `config.py`,
      or any module that sets `INSTALLED_APPS`) and in a Flask config class
      (`class ProductionConfig(Config): DEBUG = True`);
    - `app.config["DEBUG"] = True`, `app.config.update(DEBUG=True)`,
      `app.config.from_mapping(DEBUG=True)`;
    - `PROPAGATE_EXCEPTIONS = True` (Flask) and `DEBUG_PROPAGATE_EXCEPTIONS = True` (Django)
      in the same production places.

    Not flagged: values read from the environment (`DEBUG = os.getenv("DEBUG") == "1"`), a
    setting assigned again further down the module, a base config class whose production
    subclass sets the value again, and anything in non-production places: settings files
    named like `settings/dev.py`, `local_settings.py`, `settings_test.py`, files under
    `tests/`, classes or functions named like `DevelopmentConfig`, `TestingConfig` or
    `create_test_app`, and the body of an `if` that only development enters
    (`if ENVIRONMENT == "development":`, `if "test" in sys.argv:`; see
    `non-production-patterns`).

    ## Why is this bad?
    Debug mode turns every unhandled error into a detailed page for whoever caused it: stack
    traces, source code, local variables, settings, SQL queries. Werkzeug's debugger (what
    Flask's `debug=True` enables) goes further and runs Python typed into the error page,
    protected only by a PIN that is derived from guessable machine data. One forgotten flag
    turns an API into an information leak or a remote shell.

    ## Example
    ```python
    # settings.py
    DEBUG = True

    # app.py
    app = FastAPI(debug=True)

    if __name__ == "__main__":
        app.run(host="0.0.0.0", debug=True)
    ```

    ## Use instead
    ```python
    # settings.py
    DEBUG = os.environ.get("DJANGO_DEBUG") == "1"

    # app.py
    app = FastAPI(debug=settings.DEBUG)

    if __name__ == "__main__":
        app.run(host="127.0.0.1", debug=os.environ.get("FLASK_DEBUG") == "1")
    ```

    Keep `DEBUG = True` in a settings file or config class that only development uses
    (`settings/dev.py`, `DevelopmentConfig`).

    ## Options
    - `non-production-patterns` (default `["dev", "devel", "develop", "development", "local",
      "test", "tests", "testing", "unittest", "unittests", "conftest", "ci"]`): fnmatch
      patterns for the words of names that mark development or test code. They are matched
      against each word of the file name (split at `_`, `-`, `.` and CamelCase), the name of
      each of the three nearest folders, and the names of the enclosing classes and
      functions. Add `"staging"` to treat staging settings as non-production too.

    ```toml
    [tool.authlint.rules.AL602]
    non-production-patterns = ["dev", "local", "test", "tests", "sandbox"]
    ```

    ## References
    - OWASP API Security Top 10 2023, API8: Security Misconfiguration
    - Django documentation, settings: "DEBUG" ("Never deploy a site into production with DEBUG turned on")
    - Flask documentation, "Debug Mode": "Do not enable debug mode when deploying in production"
    - Werkzeug documentation, "Debugging Applications"
    - CWE-489: Active Debug Code
    """

    code = "AL602"
    name = "debug-mode-enabled"
    severity = Severity.HIGH
    precision = Precision.HIGH
    owasp = ("API8:2023",)
    cwe = (489,)
    # `debug=`, `.debug =`, `DEBUG: bool =`, `"DEBUG"`, `["debug"]`, and the Werkzeug debugger.
    requires_words = ("debug", "propagate_exceptions", "use_debugger", "debuggedapplication")
    requires_text = re.compile(
        r"(?i:\bdebug\b\s*(?::[^=\n]*)?=(?!=)|['\"]debug['\"])|PROPAGATE_EXCEPTIONS|use_debugger|DebuggedApplication"
    )

    @dataclass(frozen=True)
    class Options:
        non_production_patterns: list[str] = field(default_factory=lambda: list(settings.NON_PRODUCTION_PATTERNS))

    def visit_Assign(self, node: libcst.Assign) -> None:
        self._check_settings(node)
        for target in node.targets:
            self._check_debug_attribute(target.target, node.value)

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        self._check_settings(node)

    def visit_Call(self, node: libcst.Call) -> None:
        self._check_settings(node)
        qualified = self.ctx.qualified_name(node.func)
        if qualified in _APP_CONSTRUCTORS:
            self._check_keyword(node, "debug", "runs the app in debug mode", _TRACEBACKS)
        elif qualified in _RUN_SIMPLE:
            self._check_keyword(node, "use_debugger", "serves the app with Werkzeug's debugger", _DEBUGGER)
        elif qualified in _DEBUGGED_APPLICATION:
            message = f"{call_label(node)} wraps the app in Werkzeug's debugger: {_DEBUGGER}; use it only in development"
            self._report_outside_development(node, message)
        elif self._is_server_run(node, qualified):
            self._check_keyword(node, "debug", "starts the server in debug mode", _DEBUGGER)
            self._check_keyword(node, "use_debugger", "starts the server with the debugger", _DEBUGGER)

    # Settings ------------------------------------------------------------------

    def _check_settings(self, node: libcst.CSTNode) -> None:
        for setting in settings.setting_assignments(self.ctx, node):
            if setting.name in _DEBUG_SETTINGS and self._is_production_true(setting):
                self.report(setting.node, self._setting_message(setting))

    def _is_production_true(self, setting: settings.Setting) -> bool:
        patterns = self.options.non_production_patterns
        return (
            self.ctx.literal(setting.value) is True
            and not settings.is_non_production(self.ctx, setting, patterns)
            and not settings.is_overridden(self.ctx, setting, patterns)
        )

    def _setting_message(self, setting: settings.Setting) -> str:
        effect = _DEBUG_SETTINGS[setting.name]
        if setting.kind == settings.MODULE:
            where, keep = "in a settings module", "a dev/local/test settings file"
        elif setting.kind == settings.CLASS:
            where, keep = f"in config class `{setting.config_class}`", "a `DevelopmentConfig`/`TestingConfig` class"
        else:
            where, keep = "in the app's config", "development-only code"
        return (f"`{setting.written(self.ctx)}` {where} {effect}; set it to False, or read it from an environment "
                f"variable only development sets, and keep `True` in {keep}")  # fmt: skip

    # Calls and attributes -------------------------------------------------------

    def _is_server_run(self, call: libcst.Call, qualified: str | None) -> bool:
        func = call.func
        if not (isinstance(func, libcst.Attribute) and func.attr.value == "run"):
            return False
        # An app imported from the project (`from myservice import app`) resolves to the project's name.
        return (qualified or "").startswith(_SERVER_LIBRARIES) or _looks_like_app(func.value)

    def _check_keyword(self, call: libcst.Call, keyword: str, what: str, consequence: str) -> None:
        value = self.ctx.arguments(call).get(keyword)
        if value is None or self.ctx.literal(value) is not True:
            return
        argument = self.ctx.arguments(call).keyword_args.get(keyword, call)  # `**options`: the call
        message = (f"{call_label(call)} {what} (`{keyword}=True`): {consequence}; remove it or read it from an "
                   "environment variable that only development sets")  # fmt: skip
        self._report_outside_development(argument, message)

    def _check_debug_attribute(self, target: libcst.BaseExpression, value: libcst.BaseExpression) -> None:
        if not (isinstance(target, libcst.Attribute) and target.attr.value == "debug"):
            return
        if not _looks_like_app(target.value) or self.ctx.literal(value) is not True:
            return
        message = (f"`{dotted_name(target) or 'app.debug'} = True` runs the app in debug mode: {_TRACEBACKS}; "
                   "remove it or read it from an environment variable that only development sets")  # fmt: skip
        self._report_outside_development(target, message)

    def _report_outside_development(self, node: libcst.CSTNode, message: str) -> None:
        if not settings.in_non_production_code(self.ctx, self.options.non_production_patterns, node):
            self.report(node, message)


def _looks_like_app(expr: libcst.BaseExpression) -> bool:
    """`app`, `self.app`, `flask_app`, `create_app()`: an expression naming an application."""
    if isinstance(expr, libcst.Call):
        expr = expr.func
    name = dotted_name(expr)
    return name is not None and _APP_NAME.search(name.rsplit(".", 1)[-1]) is not None

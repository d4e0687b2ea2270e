"""The settings facts: where configuration is written in code, and whether it is production's."""

from __future__ import annotations

import textwrap
import time

import libcst
import pytest

from authlint.config import Config, ConfigError, file_settings, validate_rule_options
from authlint.context import FileContext
from authlint.engine import analyze_text, imported_modules
from authlint.facts import settings
from authlint.walk import Dispatch, walk


def collect(source: str, path: str = "settings.py", probe=None) -> list:
    """Walk `source` as the engine does; `probe(ctx, setting)` (default: the setting) for each setting found."""
    source = textwrap.dedent(source)
    module = libcst.parse_module(source)
    ctx = FileContext(path, module, imported_modules(source))
    seen: list = []

    class Recorder:
        def _record(self, node):
            for setting in settings.setting_assignments(ctx, node):
                seen.append(probe(ctx, setting) if probe else setting)

        visit_Assign = visit_AnnAssign = visit_Call = _record

    walk(module, Dispatch([ctx.tracker, Recorder()]))
    return seen


def described(source: str, path: str = "settings.py") -> list[tuple]:
    return collect(source, path, lambda ctx, s: (s.name, s.kind, ctx.literal(s.value), s.written(ctx)))


# Names and paths ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, words",
    [
        ("DevelopmentConfig", ["development", "config"]),
        ("settings_test", ["settings", "test"]),
        ("CIConfig", ["ci", "config"]),
        ("local-settings", ["local", "settings"]),
        ("HTTPSConfig", ["https", "config"]),
        ("create_test_app", ["create", "test", "app"]),
        ("settings2", ["settings", "2"]),
    ],
)
def test_name_words_split_at_underscores_dashes_and_camel_case(name, words) -> None:
    assert settings.name_words(name) == words


def test_name_matches_words_globs_and_whole_names() -> None:
    assert settings.name_matches("TestingConfig", ["testing"])
    assert settings.name_matches("staging_settings", ["stag*"])
    assert settings.name_matches("local_settings", ["local_settings"])  # the whole name
    assert not settings.name_matches("devices", ["dev"])  # a word, not a prefix
    assert not settings.name_matches("ProductionConfig", settings.NON_PRODUCTION_PATTERNS)
    assert not settings.name_matches("latest", settings.NON_PRODUCTION_PATTERNS)


@pytest.mark.parametrize(
    "path",
    [
        "settings/dev.py",
        "project/settings/local.py",
        "local_settings.py",
        "settings_test.py",
        "test_settings.py",
        "tests/app.py",
        "src/tests/unit/api/views.py",
        "config/settings/development.py",
        "/abs/checkout/app/settings/ci.py",
        r"C:\work\app\settings\dev.py",
    ],
)
def test_development_and_test_paths_are_non_production(path) -> None:
    assert settings.is_non_production_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "settings.py",
        "settings/production.py",
        "config/settings/base.py",
        "devices/settings.py",  # a folder counts only by its whole name
        "test_project/settings.py",
        "contest/config.py",
        "/home/dev/work/checkout/project/settings.py",  # far above the file: the machine's folders
    ],
)
def test_production_paths_are_not_non_production(path) -> None:
    assert not settings.is_non_production_path(path)


def test_patterns_are_configurable() -> None:
    assert settings.is_non_production_path("settings/staging.py", ["staging"])
    assert not settings.is_non_production_path("settings/dev.py", ["staging"])


# Recognising settings -------------------------------------------------------------


def test_module_level_settings_in_a_settings_module() -> None:
    found = described(
        """
        import os
        DEBUG = True
        ALLOWED_HOSTS: list = ["api.example.com"]
        debug_toolbar = True
        SECRET_KEY = os.environ["KEY"]
        def configure():
            TIMEOUT = 3
        """
    )
    assert [(name, kind) for name, kind, _, _ in found] == [
        ("DEBUG", settings.MODULE),
        ("ALLOWED_HOSTS", settings.MODULE),
        ("SECRET_KEY", settings.MODULE),
    ]
    assert found[0][2:] == (True, "DEBUG = True")


@pytest.mark.parametrize("path", ["settings.py", "settings/base.py", "config.py", "app_config.py", "conf/prod.py"])
def test_settings_modules_by_path(path) -> None:
    assert [s.name for s in collect("DEBUG = True\n", path)] == ["DEBUG"]


def test_ordinary_modules_hold_no_module_level_settings() -> None:
    assert collect("DEBUG = True\n", "app/views.py") == []


def test_a_module_that_sets_django_settings_is_a_settings_module() -> None:
    source = "INSTALLED_APPS = ['django.contrib.auth']\nDEBUG = True\n"
    assert [s.name for s in collect(source, "myproject/prod.py")] == ["INSTALLED_APPS", "DEBUG"]


def test_config_class_attributes() -> None:
    found = collect(
        """
        class ProductionConfig(Config):
            DEBUG = False
            TESTING: bool = False
            def helper(self):
                LOCAL = 1
            class Inner:
                NESTED = 1
        class Helper:
            DEBUG = True
        """,
        "app/factory.py",
    )
    assert [(s.name, s.kind, s.config_class) for s in found] == [
        ("DEBUG", settings.CLASS, "ProductionConfig"),
        ("TESTING", settings.CLASS, "ProductionConfig"),
    ]


def test_any_module_level_class_of_a_settings_module_is_a_config_class() -> None:
    found = collect("class Prod(Configuration):\n    DEBUG = False\n", "settings.py")
    assert [(s.name, s.config_class) for s in found] == [("DEBUG", "Prod")]


def test_app_config_items_in_any_module_and_scope() -> None:
    found = described(
        """
        app.config["DEBUG"] = True
        def create_app():
            application.config.update(SESSION_COOKIE_SECURE=False, lowercase=1)
            application.config.update({"TESTING": True, key: 1})
            application.config.from_mapping(SECRET_KEY=key)
            other.update(DEBUG=True)
            cache["DEBUG"] = True
        """,
        "app/__init__.py",
    )
    assert [(name, kind) for name, kind, _, _ in found] == [
        ("DEBUG", settings.APP_CONFIG),
        ("SESSION_COOKIE_SECURE", settings.APP_CONFIG),
        ("TESTING", settings.APP_CONFIG),
        ("SECRET_KEY", settings.APP_CONFIG),
    ]
    assert [written for *_, written in found] == [
        'app.config["DEBUG"] = True',
        "application.config.update(SESSION_COOKIE_SECURE=False)",
        'application.config.update({"TESTING": True})',
        "application.config.from_mapping(SECRET_KEY=key)",
    ]


def test_settings_are_cached_per_node() -> None:
    source = "DEBUG = True\n"
    module = libcst.parse_module(source)
    ctx = FileContext("settings.py", module, frozenset())
    statement = module.body[0].body[0]
    assert settings.setting_assignments(ctx, statement) is settings.setting_assignments(ctx, statement)


# Production or not ----------------------------------------------------------------


def non_production(source: str, path: str, patterns=settings.NON_PRODUCTION_PATTERNS) -> list[tuple[str, bool]]:
    return collect(source, path, lambda ctx, s: (s.written(ctx), settings.is_non_production(ctx, s, patterns)))


def test_non_production_by_class_and_function_names() -> None:
    found = non_production(
        """
        class DevelopmentConfig(Config):
            DEBUG = True
        class TestingConfig(Config):
            DEBUG = True
        class ProductionConfig(Config):
            DEBUG = True
        def create_test_app():
            app.config["DEBUG"] = True
        def create_app():
            app.config["DEBUG"] = True
        """,
        "app/factory.py",
    )
    assert found == [
        ("DevelopmentConfig.DEBUG = True", True),
        ("TestingConfig.DEBUG = True", True),
        ("ProductionConfig.DEBUG = True", False),
        ('app.config["DEBUG"] = True', True),
        ('app.config["DEBUG"] = True', False),
    ]


def test_non_production_by_path() -> None:
    assert non_production("DEBUG = True\n", "settings/dev.py") == [("DEBUG = True", True)]
    assert non_production("DEBUG = True\n", "settings/prod.py") == [("DEBUG = True", False)]
    assert non_production("DEBUG = True\n", "settings/dev.py", ["staging"]) == [("DEBUG = True", False)]


def overridden(source: str, path: str = "config.py") -> list[tuple[str, bool]]:
    return collect(source, path, lambda ctx, s: (s.written(ctx), settings.is_overridden(ctx, s)))


def test_a_module_setting_assigned_again_below_is_overridden() -> None:
    assert overridden("DEBUG = True\nDEBUG = env.bool('DEBUG')\n") == [
        ("DEBUG = True", True),
        ("DEBUG = env.bool('DEBUG')", False),
    ]
    assert overridden("DEBUG = TEMPLATE_DEBUG = True\n") == [("DEBUG = True", False), ("TEMPLATE_DEBUG = True", False)]


def test_a_class_setting_a_production_subclass_sets_again_is_overridden() -> None:
    found = overridden(
        """
        class Config:
            DEBUG = True
            TESTING = True
            SECURE = False
        class Production(Config):
            DEBUG = False
        class DevelopmentConfig(Config):
            TESTING = False
        class Base2(Config):
            pass
        class Live(Base2):
            SECURE = True
        """
    )
    assert found == [
        ("Config.DEBUG = True", True),  # Production sets it again
        ("Config.TESTING = True", False),  # only a development subclass does
        ("Config.SECURE = False", True),  # a grandchild does
        ("Production.DEBUG = False", False),
        ("DevelopmentConfig.TESTING = False", False),
        ("Live.SECURE = True", False),
    ]


def test_sibling_values_of_a_module_and_of_a_class() -> None:
    def credentials(ctx, setting):
        return ctx.literal(settings.sibling_value(ctx, setting, "CORS_ALLOW_CREDENTIALS"))

    module_level = collect("CORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = True\n", "settings.py", credentials)
    assert module_level == [True, True]
    in_class = collect(
        "class ProdConfig:\n    CORS_ORIGINS = '*'\n    CORS_ALLOW_CREDENTIALS = True\n", "app.py", credentials
    )
    assert in_class == [True, True]
    app_config = collect(
        "app.config['CORS_ALLOW_CREDENTIALS'] = True\napp.config['CORS_ORIGINS'] = '*'\n",
        "app.py",
        lambda ctx, setting: settings.sibling_value(ctx, setting, "CORS_ALLOW_CREDENTIALS"),
    )
    assert app_config == [None, None]  # app.config items are set one by one, anywhere


# Starlette middleware ---------------------------------------------------------------


@pytest.mark.parametrize(
    "call, written",
    [
        ("app.add_middleware(CORSMiddleware, allow_origins=['*'])", "app.add_middleware(CORSMiddleware, ...)"),
        ("Middleware(CORSMiddleware, allow_origins=['*'])", "Middleware(CORSMiddleware, ...)"),
        ("CORSMiddleware(app, allow_origins=['*'])", "CORSMiddleware()"),
        ("app.add_middleware(GZipMiddleware)", None),
        ("app.add_middleware(middleware=CORSMiddleware)", None),
    ],
)
def test_middleware_configured(call, written) -> None:
    source = f"from starlette.middleware.cors import CORSMiddleware\n{call}\n"
    module = libcst.parse_module(source)
    ctx = FileContext("app.py", module, imported_modules(source))
    middleware = frozenset({"starlette.middleware.cors.CORSMiddleware"})
    found = []

    class Recorder:
        def visit_Call(self, node):
            if node.func is module.body[1].body[0].value.func:
                found.append(settings.middleware_configured(ctx, node, middleware))

    walk(module, Dispatch([ctx.tracker, Recorder()]))
    assert found == [written]


# The option every settings rule exposes ------------------------------------------------

STAGING_SETTINGS = "DEBUG = True\nSESSION_COOKIE_SECURE = False\nCORS_ALLOW_ALL_ORIGINS = True\n"


def codes(config: Config, path: str) -> list[str]:
    result = analyze_text(STAGING_SETTINGS, path, file_settings(config))
    assert not result.errors
    return sorted(f.code for f in result.findings)


def test_staging_settings_are_production_by_default() -> None:
    assert codes(Config(), "settings/staging.py") == ["AL405", "AL602", "AL603"]
    assert codes(Config(), "settings/dev.py") == []


def test_each_rule_takes_its_own_non_production_patterns() -> None:
    patterns = {"non-production-patterns": ["staging"]}
    config = Config(rules={"AL602": patterns, "AL603": patterns})
    assert codes(config, "settings/staging.py") == ["AL405"]
    # The option replaces the default patterns; AL405 keeps its defaults.
    assert codes(config, "settings/dev.py") == ["AL602", "AL603"]


@pytest.mark.parametrize("code", ["AL405", "AL602", "AL603"])
def test_the_patterns_option_must_be_a_list_of_strings(code) -> None:
    validate_rule_options("pyproject.toml", code, {"non-production-patterns": ["staging", "qa"]})
    with pytest.raises(ConfigError, match="non-production-patterns"):
        validate_rule_options("pyproject.toml", code, {"non-production-patterns": "staging"})
    with pytest.raises(ConfigError, match="non-production-patterns"):
        validate_rule_options("pyproject.toml", code, {"non-production-patterns": [1]})


def test_origin_patterns_that_could_backtrack_for_long_are_not_run() -> None:
    """AL603 runs origin regexes from the scanned file against probe origins; never a slow one."""
    source = textwrap.dedent(
        r"""
        from flask import Flask
        from flask_cors import CORS
        app = Flask(__name__)
        CORS(app, origins=[r"^(a+)+$", r"^(.*a){12}$", r"^.*.*.*.*.*.*.*.*.*.*.*.*!$"])
        """
    )
    started = time.perf_counter()
    result = analyze_text(source, "app.py", file_settings(Config(select=["AL603"])))
    assert time.perf_counter() - started < 5
    assert not result.errors and result.findings == []


def test_settings_inside_development_only_conditions_are_non_production() -> None:
    found = non_production(
        """
        import os, sys
        DEBUG = os.environ.get("DEBUG") == "1"
        ENVIRONMENT = os.environ.get("ENVIRONMENT", "production")
        if ENVIRONMENT == "development":
            SESSION_COOKIE_SECURE = False
        elif ENVIRONMENT == "staging":
            CSRF_COOKIE_SECURE = False
        else:
            SESSION_COOKIE_HTTPONLY = False
        if DEBUG: CORS_ALLOW_ALL_ORIGINS = True
        if "test" in sys.argv:
            PROPAGATE_EXCEPTIONS = True
        if not DEBUG:
            SESSION_COOKIE_SAMESITE = None
        if ENVIRONMENT != "development":
            JWT_COOKIE_SECURE = False
        if IS_LOCAL and os.environ.get("HTTPS") == "0":
            REMEMBER_COOKIE_SECURE = False
        def configure(app):
            if app.debug:
                app.config.update(SESSION_COOKIE_SECURE=False)
            app.config["SESSION_COOKIE_HTTPONLY"] = False
        """,
        "settings.py",
    )
    assert [(written.split(" = ")[0], flag) for written, flag in found if "False" in written or "True" in written] == [
        ("SESSION_COOKIE_SECURE", True),
        ("CSRF_COOKIE_SECURE", False),  # staging is production unless configured otherwise
        ("SESSION_COOKIE_HTTPONLY", False),  # the else branch of a development test
        ("CORS_ALLOW_ALL_ORIGINS", True),
        ("PROPAGATE_EXCEPTIONS", True),
        ("JWT_COOKIE_SECURE", False),
        ("REMEMBER_COOKIE_SECURE", True),
        ("app.config.update(SESSION_COOKIE_SECURE=False)", True),
        ('app.config["SESSION_COOKIE_HTTPONLY"]', False),
    ]


def test_a_condition_that_always_holds_is_not_development_only() -> None:
    found = non_production(
        """
        DEBUG = True
        ENVIRONMENT = "development"
        if DEBUG:
            SESSION_COOKIE_SECURE = False
        if ENVIRONMENT == "development":
            CSRF_COOKIE_SECURE = False
        """,
        "settings.py",
    )
    assert found[-2:] == [("SESSION_COOKIE_SECURE = False", False), ("CSRF_COOKIE_SECURE = False", False)]


def test_calls_in_development_only_branches_are_non_production() -> None:
    source = textwrap.dedent(
        """
        import os
        from flask import Flask
        app = Flask(__name__)
        if os.environ.get("FLASK_ENV") == "development":
            app.run(debug=True)
        else:
            app.run(debug=True)
        """
    )
    result = analyze_text(source, "run.py", file_settings(Config(select=["AL602"])))
    assert [(f.span.line, f.code) for f in result.findings] == [(8, "AL602")]

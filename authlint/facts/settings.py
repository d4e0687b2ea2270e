"""Configuration written in code: settings modules, config classes and `app.config`.

Settings-style rules (cookies, debug mode, CORS, credentials) judge values that live in
a handful of shapes, recognised here once for all of them:

- a module-level `UPPER_CASE = value` in a settings-like module: Django's `settings.py`,
  `settings/*.py`, `config.py`, `local_settings.py`, or any module that sets Django's
  `INSTALLED_APPS`/`ROOT_URLCONF`/`MIDDLEWARE`;
- an `UPPER_CASE` attribute of a module-level config class (`class ProductionConfig(Config):
  DEBUG = False`), a class named like `*Config`/`*Settings` or any class of a settings module;
- `app.config["X"] = v`, `app.config.update(X=v)`, `app.config.update({"X": v})`,
  `app.config.from_mapping(...)` on any `.config` object.

Whether such a place is *non-production* is read from names only, with word patterns the
rules expose as their `non-production-patterns` option: the file's name (`settings/dev.py`,
`local_settings.py`, `settings_test.py`), its nearest folders (`tests/...`), and the
enclosing classes and functions (`DevelopmentConfig`, `TestingConfig`, `create_test_app`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import libcst

from authlint.facts.literals import UNKNOWN, string_value, subscript_key
from authlint.facts.names import dotted_name

if TYPE_CHECKING:
    from authlint.context import FileContext

# Words that mark a file, folder, class or function as development or test configuration.
# A pattern is an fnmatch pattern matched against each word of a name (split at `_`, `-`,
# `.` and CamelCase) and against the whole lowercased name.
NON_PRODUCTION_PATTERNS: tuple[str, ...] = (
    "dev", "devel", "develop", "development", "local", "test", "tests", "testing",
    "unittest", "unittests", "conftest", "ci",
)  # fmt: skip

MODULE = "module"  # a module-level assignment in a settings module
CLASS = "class"  # an attribute of a config class
APP_CONFIG = "app-config"  # an item of `<app>.config`

_SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# A module is settings-like if its file or one of its folders is named with these words.
_SETTINGS_FILE_WORDS = frozenset({"settings", "setting", "config", "configs", "configuration", "conf"})
_SETTINGS_CLASS_WORDS = frozenset({"settings", "config", "configuration", "conf"})
# Settings only a Django settings module sets, whatever the file is called.
_DJANGO_MARKERS = frozenset({"INSTALLED_APPS", "ROOT_URLCONF", "MIDDLEWARE", "MIDDLEWARE_CLASSES"})
_CONFIG_METHODS = frozenset({"update", "from_mapping"})
# Folders this close to the file are part of the project, not of the machine's layout.
_FOLDERS_CONSIDERED = 3
# Operators that turn "in development" into "not in development".
# by libcst class name, so that importing the module does not load libcst (authlint/lazy.py)
_NEGATIONS = frozenset({"NotEqual", "NotIn", "IsNot"})


@dataclass(frozen=True)
class Setting:
    """One setting given a value in code."""

    name: str  # "DEBUG"
    value: libcst.BaseExpression  # the expression assigned
    node: libcst.CSTNode  # what to report: the assignment target, keyword or dict entry
    kind: str  # MODULE, CLASS or APP_CONFIG
    owners: tuple[str, ...]  # enclosing classes and functions, outermost first
    template: str  # how the source spells it, with `{value}` for the value: `app.config["DEBUG"] = {value}`
    conditions: tuple[libcst.BaseExpression, ...] = ()  # tests of the `if`s whose body holds it

    @property
    def config_class(self) -> str | None:
        return self.owners[-1] if self.kind == CLASS else None

    def written(self, ctx: FileContext) -> str:
        """The assignment as the source spells it, for messages: `app.config.update(DEBUG=True)`."""
        value = " ".join(ctx.module.code_for_node(self.value).split())
        return self.template.format(value=value if len(value) <= 40 else "...")


# Names and their words ------------------------------------------------------------


def name_words(name: str) -> list[str]:
    """`DevelopmentConfig` -> ["development", "config"]; `settings_test` -> ["settings", "test"]."""
    return [word.lower() for word in _WORD.findall(name)]


def name_matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether a word of `name`, or the whole lowercased name, matches one of `patterns`."""
    candidates = [*name_words(name), name.lower()]
    return any(fnmatch.fnmatchcase(word, pattern.lower()) for pattern in patterns for word in candidates)


def _path(path: str) -> PurePath:
    return PureWindowsPath(path) if "\\" in path else PurePosixPath(path)


def _nearest_folders(path: str) -> tuple[str, ...]:
    return _path(path).parent.parts[-_FOLDERS_CONSIDERED:]


def is_non_production_path(path: str, patterns: Sequence[str] = NON_PRODUCTION_PATTERNS) -> bool:
    """`settings/dev.py`, `local_settings.py`, `settings_test.py`, `tests/app.py`: yes.

    The file name is split into words; folders count only when their whole name matches
    (a `tests/` folder does, a `test_project/` or `devices/` folder does not), and only the
    nearest few, so the machine's own folders above the project do not.
    """
    if name_matches(_path(path).stem, patterns):
        return True
    return any(fnmatch.fnmatchcase(folder.lower(), p.lower()) for folder in _nearest_folders(path) for p in patterns)


def enclosing_names(ctx: FileContext) -> tuple[str, ...]:
    """Names of the classes and functions the walk is inside, outermost first."""
    names = []
    for scope in ctx.resolver.scopes[1:]:
        if isinstance(scope.node, (libcst.ClassDef, libcst.FunctionDef)):
            names.append(scope.node.name.value)
    return tuple(names)


def in_non_production_code(
    ctx: FileContext, patterns: Sequence[str] = NON_PRODUCTION_PATTERNS, node: libcst.CSTNode | None = None
) -> bool:
    """Whether the walk is in a dev/test file, or in a class or function named like one.

    Given the `node` the walk is at, also whether it is in the body of an `if` that only
    development enters (see `is_non_production`).
    """
    if is_non_production_path(ctx.path, patterns) or any(name_matches(n, patterns) for n in enclosing_names(ctx)):
        return True
    conditions = _enclosing_conditions(ctx, node) if node is not None else ()
    return any(_development_condition(ctx, test, patterns) for test in conditions)


def is_non_production(ctx: FileContext, setting: Setting, patterns: Sequence[str] = NON_PRODUCTION_PATTERNS) -> bool:
    """Whether `setting` is development/test configuration.

    By file, folder, class or function name, or by an enclosing `if` that only development
    or tests enter: `if DEBUG:`, `if ENVIRONMENT == "development":`, `if "test" in sys.argv:`.
    """
    if is_non_production_path(ctx.path, patterns):
        return True
    if any(name_matches(owner, patterns) for owner in setting.owners):
        return True
    return any(_development_condition(ctx, test, patterns) for test in setting.conditions)


def _development_condition(ctx: FileContext, test: libcst.BaseExpression, patterns: Sequence[str]) -> bool:
    """A test that holds only in development: it names DEBUG or a dev/test word, and negates nothing."""
    if _always_holds(ctx, test):
        return False  # `DEBUG = True` ... `if DEBUG:` holds everywhere
    nodes = ctx.nodes_in(test)
    if any(_negates(node) for node in nodes):
        return False  # `if not DEBUG:`, `if ENV != "dev":` hold in production
    for node in nodes:
        word = _condition_word(node)
        if word is not None and (word.lower() == "debug" or name_matches(word, patterns)):
            return True
    return False


def _always_holds(ctx: FileContext, test: libcst.BaseExpression) -> bool:
    """`if DEBUG:` after `DEBUG = True`, `if ENV == "development":` after `ENV = "development"`."""
    if ctx.literal(test) is True:
        return True
    if isinstance(test, libcst.Comparison) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        left, right = ctx.literal(test.left), ctx.literal(comparison.comparator)
        known = left is not UNKNOWN and right is not UNKNOWN
        return known and isinstance(comparison.operator, libcst.Equal) and left == right
    return False


def _negates(node: libcst.CSTNode) -> bool:
    if isinstance(node, libcst.UnaryOperation):
        return isinstance(node.operator, libcst.Not)
    return isinstance(node, libcst.ComparisonTarget) and type(node.operator).__name__ in _NEGATIONS


def _condition_word(node: libcst.CSTNode) -> str | None:
    if isinstance(node, libcst.Name):
        return node.value
    if isinstance(node, libcst.Attribute):
        return node.attr.value
    if isinstance(node, libcst.SimpleString) and isinstance(string_value(node), str):
        return string_value(node)
    return None


def _enclosing_conditions(ctx: FileContext, node: libcst.CSTNode) -> tuple[libcst.BaseExpression, ...]:
    """Tests of the `if` statements whose body (not `else`) holds `node`."""
    ifs = [statement for statement in ctx.tracker.statements if isinstance(statement, libcst.If)]
    return tuple(statement.test for statement in ifs if id(node) in _ids_below(ctx, statement.body))


def _ids_below(ctx: FileContext, node: libcst.CSTNode) -> frozenset[int]:
    return ctx.cached("ids-below", node, lambda: frozenset(id(inner) for inner in ctx.nodes_in(node)))


# Settings modules and config classes ---------------------------------------------


def is_settings_module(ctx: FileContext) -> bool:
    """A settings-like module, by its path or by the Django settings it sets (cached)."""
    return ctx.cached("settings-module", ctx.module, lambda: _is_settings_module(ctx))


def _is_settings_module(ctx: FileContext) -> bool:
    path = _path(ctx.path)
    if _SETTINGS_FILE_WORDS & set(name_words(path.stem)):
        return True
    if any(folder.lower() in _SETTINGS_FILE_WORDS for folder in _nearest_folders(ctx.path)):
        return True
    return bool(_DJANGO_MARKERS & set(ctx.resolver.module_scope.bindings))


def _is_config_class(ctx: FileContext, node: libcst.ClassDef) -> bool:
    return bool(_SETTINGS_CLASS_WORDS & set(name_words(node.name.value))) or is_settings_module(ctx)


def _top_level_class(ctx: FileContext) -> libcst.ClassDef | None:
    """The class whose body the walk is directly in, if that class is at module level."""
    scopes = ctx.resolver.scopes
    if len(scopes) == 2 and scopes[1].kind == "class" and isinstance(scopes[1].node, libcst.ClassDef):
        return scopes[1].node
    return None


# Recognising settings -------------------------------------------------------------


def setting_assignments(ctx: FileContext, node: libcst.CSTNode) -> tuple[Setting, ...]:
    """The settings an `Assign`, `AnnAssign` or `Call` node gives values to (cached per node).

    Call it from `visit_Assign`/`visit_AnnAssign`/`visit_Call`: where a module-level or
    class-level assignment counts depends on where the walk is.
    """
    return ctx.cached("settings", node, lambda: tuple(_settings_of(ctx, node)))


def _settings_of(ctx: FileContext, node: libcst.CSTNode) -> Iterator[Setting]:
    if isinstance(node, libcst.Assign):
        for target in node.targets:
            yield from _assigned(ctx, target.target, node.value)
    elif isinstance(node, libcst.AnnAssign) and node.value is not None:
        yield from _assigned(ctx, node.target, node.value)
    elif isinstance(node, libcst.Call):
        yield from _config_method_items(ctx, node)


def _assigned(ctx: FileContext, target: libcst.BaseExpression, value: libcst.BaseExpression) -> Iterator[Setting]:
    if isinstance(target, libcst.Name) and _SETTING_NAME.match(target.value):
        kind = _plain_setting_kind(ctx)
        if kind is not None:
            owners = enclosing_names(ctx)
            template = f"{target.value} = {{value}}" if kind == MODULE else f"{owners[-1]}.{target.value} = {{value}}"
            yield Setting(target.value, value, target, kind, owners, template, _enclosing_conditions(ctx, target))
    elif isinstance(target, libcst.Subscript):
        config = _config_object(target.value)
        key = subscript_key(target)
        if config is not None and key is not None and _SETTING_NAME.match(key):
            template, conditions = f'{config}["{key}"] = {{value}}', _enclosing_conditions(ctx, target)
            yield Setting(key, value, target, APP_CONFIG, enclosing_names(ctx), template, conditions)


def _plain_setting_kind(ctx: FileContext) -> str | None:
    """MODULE or CLASS for a bare-name assignment where the walk is, or None if neither."""
    if ctx.resolver.current.kind == "module":
        return MODULE if is_settings_module(ctx) else None
    config_class = _top_level_class(ctx)
    return CLASS if config_class is not None and _is_config_class(ctx, config_class) else None


def _config_object(expr: libcst.BaseExpression) -> str | None:
    """`app.config` for an `<anything>.config` attribute, as written; else None."""
    if isinstance(expr, libcst.Attribute) and expr.attr.value == "config":
        return dotted_name(expr) or "config"
    return None


def _config_method_items(ctx: FileContext, call: libcst.Call) -> Iterator[Setting]:
    func = call.func
    if not (isinstance(func, libcst.Attribute) and func.attr.value in _CONFIG_METHODS):
        return
    config = _config_object(func.value)
    if config is None:
        return
    owners, conditions = enclosing_names(ctx), _enclosing_conditions(ctx, call)
    for arg in call.args:
        if arg.keyword is not None and _SETTING_NAME.match(arg.keyword.value):
            name = arg.keyword.value
            template = f"{config}.{func.attr.value}({name}={{value}})"
            yield Setting(name, arg.value, arg, APP_CONFIG, owners, template, conditions)
        elif arg.keyword is None and not arg.star and isinstance(arg.value, libcst.Dict):
            for name, element in _dict_items(arg.value):
                template = f'{config}.{func.attr.value}({{{{"{name}": {{value}}}}}})'
                yield Setting(name, element.value, element, APP_CONFIG, owners, template, conditions)


def _dict_items(node: libcst.Dict) -> Iterator[tuple[str, libcst.DictElement]]:
    for element in node.elements:
        if not isinstance(element, libcst.DictElement) or not isinstance(element.key, libcst.SimpleString):
            continue
        name = string_value(element.key)
        if isinstance(name, str) and _SETTING_NAME.match(name):
            yield name, element


# Whether a value is the one production gets ----------------------------------------


def is_overridden(ctx: FileContext, setting: Setting, patterns: Sequence[str] = NON_PRODUCTION_PATTERNS) -> bool:
    """Whether production gets another value for `setting` from this same module.

    A module-level setting assigned again further down (`DEBUG = True` ... `DEBUG =
    env.bool("DEBUG")`) is overridden; so is a config class attribute that a production
    subclass in the module sets again (`class Config: DEBUG = True` with `class
    ProductionConfig(Config): DEBUG = False`). Development and test subclasses do not count.
    """
    if setting.kind == MODULE:
        binding = ctx.resolver.module_scope.bindings.get(setting.name)
        return binding is not None and binding.kind == "value" and binding.value is not setting.value
    if setting.kind == CLASS and setting.config_class is not None:
        overriding = _subclasses_setting(ctx, setting.config_class, setting.name)
        return any(not name_matches(name, patterns) for name in overriding)
    return False


@dataclass(frozen=True)
class _ClassInfo:
    bases: tuple[str, ...]  # last part of each base's dotted name
    settings: frozenset[str]


def _module_classes(ctx: FileContext) -> dict[str, _ClassInfo]:
    """Module-level classes by name, with their bases and the UPPER_CASE names they assign."""
    return ctx.cached("config-classes", ctx.module, lambda: _collect_classes(ctx.module))


def _collect_classes(module: libcst.Module) -> dict[str, _ClassInfo]:
    classes = {}
    for statement in module.body:
        if isinstance(statement, libcst.ClassDef):
            bases = tuple((dotted_name(arg.value) or "").rsplit(".", 1)[-1] for arg in statement.bases)
            classes[statement.name.value] = _ClassInfo(bases, frozenset(_class_setting_names(statement)))
    return classes


def _class_setting_names(node: libcst.ClassDef) -> Iterator[str]:
    return (name for name, _ in _class_assignments(node) if _SETTING_NAME.match(name))


def _class_assignments(node: libcst.ClassDef) -> Iterator[tuple[str, libcst.BaseExpression]]:
    """(name, value) for each plain `NAME = value` / `NAME: T = value` directly in a class body."""
    for line in node.body.body:
        for small in line.body if isinstance(line, libcst.SimpleStatementLine) else ():
            if isinstance(small, libcst.Assign):
                yield from ((t.target.value, small.value) for t in small.targets if isinstance(t.target, libcst.Name))
            elif isinstance(small, libcst.AnnAssign) and isinstance(small.target, libcst.Name):
                if small.value is not None:
                    yield small.target.value, small.value


def _subclasses_setting(ctx: FileContext, base: str, name: str) -> Iterator[str]:
    """Names of module classes deriving from `base` (at any depth) that set `name` again."""
    classes = _module_classes(ctx)
    derived, frontier = set(), {base}
    while frontier:
        frontier = {cls for cls, info in classes.items() if frontier & set(info.bases) and cls not in derived}
        derived |= frontier
    return (cls for cls in sorted(derived) if name in classes[cls].settings)


def sibling_value(ctx: FileContext, setting: Setting, name: str) -> libcst.BaseExpression | None:
    """The value the same settings module or config class gives `name` (`CORS_ALLOW_CREDENTIALS`).

    For `app.config` items, None: they are set one by one anywhere in the program.
    """
    if setting.kind == MODULE:
        return _module_value(ctx, name)
    if setting.kind == CLASS:
        config_class = _top_level_class(ctx)
        return _class_value(config_class, name) if config_class is not None else None
    return None


def _module_value(ctx: FileContext, name: str) -> libcst.BaseExpression | None:
    binding = ctx.resolver.module_scope.bindings.get(name)
    return binding.value if binding is not None and binding.kind == "value" else None


def _class_value(node: libcst.ClassDef, name: str) -> libcst.BaseExpression | None:
    values = [value for assigned, value in _class_assignments(node) if assigned == name]
    return values[-1] if values else None


# Starlette/FastAPI middleware --------------------------------------------------------


def middleware_configured(ctx: FileContext, call: libcst.Call, middleware: frozenset[str]) -> str | None:
    """How the source spells `call` if it configures one of `middleware` (qualified names), else None.

    `CORSMiddleware(app, ...)`, `app.add_middleware(CORSMiddleware, ...)` and
    `Middleware(CORSMiddleware, ...)` all take the middleware's options as their keywords.
    """
    written = dotted_name(call.func) or "the call"
    if ctx.qualified_name(call.func) in middleware:
        return f"{written}()"
    first = call.args[0] if call.args else None
    if first is not None and first.keyword is None and not first.star and ctx.qualified_name(first.value) in middleware:
        return f"{written}({dotted_name(first.value)}, ...)"
    return None

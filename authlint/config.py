"""`[tool.authlint]` discovery and validation, rule selection, and per-rule options.

Configuration comes from the nearest `authlint.toml` / `.authlint.toml` (top-level keys)
or `pyproject.toml` with a `[tool.authlint]` table, found by walking up from the first
scanned path; `--config` names one explicitly. Every mistake is a ConfigError naming
the file, the key and a fix; nothing is silently ignored.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pathspec

from authlint.engine import FileSettings, RuleSetting
from authlint.frameworks.base import DEFAULT_PUBLIC_ROUTES, LinkSettings
from authlint.link import ProjectRuleSetting
from authlint.model import Severity
from authlint.registry import all_rules
from authlint.rule import FileRule, ProjectRule, Rule
from authlint.runner import DEFAULT_FILE_TIMEOUT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILES = ("authlint.toml", ".authlint.toml", "pyproject.toml")

_LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
# The team's own auth vocabulary, taught to the framework adapters.
_AUTH_KEYS = ("auth-decorators", "auth-dependencies", "admin-checks", "public-routes", "extend-public-routes")
_KNOWN_KEYS = (
    *_LIST_KEYS, *_AUTH_KEYS, "fail-on", "per-file-ignores", "rules", "respect-gitignore", "force-exclude", "baseline",
    "cache-dir", "file-timeout",
)  # fmt: skip
_RULE_COMMON_KEYS = ("severity",)


class ConfigError(Exception):
    """A configuration or usage mistake; its message is shown to the user as is."""


@dataclass
class Config:
    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.LOW
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    respect_gitignore: bool = True
    force_exclude: bool = False
    auth_decorators: list[str] = field(default_factory=list)
    auth_dependencies: list[str] = field(default_factory=list)
    admin_checks: list[str] = field(default_factory=list)
    public_routes: list[str] | None = None
    extend_public_routes: list[str] = field(default_factory=list)
    baseline: Path | None = None  # relative to the configuration file's directory when read from it
    cache_dir: Path | None = None  # absolute; `cache-dir` is relative to the configuration file
    file_timeout: float = DEFAULT_FILE_TIMEOUT  # seconds per file; 0 means no limit

    @property
    def where(self) -> str:
        """How messages name this configuration: `pyproject.toml [tool.authlint]`."""
        if self.path is None:
            return "the command line"
        table = " [tool.authlint]" if self.path.name == "pyproject.toml" else ""
        return f"{_display(self.path)}{table}"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# Finding and reading the file ------------------------------------------------


def find_config_file(start: Path) -> Path | None:
    directory = start.resolve()
    if not directory.is_dir():
        directory = directory.parent
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_FILES:
            candidate = candidate_dir / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_authlint_table(candidate)):
                return candidate
    return None


def _has_authlint_table(path: Path) -> bool:
    try:
        return "authlint" in _read_toml(path).get("tool", {})
    except ConfigError:
        return True  # report the broken file rather than skip past it


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_display(path)}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{_display(path)}: cannot read: {exc.strerror or exc}") from None


def load_config(explicit: Path | None, first_path: Path) -> Config:
    path = explicit if explicit is not None else find_config_file(first_path)
    if path is None:
        return Config()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("authlint", {})
    config = Config(path=path, root=path.resolve().parent)
    _apply_table(config, data)
    return config


# Validation --------------------------------------------------------------------


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def _apply_table(config: Config, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key not in _KNOWN_KEYS:
            known = ", ".join(_KNOWN_KEYS)
            raise ConfigError(
                f"{config.where}: unknown key {key!r}{did_you_mean(key, _KNOWN_KEYS) or f'; known keys: {known}'}"
            )
        _apply_key(config, key, value)
    _validate_selectors(config)
    for code, options in config.rules.items():
        validate_rule_options(config.where, code, options)


def _apply_key(config: Config, key: str, value: Any) -> None:
    where = f"{config.where}: {key!r}"
    attribute = key.replace("-", "_")
    if key in _LIST_KEYS:
        setattr(config, attribute, _string_list(where, value))
    elif key in _AUTH_KEYS:
        example = '["/health", "/docs*"]' if key.endswith("public-routes") else '["app.auth.require_user", "*.require_*"]'
        setattr(config, attribute, _string_list(where, value, example))
    elif key == "fail-on":
        config.fail_on = _severity(where, value)
    elif key in ("respect-gitignore", "force-exclude"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
        setattr(config, attribute, value)
    elif key == "file-timeout":
        config.file_timeout = _seconds(where, value)
    elif key == "per-file-ignores":
        config.per_file_ignores = _per_file_ignores(where, value)
    elif key == "rules":
        config.rules = _rules_table(where, value)
    elif key == "baseline":
        if not isinstance(value, str) or not value.strip():
            example = ".authlint-baseline.json"
            raise ConfigError(f'{where} must be the path of a baseline file, like "{example}"; got {value!r}')
        config.baseline = Path(_display(config.root / value))
    elif key == "cache-dir":
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f'{where} must be a folder path as a string, like ".authlint_cache"; got {value!r}')
        config.cache_dir = config.root / Path(value).expanduser()


def _string_list(where: str, value: Any, example: str = '["AL101", "AL2"]') -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings, like {example}; got {value!r}")
    return value


def _seconds(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise ConfigError(f"{where} must be a number of seconds (0 for no limit), like 30; got {value!r}")
    return float(value)


def _severity(where: str, value: Any) -> Severity:
    try:
        return Severity.parse(value) if isinstance(value, str) else Severity.parse(repr(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _per_file_ignores(where: str, value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of glob = [codes], like "tests/*" = ["AL108"]')
    table = {}
    for glob, codes in value.items():
        table[glob] = _string_list(f"{where} entry {glob!r}", codes)
        _compile_globs(f"{where} entry {glob!r}", [glob])
    return table


def _rules_table(where: str, value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError(f"{where} must hold one table per rule code, like [tool.authlint.rules.AL107]")
    return value


def _compile_globs(where: str, globs: list[str]) -> pathspec.GitIgnoreSpec:
    try:
        return pathspec.GitIgnoreSpec.from_lines(globs)
    except Exception as exc:  # pathspec raises several types for bad patterns
        raise ConfigError(f"{where}: invalid glob pattern: {exc}") from None


def _validate_selectors(config: Config) -> None:
    for key in ("select", "ignore", "extend-select"):
        for selector in getattr(config, key.replace("-", "_")) or []:
            expand_selector(selector, f"{config.where}: {key!r}")
    for glob, codes in config.per_file_ignores.items():
        for selector in codes:
            expand_selector(selector, f"{config.where}: 'per-file-ignores' entry {glob!r}")


def expand_selector(selector: str, where: str) -> frozenset[str]:
    """The rule codes a selector names: a code (AL101), a prefix (AL1), ALL, or a rule name."""
    rules = all_rules()
    wanted = selector.strip()
    if wanted.upper() == "ALL":
        return frozenset(rule.code for rule in rules)
    codes = frozenset(rule.code for rule in rules if rule.code.startswith(wanted.upper()) or rule.name == wanted)
    if not codes:
        choices = [rule.code for rule in rules] + [rule.name for rule in rules]
        raise ConfigError(f"unknown rule code {selector!r} in {where}{did_you_mean(wanted.upper(), choices)}")
    return codes


def validate_rule_options(where: str, code: str, options: dict[str, Any]) -> None:
    rule = _rule_for_options(where, code)
    fields = rule.option_fields()
    allowed = (*fields, *_RULE_COMMON_KEYS)
    for key, value in options.items():
        place = f"{where}: [rules.{code}] {key!r}"
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f"; {code} accepts: {', '.join(allowed)}"
            raise ConfigError(f"{where}: unknown option {key!r} for {code}{hint}")
        if key == "severity":
            _severity(place, value)
        else:
            _check_option_type(place, fields[key], value)


def _rule_for_options(where: str, code: str) -> type[Rule]:
    by_code = {rule.code: rule for rule in all_rules()}
    if code not in by_code:
        raise ConfigError(f"{where}: unknown rule code {code!r} under 'rules'{did_you_mean(code, by_code)}")
    return by_code[code]


def _check_option_type(place: str, option: dataclasses.Field, value: Any) -> None:
    default = option.default if option.default is not dataclasses.MISSING else option.default_factory()  # type: ignore[misc]
    expected = type(default)
    ok = isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if isinstance(default, list) and ok:
        ok = all(isinstance(item, str) for item in value)
    if not ok:
        raise ConfigError(f"{place} must be of type {expected.__name__} (default {default!r}), not {value!r}")


# From configuration to what the engine runs ----------------------------------------


def enabled_codes(config: Config) -> frozenset[str]:
    where = "the command line and configuration"
    selected: set[str] = set()
    for selector in config.select if config.select is not None else ["ALL"]:
        selected |= expand_selector(selector, where)
    for selector in config.extend_select:
        selected |= expand_selector(selector, where)
    for selector in config.ignore:
        selected -= expand_selector(selector, where)
    return frozenset(selected)


def rule_options(config: Config, rule: type[Rule]) -> tuple[Any, Severity]:
    raw = dict(config.rules.get(rule.code, {}))
    severity = Severity.parse(raw.pop("severity")) if "severity" in raw else rule.severity
    fields = rule.option_fields()
    values = {fields[key].name: value for key, value in raw.items()}
    return rule.Options(**values), severity


def file_settings(config: Config, collect_facts: bool | None = None) -> FileSettings:
    """What the per-file phase runs; facts are kept when a project rule needs them (or `collect_facts`)."""
    codes = enabled_codes(config)
    settings = []
    for rule in all_rules():
        if rule.code in codes and issubclass(rule, FileRule):
            options, severity = rule_options(config, rule)
            settings.append(RuleSetting(rule, options, severity))
    ignores = tuple(
        (_compile_globs("per-file-ignores", [glob]), frozenset().union(*(expand_selector(c, glob) for c in codes)))
        for glob, codes in config.per_file_ignores.items()
    )
    project_rules = project_rule_settings(config)
    if collect_facts is None:
        collect_facts = bool(project_rules)
    # A project rule without a gate of its own reads only what the framework adapters collect.
    fact_rules = tuple(
        s.rule for s in project_rules if s.rule.requires is not None or s.rule.requires_words or s.rule.requires_text
    )
    return FileSettings(tuple(settings), ignores, collect_facts, fact_rules)


def project_rule_settings(config: Config) -> list[ProjectRuleSetting]:
    codes = enabled_codes(config)
    settings = []
    for rule in all_rules():
        if rule.code in codes and issubclass(rule, ProjectRule):
            options, severity = rule_options(config, rule)
            settings.append(ProjectRuleSetting(rule, options, severity))
    return settings


def link_settings(config: Config) -> LinkSettings:
    public = tuple(config.public_routes) if config.public_routes is not None else DEFAULT_PUBLIC_ROUTES
    return LinkSettings(
        auth_decorators=tuple(config.auth_decorators),
        auth_dependencies=tuple(config.auth_dependencies),
        admin_checks=tuple(config.admin_checks),
        public_routes=public + tuple(config.extend_public_routes),
    )


def enabled_rules(config: Config) -> tuple[type[Rule], ...]:
    codes = enabled_codes(config)
    return tuple(rule for rule in all_rules() if rule.code in codes)

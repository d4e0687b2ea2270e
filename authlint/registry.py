"""Finds the rules: every Rule subclass defined in a module of the `authlint.rules` package.

Adding a rule is adding a module; nothing here names a rule.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from authlint.rule import FileRule, ProjectRule, Rule


class RegistryError(Exception):
    pass


@functools.lru_cache(maxsize=None)
def all_rules() -> tuple[type[Rule], ...]:
    package = rules_package()
    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Rule)
            and obj.__module__ == module.__name__
            and obj not in (Rule, FileRule, ProjectRule)
        )
    _check_unique(found)
    return tuple(sorted(found, key=lambda rule: rule.code))


def rules_package() -> ModuleType:
    """`authlint.rules`: installed from `rules/`, or `rules/` itself in a source checkout.

    The wheel maps the top-level `rules/` folder to `authlint.rules`; running from a
    checkout without installing (`python -m pytest`, `python -m authlint`) finds the
    folder beside `authlint/` instead.
    """
    try:
        return importlib.import_module("authlint.rules")
    except ModuleNotFoundError:
        source = Path(__file__).resolve().parent.parent / "rules" / "__init__.py"
        if not source.is_file():
            raise
    spec = importlib.util.spec_from_file_location(
        "authlint.rules", source, submodule_search_locations=[str(source.parent)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["authlint.rules"] = module
    spec.loader.exec_module(module)
    return module


def _check_unique(rules: list[type[Rule]]) -> None:
    for attribute in ("code", "name"):
        seen: dict[str, str] = {}
        for rule in rules:
            value = getattr(rule, attribute)
            if value in seen:
                raise RegistryError(
                    f"rule {attribute} {value!r} is defined twice: {seen[value]} and {rule.__module__}"
                )
            seen[value] = rule.__module__


def rules_by_code() -> dict[str, type[Rule]]:
    return {rule.code: rule for rule in all_rules()}


def rule_module_name(rule: type[Rule]) -> str:
    """`jwt_alg_none` for the rule in `authlint.rules.jwt_alg_none` (its fixtures folder)."""
    return rule.__module__.rsplit(".", 1)[-1]

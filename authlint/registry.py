"""Finds the rules: every Rule subclass defined in a module of the `authlint.rules` package.

Adding a rule is adding a module; nothing here names a rule.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from authlint.rule import FileRule, Rule


class RegistryError(Exception):
    pass


@functools.lru_cache(maxsize=None)
def all_rules() -> tuple[type[Rule], ...]:
    import authlint.rules as package

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
            and obj not in (Rule, FileRule)
        )
    _check_unique(found)
    return tuple(sorted(found, key=lambda rule: rule.code))


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

"""Framework adapters: each turns the project's FileFacts into `Route` records.

An adapter is a `Framework` subclass in a module of this package; nothing here names
one. Each declares the top-level modules whose import makes a file matter to it (the
pre-parse gate for the link phase) and builds its routes from a `Project`, with the
auth evidence that applies to each route from every level.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import traceback

from authlint.frameworks.base import Framework, LinkSettings
from authlint.model import PROJECT, FileError, Route
from authlint.project import Project

__all__ = ["Framework", "LinkSettings", "all_frameworks", "build_routes", "wants_facts"]


@functools.lru_cache(maxsize=None)
def all_frameworks() -> tuple[Framework, ...]:
    found: list[type[Framework]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in ("base", "common"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, Framework) and obj.__module__ == module.__name__
        ]
    return tuple(cls() for cls in sorted(found, key=lambda cls: cls.name))


@functools.lru_cache(maxsize=None)
def _gate() -> tuple[frozenset[str], tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]]:
    modules: set[str] = set()
    texts = []
    for framework in all_frameworks():
        modules |= framework.modules
        if framework.text is not None:
            texts.append((framework.words, framework.text))
    return frozenset(modules), tuple(texts)


def wants_facts(modules: frozenset[str], text: str, lowered: str | None = None) -> bool:
    """Whether a file can matter to any framework adapter (checked before parsing)."""
    framework_modules, texts = _gate()
    if framework_modules & modules:
        return True
    lowered = text.lower() if lowered is None else lowered
    for words, pattern in texts:
        if (not words or any(w in lowered for w in words)) and pattern.search(text):
            return True
    return False


def build_routes(project: Project, settings: LinkSettings, errors: list[FileError]) -> list[Route]:
    """Every adapter's routes; an adapter that fails is an internal error, the others carry on."""
    routes: list[Route] = []
    for framework in all_frameworks():
        try:
            routes += framework.routes(project, settings)
        except Exception as exc:  # an adapter bug must not lose the other frameworks' routes
            detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3))
            message = f"the {framework.name} adapter failed: {type(exc).__name__}: {exc}"
            errors.append(FileError(PROJECT, "internal", message, detail=detail))
    routes = [settings.mark_public(route) for route in routes]
    return sorted(routes, key=lambda r: (r.path, r.methods, r.location.path, r.location.line))


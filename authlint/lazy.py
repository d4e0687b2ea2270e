"""libcst, imported on first use: a warm run that the cache answers never pays for it.

Every rule and fact module does a plain `import libcst`, and the registry imports every
rule for its metadata (config validation, SARIF `tool.driver.rules`). Importing libcst
costs about a quarter of a second, which a scan answered entirely from the cache does
not otherwise spend. So `authlint/__init__.py` puts a deferred module object in
`sys.modules["libcst"]` before anything else imports it: later `import libcst`
statements bind that object, and the first real attribute read (`libcst.Name`, a parse)
runs libcst's own `__init__` inside it, the way `importlib.util.LazyLoader` would.

Not LazyLoader itself: on CPython 3.11 its module loads on *any* attribute read,
including the `__spec__` that every later `import libcst` statement inspects, so
nothing would be deferred. This module object loads only on a missing attribute
(`__getattr__`), so `__spec__`, `__path__` and `__name__`, which the import system
reads, leave it unloaded.

The rule for authlint's own code: nothing that runs at import reads `libcst.X` (compare
class names instead, `type(node).__name__ in _NAMES`, or build the value in a function);
annotations are fine (`from __future__ import annotations`). tests/test_cache.py checks
both the rule and its effect: a run the cache answers leaves libcst unloaded.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types

_lock = threading.RLock()


class _DeferredModule(types.ModuleType):
    def __getattr__(self, attribute: str) -> object:
        # Only reached for attributes the module does not have yet: the first real use.
        _load(self)
        return getattr(self, attribute)


def _load(module: types.ModuleType) -> None:
    with _lock:
        if type(module) is not _DeferredModule:  # another thread finished it
            return
        module.__class__ = types.ModuleType
        try:
            module.__spec__.loader.exec_module(module)  # type: ignore[union-attr]
        except BaseException:
            module.__class__ = _DeferredModule
            raise


def defer_import(name: str) -> None:
    """Put a deferred `name` into sys.modules, unless it is imported already (or not installed)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return  # the real import will report it
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _DeferredModule
    sys.modules[name] = module


def load_now(name: str) -> None:
    """Finish a deferred import: before forking workers, so they share it instead of each importing it."""
    module = sys.modules.get(name)
    if type(module) is _DeferredModule:
        _load(module)


def is_loaded(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and type(module) is not _DeferredModule

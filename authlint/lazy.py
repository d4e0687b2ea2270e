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

Importing a submodule first (`import libcst.matchers` in a plugin rule) loads the
package before it, as an ordinary import would (_PackageBeforeSubmodules).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
import types
from importlib.machinery import ModuleSpec

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


class _PackageBeforeSubmodules(importlib.abc.MetaPathFinder):
    """Loads a deferred package before any of its submodules is imported.

    `from libcst._nodes.expression import Name` (a plugin rule, hypothesmith) would
    otherwise run the submodule inside a package whose `__init__` never ran, and the
    submodule's own `from libcst import ...` would then import it back half-initialized.
    """

    def find_spec(self, fullname: str, path: object, target: object = None) -> ModuleSpec | None:
        package, dot, _ = fullname.partition(".")
        if not dot or type(sys.modules.get(package)) is not _DeferredModule:
            return None
        load_now(package)
        module = sys.modules.get(fullname)
        if module is None:
            return None  # the package does not import it: the regular finders will
        # The package's `__init__` imported it just now, but the import system has already
        # decided to load it and would run it a second time from its own spec: hand it a
        # spec whose loader gives back the module that exists (_find_spec returns the
        # `__spec__` of a module that appeared meanwhile, hence the swap).
        reuse = ModuleSpec(fullname, _Existing(module), origin=module.__spec__.origin)
        reuse.submodule_search_locations = module.__spec__.submodule_search_locations
        module.__spec__ = reuse
        return reuse


class _Existing(importlib.abc.Loader):
    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.spec  # its own spec again; nothing runs twice


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
    if not any(isinstance(finder, _PackageBeforeSubmodules) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PackageBeforeSubmodules())


def load_now(name: str) -> None:
    """Finish a deferred import: before forking workers, so they share it instead of each importing it."""
    module = sys.modules.get(name)
    if type(module) is _DeferredModule:
        _load(module)


def is_loaded(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and type(module) is not _DeferredModule

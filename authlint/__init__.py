"""authlint: a static security linter for the authentication and authorization of Python APIs."""

from authlint.lazy import defer_import

__version__ = "0.1.0"

# Before any authlint module imports it: see authlint/lazy.py.
defer_import("libcst")

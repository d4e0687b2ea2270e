"""authlint: a static security linter for the authentication and authorization of Python APIs."""

__version__ = "0.1.0"

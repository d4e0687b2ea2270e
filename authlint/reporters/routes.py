"""`authlint routes`: the API inventory (OWASP API9), one row per endpoint.

Columns: method, path, handler (`file:line`), framework, auth (each mechanism with the
level it comes from), roles/scopes, and flags: `public` (matched `public-routes`),
`admin` (an admin-looking path), `object-id` (takes an object id in the path).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from authlint.model import Route

ROUTE_FORMATS = ("table", "json", "csv", "markdown")
_ADMIN_SEGMENT = re.compile(r"(?:^|/)(?:admin|internal|manage|management|staff|superuser)(?:/|$|[-_])", re.I)
_OBJECT_ID = re.compile(r"(?:^|_)(?:id|pk|uuid|slug|key)$|^(?:id|pk|uuid)$", re.I)


def route_flags(route: Route) -> list[str]:
    flags = []
    if route.public:
        flags.append("public")
    if _ADMIN_SEGMENT.search(route.path):
        flags.append("admin")
    if any(_OBJECT_ID.search(p) for p in route.path_params):
        flags.append("object-id")
    return flags


def auth_summary(route: Route) -> str:
    evidence = route.effective_auth
    if not evidence:
        return "none"
    return "; ".join(f"{e.mechanism} [{e.level}]" for e in evidence)


def route_record(route: Route) -> dict[str, Any]:
    return {
        "methods": list(route.methods),
        "path": route.path,
        "handler": route.handler,
        "file": route.location.path,
        "line": route.location.line,
        "framework": route.framework,
        "authenticated": route.authenticated,
        "auth": [
            {
                "mechanism": e.mechanism,
                "level": e.level,
                "kind": e.kind,
                "requirements": list(e.requirements),
                "file": e.location.path,
                "line": e.location.line,
            }
            for e in route.effective_auth
        ],
        "requirements": list(route.requirements),
        "path_params": list(route.path_params),
        "flags": route_flags(route),
    }


def _row(route: Route) -> list[str]:
    return [
        ",".join(route.methods),
        route.path,
        f"{route.location.path}:{route.location.line}",
        route.framework,
        auth_summary(route),
        ", ".join(route.requirements),
        ", ".join(route_flags(route)),
    ]


_HEADERS = ["method", "path", "handler", "framework", "auth", "roles/scopes", "flags"]


def render_routes(routes: list[Route], format: str, color: bool = False, width: int | None = None) -> str:
    if format == "json":
        return json.dumps({"routes": [route_record(r) for r in routes]}, indent=2) + "\n"
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_HEADERS)
        writer.writerows(_row(r) for r in routes)
        return out.getvalue()
    if format == "markdown":
        lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
        for route in routes:
            cells = [c.replace("|", "\\|") or " " for c in _row(route)]
            cells[1], cells[2] = f"`{cells[1]}`", f"`{cells[2]}`"
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
    if format == "table":
        return _table(routes, color, width)
    raise ValueError(f"unknown format {format!r}; expected one of {', '.join(ROUTE_FORMATS)}")


def _table(routes: list[Route], color: bool, width: int | None) -> str:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(*_HEADERS, title=f"{len(routes)} routes", title_justify="left")
    for route in routes:
        row = [escape(cell) for cell in _row(route)]  # "[handler]" is text, not rich markup
        if not route.authenticated and not route.public:
            row[4] = f"[bold red]{row[4]}[/]" if color else row[4]
        table.add_row(*row)
    out = io.StringIO()
    Console(file=out, color_system="standard" if color else None, width=width or 160, highlight=False).print(table)
    return out.getvalue()

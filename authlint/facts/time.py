"""Points in time and durations, as far as they can be known without running the code.

What a rule about token lifetimes needs: is this expression "now" (`datetime.now(...)`,
`datetime.utcnow()`, Django's `timezone.now()`, `time.time()`, also through `int(...)`
and a local name bound to one), how long is this duration (`timedelta(days=30)`,
`relativedelta(months=1)`, `3600 * 24`, a module constant holding either), and so how
far from now is `now + duration`. Anything not statically known is None, never a guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst

if TYPE_CHECKING:
    from authlint.context import FileContext

# Calls returning the current time, as a datetime or as a Unix timestamp in seconds.
NOW_CALLS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "django.utils.timezone.now",
        "time.time",
        "arrow.now",
        "arrow.utcnow",
        "pendulum.now",
    }
)

TIMEDELTA = "datetime.timedelta"
RELATIVEDELTA = "dateutil.relativedelta.relativedelta"

# timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks), in seconds.
_TIMEDELTA_UNITS = (
    ("days", 86400.0),
    ("seconds", 1.0),
    ("microseconds", 1e-6),
    ("milliseconds", 1e-3),
    ("minutes", 60.0),
    ("hours", 3600.0),
    ("weeks", 604800.0),
)
# relativedelta's plural (relative) keywords; months and years are taken at their shortest.
_RELATIVEDELTA_UNITS = {
    "years": 365 * 86400.0,
    "months": 28 * 86400.0,
    "weeks": 604800.0,
    "days": 86400.0,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
    "microseconds": 1e-6,
}

# Wrappers that keep the instant they are given: int(time.time()), calendar.timegm(...).
_SAME_INSTANT_CALLS = frozenset({"int", "float", "round", "math.floor", "math.ceil", "calendar.timegm", "time.mktime"})
_SAME_INSTANT_METHODS = frozenset({"timestamp", "utctimetuple", "timetuple"})

_MAX_DEPTH = 16


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _resolved(ctx: FileContext, expr: libcst.CSTNode | None) -> libcst.CSTNode | None:
    return ctx.resolve(expr) if isinstance(expr, libcst.Name) else expr


def _unwrap_instant(ctx: FileContext, expr: libcst.CSTNode | None) -> libcst.CSTNode | None:
    """`x` for `int(x)`, `x.timestamp()`, `calendar.timegm(x.utctimetuple())`, through names."""
    for _ in range(_MAX_DEPTH):
        expr = _resolved(ctx, expr)
        if not isinstance(expr, libcst.Call):
            return expr
        func = expr.func
        if isinstance(func, libcst.Attribute) and func.attr.value in _SAME_INSTANT_METHODS and not expr.args:
            expr = func.value
        elif len(expr.args) == 1 and not expr.args[0].star and ctx.qualified_name(func) in _SAME_INSTANT_CALLS:
            expr = expr.args[0].value
        else:
            return expr
    return None


def is_now(ctx: FileContext, expr: libcst.CSTNode | None) -> bool:
    """Whether `expr` is the current time: a now() call, `int(time.time())`, a name bound to one."""
    expr = _unwrap_instant(ctx, expr)
    return isinstance(expr, libcst.Call) and ctx.qualified_name(expr.func) in NOW_CALLS


def duration_seconds(ctx: FileContext, expr: libcst.CSTNode | None, _depth: int = 0) -> float | None:
    """Seconds in a duration: a timedelta/relativedelta, a number of seconds, or arithmetic on them."""
    if expr is None or _depth > _MAX_DEPTH:
        return None
    number = _number(ctx.literal(expr))
    if number is not None:
        return number
    expr = _resolved(ctx, expr)
    if isinstance(expr, libcst.Call):
        return _delta_call_seconds(ctx, expr, _depth)
    if isinstance(expr, libcst.BinaryOperation):
        return _duration_arithmetic(ctx, expr, _depth)
    return None


def _delta_call_seconds(ctx: FileContext, call: libcst.Call, depth: int) -> float | None:
    func = call.func
    if isinstance(func, libcst.Attribute) and func.attr.value == "total_seconds" and not call.args:
        return duration_seconds(ctx, func.value, depth + 1)
    qualified = ctx.qualified_name(func)
    if qualified == TIMEDELTA:
        return _timedelta_seconds(ctx, call)
    if qualified == RELATIVEDELTA:
        return _relativedelta_seconds(ctx, call)
    return None


def _timedelta_seconds(ctx: FileContext, call: libcst.Call) -> float | None:
    arguments = ctx.arguments(call)
    if not arguments.complete or len(arguments.positional) > len(_TIMEDELTA_UNITS):
        return None
    units = dict(_TIMEDELTA_UNITS)
    given = list(zip((name for name, _ in _TIMEDELTA_UNITS), arguments.positional))
    given += list(arguments.keywords.items())
    return _sum_units(ctx, given, units)


def _relativedelta_seconds(ctx: FileContext, call: libcst.Call) -> float | None:
    arguments = ctx.arguments(call)
    if not arguments.complete or arguments.positional:  # positional arguments are two dates
        return None
    return _sum_units(ctx, list(arguments.keywords.items()), _RELATIVEDELTA_UNITS)


def _sum_units(ctx: FileContext, given: list, units: dict[str, float]) -> float | None:
    total = 0.0
    for name, value_expr in given:
        if name not in units:  # relativedelta's singular keywords set a field, they add nothing
            return None
        value = _number(ctx.literal(value_expr))
        if value is None:
            return None
        total += value * units[name]
    return total


def _duration_arithmetic(ctx: FileContext, node: libcst.BinaryOperation, depth: int) -> float | None:
    operator = node.operator
    if isinstance(operator, (libcst.Add, libcst.Subtract)):
        left, right = duration_seconds(ctx, node.left, depth + 1), duration_seconds(ctx, node.right, depth + 1)
        if left is None or right is None:
            return None
        return left + right if isinstance(operator, libcst.Add) else left - right
    if isinstance(operator, libcst.Multiply):
        scaled = _scaled(ctx, node.left, node.right, depth)
        return scaled if scaled is not None else _scaled(ctx, node.right, node.left, depth)
    if isinstance(operator, (libcst.Divide, libcst.FloorDivide)):
        divisor = _number(ctx.literal(node.right))
        duration = duration_seconds(ctx, node.left, depth + 1)
        return duration / divisor if duration is not None and divisor else None
    return None


def _scaled(ctx: FileContext, duration_expr, factor_expr, depth: int) -> float | None:
    factor = _number(ctx.literal(factor_expr))
    duration = duration_seconds(ctx, duration_expr, depth + 1)
    return duration * factor if duration is not None and factor is not None else None


def seconds_from_now(ctx: FileContext, expr: libcst.CSTNode | None, _depth: int = 0) -> float | None:
    """How far after now `expr` is: 2592000.0 for `datetime.now(timezone.utc) + timedelta(days=30)`.

    Follows local names (`now = datetime.now(); exp = now + LIFETIME`) and wrappers that
    keep the instant (`int((now + delta).timestamp())`). None when not a now-relative time.
    """
    if _depth > _MAX_DEPTH:
        return None
    expr = _unwrap_instant(ctx, expr)
    if is_now(ctx, expr):
        return 0.0
    if not isinstance(expr, libcst.BinaryOperation):
        return None
    if isinstance(expr.operator, libcst.Add):
        offset = _offset(ctx, expr.left, expr.right, _depth)
        return offset if offset is not None else _offset(ctx, expr.right, expr.left, _depth)
    if isinstance(expr.operator, libcst.Subtract):
        start = seconds_from_now(ctx, expr.left, _depth + 1)
        duration = duration_seconds(ctx, expr.right, _depth + 1)
        return start - duration if start is not None and duration is not None else None
    return None


def _offset(ctx: FileContext, instant_expr, duration_expr, depth: int) -> float | None:
    start = seconds_from_now(ctx, instant_expr, depth + 1)
    if start is None:
        return None
    duration = duration_seconds(ctx, duration_expr, depth + 1)
    return start + duration if duration is not None else None


def describe_seconds(seconds: float) -> str:
    """`30 days`, `1 day 12 hours`, `90 minutes` -> `1 hour 30 minutes`, `45 seconds`."""
    remaining = int(round(seconds))
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"

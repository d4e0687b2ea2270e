"""Lazy positions match libcst's PositionProvider exactly, for a fraction of its cost."""

from __future__ import annotations

import libcst
from libcst.metadata import MetadataWrapper, PositionProvider

from authlint.positions import resolve_spans
from authlint.walk import walk_nodes

from conftest import REPO

SAMPLE = '''\
import jwt  # comment


@decorator(
    arg=1,
)
async def handler(request, *, token: str = "x") -> dict:
    """Docstring
    over lines."""
    value = jwt.decode(
        token, key,
        algorithms=["RS256"],
    ); other = [x for x in (1, 2) if x]
    if value:
        return {"a": f"{value!r:>10}", **other}
    return lambda y: y + 1 \\
        + 2
'''


def assert_spans_match(source: str) -> int:
    module = libcst.parse_module(source)
    # The module's own range is never reported (libcst trims its final newline).
    nodes = [node for node in walk_nodes([module]) if node is not module]
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    spans = resolve_spans(module, nodes)
    for node in nodes:
        rng = expected[node]
        span = spans[id(node)]
        assert (span.line, span.column, span.end_line, span.end_column) == (
            rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1,
        ), type(node).__name__  # fmt: skip
    return len(nodes)


def test_every_node_of_a_tricky_sample_matches_position_provider() -> None:
    assert assert_spans_match(SAMPLE) > 60


def test_authlint_sources_match_position_provider() -> None:
    for path in sorted((REPO / "authlint").rglob("*.py"))[:12]:
        assert_spans_match(path.read_text(encoding="utf-8"))


def test_resolving_nothing_costs_nothing() -> None:
    assert resolve_spans(libcst.parse_module("x = 1\n"), []) == {}


def test_walk_visits_decorators_before_the_function_body() -> None:
    module = libcst.parse_module("@d\ndef f():\n    g()\n")
    names = [n.value for n in walk_nodes([module]) if isinstance(n, libcst.Name)]
    assert names == ["d", "f", "g"]

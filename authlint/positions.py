"""Positions for the few nodes that are reported, not for every node of every file.

libcst's PositionProvider records a range for every node of the module (about 2x the
cost of parsing it). authlint needs positions only for what it reports, so this
replays the module's code generation once, tracks line and column, records ranges only
for the requested nodes, and stops as soon as the last of them has been written.
"""

from __future__ import annotations

import contextlib
from typing import Iterable

import libcst

from authlint.model import Span


def resolve_spans(module: libcst.Module, nodes: Iterable[libcst.CSTNode]) -> dict[int, Span]:
    """Spans (1-based lines and columns) for `nodes`, keyed by `id(node)`."""
    targets = {id(node) for node in nodes}
    if not targets:
        return {}
    from authlint.replay import AllFound, RecordingState  # needs libcst loaded: see authlint/replay.py

    state = RecordingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets=targets,
    )
    with contextlib.suppress(AllFound):
        module._codegen(state)
    return {
        key: Span(start[0], start[1] + 1, end[0], end[1] + 1)
        for key, (start, end) in state.ranges.items()
    }

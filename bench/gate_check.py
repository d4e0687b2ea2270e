"""Prove on a corpus that gating changes nothing: scan it with the gates and without.

Runs every rule (file and project) and builds the Route table twice, once as `authlint
check` does and once with FileSettings.gating off (every file parsed, every rule run,
every file's facts kept), then prints how many files each parsed and every finding or
route that differs. Exits 1 when anything differs.

Run: python bench/gate_check.py [CORPUS] [--jobs N]   (default: bench/.corpus)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from authlint.testing import compare_gating

BENCH = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=BENCH / ".corpus")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"gate_check: {args.corpus} is not a directory (build it with bench/build_corpus.py)", file=sys.stderr)
        return 2
    # Like bench/run.py: every .py file but bytecode caches, .gitignore not consulted.
    comparison = compare_gating(args.corpus.resolve(), args.jobs, exclude=["__pycache__"])
    print(f"{comparison.files} files; parsed with gating: {comparison.parsed_gated}, "
          f"without: {comparison.parsed_ungated}")  # fmt: skip
    if comparison.equal:
        print("findings and routes: equal")
        return 0
    print(comparison.describe())
    return 1


if __name__ == "__main__":
    sys.exit(main())

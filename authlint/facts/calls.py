"""Arguments of a call, by keyword or position, with `*args`/`**kwargs` taken into account."""

from __future__ import annotations

from dataclasses import dataclass

import libcst

from authlint.facts.literals import Evaluator


@dataclass(frozen=True)
class CallArguments:
    """The arguments of one call as far as they can be known statically.

    `complete` is False when `*args` or `**kwargs` hide arguments authlint cannot see: a
    rule must then not claim an argument is missing.
    """

    positional: tuple[libcst.BaseExpression, ...]
    keywords: dict[str, libcst.BaseExpression]
    keyword_args: dict[str, libcst.Arg]
    complete: bool

    def get(self, keyword: str | None = None, position: int | None = None) -> libcst.BaseExpression | None:
        if keyword is not None and keyword in self.keywords:
            return self.keywords[keyword]
        if position is not None and position < len(self.positional):
            return self.positional[position]
        return None

    def has(self, keyword: str | None = None, position: int | None = None) -> bool | None:
        """True or False when known; None when `*args`/`**kwargs` could hold it."""
        if self.get(keyword, position) is not None:
            return True
        return False if self.complete else None


def call_arguments(call: libcst.Call, evaluator: Evaluator) -> CallArguments:
    positional: list[libcst.BaseExpression] = []
    keywords: dict[str, libcst.BaseExpression] = {}
    keyword_args: dict[str, libcst.Arg] = {}
    complete = True
    for arg in call.args:
        if arg.keyword is not None:
            keywords[arg.keyword.value] = arg.value
            keyword_args[arg.keyword.value] = arg
        elif arg.star == "**":
            entries = evaluator.dict_entries(arg.value)
            if entries is None or any(value is None for value in entries.values()):
                complete = False
            else:
                keywords.update(entries)  # type: ignore[arg-type]
        elif arg.star == "*":
            complete = False
        else:
            positional.append(arg.value)
    return CallArguments(tuple(positional), keywords, keyword_args, complete)

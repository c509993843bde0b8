"""What every rule of engine.explain returns, and the error for a name no rule answers."""

from __future__ import annotations

from engine.functional.explain_terms import Explanation

Names = dict[str, str]  # a factor's generic tensor ("x", "w", "dout") -> its trace name
Answer = tuple[Explanation, Names]


class NotExplainable(ValueError):
    """The name is recorded but no rule explains it (a bug to report)."""

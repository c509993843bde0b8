"""What every rule of engine.explain returns, and the error for a name no rule answers.

A rule is found by name before it reads anything (engine.explain.tensor.rule_for): the
finders (`*_rule` in the `*_rules` modules) look a name's form up in their tables and
return the rule, or None where no rule answers. explain_tensor runs what they return;
explainable only asks whether they return one, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.functional.explain_terms import Explanation
from engine.trace import Trace

Names = dict[str, str]  # a factor's generic tensor ("x", "w", "dout") -> its trace name
Answer = tuple[Explanation, Names]
Rule = Callable[[Trace, tuple[int, ...]], Answer]  # (the pass's trace, index) -> answer


class NotExplainable(ValueError):
    """The name is recorded but no rule explains it (a bug to report)."""

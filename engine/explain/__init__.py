"""Where any number of a stepped pass comes from: `explain_tensor`, the one entry point
for every tensor a pass records (convolution, pooling, BP, recurrent, loss, update).

    from engine.explain import explain_tensor
    exp, names = explain_tensor(net, trace, optimizer, "lstm1.t3.f", (0, 2))
    explainable(net, optimizer, "lstm1.t3.f")  # True: the same lookup, nothing computed

Two kinds of module, named for what they do:
- the rules, here (`*_rules`): which recorded arrays a tensor's number is made of,
  read from the pass's trace and its network;
- the arithmetic, in engine.functional (`explain_cnn`, `explain_dense`,
  `explain_recurrent`, `explain_recurrent_back`): pure functions from arrays to terms
  (an `Explanation`, engine.functional.explain_terms) that add up to the number.
"""

from engine.explain.base import Answer, Names, NotExplainable
from engine.explain.tensor import explain_tensor, explainable
from engine.functional.explain_terms import Explanation, Factor, Term, Then

__all__ = [
    "Answer",
    "Explanation",
    "Factor",
    "Names",
    "NotExplainable",
    "Term",
    "Then",
    "explain_tensor",
    "explainable",
]

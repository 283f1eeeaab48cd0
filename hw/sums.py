"""``balanced_sum``: the sum of many Amaranth values as a balanced tree of additions.

Python's ``sum`` builds a chain, one addition nested in the next: many terms nest too deep for
the Verilog back end and give synthesis a long chain to rebalance. The multipliers' trees
(``hw.multiplier_trees``, ``hw.multiplier_dsp``, ``hw.fused``) and the drain's counters use it.
"""


def balanced_sum(terms):
    """The sum as a balanced tree of additions (a chain of many would nest too deep)."""
    terms = list(terms)
    while len(terms) > 1:
        terms = [terms[k] + terms[k + 1] if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0]

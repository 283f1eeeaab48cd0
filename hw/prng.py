"""The contract's counter-based random word ``prng(seed, m, n)`` as logic, whole or in stages.

An add-rotate-xor mix with no multiplier (docs/arithmetic.md); the constants are the contract's,
and tests/hw/test_prng.py checks this logic against golden's generator. Eight rounds of a 32-bit
add are too long for one clock cycle, so the quantizer computes the word over ``STAGES``:
``prng_init`` then ``prng_rounds`` of each stage's rounds, with registers in between.
"""

from amaranth.hdl import Const, Signal

KEY = 0x1BD11BDA
ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
# Rounds per registered stage: two 32-bit adds in series in one cycle, at most.
STAGES = (ROTATIONS[:2], ROTATIONS[2:4], ROTATIONS[4:6], ROTATIONS[6:])


def prng_init(m, seed, row, col, *, name="prng"):
    """The state ``(x0, x1)`` before the first round."""
    x0, x1 = Signal(32, name=f"{name}_x0_0"), Signal(32, name=f"{name}_x1_0")
    m.d.comb += [x0.eq((seed ^ row)[:32]), x1.eq((seed ^ col ^ Const(KEY, 32))[:32])]
    return x0, x1


def prng_rounds(m, x0, x1, rotations, *, name="prng"):
    """The state after the rounds of ``rotations``. Each round's words are signals: each is
    read twice by the next round, and as plain expressions they would be copied into a tree
    that doubles with every round."""
    for i, r in enumerate(rotations, 1):
        y0, y1 = Signal(32, name=f"{name}_x0_{i}"), Signal(32, name=f"{name}_x1_{i}")
        m.d.comb += [y0.eq(x0 + x1), y1.eq(x1.rotate_left(r) ^ y0)]
        x0, x1 = y0, y1
    return x0, x1


def prng(m, seed, row, col, *, name="prng"):
    """The 32-bit random word for output (``row``, ``col``) under ``seed``, built in module
    ``m`` as one combinational block."""
    x0, x1 = prng_init(m, seed, row, col, name=name)
    return prng_rounds(m, x0, x1, ROTATIONS, name=name)[0]

"""The brick plan of the 2-D decomposed multiplier (``mult_tree="fused2d"``), as data.

In the manner of Bit Fusion / BitBlade, the ``width`` × ``width`` multiplier is an n × n grid of
``lane_width`` × ``lane_width`` bricks (n = width / lane_width). Brick (i, j) multiplies one lane
of a by one lane of b, each read signed or unsigned by its place in its field, and adds the
product at a mode-dependent shift into the PE's one sum:

- plain mode (one field): brick (i, j) takes lane i of a and lane j of b (the operand in the
  top ``width`` bits of the word), at 2^(L(i + j)): a · b;
- packed mode of group width G (F = width // G >= 2 fields per operand side, q = G / L lanes a
  field): the bricks i, j < F·q form F × F blocks of q × q bricks, block (u, v) multiplying
  a's field f = uF + v by b's field P-1-f (P = F² fields of G bits, field 0 at the top of the
  word, the pairing ``sim.host`` packs), every product at 2^offset: P MACs per beat on P·q²
  bricks, all of them when G divides ``width``.

So the operand word is ``word_width`` bits, max(width, P·G) over the modes (64 bits for
width 16, lane 4: 16 four-bit fields). ``hw.fused`` wires this plan; ``tests/hw/test_fused.py``
evaluates it in NumPy against the packed dot product.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Brick:
    """One brick's inputs in one mode: the word lanes (lane 0 lowest) of a and b, whether each
    is signed (the top lane of its field), and the shift of its product."""
    a_lane: int
    a_signed: bool
    b_lane: int
    b_signed: bool
    shift: int


def fields(width, group):
    """P: the products per beat in the packed mode of group width G."""
    return (width // group) ** 2


def offset(width, group):
    """Where the packed sum of P products sits: 2·width - 2G - ceil(log2 P), so that P products
    of two G-bit fields (each at most 2^(2G-2)) add up below 2^(2·width-2)."""
    return 2 * width - 2 * group - (fields(width, group) - 1).bit_length()


def word_width(width, lane_width, groups):
    """The operand word: the widest P·G of the packed modes, at least ``width``."""
    return max([width] + [fields(width, g) * g for g in groups])


def modes(width, lane_width, groups=()):
    """Per mode (plain, then each group width), ``{(i, j): Brick}`` of the bricks that work in
    it (the others see zeros)."""
    L, n = lane_width, width // lane_width
    top = word_width(width, lane_width, groups) // L
    out = [{(i, j): Brick(top - n + i, i == n - 1, top - n + j, j == n - 1, L * (i + j))
            for i in range(n) for j in range(n)}]
    for g in groups:
        q, per_side, count = g // L, width // g, fields(width, g)
        shift = offset(width, g)
        table = {}
        for i in range(per_side * q):
            for j in range(per_side * q):
                f = (i // q) * per_side + j // q
                ii, jj = i % q, j % q
                table[i, j] = Brick(top - (f + 1) * q + ii, ii == q - 1,
                                    top - (count - f) * q + jj, jj == q - 1,
                                    shift + L * (ii + jj))
        out.append(table)
    return out

"""The partial-product bits of ``LaneMultiplier``'s folded tree (``tree="folded"``), as data.

The split tree sums whole lane products (each its own small multiplier, with its own carry-
propagate adder in synthesis) and subtracts a second sum of sign terms. The folded tree is one
sum of single bits, so synthesis builds one carry-save tree and one final adder:

- a lane pair (i, j) multiplies a's lane value ``u_a - 2^L s_a`` by b's ``u_b - 2^L s_b``
  (u the lane's bits as unsigned, s its sign where the lane heads a field in this mode), so
  its bits are ``u_a[k] u_b[l]`` at 2^(L(i+j)+k+l), the sign terms ``-s_a u_b[l]`` and
  ``-s_b u_a[k]`` one lane higher, and ``s_a s_b`` two lanes higher (all times the pair's
  enable);
- a negative bit is folded in Baugh-Wooley style: ``-x·2^w = (1 - x)·2^w - 2^w``, the
  complement of the bit plus a constant, and all the constants add up to one word;
- bits that no mode can set are left out (a lane that never heads a field while its pair is
  on has no sign terms there), and so are bits at 2^(2·width) and above: the product is taken
  modulo 2^(2·width), which keeps every bit of a value that fits (the sum always does).

``plan`` returns the rows (bits at distinct weights, so a row is a word of wires) and the
constant; ``hw.multiplier_trees`` wires them and ``tests/hw/test_folded.py`` evaluates the
same plan in NumPy on every operand pair of small multipliers.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bit:
    """One partial-product bit of lane pair (i, j): ``kind`` "pp" is a's bit k times b's bit
    l; "sa" is a's sign times b's bit l and "sb" b's sign times a's bit k (both negative:
    their complement is summed); "ss" is the product of the two signs."""
    kind: str
    i: int
    j: int
    k: int
    l: int
    weight: int

    @property
    def negative(self):
        return self.kind in ("sa", "sb")


def modes(width, lane_width, groups):
    """Per mode (plain, then each group width), ``(signed lanes, pairs on)``: the lanes that
    head a field (their top bit is a sign) and the lane pairs (i, j) whose product counts.
    The same table as ``LaneMultiplier.decode``, in Python."""
    count = width // lane_width
    out = []
    for per, fields in [(count, 1)] + [(g // lane_width, width // g) for g in groups]:
        def field(lane, per=per):
            return (count - 1 - lane) // per     # field 0 holds the top lanes
        signed = frozenset(lane for lane in range(count)
                           if (count - 1 - lane) % per == 0 and field(lane) < fields)
        pairs = frozenset((i, j) for i in range(count) for j in range(count)
                          if field(i) < fields and field(j) < fields
                          and field(i) + field(j) == fields - 1)
        out.append((signed, pairs))
    return out


def plan(width, lane_width, groups=()):
    """``(rows, constant)``: the multiplier's value is ``sum of rows + constant`` modulo
    2^(2·width), where a row is a list of ``Bit`` at distinct weights (a negative bit
    counts as its complement)."""
    L, count, top = lane_width, width // lane_width, 2 * width
    table = modes(width, lane_width, groups)

    def possible(i, j, *, a_signed=False, b_signed=False):
        return any((i, j) in pairs and (not a_signed or i in signed)
                   and (not b_signed or j in signed) for signed, pairs in table)

    pairs = [(i, j) for i in range(count) for j in range(count) if possible(i, j)]
    rows = [[Bit("pp", i, j, k, l, L * (i + j) + k + l)
             for j in range(count) if (i, j) in pairs for l in range(L)]
            for i in range(count) for k in range(L)]
    rows += [[Bit("sa", i, j, L - 1, l, L * (i + j + 1) + l)
              for j in range(count) if possible(i, j, a_signed=True) for l in range(L)]
             for i in range(count)]
    rows += [[Bit("sb", i, j, k, L - 1, L * (i + j + 1) + k)
              for i in range(count) if possible(i, j, b_signed=True) for k in range(L)]
             for j in range(count)]
    rows += [[Bit("ss", i, j, L - 1, L - 1, L * (i + j + 2))
              for j in range(count) if possible(i, j, a_signed=True, b_signed=True)]
             for i in range(count)]
    rows = [[bit for bit in row if bit.weight < top] for row in rows]
    rows = [row for row in rows if row]
    constant = -sum(1 << bit.weight for row in rows for bit in row if bit.negative)
    return rows, constant % (1 << top)

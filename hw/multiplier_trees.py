"""The ASIC sums of ``LaneMultiplier`` (``hw.multiplier``): its lane products as adder trees.

- ``split``: the plain multiplier (no packed modes) as lanes² whole lane products, each signed
  lane pair ``a_i * b_j`` at 2^(L (i + j)).
- ``packed``: the same with packed modes: every lane read unsigned with its sign bit apart
  (only where the mode makes it the top lane of a field), so that each pair is unsigned
  products minus sign terms, and b is zero outside the pair's modes (operand isolation).
- ``folded``: every partial-product bit of ``hw.folded.plan`` in one sum, the sign terms folded
  in Baugh-Wooley style: one carry-save tree and one final adder in synthesis.

Each function takes the ``LaneMultiplier`` whose structure it builds (its operands, lane width,
groups and ``decode``) and returns the product's value.
"""

from amaranth.hdl import Cat, Const, Mux, Signal

from . import folded as folded_plan
from .lanes import lane_bounds
from .sums import balanced_sum


def _lanes(mul, value):
    """``(low bit, lane)`` per lane of ``value``, the top lane signed."""
    bounds = lane_bounds(mul.width, mul.lane_width)
    lanes = [value[lo:hi] for lo, hi in bounds]
    lanes[-1] = lanes[-1].as_signed()  # the sign lives in the top lane
    return [(lo, lane) for (lo, _), lane in zip(bounds, lanes)]


def split(mul):
    """The plain product as the sum of every signed lane pair's product."""
    terms = [(ai * bj) << (lo_a + lo_b)
             for lo_a, ai in _lanes(mul, mul.a) for lo_b, bj in _lanes(mul, mul.b)]
    return sum(terms[1:], terms[0])


def packed(mul):
    """The product or packed sum as unsigned lane products minus their sign terms."""
    L, count = mul.lane_width, mul.width // mul.lane_width
    mode = mul.decode(mul.pack)
    signed_lane, pair_on = mode[:count], mode[count:]

    def lanes(value):
        """(unsigned lane, its sign bit where it is signed here, else 0) per lane."""
        return [(value[i * L:(i + 1) * L], value[(i + 1) * L - 1] & signed_lane[i])
                for i in range(count)]

    # A signed lane is u - 2^L s (u its bits as unsigned, s its sign), so a pair's product
    # is u_a u_b - 2^L (s_a u_b + s_b u_a) + 2^2L s_a s_b: unsigned products and
    # subtractions, which synthesis sums in one carry-save tree without sign extension.
    add, sub = [], []
    for i, (ua, sa) in enumerate(lanes(mul.a)):
        for j, (ub, sb) in enumerate(lanes(mul.b)):
            on = pair_on[i * count + j]
            # Operand isolation: outside its modes the pair's b is zero.
            ub, sb = Mux(on, ub, 0), sb & on
            at = L * (i + j)
            add += [(ua * ub) << at, (sa * sb) << at + 2 * L]
            sub += [(sa * ub) << at + L, (sb * ua) << at + L]
    return balanced_sum(add) - balanced_sum(sub)


def folded(mul, m):
    """Every partial-product bit of ``hw.folded.plan`` in one sum (one carry-save tree)."""
    L, count = mul.lane_width, mul.width // mul.lane_width
    if mul.groups:
        signed_lane, pair_on = mul.mode(m)
    else:       # the plain mode alone: the top lane is signed, every pair counts
        signed_lane = Const(1 << (count - 1), count)
        pair_on = Const((1 << count * count) - 1, count * count)
    b_for = {}

    def b_lane(i, j):
        """b's lane j as pair (i, j) sees it: zero outside the pair's modes (isolation)."""
        if (i, j) not in b_for:
            b_for[i, j] = Signal(L, name=f"b{j}_for_a{i}")
            m.d.comb += b_for[i, j].eq(Mux(pair_on[i * count + j],
                                            mul.b[j * L:(j + 1) * L], 0))
        return b_for[i, j]

    def value(bit):
        a_bit = mul.a[bit.i * L + bit.k]
        b_bit = b_lane(bit.i, bit.j)[bit.l]
        a_sign, b_sign = a_bit & signed_lane[bit.i], b_bit & signed_lane[bit.j]
        return {"pp": a_bit & b_bit, "sa": ~(a_sign & b_bit), "sb": ~(b_sign & a_bit),
                "ss": a_sign & b_sign}[bit.kind]

    rows, constant = folded_plan.plan(mul.width, L, mul.groups)
    words = [Const(constant, 2 * mul.width)]
    for row in rows:
        at = {bit.weight: value(bit) for bit in row}
        lo, hi = min(at), max(at)
        words.append(Cat(*(at.get(w, Const(0, 1)) for w in range(lo, hi + 1))) << lo)
    return balanced_sum(words)

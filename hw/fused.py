"""``FusedMultiplier``: the 2-D decomposed multiplier (``AccelConfig.mult_tree="fused2d"``).

Every brick of ``hw.bricks.modes`` is a signed (L+1) × (L+1) product: its lanes of a and b,
each with a sign bit that is the lane's top bit where the mode makes it the top lane of a field
and 0 otherwise. A lane multiplexer in front of each brick picks its lanes for the mode (zero
where the mode leaves the brick idle, so that it stops switching), a shift multiplexer behind
it puts the product at the mode's place, and the bricks' products are summed in one tree. The
sum is taken modulo 2^(2·width): every mode's value fits (``bricks.offset``).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import bricks
from .sums import balanced_sum


class FusedMultiplier(wiring.Component):
    """Combinational: in the plain mode ``p = a · b`` for the operand in the top ``width`` bits
    of the word; with bit k of ``pack`` set, the packed dot product of group width groups[k]
    (``hw.bricks``).

    Parameters
    ----------
    width, lane_width : int
        The widest operand and the bricks' lane width (dividing it).
    groups : tuple of int
        The packed modes' group widths (multiples of ``lane_width``, 2·G ≤ ``width``).

    Members
    -------
    a, b : In(signed(bricks.word_width(...)))
        The operand words.
    p : Out(signed(2 * width))
        The product or the packed sum of products.
    pack : In(len(groups))
        One-hot packed mode, all zero for the plain mode (only when ``groups``).
    """

    def __new__(cls, *, width, lane_width, groups=()):
        if (not isinstance(lane_width, int) or not isinstance(width, int) or lane_width < 1
                or width < 2 * lane_width or width % lane_width):
            raise ValueError(f"lane_width must divide width ({width!r}) at least twice, "
                             f"not {lane_width!r}")
        if any(not isinstance(g, int) or g % lane_width or not 0 < 2 * g <= width
               for g in groups):
            raise ValueError(f"groups must be multiples of lane_width ({lane_width}) that fit "
                             f"at least twice into width ({width}), not {groups!r}")
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, width, lane_width, groups=()):
        self.width, self.lane_width, self.groups = width, lane_width, tuple(groups)
        word = bricks.word_width(width, lane_width, self.groups)
        ports = {"a": In(signed(word)), "b": In(signed(word)), "p": Out(signed(2 * width))}
        if self.groups:
            ports["pack"] = In(len(self.groups))
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        L, n = self.lane_width, self.width // self.lane_width
        pack = self.pack if self.groups else Const(0, 1)
        conds = [~pack.any()] + [pack[k] for k in range(len(self.groups))]
        tables = bricks.modes(self.width, L, self.groups)
        terms = []
        for i in range(n):
            for j in range(n):
                uses = [(cond, table[i, j]) for cond, table in zip(conds, tables)
                        if (i, j) in table]
                always = len(uses) == len(conds)
                a = self._operand(m, self.a, [(c, b.a_lane, b.a_signed) for c, b in uses],
                                  always=always, name=f"brick{i}_{j}_a")
                b = self._operand(m, self.b, [(c, b.b_lane, b.b_signed) for c, b in uses],
                                  always=always, name=f"brick{i}_{j}_b")
                product = Signal(signed(2 * L + 2), name=f"brick{i}_{j}")
                m.d.comb += product.eq(a * b)
                terms.append(self._place(product, [(c, b.shift) for c, b in uses]))
        m.d.comb += self.p.eq(balanced_sum(terms))
        return m

    def _operand(self, m, word, uses, *, always, name):
        """A brick's signed (L+1)-bit input: per mode its lane, sign-extended where it is
        signed, zero-extended where not, and zero in the modes that leave the brick idle
        (none when it works in ``always`` every mode: the last source is the default)."""
        L = self.lane_width
        value = Signal(signed(L + 1), name=name)
        by_source = {}
        for cond, lane, is_signed in uses:
            by_source.setdefault((lane, is_signed), []).append(cond)
        sources = []
        for (lane, is_signed), cs in by_source.items():
            bits = word[lane * L:(lane + 1) * L]
            sources.append((Cat(*cs).any(),
                            Cat(bits, bits[-1] if is_signed else Const(0, 1)).as_signed()))
        choice = sources.pop()[1] if always else Const(0, signed(L + 1))
        for cond, source in sources:
            choice = Mux(cond, source, choice)
        m.d.comb += value.eq(choice)
        return value

    @staticmethod
    def _place(product, uses):
        """The product at its mode's shift (zero in the modes that leave the brick idle: its
        inputs are zero there)."""
        shifts = {}
        for cond, shift in uses:
            shifts.setdefault(shift, []).append(cond)
        (first, _), *rest = shifts.items()
        placed = product << first
        for shift, cs in rest:
            placed = Mux(Cat(*cs).any(), product << shift, placed)
        return placed

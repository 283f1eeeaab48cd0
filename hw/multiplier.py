"""``LaneMultiplier``: a signed multiplier built from lane-sized sub-multipliers.

With a = sum_i a_i 2^(L i) and b = sum_j b_j 2^(L j) (the top lane signed, the others unsigned),
a * b = sum_ij a_i b_j 2^(L (i + j)). At a narrow runtime width the low operand lanes are masked
to zero, so every sub-multiplier that touches them sees constant inputs and stops switching:
the active ones are (Wa/L)·(Wb/L) of lanes², which is what makes energy fall near-quadratically.
"""

from amaranth.hdl import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .lanes import lane_bounds


class LaneMultiplier(wiring.Component):
    """Combinational ``p = a * b`` for ``width``-bit signed operands.

    ``lane_width=None`` gives a plain ``a * b`` (the fixed-width baseline).
    """

    def __init__(self, *, width, lane_width):
        error = None
        if not isinstance(width, int) or width < 2:
            error = f"width must be an integer >= 2, not {width!r}"
        elif lane_width is not None and (not isinstance(lane_width, int) or lane_width < 1
                                         or width % lane_width):
            error = f"lane_width must divide width ({width}), not {lane_width!r}"
        if error:
            self._MustUse__silence = True     # a refused component is not an unused one
            raise ValueError(error)
        self.width, self.lane_width = width, lane_width
        super().__init__({"a": In(signed(width)), "b": In(signed(width)),
                          "p": Out(signed(2 * width))})

    def _lanes(self, value):
        bounds = lane_bounds(self.width, self.lane_width)
        lanes = [value[lo:hi] for lo, hi in bounds]
        lanes[-1] = lanes[-1].as_signed()  # the sign lives in the top lane
        return [(lo, lane) for (lo, _), lane in zip(bounds, lanes)]

    def elaborate(self, platform):
        m = Module()
        if self.lane_width is None or self.lane_width == self.width:
            m.d.comb += self.p.eq(self.a * self.b)
            return m
        terms = [(ai * bj) << (lo_a + lo_b)
                 for lo_a, ai in self._lanes(self.a) for lo_b, bj in self._lanes(self.b)]
        m.d.comb += self.p.eq(sum(terms[1:], terms[0]))
        return m

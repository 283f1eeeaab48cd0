"""``OutputQuantizer``: one column's write-back of accumulators into the output format.

The accumulator arrives MSB-aligned (scaled by 2^pad, pad = ``AccelConfig.pad``) and
``left_pad`` zero bits are appended below it so that every shift is a right shift; the control
block folds both into one right-shift amount ``shift = s + pad + left_pad``. Rounding with the
contract's random word R at this larger shift gives the contract's bits: for an integer acc and
any real t, floor((acc*2^p + t) / 2^(s+p)) = floor((acc + floor(t / 2^p)) / 2^s).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .lanes import LaneRegister
from .layouts import WIDTH_BITS
from .prng import prng


def round_shift(x, shift, *, stochastic, random):
    """``x / 2**shift`` rounded to nearest-even, or ``floor((x + r) / 2**shift)`` with
    ``r = floor(random * 2**(shift - 32))`` when ``stochastic`` (the contract's step 3).

    ``x`` is signed and must have room for ``x + 2**shift``.
    """
    width = len(x)
    below = ~(Const(-1, width) << shift)[:width]           # 2**shift - 1
    odd = (x >> shift)[0] & (shift != 0)
    nearest = (below >> 1) + odd                             # ties go to the even neighbour
    dither = ((random << shift) >> 32)[:width]
    return (x + Mux(stochastic, dither, nearest)) >> shift


def saturate(m, y, *, widths, width, max_width):
    """Clamp ``y`` to ``width`` bits (one of ``widths``): returns ``(y_clamped, clamped)``."""
    hi = Signal(signed(max_width + 1))
    lo = Signal(signed(max_width + 1))
    with m.Switch(width):
        for w in widths:
            with m.Case(w):
                m.d.comb += [hi.eq((1 << (w - 1)) - 1), lo.eq(-(1 << (w - 1)))]
    over, under = y > hi, y < lo
    return Mux(over, hi, Mux(under, lo, y)), over | under


class OutputQuantizer(wiring.Component):
    """Shift, round, saturate and count one column's results; the output is registered.

    Ports: the job's ``shift`` (see above), ``stochastic``, ``seed``, ``out_width``, the output
    range limits ``m_limit``/``n_limit`` (outputs outside the job, i.e. padding of an edge tile,
    are not counted), and per result ``acc``, ``valid`` and its position ``m``, ``n``. ``y`` is
    the result MSB-aligned in ``max_width`` bits; ``clear`` zeroes the counters.
    """

    def __init__(self, config):
        self.config = c = config
        self.work_width = max(c.acc_width + c.left_pad, c.max_right_shift + 1) + 1
        gates = {"out_on": In(c.lanes)} if c.tunable else {}
        super().__init__({
            "en": In(1), "clear": In(1),
            "shift": In(unsigned(max(1, c.max_right_shift.bit_length()))),
            "stochastic": In(1), "seed": In(32), "out_width": In(unsigned(WIDTH_BITS)),
            "m_limit": In(unsigned(c.dim_bits)), "n_limit": In(unsigned(c.dim_bits)),
            "acc": In(signed(c.acc_width)), "valid": In(1),
            "m": In(unsigned(c.dim_bits)), "n": In(unsigned(c.dim_bits)),
            "y": Out(signed(c.max_width)), "y_valid": Out(1),
            "saturated": Out(unsigned(c.count_bits)), "underflow": Out(unsigned(c.count_bits)),
            **gates,
        })
        self.y_reg = LaneRegister(signed(c.max_width), name="y", group="out",
                                  lane_width=c.lane_width if c.tunable else None)
        self.gated = [((), self.y_reg)]

    def elaborate(self, platform):
        m = Module()
        c = self.config
        out_on = getattr(self, "out_on", None)

        x = Signal(signed(self.work_width))
        m.d.comb += x.eq(self.acc << c.left_pad)
        random = prng(m, self.seed, self.m, self.n)
        y = round_shift(x, self.shift, stochastic=self.stochastic, random=random)
        y_sat, clamped = saturate(m, y, widths=c.widths, width=self.out_width,
                                  max_width=c.max_width)

        aligned = Signal(signed(c.max_width))
        with m.Switch(self.out_width):
            for w in c.widths:
                with m.Case(w):
                    m.d.comb += aligned.eq(Cat(Const(0, c.max_width - w), y_sat[:w]))

        inside = (self.m < self.m_limit) & (self.n < self.n_limit)
        count = self.en & self.valid & inside
        y_valid = Signal()
        self.y_reg.load(m, aligned, en=self.en & self.valid, lane_on=out_on)
        with m.If(self.en):
            m.d.sync += y_valid.eq(self.valid)
        with m.If(self.clear):
            m.d.sync += [self.saturated.eq(0), self.underflow.eq(0)]
        with m.Elif(count):
            m.d.sync += [self.saturated.eq(self.saturated + clamped),
                         self.underflow.eq(self.underflow + ((self.acc != 0) & (y_sat == 0)))]
        m.d.comb += [self.y.eq(self.y_reg.masked(out_on)), self.y_valid.eq(y_valid)]
        return m

"""``OutputQuantizer``: one column's write-back of accumulators into the output format.

The accumulator arrives MSB-aligned (scaled by 2^pad, pad = ``AccelConfig.pad``) and
``left_pad`` zero bits are appended below it so that every shift is a right shift; the control
block folds both into one right-shift amount ``shift = s + pad + left_pad``. Rounding
``x = acc·2^(pad + left_pad)`` at this larger shift gives the contract's bits, because the
appended bits are zero: x / 2^shift = acc / 2^s.

No wide add: ``x / 2^shift`` splits into its floor ``q`` and a fraction, and the rounded value
is ``q + carry`` (docs/arithmetic.md, step 3): nearest-even carries when the fraction is above
one half, or exactly one half and ``q`` odd (guard bit, sticky bits, q's low bit); stochastic
``floor(q + fraction + R/2^32)`` carries when the fraction's top 32 bits plus R reach 2^32
(the bits below those cannot carry across an integer). Only ``q``'s low max_width + 1 bits are
kept, with a flag for "q does not fit": that saturates whatever the carry.

Pipeline (every register advances with ``en``; see ``lead`` and ``latency``):

    the row name (m, n), ``lead`` cycles before the result -> PRNG STAGES[0], [1], [2]
    acc at cycle T  -> (the array's column multiplexer)                      -> register (T+1)
                    -> shift, sticky, "q does not fit"; PRNG STAGES[3]       -> registers (T+2)
                    -> carry, y = q + carry                                  -> registers (T+3)
                    -> saturate, align to the output width, flags to count   -> y (T+4)
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .config import require_config
from .lanes import FlagGroup, LaneRegister
from .layouts import WIDTH_BITS
from .prng import STAGES, prng_init, prng_rounds


def split_shift(x, shift, *, keep):
    """``(q, fraction)``: ``floor(x / 2**shift)``'s low ``keep`` bits and the 32 fraction bits
    below its point (zeros where x has none)."""
    z = (Cat(Const(0, 32), x).as_signed() >> shift)[:32 + keep]
    return z[32:].as_signed(), z[:32]


def round_shift(q, fraction, sticky, *, stochastic, random):
    """``q`` rounded with its ``fraction`` (and ``sticky``: any nonzero bit below it):
    nearest-even, or ``floor(q + fraction + random / 2**32)`` when ``stochastic``."""
    half = fraction[31] & (sticky | fraction[:31].any() | q[0])
    dither = (fraction + Cat(random, Const(0, 1)))[32]
    return q + Mux(stochastic, dither, half)


def saturate(m, y, *, widths, width, max_width, wide, negative):
    """Clamp ``y`` to ``width`` bits (one of ``widths``), or to the bound on the side of
    ``negative`` when ``wide`` says the true value does not fit in ``y``: returns
    ``(y_clamped, clamped)``."""
    hi = Signal(signed(max_width + 1))
    lo = Signal(signed(max_width + 1))
    with m.Switch(width):
        for w in widths:
            with m.Case(w):
                m.d.comb += [hi.eq((1 << (w - 1)) - 1), lo.eq(-(1 << (w - 1)))]
    over = Mux(wide, ~negative, y > hi)
    under = Mux(wide, negative, y < lo)
    return Mux(over, hi, Mux(under, lo, y)), over | under


class OutputQuantizer(wiring.Component):
    """Shift, round, saturate and count one column's results.

    Parameters
    ----------
    config : AccelConfig
        The accumulator, output and count widths, and the shift range.

    Members
    -------
    en : In(1)
        Every register advances.
    shift, stochastic, seed, out_width : In
        The job's right shift (see above), rounding, PRNG seed and output width.
    m_limit, n_limit : In(unsigned(config.dim_bits))
        The job's M and N: outputs outside them (an edge tile's padding) are not counted.
    m, n : In(unsigned(config.dim_bits))
        The next result's position, with ``name_valid`` (In(1)), ``lead`` enabled cycles
        before it.
    acc : In(signed(config.acc_width))
        The result, with ``valid`` (In(1)).
    y : Out(signed(config.max_width))
        The result MSB-aligned, with ``y_valid`` (Out(1)), ``latency`` enabled cycles after
        ``acc``.
    clamped, lost : Out(1)
        With ``y``: it saturated; a nonzero accumulator rounded to zero (only for outputs
        inside the job: the drain counts them for the whole array).
    out_on : In(config.lanes)
        The output lanes in use (where tunable).
    """
    lead = len(STAGES) - 2      # the last stage runs beside the shift, a cycle after acc
    latency = 4

    def __new__(cls, *, config):
        require_config(config)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, config):
        self.config = c = config
        self.x_width = c.acc_width + c.left_pad
        gates = {"out_on": In(c.lanes)} if c.tunable else {}
        super().__init__({
            "en": In(1),
            "shift": In(unsigned(max(1, c.max_right_shift.bit_length()))),
            "stochastic": In(1), "seed": In(32), "out_width": In(unsigned(WIDTH_BITS)),
            "m_limit": In(unsigned(c.dim_bits)), "n_limit": In(unsigned(c.dim_bits)),
            "name_valid": In(1), "m": In(unsigned(c.dim_bits)), "n": In(unsigned(c.dim_bits)),
            "acc": In(signed(c.acc_width)), "valid": In(1),
            "y": Out(signed(c.max_width)), "y_valid": Out(1), "clamped": Out(1), "lost": Out(1),
            **gates,
        })
        self.y_reg = LaneRegister(signed(c.max_width), name="y", group="out",
                                  lane_width=c.lane_width if c.tunable else None)
        self.gated = [((), self.y_reg)]

    def _random(self, m, inside, flags):
        """The PRNG word of the result entering the shift stage, and ``inside`` (this result
        counts) delayed as far."""
        x0, x1 = prng_init(m, self.seed, self.m, self.n)
        lead = self.name_valid
        for i, rotations in enumerate(STAGES[:-1]):
            x0, x1 = prng_rounds(m, x0, x1, rotations, name=f"prng{i}")
            r0, r1 = Signal(32, name=f"prng{i}_r0"), Signal(32, name=f"prng{i}_r1")
            nxt_lead, nxt_inside = Signal(name=f"lead_{i}"), Signal(name=f"inside_{i}")
            flags.add(m, nxt_lead, lead)
            flags.add(m, nxt_inside, inside, rider=True)    # only used beside a set lead
            with m.If(self.en & lead & self.stochastic):  # nearest-even needs no random word
                m.d.sync += [r0.eq(x0), r1.eq(x1)]
            x0, x1, lead, inside = r0, r1, nxt_lead, nxt_inside
        return prng_rounds(m, x0, x1, STAGES[-1], name="prng_last")[0], inside

    def elaborate(self, platform):
        m = Module()
        c = self.config
        out_on = getattr(self, "out_on", None)
        en, W, X = self.en, c.max_width, self.x_width
        flags = FlagGroup(en=en, gated=c.valid_gating)    # the valid bits of every stage

        # Stage 0: the accumulator as it leaves the array.
        acc, v0 = Signal(signed(c.acc_width)), Signal()
        flags.add(m, v0, self.valid)
        with m.If(en & self.valid):
            m.d.sync += acc.eq(self.acc)

        # Stage 1: the shift and the bits it drops; the last PRNG rounds.
        random, inside = self._random(m, (self.m < self.m_limit) & (self.n < self.n_limit),
                                      flags)
        x = Signal(signed(X))
        m.d.comb += x.eq(acc << c.left_pad)
        q, fraction = split_shift(x, self.shift, keep=W + 1)
        below = ~(Const(-1, X) << self.shift)[:X] >> 32            # under the fraction
        above = (Const(-1, X) << (self.shift + W))[:X]             # above q's kept bits
        s1 = Signal(data.StructLayout({
            "q": signed(W + 1), "fraction": 32, "random": 32, "sticky": 1, "wide": 1,
            "negative": 1, "nonzero": 1, "inside": 1}))
        v1 = Signal()
        flags.add(m, v1, v0)
        with m.If(en & v0):
            m.d.sync += [s1.q.eq(q), s1.fraction.eq(fraction), s1.random.eq(random),
                         s1.sticky.eq((x & below).any()),
                         s1.wide.eq(((x ^ x[-1].replicate(X)) & above).any()),
                         s1.negative.eq(x[-1]), s1.nonzero.eq(acc != 0),
                         s1.inside.eq(inside)]

        # Stage 2: round.
        s2 = Signal(data.StructLayout({"y": signed(W + 2), "wide": 1, "negative": 1,
                                       "nonzero": 1, "inside": 1}))
        v2 = Signal()
        flags.add(m, v2, v1)
        with m.If(en & v1):
            m.d.sync += [s2.y.eq(round_shift(s1.q, s1.fraction, s1.sticky,
                                             stochastic=self.stochastic, random=s1.random)),
                         s2.wide.eq(s1.wide), s2.negative.eq(s1.negative),
                         s2.nonzero.eq(s1.nonzero),
                         s2.inside.eq(s1.inside)]

        # Stage 3: saturate, align, count.
        y_sat, clamped = saturate(m, s2.y, widths=c.widths, width=self.out_width,
                                  max_width=W, wide=s2.wide, negative=s2.negative)
        aligned = Signal(signed(W))
        with m.Switch(self.out_width):
            for w in c.widths:
                with m.Case(w):
                    m.d.comb += aligned.eq(Cat(Const(0, W - w), y_sat[:w]))
        y_valid = Signal()
        self.y_reg.load(m, aligned, en=en & v2, lane_on=out_on)
        flags.add(m, y_valid, v2)
        flags.add(m, self.clamped, v2 & s2.inside & clamped)
        flags.add(m, self.lost, v2 & s2.inside & s2.nonzero & ~clamped & (s2.y == 0))
        flags.close(m)
        m.d.comb += [self.y.eq(self.y_reg.masked(out_on)), self.y_valid.eq(y_valid)]
        return m

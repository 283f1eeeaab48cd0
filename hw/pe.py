"""``ProcessingElement``: one output-stationary MAC cell of the systolic array.

Pipeline: operand registers (a from the left, b from above, passed on unchanged) -> lane
multiplier -> product register -> exact accumulator. Every register advances only while the
array's global enable ``en`` is set (a stall freezes the whole array), and a register's lanes
only load while their lane is on and a beat is valid, so bubbles and narrow widths cost no
switching. The accumulator restarts on a beat's ``first`` flag; one cycle after the beat with
``last`` it presents the finished sum on ``result`` with ``result_valid`` (for exactly one
enabled cycle, since the next tile's first product then overwrites it). ``result_ahead``
says so ``lead`` enabled cycles earlier.

Operands are MSB-aligned (in their field when the beat is packed: ``AccelConfig.pack``), so at
widths Wa, Wb the product's and accumulator's low ``AccelConfig.pad`` bits are zero: their
lanes are gated by ``acc_on``. With ``AccelConfig.zero_gating`` a zero product is skipped
(``_product_takes``). ``pack`` selects the multiplier's packed mode. The PE keeps its
own copy of these settings, taken on the job's ``start`` pulse, and kept apart in synthesis.

With ``AccelConfig.mult_stages`` the multiplier holds a pipeline register of its own (for the
FPGA's DSP blocks): the flags follow it through one more register, and ``lead`` grows by one.
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .config import require_config
from .lanes import LaneRegister, lane_count
from .layouts import Flags
from .fused import FusedMultiplier
from .multiplier import LaneMultiplier


def pe_lead(config):
    """Enabled cycles from the PE's flags register holding a last beat to ``result_valid``:
    the product register, the accumulator, and the multiplier's own stages."""
    return 2 + config.mult_stages


def gate_inputs(config):
    """Lane-enable ports shared by the PE and the array (none for the fixed-width baseline),
    and ``start``, the control's one-cycle pulse after it has set them for a job."""
    if not config.tunable:
        return {}
    ports = {"a_on": In(config.word_lanes), "b_on": In(config.word_lanes),
             "acc_on": In(lane_count(config.acc_width, config.lane_width))}
    if config.pack_groups:
        ports["pack"] = In(len(config.pack_groups))
    ports["start"] = In(1)
    return ports


class ProcessingElement(wiring.Component):
    """One MAC cell (see the module's description).

    Parameters
    ----------
    config : AccelConfig
        The datapath widths, lanes and packing modes.

    Members
    -------
    en : In(1)
        The array advances (every register holds otherwise).
    a_in, b_in : In(signed(config.word_width))
        The operands from the left and from above; ``a_out``, ``b_out`` (Out) pass them on.
    flags_in : In(Flags)
        The beat's valid, first and last flags; ``flags_out`` (Out) passes them on.
    result : Out(signed(config.acc_width))
        The finished sum, with ``result_valid`` (Out(1)) for one enabled cycle.
    result_ahead : Out(1)
        ``result_valid`` follows ``lead`` (``pe_lead``) enabled cycles later.
    a_on, b_on, acc_on, pack, start : In
        The job's lane enables and packing mode, taken on ``start`` (``gate_inputs``: only
        where the configuration is tunable).
    """
    def __new__(cls, *, config):
        require_config(config)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, config):
        self.config = c = config
        w, lw = c.word_width, (c.lane_width if c.tunable else None)
        super().__init__({
            "en": In(1),
            "a_in": In(signed(w)), "b_in": In(signed(w)), "flags_in": In(Flags),
            "a_out": Out(signed(w)), "b_out": Out(signed(w)), "flags_out": Out(Flags),
            "result": Out(signed(c.acc_width)), "result_valid": Out(1), "result_ahead": Out(1),
            **gate_inputs(c),
        })
        self.a = LaneRegister(signed(w), name="a", group="a", lane_width=lw)
        self.b = LaneRegister(signed(w), name="b", group="b", lane_width=lw)
        self.p = LaneRegister(signed(2 * c.max_width), name="p", group="acc", lane_width=lw)
        self.acc = LaneRegister(signed(c.acc_width), name="acc", group="acc", lane_width=lw)
        # (path below this component, register) of every lane-gated register
        self.gated = [((), r) for r in (self.a, self.b, self.p, self.acc)
                      if c.clock_gates == "lane"]

    @property
    def lead(self):
        return pe_lead(self.config)

    def _settings(self, m):
        """The PE's own copies of the job's lane enables and packing mode, loaded on ``start``
        (a job's first beat reaches a PE a cycle later at the earliest): one register per
        array would drive every PE's multiplier and lane enables, far too many gates for one
        cycle. ``keep`` stops synthesis from merging the identical copies back into one
        (``flows.eda.synth`` gives it to the flip-flops)."""
        local = {}
        for name in ("a_on", "b_on", "acc_on", "pack"):
            if hasattr(self, name):
                local[name] = Signal.like(getattr(self, name), name=f"{name}_local",
                                          attrs={"keep": 1})
                with m.If(self.start):
                    m.d.sync += local[name].eq(getattr(self, name))
        return local

    def _product_takes(self, m, mul, flags, p_flags):
        """The enables of p and acc. With ``zero_gating`` a beat whose product is zero (an
        operand reads as zero) loads neither, unless it is a tile's first: p then holds a stale
        product, but the registered ``p_zero`` keeps acc from reading it (adding 0 is holding)."""
        p_take = self.en & flags.valid
        acc_take = self.en & p_flags.valid
        if not self.config.zero_gating:
            return p_take, acc_take
        zero = (mul.a == 0) | (mul.b == 0)
        # with mult_stages, the zero flag follows its beat through the multiplier's registers
        for stage in range(self.config.mult_stages):
            zero_next = Signal(name=f"mul_zero{stage}")
            with m.If(self.en):
                m.d.sync += zero_next.eq(zero)
            zero = zero_next
        p_zero = Signal()
        with m.If(self.en):
            m.d.sync += p_zero.eq(zero)
        return p_take & (flags.first | ~zero), acc_take & (p_flags.first | ~p_zero)

    def elaborate(self, platform):
        m = Module()
        c = self.config
        local = self._settings(m)
        a_on, b_on = local.get("a_on"), local.get("b_on")
        acc_on = local.get("acc_on")
        p_on = None if acc_on is None else acc_on[:len(self.p.lanes)]

        flags = Signal(Flags)
        mul_flags = [Signal(Flags, name=f"mul_flags{s}") for s in range(c.mult_stages)]
        p_flags = Signal(Flags)
        done = Signal()

        # With ``clock_gates="register"`` (and on FPGA, ``DSP_PLATFORM.lane_loads``, for p and
        # acc) registers load whole: their readers mask.
        by_lane = c.clock_gates == "lane"
        take = self.en & self.flags_in.valid
        self.a.load(m, self.a_in, en=take, lane_on=a_on if by_lane else None)
        self.b.load(m, self.b_in, en=take, lane_on=b_on if by_lane else None)

        if c.fused:
            mul = FusedMultiplier(width=c.max_width, lane_width=c.lane_width,
                                  groups=c.pack_groups)
        else:
            mul = LaneMultiplier(width=c.max_width, lane_width=c.lane_width if c.tunable else None,
                                 groups=c.pack_groups,
                                 tree="split" if c.mult_tree == "fused2d" else c.mult_tree,
                                 stages=c.mult_stages)
        m.submodules.mul = mul
        m.d.comb += [mul.a.eq(self.a.masked(a_on)), mul.b.eq(self.b.masked(b_on))]
        if c.pack_groups:
            m.d.comb += mul.pack.eq(local["pack"])
        if c.mult_stages:
            m.d.comb += mul.en.eq(self.en & flags.valid)
        at_p = (mul_flags or [flags])[-1]       # the flags of the beat mul.p holds
        p_take, acc_take = self._product_takes(m, mul, at_p, p_flags)
        lane_loads = by_lane and getattr(platform, "lane_loads", True)
        self.p.load(m, mul.p, en=p_take, lane_on=p_on if lane_loads else None)

        p = self.p.masked(p_on)
        acc = self.acc.masked(acc_on)
        self.acc.load(m, Mux(p_flags.first, p, acc + p), en=acc_take,
                      lane_on=acc_on if lane_loads else None)

        with m.If(self.en):
            m.d.sync += [flags.eq(self.flags_in), p_flags.eq(at_p),
                         done.eq(p_flags.valid & p_flags.last)]
            for prev, nxt in zip([flags] + mul_flags, mul_flags):
                m.d.sync += nxt.eq(prev)

        m.d.comb += [
            self.a_out.eq(self.a.value), self.b_out.eq(self.b.value),
            self.flags_out.eq(flags),
            self.result.eq(acc), self.result_valid.eq(done),
            self.result_ahead.eq(flags.valid & flags.last),
        ]
        return m

"""The control block: accepts a job command, checks it, holds its runtime configuration, and
sequences the operand beats into tiles.

A command is accepted while no job runs (``busy`` low) and held in a register; the next cycle
checks and decodes it into registers, and ``start`` follows (``latency``: the cycles from
taking a command to ``start``). A command the array cannot run (``hw.job_check``) then ends
with a ``JobError`` code in ``error``, ``done`` set and no results. Otherwise the block turns
the job's formats into lane enables, a packing mode and one right-shift amount, and counts
operand beats: ceil(K/P) beats per tile (P k per beat: ``AccelConfig.pack``), tiles row-major over
ceil(M/rows) × ceil(N/cols), flagging each tile's first and last beat. A tile's last beat waits
until ``rows`` cycles after the previous tile's last beat, so that two tiles' results never
meet in an array column (only matters when K < rows).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .config import require_config
from .job_check import ERROR_BITS, job_error
from .lanes import lane_count
from .layouts import Flags, WIDTH_BITS, job_layout


def job_ports(config):
    """The per-job settings the control block hands to the datapath."""
    c = config
    ports = {
        "shift": Out(unsigned(max(1, c.max_right_shift.bit_length()))),
        "stochastic": Out(1), "seed": Out(32), "out_width": Out(unsigned(WIDTH_BITS)),
        "m_limit": Out(unsigned(c.dim_bits)), "n_limit": Out(unsigned(c.dim_bits)),
    }
    if c.tunable:
        ports.update(a_on=Out(c.word_lanes), b_on=Out(c.word_lanes),
                     acc_on=Out(lane_count(c.acc_width, c.lane_width)), out_on=Out(c.lanes))
    if c.pack_groups:
        ports["pack"] = Out(len(c.pack_groups))
    return ports


class Control(wiring.Component):
    """Takes, checks and decodes a job's command, then sequences its operand beats.

    Parameters
    ----------
    config : AccelConfig
        The widths, shapes and shifts a command may ask for.

    Members
    -------
    cmd : In(stream.Signature(job_layout()))
        The command, taken while not ``busy``.
    busy, done : Out(1)
        A job runs; it (or a refused command) has ended.
    error : Out(ERROR_BITS)
        The ``JobError`` of the last command (``hw.job_check``).
    start : Out(1)
        One cycle, ``latency`` cycles after a command was taken, when it runs.
    job_end : In(1)
        The drain emitted the job's last result row.
    en : In(1)
        The array advances this cycle.
    operands_valid : In(1)
        Both operand streams hold a beat; ``operands_ready`` (Out) takes it.
    flags : Out(Flags)
        The beat as it enters the array (valid, a tile's first and last).
    shift, stochastic, seed, out_width, m_limit, n_limit, a_on, b_on, acc_on, out_on, pack : Out
        The job's settings for the datapath (``job_ports``: lane enables and ``pack`` only
        where the configuration has them).
    """
    latency = 2     # edges from taking a command to ``start``

    def __new__(cls, *, config):
        require_config(config)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, config):
        self.config = c = config
        super().__init__({
            "cmd": In(stream.Signature(job_layout())),
            "busy": Out(1), "done": Out(1), "error": Out(ERROR_BITS),
            "start": Out(1),            # one cycle: a job was accepted (clears the drain)
            "job_end": In(1),           # the drain emitted the job's final result row
            "en": In(1),                # the array advances this cycle
            "operands_valid": In(1),    # both operand streams hold a beat
            "operands_ready": Out(1),   # ... and the array takes it
            "flags": Out(Flags),        # the beat as it enters the array
            **job_ports(c),
        })

    def _operand_lanes(self, width, pack):
        """Lane enables of an operand of runtime ``width``: the top ``width`` bits of the word,
        or of each field in a packed mode (bit i of ``pack``: field width pack_groups[i])."""
        c = self.config
        lw, count = c.lane_width, c.word_lanes     # the plain mode: the top max_width bits
        lanes = Cat(width >= (count - i) * lw if count - i <= c.lanes else Const(0, 1)
                    for i in range(count))
        for bit, group in zip(pack, c.pack_groups):
            per, groups = group // lw, c.pack(group, group)[0]
            lanes = Mux(bit, Cat(width >= ((count - 1 - i) % per + 1) * lw
                                 if (count - 1 - i) // per < groups else Const(0, 1)
                                 for i in range(count)), lanes)
        return lanes

    def elaborate(self, platform):
        m = Module()
        c = self.config

        k_total = Signal(unsigned(c.k_bits))
        k = Signal(unsigned(c.k_bits))       # the first k of the beat
        packs = [c.pack(g, g)[0] for g in c.pack_groups]
        k_step = Signal(range(max(packs) + 1)) if packs else 1   # k per beat
        m0 = Signal(unsigned(c.dim_bits))
        n0 = Signal(unsigned(c.dim_bits))
        feeding = Signal()
        since_last = Signal(range(c.rows + 1))

        # The command is registered when taken; the next cycle checks and decodes it into
        # registers, and ``start`` (a register too: it clears the whole drain) follows. So
        # neither the checks nor the decode sit on a path from the command stream or to the
        # many registers that ``start`` and the settings reach.
        # On FPGA (``DSP_PLATFORM.settings_in_job``) the settings that copy a field of the
        # command are read from ``job`` itself: it holds still while a job runs, and a copy
        # (a flop fed by a flop) costs an iCE40 logic cell per bit.
        settings_in_job = getattr(platform, "settings_in_job", False)
        job = Signal.like(self.cmd.payload, name="job", reset_less=settings_in_job)
        pending = Signal()
        accept = self.cmd.valid & self.cmd.ready
        error = Signal(ERROR_BITS)
        m.d.comb += [self.cmd.ready.eq(~self.busy), error.eq(job_error(
            c, job, gates=settings_in_job))]
        if c.valid_gating:          # otherwise it holds 0
            with m.If(pending | self.start):
                m.d.sync += self.start.eq(pending & (error == 0))
        else:
            m.d.sync += self.start.eq(pending & (error == 0))
        with m.If(accept):
            m.d.sync += [job.eq(self.cmd.payload), pending.eq(1),
                         self.busy.eq(1), self.done.eq(0), self.error.eq(0)]
        with m.If(pending):
            m.d.sync += [pending.eq(0), self.error.eq(error), self.done.eq(error != 0),
                         self.busy.eq(error == 0)]
        counters = (feeding, k, m0, n0, since_last)
        if not c.valid_gating:
            with m.If(self.start):
                m.d.sync += [feeding.eq(1), k.eq(0), m0.eq(0), n0.eq(0), since_last.eq(c.rows)]
        with m.If(pending):   # a refused command's settings are never used
            group = Mux(job.a_width > job.b_width, job.a_width, job.b_width)
            pack = Cat(group == g for g in c.pack_groups)
            pad = 2 * c.max_width - job.a_width - job.b_width   # AccelConfig.pad
            for bit, g in zip(pack, c.pack_groups):
                pad = pad - Mux(bit, 2 * c.max_width - 2 * g - c.pad(g, g), 0)
            s = job.a_frac + job.b_frac - job.out_frac
            shift = self.shift.eq(s + pad + c.left_pad)
            rounding = self.stochastic.eq(job.rounding)
            width = self.out_width.eq(job.out_width)
            copies = [k_total.eq(job.k), self.seed.eq(job.seed),
                      self.m_limit.eq(job.m), self.n_limit.eq(job.n)]
            if settings_in_job:     # the rounding and the width reach much logic: registered
                m.d.sync += [shift, rounding, width]
            else:
                m.d.sync += [copies[0], shift, rounding, copies[1], width, *copies[2:]]
            if c.tunable:
                lw, top = c.lane_width, c.max_width
                m.d.sync += [
                    self.a_on.eq(self._operand_lanes(job.a_width, pack)),
                    self.b_on.eq(self._operand_lanes(job.b_width, pack)),
                    self.out_on.eq(Cat(job.out_width >= top - i * lw for i in range(c.lanes))),
                    self.acc_on.eq(Cat(pad < (i + 1) * lw for i in range(len(self.acc_on)))),
                ]
                if c.pack_groups:
                    step = 1
                    for bit, count in zip(pack, packs):
                        step = Mux(bit, count, step)
                    m.d.sync += [self.pack.eq(pack), k_step.eq(step)]
        if settings_in_job:
            m.d.comb += copies
        with m.If(self.job_end):
            m.d.sync += [self.busy.eq(0), self.done.eq(1)]

        # Operand beats.
        is_last = k + k_step >= k_total
        fire = self.en & feeding & self.operands_valid & (~is_last | (since_last >= c.rows))
        m.d.comb += [
            self.operands_ready.eq(fire),
            self.flags.valid.eq(fire), self.flags.first.eq(k == 0), self.flags.last.eq(is_last),
        ]
        if c.valid_gating:
            self._gated_counters(m, counters, k_step=k_step, is_last=is_last, fire=fire)
            return m
        with m.If(self.en & feeding):
            with m.If(fire & is_last):
                m.d.sync += since_last.eq(1)
            with m.Elif(since_last < c.rows):
                m.d.sync += since_last.eq(since_last + 1)
        with m.If(fire):
            with m.If(~is_last):
                m.d.sync += k.eq(k + k_step)
            with m.Else():
                m.d.sync += k.eq(0)
                with m.If(n0 + c.cols < self.n_limit):
                    m.d.sync += n0.eq(n0 + c.cols)
                with m.Else():
                    m.d.sync += n0.eq(0)
                    with m.If(m0 + c.rows < self.m_limit):
                        m.d.sync += m0.eq(m0 + c.rows)
                    with m.Else():
                        m.d.sync += feeding.eq(0)
        return m

    def _gated_counters(self, m, counters, *, k_step, is_last, fire):
        """The beat counters of ``elaborate`` with one explicit enable each (the same next
        values, ``fire`` still before ``start``): no clear rides in front of the enable, so
        synthesis gates their clocks between beats instead of clocking them every cycle."""
        c = self.config
        feeding, k, m0, n0, since_last = counters
        end_tile = fire & is_last
        n_wrap, m_wrap = ~(n0 + c.cols < self.n_limit), ~(m0 + c.rows < self.m_limit)
        count = self.en & feeding & (end_tile | (since_last < c.rows))
        loads = [       # (register, when it loads a beat's value, that value, value on start)
            (k, fire, Mux(end_tile, 0, k + k_step), 0),
            (n0, end_tile, Mux(n_wrap, 0, n0 + c.cols), 0),
            (m0, end_tile & n_wrap & ~m_wrap, m0 + c.rows, 0),
            (feeding, end_tile & n_wrap & m_wrap, 0, 1),
            (since_last, count, Mux(end_tile, 1, since_last + 1), c.rows),
        ]
        for reg, when, value, clear in loads:
            with m.If(when | self.start):
                m.d.sync += reg.eq(Mux(when, value, clear))

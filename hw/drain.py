"""``ResultDrain``: from the array's columns to the result stream.

Column j of the array emits row i of a tile i + j cycles after the tile's last beat, one row per
cycle. A counter names each row column 0 emits (m, n0) as soon as the array announces it
(``SystolicArray.result_ahead``), ``OutputQuantizer.lead`` cycles before the result, so that
the quantizers draw the random words in stages ahead; the name travels along the columns with
the results, so quantizer j rounds output (m, n0 + j) with the contract's prng(seed, m, n).
Column j's quantized values are then delayed cols - 1 - j cycles, so that a whole row lines up
as one beat of the result stream. Rows below M (padding of an edge tile) are dropped.

Latency: a result leaves the array's column j and appears in the result stream
``OutputQuantizer.latency + cols - 1 - j`` enabled cycles later (``latency``: from column 0).

The whole pipeline, array included, advances together: ``en`` is low only while a result beat
waits for ``ready``.
"""

from amaranth.hdl import Cat, Const, Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .config import require_config
from .control import job_ports
from .lanes import FlagGroup, LaneRegister
from .layouts import result_layout
from .pe import pe_lead
from .quantizer import OutputQuantizer
from .sums import balanced_sum

JOB_SETTINGS = ("shift", "stochastic", "seed", "out_width", "m_limit", "n_limit")


class ResultDrain(wiring.Component):
    """From the array's columns to the result stream (see the module's description).

    Parameters
    ----------
    config : AccelConfig
        The array's size, widths and count width.

    Members
    -------
    en : Out(1)
        The array and the drain advance (low while the result stream stalls a full drain).
    start : In(1)
        A job starts: the counters and row names restart.
    job_end : Out(1)
        The job's last result row was handed over.
    col_result : In(ArrayLayout(signed(config.acc_width), config.cols))
        Per column, a finished sum, with ``col_valid`` (In(config.cols)).
    result_ahead : In(1)
        The array's announcement of column 0's next result.
    y : Out(stream.Signature(result_layout(config)))
        The result rows.
    saturated, underflow : Out(config.count_bits)
        The job's counters.
    shift, stochastic, seed, out_width, m_limit, n_limit, out_on : In
        The job's settings (``JOB_SETTINGS``; ``out_on`` where tunable).
    """

    def __new__(cls, *, config):
        require_config(config)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, config):
        self.config = c = config
        settings = {name: In(port.shape) for name, port in job_ports(c).items()
                    if name in JOB_SETTINGS + ("out_on",)}
        super().__init__({
            "en": Out(1), "start": In(1), "job_end": Out(1),
            "col_result": In(data.ArrayLayout(signed(c.acc_width), c.cols)),
            "col_valid": In(c.cols), "result_ahead": In(1),
            "y": Out(stream.Signature(result_layout(c))),
            "saturated": Out(unsigned(c.count_bits)), "underflow": Out(unsigned(c.count_bits)),
            **settings,
        })
        lw = c.lane_width if c.tunable else None
        self.quantizers = [OutputQuantizer(config=c) for _ in range(c.cols)]
        self.deskew = [[LaneRegister(signed(c.max_width), name=f"y_deskew{j}_{s}", group="out",
                                     lane_width=lw) for s in range(c.cols - 1 - j)]
                       for j in range(c.cols)]
        self.gated = [((f"quantizer{j}",) + path, r) for j, q in enumerate(self.quantizers)
                      for path, r in q.gated]
        self.gated += [((), r) for line in self.deskew for r in line]

    @property
    def latency(self):
        """Enabled cycles from column 0's result to its row's beat: the quantizer's latency
        and the de-skew of the other columns."""
        return OutputQuantizer.latency + self.config.cols - 1

    def _delayed(self, m, value, valid, stages, *, name):
        """``value`` and ``valid`` ``stages`` enabled cycles later; ``value`` only loads with
        ``valid`` (bubbles cost no switching)."""
        for s in range(stages):
            nv, nval = Signal.like(value, name=f"{name}_{s}"), Signal(name=f"{name}_valid_{s}")
            self._flags.add(m, nval, valid)
            with m.If(self.en & valid):
                m.d.sync += nv.eq(value)
            value, valid = nv, nval
        return value, valid

    def _row_names(self, m, advance):
        """The name of each row column 0 emits, held until ``advance``: row i of tile
        (m0, n0)."""
        c = self.config
        name = Signal(data.StructLayout({"m": unsigned(c.dim_bits), "n0": unsigned(c.dim_bits),
                                         "last": 1, "final": 1, "keep": 1}))
        row = Signal(range(c.rows))
        m0, n0 = Signal(unsigned(c.dim_bits)), Signal(unsigned(c.dim_bits))
        mr = Signal(unsigned(c.dim_bits))      # m0 + row, counted on its own
        last_col = n0 + c.cols >= self.n_limit
        m.d.comb += [name.m.eq(mr), name.n0.eq(n0), name.keep.eq(mr < self.m_limit),
                     name.last.eq(last_col & (mr == self.m_limit - 1)),
                     name.final.eq(last_col & (m0 + c.rows >= self.m_limit)
                                   & (row == c.rows - 1))]
        with m.If(self.start):
            m.d.sync += [row.eq(0), m0.eq(0), n0.eq(0), mr.eq(0)]
        with m.Elif(advance):
            m.d.sync += [row.eq(row + 1), mr.eq(mr + 1)]
            with m.If(row == c.rows - 1):
                m.d.sync += row.eq(0)
                with m.If(last_col):
                    m.d.sync += [n0.eq(0), m0.eq(m0 + c.rows)]
                with m.Else():
                    m.d.sync += [n0.eq(n0 + c.cols), mr.eq(m0)]
        return name

    def elaborate(self, platform):
        m = Module()
        c = self.config
        en = self.en
        out_on = getattr(self, "out_on", None)
        q0 = self.quantizers[0]
        self._flags = FlagGroup(en=en, gated=c.valid_gating)   # the delay lines' valid bits

        # Name column 0's rows as the array announces them, q0.lead cycles before the result.
        _, ahead = self._delayed(m, Const(0, 1), self.result_ahead,
                                 pe_lead(c) - q0.lead, name="ahead")
        name = self._row_names(m, en & ahead)

        # Quantize; a row's name reaches column j one cycle after column j - 1.
        Pos = data.StructLayout({"m": unsigned(c.dim_bits), "n": unsigned(c.dim_bits)})
        pos = Signal(Pos)
        m.d.comb += [pos.m.eq(name.m), pos.n.eq(name.n0)]
        pos_valid = ahead
        for j, q in enumerate(self.quantizers):
            if j:
                nxt = Signal(Pos, name=f"pos{j}")
                m.d.comb += [nxt.m.eq(pos.m), nxt.n.eq(pos.n + 1)]
                pos, pos_valid = self._delayed(m, nxt, pos_valid, 1, name=f"pos{j}")
            m.submodules[f"quantizer{j}"] = q
            m.d.comb += [q.en.eq(en), q.name_valid.eq(pos_valid), q.m.eq(pos.m), q.n.eq(pos.n),
                         q.acc.eq(self.col_result[j]), q.valid.eq(self.col_valid[j])]
            m.d.comb += [getattr(q, s).eq(getattr(self, s)) for s in JOB_SETTINGS]
            if out_on is not None:
                m.d.comb += q.out_on.eq(out_on)

        # The job's counters: each enabled cycle adds the outputs the quantizers flag (each
        # output's flags are set for one enabled cycle, when its value leaves the quantizer).
        flagged = en
        if c.valid_gating:      # adding zeros is holding
            flagged = en & Cat(f for q in self.quantizers for f in (q.clamped, q.lost)).any()
        with m.If(self.start):
            m.d.sync += [self.saturated.eq(0), self.underflow.eq(0)]
        with m.Elif(flagged):
            m.d.sync += [
                self.saturated.eq(self.saturated
                                  + balanced_sum(q.clamped for q in self.quantizers)),
                self.underflow.eq(self.underflow
                                  + balanced_sum(q.lost for q in self.quantizers))]

        # Column 0's row name at the quantizer's output, then everything de-skewed. On FPGA
        # (``DSP_PLATFORM.recount_names``) a second counter names the beats as they leave
        # instead: the same sequence (a job starts on an empty drain), in a few logic cells
        # rather than one per bit and stage of the delay line.
        recount = getattr(platform, "recount_names", False)
        beat_name = (None if recount else
                     self._delayed(m, name, ahead, q0.lead + q0.latency, name="q_name")[0])
        beat_valid = q0.y_valid
        beat_data = []
        for j, (q, line) in enumerate(zip(self.quantizers, self.deskew)):
            value, valid = q.y, q.y_valid
            for s, reg in enumerate(line):
                reg.load(m, value, en=en & valid, lane_on=out_on)
                nxt = Signal(name=f"y_deskew_valid{j}_{s}")
                self._flags.add(m, nxt, valid)
                value, valid = reg.value, nxt
            if j == 0 and recount:
                beat_valid = self._delayed(m, Const(0, 1), beat_valid, len(line),
                                           name="name_deskew")[1]
            elif j == 0:
                beat_name, beat_valid = self._delayed(m, beat_name, beat_valid, len(line),
                                                      name="name_deskew")
            beat_data.append(reg.masked(out_on) if line else value)

        if recount:
            beat_name = self._row_names(m, en & beat_valid)
        m.d.comb += [
            self.y.valid.eq(beat_valid & beat_name.keep),
            self.y.payload.m.eq(beat_name.m), self.y.payload.n.eq(beat_name.n0),
            self.y.payload.last.eq(beat_name.last),
            en.eq(~self.y.valid | self.y.ready),
            self.job_end.eq(en & beat_valid & beat_name.final),
        ]
        m.d.comb += [self.y.payload.data[j].eq(v) for j, v in enumerate(beat_data)]
        self._flags.close(m)
        return m

"""``ResultDrain``: from the array's columns to the result stream.

Column j of the array emits row i of a tile i + j cycles after the tile's last beat, one row per
cycle. A counter names each row column 0 emits (m, n0); the name travels along the columns with
the results, so quantizer j rounds output (m, n0 + j) with the contract's prng(seed, m, n).
Column j's quantized values are then delayed cols - 1 - j cycles, so that a whole row lines up
as one beat of the result stream. Rows below M (padding of an edge tile) are dropped.

The whole pipeline, array included, advances together: ``en`` is low only while a result beat
waits for ``ready``.
"""

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .control import job_ports
from .lanes import LaneRegister
from .layouts import result_layout
from .quantizer import OutputQuantizer

JOB_SETTINGS = ("shift", "stochastic", "seed", "out_width", "m_limit", "n_limit")


class ResultDrain(wiring.Component):
    def __init__(self, config):
        self.config = c = config
        settings = {name: In(port.shape) for name, port in job_ports(c).items()
                    if name in JOB_SETTINGS + ("out_on",)}
        super().__init__({
            "en": Out(1), "start": In(1), "job_end": Out(1),
            "col_result": In(data.ArrayLayout(signed(c.acc_width), c.cols)),
            "col_valid": In(c.cols),
            "y": Out(stream.Signature(result_layout(c))),
            "saturated": Out(unsigned(c.count_bits)), "underflow": Out(unsigned(c.count_bits)),
            **settings,
        })
        lw = c.lane_width if c.tunable else None
        self.quantizers = [OutputQuantizer(c) for _ in range(c.cols)]
        self.deskew = [[LaneRegister(signed(c.max_width), name=f"y_deskew{j}_{s}", group="out",
                                     lane_width=lw) for s in range(c.cols - 1 - j)]
                       for j in range(c.cols)]
        self.gated = [((f"quantizer{j}",) + path, r) for j, q in enumerate(self.quantizers)
                      for path, r in q.gated]
        self.gated += [((), r) for line in self.deskew for r in line]

    def elaborate(self, platform):
        m = Module()
        c = self.config
        en = self.en
        out_on = getattr(self, "out_on", None)
        Name = data.StructLayout({"m": unsigned(c.dim_bits), "n0": unsigned(c.dim_bits),
                                  "last": 1, "final": 1})

        # Name the rows column 0 emits: row i of tile (m0, n0).
        row = Signal(range(c.rows))
        m0 = Signal(unsigned(c.dim_bits))
        n0 = Signal(unsigned(c.dim_bits))
        name = Signal(Name)
        last_col = n0 + c.cols >= self.n_limit
        m.d.comb += [name.m.eq(m0 + row), name.n0.eq(n0),
                     name.last.eq(last_col & (m0 + row == self.m_limit - 1)),
                     name.final.eq(last_col & (m0 + c.rows >= self.m_limit)
                                   & (row == c.rows - 1))]
        with m.If(self.start):
            m.d.sync += [row.eq(0), m0.eq(0), n0.eq(0)]
        with m.Elif(en & self.col_valid[0]):
            m.d.sync += row.eq(row + 1)
            with m.If(row == c.rows - 1):
                m.d.sync += row.eq(0)
                with m.If(last_col):
                    m.d.sync += [n0.eq(0), m0.eq(m0 + c.rows)]
                with m.Else():
                    m.d.sync += n0.eq(n0 + c.cols)

        # Quantize; the row name reaches column j one cycle after column j - 1.
        names = [name]
        for j in range(1, c.cols):
            nxt = Signal(Name, name=f"name{j}")
            with m.If(en):
                m.d.sync += nxt.eq(names[-1])
            names.append(nxt)
        saturated, underflow = 0, 0
        for j, q in enumerate(self.quantizers):
            m.submodules[f"quantizer{j}"] = q
            m.d.comb += [q.en.eq(en), q.clear.eq(self.start),
                         q.acc.eq(self.col_result[j]), q.valid.eq(self.col_valid[j]),
                         q.m.eq(names[j].m), q.n.eq(names[j].n0 + j)]
            m.d.comb += [getattr(q, s).eq(getattr(self, s)) for s in JOB_SETTINGS]
            if out_on is not None:
                m.d.comb += q.out_on.eq(out_on)
            saturated, underflow = saturated + q.saturated, underflow + q.underflow

        # Column 0's row name at the quantizer's output register, then everything de-skewed.
        q_name = Signal(Name)
        with m.If(en):
            m.d.sync += q_name.eq(name)
        beat_name, beat_valid = q_name, self.quantizers[0].y_valid
        beat_data = []
        for j, (q, line) in enumerate(zip(self.quantizers, self.deskew)):
            value, valid = q.y, q.y_valid
            for s, reg in enumerate(line):
                reg.load(m, value, en=en & valid, lane_on=out_on)
                nxt = Signal(name=f"y_deskew_valid{j}_{s}")
                with m.If(en):
                    m.d.sync += nxt.eq(valid)
                value, valid = reg.value, nxt
                if j == 0:
                    nxt_name = Signal(Name, name=f"name_deskew{s}")
                    with m.If(en):
                        m.d.sync += nxt_name.eq(beat_name)
                    beat_name, beat_valid = nxt_name, nxt
            beat_data.append(reg.masked(out_on) if line else value)

        m.d.comb += [
            self.y.valid.eq(beat_valid & (beat_name.m < self.m_limit)),
            self.y.payload.m.eq(beat_name.m), self.y.payload.n.eq(beat_name.n0),
            self.y.payload.last.eq(beat_name.last),
            en.eq(~self.y.valid | self.y.ready),
            self.job_end.eq(en & beat_valid & beat_name.final),
            self.saturated.eq(saturated), self.underflow.eq(underflow),
        ]
        m.d.comb += [self.y.payload.data[j].eq(v) for j, v in enumerate(beat_data)]
        return m

"""``SystolicArray``: rows × cols processing elements, output-stationary, with skewed feeds.

One operand beat (a column slice of A, a row slice of B, and flags) enters per enabled cycle.
Row i's operands are delayed by i cycles and column j's by j, so that A[m, k] and B[k, n] meet
in PE(i, j) on the same cycle. PE(i, j) finishes a tile i + j cycles after PE(0, 0), so in
each column the rows finish on consecutive cycles, top to bottom: each column's results leave
through a one-hot multiplexer, one per cycle, while the PEs already accumulate the next tile.
Two tiles' results never collide in a column as long as their last beats are at least ``rows``
cycles apart (the control block enforces it). ``result_ahead`` announces column 0's results
``lead`` enabled cycles early (from the PEs' flags registers), so that the drain can name them
and draw their random words ahead.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .lanes import LaneRegister
from .layouts import Flags, a_layout, b_layout
from .config import require_config
from .pe import ProcessingElement, gate_inputs, pe_lead


class SystolicArray(wiring.Component):
    """``config.rows`` × ``config.cols`` PEs with skewed operand feeds.

    Parameters
    ----------
    config : AccelConfig
        The array's size, datapath widths, lanes and packing modes.

    Members
    -------
    en : In(1)
        The array advances (a stall freezes every register).
    a : In(a_layout(config))
        One beat's A column, row i entering row i of the array (skewed by i cycles).
    b : In(b_layout(config))
        One beat's B row, column j entering column j (skewed by j cycles).
    flags : In(Flags)
        The beat's valid, first and last flags.
    col_result : Out(ArrayLayout(signed(config.acc_width), config.cols))
        Per column, a finished sum, with ``col_valid`` (Out(config.cols)).
    result_ahead : Out(1)
        Column 0 presents a result ``lead`` enabled cycles later.
    a_on, b_on, acc_on, pack, start : In
        As ``ProcessingElement``'s (``gate_inputs``).
    """

    def __new__(cls, *, config):
        require_config(config)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, config):
        self.config = c = config
        super().__init__({
            "en": In(1),
            "a": In(a_layout(c)), "b": In(b_layout(c)), "flags": In(Flags),
            "col_result": Out(data.ArrayLayout(signed(c.acc_width), c.cols)),
            "col_valid": Out(c.cols), "result_ahead": Out(1),
            **gate_inputs(c),
        })
        lw = c.lane_width if c.tunable else None
        # Skew delay lines: row i has i stages, column j has j stages.
        self.a_skew = [[LaneRegister(signed(c.word_width), name=f"a_skew{i}_{s}", group="a",
                                     lane_width=lw) for s in range(i)] for i in range(c.rows)]
        self.b_skew = [[LaneRegister(signed(c.word_width), name=f"b_skew{j}_{s}", group="b",
                                     lane_width=lw) for s in range(j)] for j in range(c.cols)]
        self.pes = [[ProcessingElement(config=c) for _ in range(c.cols)]
                    for _ in range(c.rows)]
        self.gated = [((), r) for line in self.a_skew + self.b_skew for r in line]
        self.gated += [((f"pe_{i}_{j}",) + path, r) for i, row in enumerate(self.pes)
                       for j, pe in enumerate(row) for path, r in pe.gated]

    @property
    def lead(self):
        """Enabled cycles from ``result_ahead`` to column 0's result (``pe_lead``)."""
        return pe_lead(self.config)

    def elaborate(self, platform):
        m = Module()
        c = self.config
        gates = {name: getattr(self, name) for name in gate_inputs(c)}

        def delayed(value, stages, name):
            """``value`` delayed by 0 .. ``stages`` enabled cycles."""
            out = [value]
            for s in range(stages):
                nxt = Signal(value.shape(), name=f"{name}_{s}")
                with m.If(self.en):
                    m.d.sync += nxt.eq(out[-1])
                out.append(nxt)
            return out

        def skewed(line, value, valids, lane_on):
            """``value`` through the lane registers of ``line``, each loading on a valid beat."""
            for reg, valid in zip(line, valids):
                reg.load(m, value, en=self.en & valid, lane_on=lane_on)
                value = reg.value
            return value

        row_in = []
        for i in range(c.rows):
            flags = delayed(self.flags, i, f"flags_skew{i}")
            a = skewed(self.a_skew[i], self.a[i], [f.valid for f in flags], gates.get("a_on"))
            row_in.append((a, flags[-1]))
        col_in = []
        for j in range(c.cols):
            valids = delayed(self.flags.valid, j, f"b_valid_skew{j}")
            col_in.append(skewed(self.b_skew[j], self.b[j], valids, gates.get("b_on")))

        for i, row in enumerate(self.pes):
            for j, pe in enumerate(row):
                m.submodules[f"pe_{i}_{j}"] = pe
                m.d.comb += [pe.en.eq(self.en)] + [getattr(pe, k).eq(v) for k, v in gates.items()]
                left = row[j - 1] if j else None
                up = self.pes[i - 1][j] if i else None
                m.d.comb += [
                    pe.a_in.eq(left.a_out if left else row_in[i][0]),
                    pe.flags_in.eq(left.flags_out if left else row_in[i][1]),
                    pe.b_in.eq(up.b_out if up else col_in[j]),
                ]

        m.d.comb += self.result_ahead.eq(Cat(pe.result_ahead for pe in
                                             (row[0] for row in self.pes)).any())

        # Each column's one-hot result multiplexer: at most one of its PEs finishes per cycle.
        for j in range(c.cols):
            col = [self.pes[i][j] for i in range(c.rows)]
            result = 0
            for pe in col:
                result = result | Mux(pe.result_valid, pe.result, 0)
            m.d.comb += [self.col_valid[j].eq(Cat(pe.result_valid for pe in col).any()),
                         self.col_result[j].eq(result)]
        return m

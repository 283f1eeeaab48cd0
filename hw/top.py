"""``Accelerator``: the top level — command, operand and result streams plus status.

Ports (stream members are ``valid``/``ready``/``payload``):

- ``cmd``: one job's runtime configuration (``layouts.job_layout``), taken while not ``busy``;
- ``a``, ``b``: operand beats, MSB-aligned; per tile (row-major over tiles) K beats of
  A[m0 + i, k] (i < rows) and B[k, n0 + j] (j < cols), zero-padded past M and N;
- ``y``: result rows Y[m, n0 + j] (j < cols), MSB-aligned, with m, n0 and ``last``;
- ``busy``, ``done``, ``error`` (``JobError``), ``saturated``, ``underflow``.

The ``sync`` domain resets asynchronously, so no synchronous reset rides on the registers'
enables and synthesis can map every lane enable to a clock gate.
"""

from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Module, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from .array import SystolicArray
from .control import Control
from .job_check import ERROR_BITS
from .drain import JOB_SETTINGS, ResultDrain
from .layouts import a_layout, b_layout, job_layout, result_layout
from .config import require_config
from .pe import gate_inputs

TOP_NAME = "varimac"


class Accelerator(wiring.Component):
    """The accelerator: a systolic array of ``config.rows`` × ``config.cols`` PEs behind a
    control block and a result drain, on one asynchronously reset ``sync`` domain.

    Parameters
    ----------
    config : AccelConfig
        The array's size and the widths, shapes and shifts it accepts.

    Members
    -------
    cmd : In(stream.Signature(job_layout()))
        One job's runtime configuration, taken while not ``busy``.
    a : In(stream.Signature(a_layout(config)))
        Operand beats of A (``sim.host`` writes them), MSB-aligned.
    b : In(stream.Signature(b_layout(config)))
        Operand beats of B; taken together with ``a`` (one shared ``ready``).
    y : Out(stream.Signature(result_layout(config)))
        Result rows with their row ``m``, first column ``n`` and ``last``.
    busy, done : Out(1)
        A job runs; the last job (or refused command) has ended.
    error : Out(ERROR_BITS)
        The ``JobError`` of the last command (0 when it ran).
    saturated, underflow : Out(config.count_bits)
        The last job's outputs that saturated, and nonzero sums that rounded to zero.
    """

    def __new__(cls, *, config):
        require_config(config)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, config):
        self.config = c = config
        super().__init__({
            "cmd": In(stream.Signature(job_layout())),
            "a": In(stream.Signature(a_layout(c))),
            "b": In(stream.Signature(b_layout(c))),
            "y": Out(stream.Signature(result_layout(c))),
            "busy": Out(1), "done": Out(1), "error": Out(ERROR_BITS),
            "saturated": Out(c.count_bits), "underflow": Out(c.count_bits),
        })
        self.control = Control(config=c)
        self.array = SystolicArray(config=c)
        self.drain = ResultDrain(config=c)
        self.clock_domain = ClockDomain("sync", async_reset=True)
        # (instance path, LaneRegister) of every lane-gated register, for tests and power flows.
        self.gated = [(("array",) + p, r) for p, r in self.array.gated]
        self.gated += [(("drain",) + p, r) for p, r in self.drain.gated]

    @property
    def latency(self):
        """Edges beyond a single tile's beats from the edge after the one that takes the
        command to the one that sets ``done``, without stalls: the control's latency, a PE's
        lead, the drain's latency (quantizer and de-skew), the rows one per cycle, and the
        edge that hands over the last row. A job of T tiles of B beats (K ≥ rows) takes
        T·B + ``latency`` (docs/hardware.md)."""
        c = self.config
        return (Control.latency + self.array.lead + self.drain.latency
                + (c.rows - 1) + 1)

    def elaborate(self, platform):
        m = Module()
        c = self.config
        m.domains.sync = self.clock_domain
        m.submodules.control = ctl = self.control
        m.submodules.array = arr = self.array
        m.submodules.drain = drain = self.drain

        connect(m, wiring.flipped(self.cmd), ctl.cmd)
        connect(m, drain.y, wiring.flipped(self.y))
        m.d.comb += [
            ctl.operands_valid.eq(self.a.valid & self.b.valid),
            self.a.ready.eq(ctl.operands_ready), self.b.ready.eq(ctl.operands_ready),
            ctl.en.eq(drain.en), ctl.job_end.eq(drain.job_end),
            arr.en.eq(drain.en), arr.a.eq(self.a.payload), arr.b.eq(self.b.payload),
            arr.flags.eq(ctl.flags),
            drain.start.eq(ctl.start),
            drain.col_result.eq(arr.col_result), drain.col_valid.eq(arr.col_valid),
            drain.result_ahead.eq(arr.result_ahead),
            self.busy.eq(ctl.busy), self.done.eq(ctl.done), self.error.eq(ctl.error),
            self.saturated.eq(drain.saturated), self.underflow.eq(drain.underflow),
        ]
        m.d.comb += [getattr(arr, g).eq(getattr(ctl, g)) for g in gate_inputs(c)]
        m.d.comb += [getattr(drain, s).eq(getattr(ctl, s)) for s in JOB_SETTINGS]
        if c.tunable:
            m.d.comb += drain.out_on.eq(ctl.out_on)
        return m


def ports(top):
    """``{name: (signal, None)}``: the signature's ports plus ``clk`` and ``rst``, in the
    signature's order (``None``: Amaranth infers each direction from what drives it)."""
    result = {"clk": (top.clock_domain.clk, None), "rst": (top.clock_domain.rst, None)}
    for path, _, value in top.signature.flatten(top):
        result["__".join(map(str, path))] = (Value.cast(value), None)
    return result


def generate_verilog(config, *, platform=None):
    """The accelerator as one Verilog source; its top module is ``varimac``. ``platform``:
    ``hw.platform.DSP_PLATFORM`` for FPGAs (DSP-sized multiplier products), else ``None``."""
    top = Accelerator(config=config)
    return verilog.convert(top, name=TOP_NAME, platform=platform, ports=ports(top),
                           emit_src=False)

"""``Control``'s range checks as logic (its FPGA build): every value of small operands."""

import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from hw.job_check import in_range


@pytest.mark.parametrize("shape, lo, hi", [
    (unsigned(6), 1, 40), (unsigned(6), 0, 63), (unsigned(6), 1, 64), (unsigned(4), 5, 2),
    (signed(6), -16, 20), (signed(6), -32, 31), (signed(5), 3, 3), (signed(5), -40, -17)])
def test_in_range_is_the_comparison(shape, lo, hi):
    x, ok = Signal(shape), Signal()
    m = Module()
    m.d.comb += ok.eq(in_range(x, lo, hi))
    low = -(1 << (shape.width - 1)) if shape.signed else 0
    values = range(low, low + (1 << shape.width))
    wrong = []

    async def bench(ctx):
        for v in values:
            ctx.set(x, v)
            if ctx.get(ok) != (lo <= v <= hi):
                wrong.append(v)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert not wrong

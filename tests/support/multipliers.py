"""A combinational multiplier (``LaneMultiplier``, ``FusedMultiplier``) in amaranth.sim."""

from amaranth.hdl import Fragment
from amaranth.sim import Simulator


def products(dut, pairs, *, pack=0, platform=None):
    """What ``dut.p`` shows for each ``(a, b)`` of ``pairs``, with ``dut.pack`` held at
    ``pack`` (left at its reset value 0 when ``pack`` is 0: a ``dut`` without packed modes has
    no ``pack``); ``dut`` elaborated for ``platform``."""
    out = []

    async def bench(ctx):
        if pack:
            ctx.set(dut.pack, pack)
        for a, b in pairs:
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            out.append(ctx.get(dut.p))

    sim = Simulator(Fragment.get(dut, platform))
    sim.add_testbench(bench)
    sim.run()
    return out

"""LaneMultiplier (amaranth.sim) against Python's integer product."""

import itertools
import random

import pytest
from amaranth.sim import Simulator

from hw.multiplier import LaneMultiplier


def products(dut, pairs):
    out = []

    async def bench(ctx):
        for a, b in pairs:
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            out.append(ctx.get(dut.p))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return out


def operand_set(width, rng, n):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    edge = [lo, lo + 1, -1, 0, 1, hi - 1, hi]
    return edge + [rng.randint(lo, hi) for _ in range(n)]


@pytest.mark.parametrize("width, lane_width", [(4, 2), (6, 3), (8, 4), (12, 4), (8, None)])
def test_product(width, lane_width):
    rng = random.Random(width)
    values = operand_set(width, rng, 12)
    pairs = list(itertools.product(values, repeat=2))
    assert products(LaneMultiplier(width=width, lane_width=lane_width), pairs) == \
        [a * b for a, b in pairs]


def test_exhaustive_small():
    pairs = list(itertools.product(range(-8, 8), repeat=2))
    assert products(LaneMultiplier(width=4, lane_width=2), pairs) == [a * b for a, b in pairs]


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=1, lane_width=None), "width must be an integer >= 2, not 1"),
    (dict(width=8, lane_width=3), "lane_width must divide width (8), not 3"),
])
def test_validation(kwargs, message):
    with pytest.raises(ValueError) as info:
        LaneMultiplier(**kwargs)
    assert str(info.value) == message

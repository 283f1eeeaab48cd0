"""OutputQuantizer (amaranth.sim) against golden's round_shift and saturate."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import round_shift, saturate
from hw.config import AccelConfig
from hw.quantizer import OutputQuantizer

CONFIG = AccelConfig.preset("tiny")


def quantize_grid(config, acc, *, shift, pad, out_width, rounding, seed, m_limit=None):
    """Feed acc[m, n] * 2**pad at position (m, n); returns (y, saturated, underflow)."""
    dut = OutputQuantizer(config)
    rows, cols = acc.shape
    y = np.zeros_like(acc)
    counters = {}

    async def bench(ctx):
        ctx.set(dut.shift, shift + pad + config.left_pad)
        ctx.set(dut.stochastic, rounding)
        ctx.set(dut.seed, seed)
        ctx.set(dut.out_width, out_width)
        ctx.set(dut.m_limit, rows if m_limit is None else m_limit)
        ctx.set(dut.n_limit, cols)
        ctx.set(dut.out_on, sum(1 << i for i in range(config.lanes)
                                if (i + 1) * config.lane_width > config.max_width - out_width))
        ctx.set(dut.en, 1)
        ctx.set(dut.clear, 1)
        await ctx.tick()
        ctx.set(dut.clear, 0)
        ctx.set(dut.valid, 1)
        for m in range(rows):
            for n in range(cols):
                ctx.set(dut.acc, int(acc[m, n]) << pad)
                ctx.set(dut.m, m)
                ctx.set(dut.n, n)
                await ctx.tick()
                assert ctx.get(dut.y_valid)
                y[m, n] = ctx.get(dut.y) >> (config.max_width - out_width)
        ctx.set(dut.valid, 0)
        await ctx.tick()
        counters.update(saturated=ctx.get(dut.saturated), underflow=ctx.get(dut.underflow))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return y, counters["saturated"], counters["underflow"]


def golden_grid(acc, *, shift, out_width, rounding, seed):
    y = round_shift(acc, shift, rounding=rounding, seed=seed)
    y, clamped = saturate(y, out_width)
    return y, clamped, int(np.count_nonzero((acc != 0) & (y == 0)))


@pytest.mark.parametrize("rounding", [0, 1])
@pytest.mark.parametrize("a_width, b_width, out_width",
                         [(12, 12, 12), (4, 8, 4), (8, 4, 12), (12, 4, 8), (4, 4, 4)])
def test_against_golden(rounding, a_width, b_width, out_width):
    c = CONFIG
    rng = np.random.default_rng(a_width * 100 + b_width * 10 + out_width + rounding)
    pad = 2 * c.max_width - a_width - b_width
    bound = c.max_k << (a_width + b_width - 2)
    for shift in (c.min_shift, -1, 0, 1, 2, 5, a_width + b_width - out_width, c.max_shift):
        acc = rng.integers(-bound, bound + 1, size=(3, 4))
        acc[0, :3] = [bound, -bound, 0]             # the extremes and zero
        if 3 << max(shift - 1, 0) <= bound:      # ties, where the accumulator can hold them
            acc[1, :2] = [1 << max(shift - 1, 0), -(3 << max(shift - 1, 0))]
        if 4 << max(shift, 0) <= bound:          # exact multiples: no rounding at all
            acc[2] = rng.integers(-4, 5, size=4) << max(shift, 0)
        seed = int(rng.integers(0, 1 << 32))
        got = quantize_grid(c, acc, shift=shift, pad=pad, out_width=out_width,
                            rounding=rounding, seed=seed)
        want = golden_grid(acc, shift=shift, out_width=out_width, rounding=rounding, seed=seed)
        assert np.array_equal(got[0], want[0]), (shift, acc, got[0], want[0])
        assert got[1:] == want[1:], shift


def test_outputs_outside_the_job_are_not_counted():
    c = CONFIG
    acc = np.array([[1 << 20, 1], [1 << 20, 1]])        # saturates, underflows
    _, saturated, underflow = quantize_grid(c, acc, shift=4, pad=0, out_width=12, rounding=0,
                                            seed=0, m_limit=1)
    assert (saturated, underflow) == (1, 1)

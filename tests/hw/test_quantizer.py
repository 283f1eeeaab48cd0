"""OutputQuantizer (amaranth.sim) against golden's round_shift and saturate."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import round_shift, saturate
from hw.config import AccelConfig
from hw.quantizer import OutputQuantizer

CONFIG = AccelConfig.preset("tiny")


def quantize_grid(config, acc, *, shift, pad, out_width, rounding, seed, m_limit=None,
                  stalls=0.0, bubbles=0.0, rng_seed=0):
    """Feed acc[m, n] * 2**pad at position (m, n), row-major, with ``bubbles`` (a share of
    cycles without a result) and ``stalls`` (a share of cycles with ``en`` low): the name
    ``lead`` cycles before the accumulator, as the drain does. Returns (y, saturated,
    underflow)."""
    dut = OutputQuantizer(config=config)
    rows, cols = acc.shape
    rng = np.random.default_rng(rng_seed)
    slots = []
    for m in range(rows):
        for n in range(cols):
            while rng.random() < bubbles:
                slots.append(None)
            slots.append((m, n))
    slots += [None] * (dut.lead + dut.latency + 1)
    got = []
    counters = {"saturated": 0, "underflow": 0}

    async def bench(ctx):
        ctx.set(dut.shift, shift + pad + config.left_pad)
        ctx.set(dut.stochastic, rounding)
        ctx.set(dut.seed, seed)
        ctx.set(dut.out_width, out_width)
        ctx.set(dut.m_limit, rows if m_limit is None else m_limit)
        ctx.set(dut.n_limit, cols)
        ctx.set(dut.out_on, sum(1 << i for i in range(config.lanes)
                                if (i + 1) * config.lane_width > config.max_width - out_width))
        t = 0
        while t < len(slots):
            name = slots[t]
            ctx.set(dut.name_valid, name is not None)
            if name is not None:
                ctx.set(dut.m, name[0])
                ctx.set(dut.n, name[1])
            item = slots[t - dut.lead] if t >= dut.lead else None
            ctx.set(dut.valid, item is not None)
            if item is not None:
                ctx.set(dut.acc, int(acc[item]) << pad)
            en = int(rng.random() >= stalls)
            ctx.set(dut.en, en)
            if en and ctx.get(dut.y_valid):
                got.append(ctx.get(dut.y) >> (config.max_width - out_width))
            if en:      # the flags hold one enabled cycle each, and only with a valid y
                flags = ctx.get(dut.clamped), ctx.get(dut.lost)
                assert ctx.get(dut.y_valid) or flags == (0, 0)
                counters["saturated"] += flags[0]
                counters["underflow"] += flags[1]
            await ctx.tick()
            t += en

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    y = np.array(got, dtype=acc.dtype).reshape(acc.shape)
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


@pytest.mark.parametrize("rounding", [0, 1])
def test_stalls_and_bubbles(rounding):
    """The pipeline under stalls (en low) and gaps between results loses and mixes nothing:
    each result keeps its own random word and counters."""
    c = CONFIG
    rng = np.random.default_rng(40 + rounding)
    bound = c.max_k << 22
    for shift in (-3, 1, 9, c.max_shift):
        acc = rng.integers(-bound, bound + 1, size=(3, 5)) >> int(rng.integers(0, 20))
        acc[0, :2] = [1 << max(shift - 1, 0), 3 << max(shift - 1, 0)]      # ties
        seed = int(rng.integers(0, 1 << 32))
        got = quantize_grid(c, acc, shift=shift, pad=0, out_width=8, rounding=rounding,
                            seed=seed, stalls=0.4, bubbles=0.4, rng_seed=shift + 7)
        want = golden_grid(acc, shift=shift, out_width=8, rounding=rounding, seed=seed)
        assert np.array_equal(got[0], want[0]), (shift, acc, got[0], want[0])
        assert got[1:] == want[1:], shift


@pytest.mark.parametrize("rounding", [0, 1])
def test_every_small_accumulator(rounding):
    """Every accumulator in [-40, 40] at shifts around the rounding point and at a shift
    above 32 (where the dither is R shifted left), at every operand padding."""
    c = CONFIG
    acc = np.arange(-40, 41).reshape(9, 9)
    for shift, pad in ((1, 0), (2, 8), (3, 16), (c.max_shift, 16)):
        got = quantize_grid(c, acc, shift=shift, pad=pad, out_width=4, rounding=rounding,
                            seed=0x9E3779B9)
        want = golden_grid(acc, shift=shift, out_width=4, rounding=rounding, seed=0x9E3779B9)
        assert np.array_equal(got[0], want[0]), (shift, got[0], want[0])
        assert got[1:] == want[1:], shift

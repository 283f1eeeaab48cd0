"""The hardware prng against golden's generator and the contract's reference values."""

import numpy as np
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from golden.prng import KEY, ROTATIONS, prng
from hw import prng as hw_prng

# The reference values of docs/arithmetic.md.
REFERENCE = [((0, 0, 0), 0x44AD31A8), ((12345, 0, 0), 0xE2219E8D), ((12345, 1, 0), 0x9ACF3462),
             ((12345, 0, 1), 0x6DB488B3), ((0xDEADBEEF, 70000, 3), 0xA752632E)]


def hardware_words(triples):
    m = Module()
    seed, row, col = Signal(32), Signal(32), Signal(32)
    word = hw_prng.prng(m, seed, row, col)
    out = []

    async def bench(ctx):
        for s, r, c in triples:
            ctx.set(seed, s)
            ctx.set(row, r)
            ctx.set(col, c)
            out.append(ctx.get(word))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return out


def test_constants_match_the_contract():
    assert (hw_prng.KEY, hw_prng.ROTATIONS) == (KEY, ROTATIONS)


def test_reference_values():
    assert hardware_words([t for t, _ in REFERENCE]) == [v for _, v in REFERENCE]


def test_agrees_with_golden():
    rng = np.random.default_rng(0)
    triples = [tuple(int(x) for x in rng.integers(0, 1 << 32, 3)) for _ in range(200)]
    triples += [(7, m, n) for m in range(4) for n in range(4)]
    expected = [int(prng(s, m, n)) for s, m, n in triples]
    assert hardware_words(triples) == expected


def test_stages_compose_to_the_word():
    """hw.prng.STAGES with a register between stages (as the quantizer draws its words):
    a new triple every cycle, each word STAGES - 1 cycles later, equal to golden's."""
    m = Module()
    seed, row, col = Signal(32), Signal(32), Signal(32)
    x0, x1 = hw_prng.prng_init(m, seed, row, col)
    for i, rotations in enumerate(hw_prng.STAGES):
        x0, x1 = hw_prng.prng_rounds(m, x0, x1, rotations, name=f"s{i}")
        if i < len(hw_prng.STAGES) - 1:
            r0, r1 = Signal(32), Signal(32)
            m.d.sync += [r0.eq(x0), r1.eq(x1)]
            x0, x1 = r0, r1
    assert sum(map(len, hw_prng.STAGES)) == len(ROTATIONS)
    rng = np.random.default_rng(1)
    triples = [tuple(int(v) for v in rng.integers(0, 1 << 32, 3)) for _ in range(40)]
    lag = len(hw_prng.STAGES) - 1
    out = []

    async def bench(ctx):
        for t in range(len(triples) + lag):
            s, r, c = triples[min(t, len(triples) - 1)]
            ctx.set(seed, s)
            ctx.set(row, r)
            ctx.set(col, c)
            if t >= lag:
                out.append(ctx.get(x0))
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert out == [int(prng(s, r, c)) for s, r, c in triples]

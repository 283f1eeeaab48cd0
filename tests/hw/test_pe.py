"""ProcessingElement (amaranth.sim): exact sums of MSB-aligned products, tile after tile, with
bubbles and stalls, at every width pair; stale lanes from a wider earlier tile never leak."""

import random

from amaranth.sim import Simulator

from hw.config import AccelConfig
from hw.lanes import lane_count
from hw.pe import ProcessingElement

CONFIG = AccelConfig.preset("tiny")       # the defaults: zero gating, one gate per register
PLAIN = AccelConfig.preset("tiny", mult_tree="split", valid_gating=False, zero_gating=False,
                           clock_gates="lane")


def lanes_on(config, unused_bits, count):
    """Lane i is on unless all its bits lie below ``unused_bits`` (the spec's rule)."""
    return sum(1 << i for i in range(count) if (i + 1) * config.lane_width > unused_bits)


def clocked(dut, bench):
    """Run the async testbench ``bench`` against ``dut`` on a 100 MHz clock."""
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def run_tiles(config, tiles, *, seed):
    """``tiles``: [(a_width, b_width, [(a, b), ...])]; returns the results the PE emits."""
    dut = ProcessingElement(config=config)
    rng = random.Random(seed)
    w = config.max_width
    results = []

    async def bench(ctx):
        for a_width, b_width, pairs in tiles:
            ctx.set(dut.a_on, lanes_on(config, w - a_width, config.lanes))
            ctx.set(dut.b_on, lanes_on(config, w - b_width, config.lanes))
            ctx.set(dut.acc_on, lanes_on(config, 2 * w - a_width - b_width,
                                         lane_count(config.acc_width, config.lane_width)))
            ctx.set(dut.start, 1)       # the PE takes its copy of the settings
            ctx.set(dut.en, 0)
            ctx.set(dut.flags_in.valid, 0)
            await ctx.tick()
            ctx.set(dut.start, 0)
            for k, (a, b) in enumerate(pairs):
                while True:
                    stall, bubble = rng.random() < 0.25, rng.random() < 0.25
                    ctx.set(dut.en, not stall)
                    ctx.set(dut.flags_in.valid, not bubble)
                    ctx.set(dut.flags_in.first, k == 0)
                    ctx.set(dut.flags_in.last, k == len(pairs) - 1)
                    # Garbage below the operand's width must not matter.
                    ctx.set(dut.a_in, (a << (w - a_width)) | rng.getrandbits(w - a_width))
                    ctx.set(dut.b_in, (b << (w - b_width)) | rng.getrandbits(w - b_width))
                    if ctx.get(dut.en) and ctx.get(dut.result_valid):
                        results.append(ctx.get(dut.result))
                    await ctx.tick()
                    if not stall and not bubble:
                        break
            # The next tile may only change widths once this one's sum is out.
            ctx.set(dut.flags_in.valid, 0)
            ctx.set(dut.en, 1)
            for _ in range(3):
                if ctx.get(dut.result_valid):
                    results.append(ctx.get(dut.result))
                await ctx.tick()

    clocked(dut, bench)
    return results


def random_pairs(rng, a_width, b_width, k):
    return [(rng.randint(-(1 << a_width - 1), (1 << a_width - 1) - 1),
             rng.randint(-(1 << b_width - 1), (1 << b_width - 1) - 1)) for _ in range(k)]


def test_every_width_pair_and_stale_lanes():
    c = CONFIG
    rng = random.Random(1)
    tiles = []
    for a_width in c.widths:
        for b_width in c.widths:
            # A full-width tile first leaves non-zero low lanes behind.
            tiles.append((c.max_width, c.max_width, random_pairs(rng, c.max_width,
                                                                 c.max_width, 3)))
            tiles.append((a_width, b_width, random_pairs(rng, a_width, b_width,
                                                         rng.randint(1, 6))))
    w = c.max_width
    expected = [sum(a * b for a, b in pairs) << (2 * w - aw - bw) for aw, bw, pairs in tiles]
    assert run_tiles(c, tiles, seed=2) == expected


def test_largest_sum():
    c = CONFIG
    lo = -(1 << c.max_width - 1)
    tiles = [(c.max_width, c.max_width, [(lo, lo)] * c.max_k)]
    assert run_tiles(c, tiles, seed=3) == [c.max_k * lo * lo]


def test_fixed_width_baseline():
    c = AccelConfig.preset("tiny", tunable=False)
    rng = random.Random(4)
    tiles = [(c.max_width, c.max_width, random_pairs(rng, c.max_width, c.max_width, 5))]
    dut = ProcessingElement(config=c)
    assert not hasattr(dut, "a_on")
    results = []

    async def bench(ctx):
        ctx.set(dut.en, 1)
        for k, (a, b) in enumerate(tiles[0][2]):
            ctx.set(dut.flags_in.valid, 1)
            ctx.set(dut.flags_in.first, k == 0)
            ctx.set(dut.flags_in.last, k == 4)
            ctx.set(dut.a_in, a)
            ctx.set(dut.b_in, b)
            await ctx.tick()
        ctx.set(dut.flags_in.valid, 0)
        for _ in range(4):
            if ctx.get(dut.result_valid):
                results.append(ctx.get(dut.result))
            await ctx.tick()

    clocked(dut, bench)
    assert results == [sum(a * b for a, b in tiles[0][2])]


ZERO_GATED = AccelConfig.preset("tiny", clock_gates="lane")


def test_zero_gating_sums_exactly():
    # Zero first beats, zero last beats and all-zero tiles, after tiles that leave a non-zero
    # product and sum behind; zero_gating only skips work, the sums stay exact.
    c = ZERO_GATED
    rng = random.Random(5)
    w = c.max_width
    tiles = [(w, w, [(0, 5), (0, 0), (7, 0)]), (w, w, [(3, 0), (2, 2), (0, 4)])]
    for a_width in c.widths:
        for b_width in c.widths:
            tiles.append((w, w, random_pairs(rng, w, w, 3)))
            pairs = random_pairs(rng, a_width, b_width, rng.randint(1, 6))
            tiles.append((a_width, b_width, [(a * (rng.random() < 0.5), b * (rng.random() < 0.7))
                                             for a, b in pairs]))
    expected = [sum(a * b for a, b in pairs) << (2 * w - aw - bw) for aw, bw, pairs in tiles]
    assert run_tiles(c, tiles, seed=6) == expected


def product_register_trace(config, beats, *, firsts=(0,)):
    """p's distinct successive values while full-width ``beats`` pass (a tile starting at
    each index in ``firsts``)."""
    dut = ProcessingElement(config=config)
    seen = []

    async def bench(ctx):
        ctx.set(dut.a_on, (1 << config.lanes) - 1)
        ctx.set(dut.b_on, (1 << config.lanes) - 1)
        ctx.set(dut.acc_on, (1 << lane_count(config.acc_width, config.lane_width)) - 1)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        ctx.set(dut.en, 1)
        for k, (a, b) in enumerate(beats + [(0, 0)] * 3):
            ctx.set(dut.flags_in.valid, k < len(beats))
            ctx.set(dut.flags_in.first, k in firsts)
            ctx.set(dut.flags_in.last, k + 1 in firsts or k == len(beats) - 1)
            ctx.set(dut.a_in, a)
            ctx.set(dut.b_in, b)
            await ctx.tick()
            value = ctx.get(dut.p.value)
            if not seen or seen[-1] != value:
                seen.append(value)

    clocked(dut, bench)
    return seen


def test_zero_gating_holds_the_product_register():
    # A zero product after the first beat leaves p holding the last non-zero one.
    beats = [(3, 5), (0, 7), (4, -1), (2, 0), (0, 0), (6, 1)]
    assert product_register_trace(PLAIN, beats) == [0, 15, 0, -4, 0, 6]
    assert product_register_trace(ZERO_GATED, beats) == [0, 15, -4, 6]
    # A tile's zero first beat still loads its zero (the tile's sum restarts from it).
    assert product_register_trace(ZERO_GATED, [(3, 5), (0, 3), (2, 2)],
                                  firsts=(0, 1)) == [0, 15, 0, 4]


REGISTER_GATED = CONFIG


def test_register_clock_gates_load_whole_and_mask():
    # Registers load every lane (one clock gate each) yet sums stay exact at every width pair.
    c = REGISTER_GATED
    rng = random.Random(7)
    tiles = [(aw, bw, random_pairs(rng, aw, bw, rng.randint(1, 5)))
             for aw in c.widths for bw in c.widths]
    w = c.max_width
    expected = [sum(a * b for a, b in pairs) << (2 * w - aw - bw) for aw, bw, pairs in tiles]
    assert run_tiles(c, tiles, seed=8) == expected
    # The lowest lane of a is off at width 8 and holds under lane gates, loads under one gate.
    for config, low in ((PLAIN, 0), (c, 0x7)):
        dut = ProcessingElement(config=config)
        seen = []

        async def bench(ctx):
            ctx.set(dut.a_on, 0b110)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            ctx.set(dut.en, 1)
            ctx.set(dut.flags_in.valid, 1)
            ctx.set(dut.a_in, 0x5A7)
            await ctx.tick()
            seen.append(ctx.get(dut.a.lanes[0]))

        clocked(dut, bench)
        assert seen == [low]

"""LaneMultiplier (amaranth.sim) against Python's integer product."""

import gc
import itertools
import random

import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from hw.multiplier import LaneMultiplier
from hw.platform import DSP_PLATFORM
from tests.support.multipliers import products
from tests.support.reference import packed_reference

# The ASIC structures (lane products and a subtracted sum of sign terms, or one folded tree of
# partial-product bits) and the FPGA one (DSP-sized row products): the same bits.
PLATFORMS = pytest.mark.parametrize("platform, tree", [
    (None, "split"), (None, "folded"), (DSP_PLATFORM, "split")],
    ids=["asic", "asic-folded", "fpga"])


def operand_set(width, rng, n):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    edge = [lo, lo + 1, -1, 0, 1, hi - 1, hi]
    return edge + [rng.randint(lo, hi) for _ in range(n)]


@PLATFORMS
@pytest.mark.parametrize("width, lane_width", [(4, 2), (6, 3), (8, 4), (12, 4), (8, None)])
def test_product(width, lane_width, platform, tree):
    rng = random.Random(width)
    values = operand_set(width, rng, 12)
    pairs = list(itertools.product(values, repeat=2))
    assert products(LaneMultiplier(width=width, lane_width=lane_width, tree=tree), pairs,
                    platform=platform) == [a * b for a, b in pairs]


@pytest.mark.parametrize("tree", ["split", "folded"])
def test_exhaustive_small(tree):
    pairs = list(itertools.product(range(-8, 8), repeat=2))
    assert products(LaneMultiplier(width=4, lane_width=2, tree=tree), pairs) == \
        [a * b for a, b in pairs]


@PLATFORMS
@pytest.mark.parametrize("width, lane_width, groups", [
    (16, 4, (4, 8)), (12, 4, (4,)), (8, 2, (2, 4)),
    (16, 2, (2, 4, 6, 8)),        # group 6 packs two fields and leaves 4 bits unused
])
def test_packed_modes(width, lane_width, groups, platform, tree):
    rng = random.Random(width * lane_width)
    dut = LaneMultiplier(width=width, lane_width=lane_width, groups=groups, tree=tree)
    words = operand_set(width, rng, 40)
    pairs = list(itertools.product(words, repeat=2))
    rng.shuffle(pairs)
    pairs = pairs[:600]
    # Every mode on the same operands: the plain product, then each group width's packed sum.
    assert products(dut, pairs, platform=platform) == [a * b for a, b in pairs]
    for i, group in enumerate(groups):
        assert products(dut, pairs, pack=1 << i, platform=platform) == \
            [packed_reference(width, group, a, b) for a, b in pairs], f"group {group}"


@PLATFORMS
def test_packed_extremes(platform, tree):
    # Every field at its most negative value: the largest sums still fit p's 2*width bits.
    dut = LaneMultiplier(width=16, lane_width=4, groups=(4, 8), tree=tree)
    low = -(1 << 15) | 0x0888            # four 4-bit fields of -8
    assert products(dut, [(low, low)], pack=1, platform=platform) == [4 * 64 << 12]
    assert products(dut, [(-(1 << 15) | 0x80, -(1 << 15) | 0x80)], pack=2,
                    platform=platform) == [2 * (1 << 14) << 8]


def staged_products(dut, pairs, *, pack=0, platform=None):
    """``dut`` (``stages=1``) loading one pair per enabled cycle, then holding for a cycle
    while its operands change: what p shows during the hold, per pair."""
    out = []

    async def bench(ctx):
        if pack:
            ctx.set(dut.pack, pack)
        for a, b in pairs:
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            ctx.set(dut.en, 1)
            await ctx.tick()
            ctx.set(dut.a, ~a)          # what the register holds must not follow these
            ctx.set(dut.b, b ^ 0x5)
            ctx.set(dut.en, 0)
            await ctx.tick()
            out.append(ctx.get(dut.p))

    sim = Simulator(Fragment.get(dut, platform))
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


@PLATFORMS
@pytest.mark.parametrize("width, lane_width, groups", [
    (16, 4, (4, 8)),        # FPGA: one product per lane pair
    (12, 4, (4,)),          # FPGA: one product per lane (three lanes)
    (8, None, ()),          # one a * b
])
def test_staged_products(width, lane_width, groups, platform, tree):
    """``stages=1`` (the ECP5 build's register after the DSP products): the same bits one
    enabled cycle later, held while ``en`` is low, in every mode."""
    rng = random.Random(width + 1)
    dut = LaneMultiplier(width=width, lane_width=lane_width, groups=groups, tree=tree,
                         stages=1)
    pairs = list(itertools.product(operand_set(width, rng, 8), repeat=2))
    rng.shuffle(pairs)
    pairs = pairs[:120]
    assert staged_products(dut, pairs, platform=platform) == [a * b for a, b in pairs]
    for i, group in enumerate(groups):
        assert staged_products(dut, pairs, pack=1 << i, platform=platform) == \
            [packed_reference(width, group, a, b) for a, b in pairs], f"group {group}"


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=8, lane_width=2, stages=2), "stages must be 0 or 1, not 2"),
    (dict(width=1, lane_width=None), "width must be an integer >= 2, not 1"),
    (dict(width=8, lane_width=3), "lane_width must divide width (8), not 3"),
    (dict(width=8, lane_width=2, groups=(3,)), "groups must be multiples of lane_width (2) "
     "that fit at least twice into width (8), not (3,)"),
    (dict(width=8, lane_width=2, groups=(6,)), "groups must be multiples of lane_width (2) "
     "that fit at least twice into width (8), not (6,)"),
])
def test_validation(kwargs, message, recwarn):
    Fragment.get(LaneMultiplier(width=8, lane_width=2), None)  # arms Amaranth's unused warning
    with pytest.raises(ValueError) as info:
        LaneMultiplier(**kwargs)
    assert str(info.value) == message
    del info            # its traceback would keep a half-made component alive
    gc.collect()        # a refused component leaves no "created but never used" warning
    assert [str(w.message) for w in recwarn] == []


"""The 2-D decomposed multiplier (``mult_tree="fused2d"``): its brick plan (``hw.bricks``)
evaluated in Python exactly as ``hw.fused`` wires it, on every operand pair of the smallest one
and on random and extreme words of the others, and the Amaranth circuit in amaranth.sim, both
against the plain product and ``fused_reference`` (written from the plan's docstring)."""

import random

import pytest

from hw.bricks import modes, word_width
from hw.fused import FusedMultiplier
from tests.support.multipliers import products
from tests.support.reference import fused_reference


def signed(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def evaluate(width, lane_width, groups, a, b, mode):
    """The plan's sum modulo 2^(2 width): each brick's lanes, signed where the plan says,
    times each other at the brick's shift (``mode`` 0 plain, i the mode of groups[i - 1])."""
    L = lane_width

    def lane(word, at, is_signed):
        bits = (word >> (at * L)) & ((1 << L) - 1)
        return signed(bits, L) if is_signed else bits
    total = sum(lane(a, k.a_lane, k.a_signed) * lane(b, k.b_lane, k.b_signed) << k.shift
                for k in modes(width, lane_width, groups)[mode].values())
    return signed(total, 2 * width)


def expected(width, groups, a, b, mode, word):
    if mode == 0:
        return signed(a >> (word - width), width) * signed(b >> (word - width), width)
    return fused_reference(width, groups[mode - 1], a, b, word=word)


def words(word, group, rng, n):
    """Random words, and the extremes: every field most negative (the largest sum), most
    positive, and most negative against most positive."""
    fields = word // group
    low, high = 1 << (group - 1), (1 << (group - 1)) - 1
    lo = sum(low << (f * group) for f in range(fields))
    hi = sum(high << (f * group) for f in range(fields))
    pairs = [(lo, lo), (hi, hi), (lo, hi), (hi, lo), (0, lo), (-1, -1)]
    pairs += [(rng.getrandbits(word), rng.getrandbits(word)) for _ in range(n)]
    return [(signed(x, word), signed(y, word)) for x, y in pairs]


def test_every_operand_pair_of_the_smallest():
    width, lane_width, groups = 4, 2, (2,)
    word = word_width(width, lane_width, groups)
    assert word == 8            # four 2-bit fields
    for mode in range(2):
        for a in range(-128, 128):
            for b in range(-128, 128):
                assert evaluate(width, lane_width, groups, a, b, mode) == \
                    expected(width, groups, a, b, mode, word), (mode, a, b)


@pytest.mark.parametrize("width, lane_width, groups, word", [
    (8, 2, (2, 4), 32), (12, 4, (4,), 36), (16, 4, (4, 8), 64), (16, 8, (8,), 32),
    (12, 2, (2, 4, 6), 72)])
def test_random_and_extreme_words(width, lane_width, groups, word):
    assert word_width(width, lane_width, groups) == word
    rng = random.Random(word)
    for mode in range(len(groups) + 1):
        group = groups[mode - 1] if mode else width
        for a, b in words(word, group, rng, 300):
            assert evaluate(width, lane_width, groups, a, b, mode) == \
                expected(width, groups, a, b, mode, word), (mode, a, b)


def test_every_brick_works_at_the_narrowest_width():
    """At 4 bits in 4-bit lanes all 16 bricks of the 16-bit multiplier work, each on lanes of
    its own (16 MACs a beat); at 8 bits all 16 work on 4 products."""
    plain, narrow, eight = modes(16, 4, (4, 8))
    assert len(plain) == len(narrow) == len(eight) == 16
    assert len({k.a_lane for k in narrow.values()}) == len({k.b_lane for k in narrow.values()}) == 16


def test_circuit():
    width, lane_width, groups = 8, 2, (2, 4)
    word = word_width(width, lane_width, groups)
    dut = FusedMultiplier(width=width, lane_width=lane_width, groups=groups)
    rng = random.Random(7)
    for mode in range(3):
        pairs = words(word, groups[mode - 1] if mode else width, rng, 20)
        assert products(dut, pairs, pack=1 << (mode - 1) if mode else 0) == \
            [expected(width, groups, a, b, mode, word) for a, b in pairs], mode


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=8, lane_width=3), "lane_width must divide width (8) at least twice, not 3"),
    (dict(width=8, lane_width=8), "lane_width must divide width (8) at least twice, not 8"),
    (dict(width=8, lane_width=2, groups=(6,)),
     "groups must be multiples of lane_width (2) that fit at least twice into width (8), "
     "not (6,)"),
])
def test_refuses(kwargs, message):
    with pytest.raises(ValueError) as e:
        FusedMultiplier(**kwargs)
    assert str(e.value) == message

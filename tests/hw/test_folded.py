"""The folded multiplier tree's plan (``hw.folded``), evaluated bit by bit in NumPy exactly as
``LaneMultiplier(tree="folded")`` wires it, on every operand pair of small multipliers and on
every pair of fields of the 16-bit one; the Amaranth circuit itself is simulated in
tests/hw/test_multiplier.py."""

import numpy as np
import pytest

from hw.folded import modes, plan
from hw.multiplier import LaneMultiplier
from tests.support.reference import packed_reference


def evaluate(width, lane_width, groups, a, b, mode):
    """The plan's sum modulo 2^(2 width), as signed integers: ``mode`` 0 is the plain product,
    i the packed mode of ``groups[i - 1]``."""
    L, top = lane_width, 2 * width
    signed, pairs = modes(width, lane_width, groups)[mode]
    ua, ub = a & ((1 << width) - 1), b & ((1 << width) - 1)
    rows, constant = plan(width, lane_width, groups)
    total = np.full(a.shape, constant, dtype=np.int64)
    for bit in (bit for row in rows for bit in row):
        on = int((bit.i, bit.j) in pairs)
        a_bit = (ua >> (bit.i * L + bit.k)) & 1
        b_bit = ((ub >> (bit.j * L + bit.l)) & 1) * on
        a_sign, b_sign = a_bit * (bit.i in signed), b_bit * (bit.j in signed)
        value = {"pp": a_bit & b_bit, "sa": 1 - (a_sign & b_bit),
                 "sb": 1 - (b_sign & a_bit), "ss": a_sign & b_sign}[bit.kind]
        total += value << bit.weight
    total &= (1 << top) - 1
    return np.where(total >> (top - 1), total - (1 << top), total)


def all_pairs(width):
    values = np.arange(-(1 << (width - 1)), 1 << (width - 1), dtype=np.int64)
    a, b = np.meshgrid(values, values, indexing="ij")
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("width, lane_width, groups", [
    (4, 2, (2,)), (6, 2, (2,)), (6, 3, ()), (8, 4, (4,)), (8, 2, (2, 4)), (8, 4, ()),
])
def test_every_operand_pair(width, lane_width, groups):
    a, b = all_pairs(width)
    assert np.array_equal(evaluate(width, lane_width, groups, a, b, 0), a * b)
    for mode, group in enumerate(groups, 1):
        want = [packed_reference(width, group, x, y) for x, y in zip(a.tolist(), b.tolist())]
        assert evaluate(width, lane_width, groups, a, b, mode).tolist() == want, group


def test_16_bit_fields_exhaustively():
    """16-bit words in 4-bit lanes: every 8-bit value pair MSB-aligned (an unpacked 8-bit
    beat), in each pair of 8-bit fields, and in each pair of 4-bit fields (the other fields
    random), against the plain product and the packed sums."""
    width, groups = 16, (4, 8)
    rng = np.random.default_rng(16)
    x, y = all_pairs(8)
    assert np.array_equal(evaluate(width, 4, groups, x << 8, y << 8, 0), (x << 8) * (y << 8))
    for mode, group in ((2, 8), (1, 4)):
        fields = width // group
        for g in range(fields):
            a = rng.integers(0, 1 << width, x.size, dtype=np.int64)
            b = rng.integers(0, 1 << width, x.size, dtype=np.int64)
            values = (x, y) if group == 8 else (x >> 4, y >> 4)
            for word, v, f in ((0, values[0], g), (1, values[1], fields - 1 - g)):
                at = width - (f + 1) * group
                mask = ((1 << group) - 1) << at
                w = (a, b)[word]
                w &= ~mask
                w |= (v & ((1 << group) - 1)) << at
            a = np.where(a >> 15, a - (1 << 16), a)
            b = np.where(b >> 15, b - (1 << 16), b)
            want = [packed_reference(width, group, p, q) for p, q in zip(a.tolist(), b.tolist())]
            assert evaluate(width, 4, groups, a, b, mode).tolist() == want, (group, g)


def test_fewer_sign_terms_than_the_split_tree():
    """The plan leaves out the sign bits no mode can set: the split tree has 2 L = 8 per lane
    pair, 128 for 16 pairs. Folded, at 16 bits in 4-bit lanes with groups (4, 8), a's lane 3
    heads a field in every mode (4 pairs), lane 1 in the 8- and 4-bit modes (pairs (1, 2),
    (1, 3)), lanes 2 and 0 in the 4-bit mode (pairs (2, 1), (0, 3)): 8 pairs, and as many for
    b, of 4 bits each."""
    rows, _ = plan(16, 4, (4, 8))
    assert sum(bit.negative for row in rows for bit in row) == 2 * 8 * 4


def test_unknown_tree_is_refused():
    with pytest.raises(ValueError) as info:
        LaneMultiplier(width=8, lane_width=4, tree="wallace")
    assert str(info.value) == "tree must be one of split, folded, not 'wallace'"


@pytest.mark.parametrize("tree, maccs", [
    ("split", lambda n: n > 16), ("folded", lambda n: n == 1)], ids=["split", "folded"])
def test_folded_tree_is_one_macc_in_yosys(tree, maccs, tmp_path):
    """What the folded tree is for: Yosys's ``alumacc`` makes the split multiplier one
    ``$macc`` (so one carry-propagate adder) per lane product plus the sum, the folded one a
    single ``$macc``: one carry-save tree."""
    from amaranth.back import verilog

    from flows.eda.tools import yosys
    dut = LaneMultiplier(width=16, lane_width=4, groups=(4, 8), tree=tree)
    (tmp_path / "m.v").write_text(verilog.convert(dut, name="mul", emit_src=False))
    yosys("read_verilog m.v\nsynth -top mul -noabc -run begin:fine\nstat\n",
          log_path=tmp_path / "y.log", cwd=tmp_path)
    stat = (tmp_path / "y.log").read_text().split("Printing statistics")[-1]
    count = sum(int(line.split()[0]) for line in stat.splitlines()
                if line.strip().endswith("$macc_v2") or line.strip().endswith("$macc"))
    assert maccs(count), count

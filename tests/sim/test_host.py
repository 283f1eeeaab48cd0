"""The host protocol: packing, operand beat order, result assembly and job checks."""

import numpy as np
import pytest
from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from golden import GemmJob
from hw.config import AccelConfig
from sim import host

CONFIG = AccelConfig.preset("tiny")


def test_pack_unpack_round_trip():
    layout = data.StructLayout({"x": signed(5), "y": data.ArrayLayout(unsigned(3), 2),
                                "z": 1})
    value = {"x": -3, "y": [5, 2], "z": 1}
    word = host.pack(layout, value)
    assert word == (0b11101 | (5 << 5) | (2 << 8) | (1 << 11))
    assert host.unpack(layout, word) == value
    with pytest.raises(ValueError, match="16 does not fit signed\\(5\\)"):
        host.pack(signed(5), 16)


def job(m, k, n, width=8, **kw):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    lo, hi = -(1 << width - 1), 1 << width - 1
    return GemmJob(a=rng.integers(lo, hi, (m, k)), b=rng.integers(lo, hi, (k, n)),
                   a_width=width, a_frac=0, b_width=width, b_frac=0, out_width=width,
                   out_frac=0, **kw)


def test_operand_beats_follow_the_tiles():
    j = job(3, 4, 5)
    a_beats, b_beats = host.operand_beats(CONFIG, j)
    shift = CONFIG.max_width - 8
    tiles = host.tiles(CONFIG, j)
    assert tiles == [(0, 0), (0, 3), (2, 0), (2, 3)]
    assert a_beats.shape == (4 * 4, CONFIG.rows) and b_beats.shape == (4 * 4, CONFIG.cols)
    for t, (m0, n0) in enumerate(tiles):
        for k in range(4):
            for i in range(CONFIG.rows):
                want = j.a[m0 + i, k] << shift if m0 + i < 3 else 0
                assert a_beats[t * 4 + k, i] == want
            for c in range(CONFIG.cols):
                want = j.b[k, n0 + c] << shift if n0 + c < 5 else 0
                assert b_beats[t * 4 + k, c] == want


def test_packed_operand_beats():
    # Width 4 on the tiny array (max_width 12): three k per beat, k = 3t + g in a's bits
    # [8 - 4g, 12 - 4g) and in b's field 2 - g; K = 4 leaves the second beat's other fields
    # empty.
    a = np.array([[1, -2, 3, 5]])
    b = np.array([[-8], [7], [0], [-1]])
    j = GemmJob(a=a, b=b, a_width=4, a_frac=0, b_width=4, b_frac=0, out_width=4, out_frac=0)
    a_beats, b_beats = host.operand_beats(CONFIG, j)
    assert a_beats[:2, 0].tolist() == [0x1E3, 0x500]
    assert a_beats[:2, 1].tolist() == [0, 0]                          # row 1 is past M
    assert b_beats[:2, 0].tolist() == [0x078, 0x00F]
    # Mixed widths pack by the wider one: a 4-bit a beside an 8-bit b is one k per beat here,
    # MSB-aligned in the whole word.
    j8 = GemmJob(a=a, b=b, a_width=4, a_frac=0, b_width=8, b_frac=0, out_width=4, out_frac=0)
    a_beats, _ = host.operand_beats(CONFIG, j8)
    assert a_beats[:4, 0].tolist() == [1 << 8, -2 << 8, 3 << 8, 5 << 8]


def test_result_assembler_checks_names_and_order():
    j = job(3, 2, 4)
    asm = host.ResultAssembler(CONFIG, j)
    layout = host.result_layout(CONFIG)
    shift = CONFIG.max_width - 8
    for idx, (m, n0) in enumerate(asm.expected):
        row = [(m * 10 + n0 + c) << shift for c in range(CONFIG.cols)]
        asm.add(host.pack(layout, {"data": row, "m": m, "n": n0,
                                   "last": idx == len(asm.expected) - 1}))
    assert asm.complete
    assert asm.y.tolist() == [[m * 10 + n for n in range(4)] for m in range(3)]
    with pytest.raises(AssertionError, match="after the last one"):
        asm.add(0)
    fresh = host.ResultAssembler(CONFIG, j)
    with pytest.raises(AssertionError, match="names row 1, column 0; expected 0, 0"):
        fresh.add(host.pack(layout, {"data": [0] * CONFIG.cols, "m": 1, "n": 0, "last": 0}))


@pytest.mark.parametrize("change, message", [
    (dict(a_width=6), "a_width 6 is not supported by this array (widths 4, 8, 12)"),
    (dict(out_width=16), "out_width 16 is not supported by this array (widths 4, 8, 12)"),
    (dict(b_frac=40), "shift a_frac + b_frac - out_frac = 40 is outside this array's "
                      "range [-12, 24]"),
])
def test_check_job_refusals(change, message):
    base = job(2, 2, 2, width=4)
    j = GemmJob(a=base.a, b=base.b, **(base.scalars() | change))
    with pytest.raises(ValueError) as info:
        host.check_job(CONFIG, j)
    assert str(info.value) == message


def test_check_job_k():
    with pytest.raises(ValueError, match="K = 33 exceeds this array's max_k = 32"):
        host.check_job(CONFIG, job(1, CONFIG.max_k + 1, 1, width=4))
    host.check_job(CONFIG, job(1, CONFIG.max_k, 1, width=4))

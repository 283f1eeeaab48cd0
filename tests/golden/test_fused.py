"""The fused CPU kernels against the Python-integer reference of docs/arithmetic.md
(tests/support/reference.py) and against the tensor code that a GPU runs."""

import numpy as np
import pytest
import torch

from golden import Rounding, fused
from golden.train import kernels
from golden.backend_torch import TorchBackend
from golden.train.hostops import host_ops
from tests.support.reference import ref_prng, ref_round


@pytest.fixture(params=["array code", "numba kernel"])
def requantize_path(request, monkeypatch):
    """``requantize_`` runs small arrays as array code and larger ones on the numba kernel:
    both must give the reference's bits."""
    monkeypatch.setattr(fused, "SMALL", 1 << 40 if request.param == "array code" else -1)


def ref_requantize(acc, shift, width, rounding, seed, row0, col0):
    """Returns (y, saturated, underflow) from Python integers."""
    lo, hi = -2 ** (width - 1), 2 ** (width - 1) - 1
    r = np.array([[ref_round(int(v), shift, rounding,
                             ref_prng(seed, (row0 + i) & 0xFFFFFFFF, (col0 + j) & 0xFFFFFFFF))
                   for j, v in enumerate(row)] for i, row in enumerate(acc)], dtype=np.int64)
    y = np.clip(r, lo, hi)
    return y, int(np.count_nonzero(r != y)), int(np.count_nonzero((acc != 0) & (y == 0)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("inplace", [True, False], ids=["in place", "to a new array"])
@pytest.mark.parametrize("shift", [-3, 0, 1, 6, 20])
@pytest.mark.parametrize("rounding", [0, 1])
@pytest.mark.usefixtures("requantize_path")
def test_requantize_equals_the_reference(dtype, inplace, shift, rounding):
    rng = np.random.default_rng(100 + shift * 10 + rounding)
    width, seed = 8, 0xC0FFEE
    row0, col0 = 2 ** 32 - 3, 2 ** 31 - 7  # the grid's indices wrap modulo 2**32
    acc = rng.integers(-3000, 3000, (9, 41))
    acc[0, :8] = [2 ** 5, -2 ** 5, 3 * 2 ** 5, 2 ** 6 + 2 ** 5, 1, -1, 0, -2 ** 30]  # ties, tiny, big
    src = acc.astype(dtype)
    dst = src if inplace else np.empty(acc.shape, np.float64)
    got = fused.requantize_(src, dst, scale=2.0 ** -shift,
                            rounding=None if shift <= 0 else Rounding(rounding), seed=seed,
                            width=width, row0=row0, col0=col0)
    y, saturated, underflow = ref_requantize(acc, shift, width, rounding, seed, row0, col0)
    assert np.array_equal(dst.astype(np.int64), y)
    assert got == (saturated, underflow)
    assert saturated > 0 and (underflow > 0 or shift <= 1)  # both counts are exercised


@pytest.mark.usefixtures("requantize_path")
def test_stochastic_rounding_rounds_up_when_fraction_and_draw_sum_to_one():
    # floor(acc/2**32 + r/2**32) with acc = q*2**32 + (2**32 - r): exactly q + 1
    seed, row0, col0 = 77, 5, 2 ** 32 - 2
    r = [ref_prng(seed, row0, (col0 + j) & 0xFFFFFFFF) for j in range(3)]
    q = [3, -4, 0]
    acc = np.array([[qj * 2 ** 32 + 2 ** 32 - rj for qj, rj in zip(q, r)]], dtype=np.float64)
    fused.requantize_(acc, acc, scale=2.0 ** -32, rounding=Rounding.STOCHASTIC, seed=seed,
                      width=16,
                      row0=row0, col0=col0)
    assert acc.tolist() == [[4, -3, 1]]


@pytest.mark.parametrize("path", ["fused", "tensor"])
def test_stochastic_rounding_of_a_small_negative_value_past_53_bits(path):
    # acc = -(R * 2**28 + 1) at shift 60: floor(acc/2**60 + R/2**32) = floor(-2**-60) = -1,
    # while 1 + acc/2**60 rounds to 1 - R/2**32 in float64, which would round up to 0.
    seed, row0 = 3, 0
    col0 = next(n for n in range(10000) if ref_prng(seed, row0, n) < 2 ** 25)
    r = ref_prng(seed, row0, col0)
    acc = -(r * 2 ** 28 + 1)
    assert ref_round(acc, 60, 1, r) == -1
    be = TorchBackend("cpu", fused=path == "fused")
    y = be.round_shift(torch.tensor([[float(acc)]], dtype=torch.float64), 60, 1, seed,
                       row0=row0, col0=col0)
    assert y.tolist() == [[-1.0]]


@pytest.mark.usefixtures("requantize_path")
def test_requantize_without_width_does_not_saturate():
    v = np.array([[2.0 ** 40 + 0.5, -2.0 ** 40 - 0.25]])
    sat, unf = fused.requantize_(v, v, scale=1.0, rounding=Rounding.NEAREST_EVEN, seed=0,
                               width=None)
    assert v.tolist() == [[2.0 ** 40, -2.0 ** 40]] and (sat, unf) == (0, 0)


def test_prng_equals_the_reference_at_the_edges():
    for seed, m, n in [(0, 0, 0), (2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1), (12345, 7, 2 ** 31)]:
        assert fused.prng(seed, m, n) == ref_prng(seed, m, n)


def test_maxpool_equals_the_tensor_code():
    rng = np.random.default_rng(5)
    x = rng.integers(-3, 4, (3, 7, 9, 5)).astype(np.float32)  # odd sides, many ties
    tensor = host_ops(TorchBackend("cpu", fused=False))
    y0, r0 = tensor.maxpool(torch.from_numpy(x))
    y1, r1 = kernels.maxpool(x)
    assert np.array_equal(y1, y0.numpy()) and np.array_equal(r1, r0.numpy())
    d = rng.integers(-50, 50, y1.shape).astype(np.float64)
    g0 = tensor.maxpool_backward(torch.from_numpy(d), r0, x.shape)
    assert np.array_equal(kernels.maxpool_backward(d, r1, x.shape), g0.numpy())


def test_torch_backend_checks_its_fused_argument():
    with pytest.raises(ValueError, match="fused must be None, True or False, not 'yes'"):
        TorchBackend("cpu", fused="yes")
    with pytest.raises(ValueError, match="fused kernels run on the cpu only, not on meta"):
        TorchBackend("meta", fused=True)
    assert TorchBackend("cpu").fused and not TorchBackend("meta").fused

"""The training fast paths compute the contract's bits: ``accumulate`` + ``requantize_inplace``
equals ``gemm``; the column-L1 K-chunks stay within float32's exact range; the int32 generator of
the torch backend equals the reference ``prng``."""

import numpy as np
import pytest
import torch

from golden import exact
from golden.backend_numpy import NumpyBackend, _block_abs_sums, may_saturate
from golden.backends import get_backend
from golden.prng import prng_grid

BACKENDS = ["numpy", "torch"]


def backend(name):
    return get_backend(name, device="cpu" if name == "torch" else None)


def skewed(rng, shape, width, big_fraction):
    """Integers of ``width`` bits, mostly small, a few at full scale (like training errors)."""
    hi = 2 ** (width - 1)
    x = rng.integers(-4, 5, shape)
    big = rng.random(shape) < big_fraction
    x[big] = rng.integers(-hi, hi, int(big.sum()))
    return x


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("width,m,k,n,big", [
    (8, 30, 9000, 20, 0.3),    # K*A*B past 2**24: a few column-L1 chunks
    (8, 30, 9000, 20, 1.0),    # every value large: as many chunks as the K*A*B rule
    (8, 40, 900, 30, 0.5),     # one float32 GEMM
    (16, 20, 700, 10, 0.5),    # float64
    (4, 50, 3000, 8, 1.0),
])
@pytest.mark.parametrize("rounding", [0, 1])
def test_accumulate_and_requantize_inplace_equal_gemm(name, width, m, k, n, big, rounding):
    rng = np.random.default_rng(width * 1000 + k + rounding)
    a = rng.integers(0, 2 ** (width - 1), (m, k))  # nonnegative, like ReLU activations
    b = skewed(rng, (k, n), width, big)
    be, ref = backend(name), NumpyBackend()
    bound = 1 << (width - 1)
    for shift in (-2, 0, 3, 2 * width - 5):
        y0, s0, u0 = ref.gemm(a.astype(np.float64), b.astype(np.float64), shift=shift,
                              out_width=width, rounding=rounding, seed=99, a_bound=bound,
                              b_bound=bound)
        ta, tb = be.asarray(a, _f32(name)), be.asarray(b, _f32(name))
        acc = be.accumulate(ta, tb, a_bound=int(a.max()), b_bound=int(np.abs(b).max()))
        amax = int(np.abs(be.to_numpy(acc).astype(np.float64)).max())
        y1, s1, u1 = be.requantize_inplace(acc, shift, width, rounding, 99, acc_abs_max=amax)
        assert np.array_equal(be.to_numpy(y1).astype(np.int64), y0.astype(np.int64))
        assert (s1, u1) == (s0, u0)
        if shift == 0 and width == 8:
            assert s0 > 0  # the saturation path is exercised, not skipped


def _f32(name):
    return np.float32 if name == "numpy" else torch.float32


def test_column_l1_chunks_respect_float32s_exact_range():
    rng = np.random.default_rng(3)
    k, a_bound = 40000, 127
    b = skewed(rng, (k, 16), 8, 0.05).astype(np.float32)
    block = exact.plan(k, a_bound, 128)[1]
    chunks = exact.l1_chunks(_block_abs_sums(b, block), block, k, a_bound)
    assert 1 < len(chunks) < k // block  # fewer than the K*A*B rule, more than one
    assert chunks[0][0] == 0 and chunks[-1][1] == k
    assert all(c[1] == d[0] for c, d in zip(chunks, chunks[1:]))
    for k0, k1 in chunks:
        assert a_bound * np.abs(b[k0:k1].astype(np.int64)).sum(axis=0).max() <= 2 ** 24


@pytest.mark.parametrize("acc_max,shift,width,expected", [
    (127, 0, 8, False), (128, 0, 8, True), (254, 1, 8, False), (255, 1, 8, True),
    (16, -3, 8, True), (15, -3, 8, False), (2 ** 40 - 2 ** 33, 33, 8, False),
    (2 ** 40 - 2 ** 33 + 1, 33, 8, True)])
def test_may_saturate_is_the_exact_bound(acc_max, shift, width, expected):
    assert may_saturate(acc_max, shift, width) is expected


@pytest.mark.parametrize("seed,rows,cols,row0,col0", [
    (0, 1, 1, 0, 0), (12345, 70, 513, 0, 0), (0xDEADBEEF, 300, 400, 2 ** 32 - 150, 2 ** 31 - 10),
    (7, 1, 70000, 5, 2 ** 32 - 50000), (99, 70000, 3, 0, 0)])
def test_torch_int32_generator_equals_the_reference(seed, rows, cols, row0, col0):
    got = backend("torch").prng_grid(seed, rows, cols, row0=row0, col0=col0)
    assert np.array_equal(got.numpy(), prng_grid(seed, rows, cols, row0=row0,
                                                 col0=col0).astype(np.int64))

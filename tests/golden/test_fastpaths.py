"""The training fast paths compute the contract's bits: ``accumulate`` + ``requantize_inplace``
equals ``gemm``; the convolution GEMMs equal a naive integer convolution on every path (direct
float32, runs of images, patches in float32 or float64); the column-L1 K-chunks stay within
float32's exact range; the int32 generator of the torch backend equals the reference ``prng``."""

import numpy as np
import pytest
import torch

from golden import backend_numpy, exact
from golden.backend_numpy import NumpyBackend, _block_abs_sums, may_saturate
from golden.backend_torch import TorchBackend
from golden.backends import get_backend
from golden.prng import prng_grid

BACKENDS = ["numpy", "torch", "torch-tensor"]


def backend(name):
    """torch-tensor: the tensor code that a GPU runs, here on the CPU."""
    if name == "torch-tensor":
        return TorchBackend("cpu", fused=False)
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


def conv_refs(x, w, e, pad):
    """Naive int64 forward and weight-gradient sums of a 3x3 stride-1 convolution (NHWC x,
    w (3, 3, C, N), e (B, Ho, Wo, N)) over Python-sized integers."""
    ho, wo = e.shape[1], e.shape[2]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    y = np.zeros(e.shape, np.int64)
    dw = np.zeros(w.shape, np.int64)
    for ky in range(3):
        for kx in range(3):
            win = xp[:, ky:ky + ho, kx:kx + wo, :]
            y += np.einsum("bhwc,cn->bhwn", win, w[ky, kx])
            dw[ky, kx] = np.einsum("bhwc,bhwn->cn", win, e)
    return y.reshape(-1, w.shape[3]), dw.reshape(-1, w.shape[3])


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case,b,hw,c,n,xw,ew,big,runs", [
    ("direct", 4, 8, 5, 6, 8, 8, 1.0, "one"),            # one float32 convolution
    ("image runs", 64, 8, 3, 4, 8, 8, 1.0, "several"),   # K*A*B past 2**24: runs of images
    ("one image too big", 2, 28, 2, 3, 9, 9, 1.0, None),  # patches, column-L1 chunks
    ("float64", 3, 7, 4, 5, 16, 16, 0.5, None),          # 16-bit operands: float64 patches
    ("float64, 5 images", 5, 7, 4, 5, 16, 16, 0.5, None),  # a last block of 1 image
])
@pytest.mark.parametrize("pad", [0, 1])
def test_convolution_gemms_equal_the_naive_convolution(name, case, b, hw, c, n, xw, ew, big,
                                                       runs, pad, monkeypatch):
    # NumPy's convolutions in blocks of 2 images
    monkeypatch.setattr(backend_numpy, "PATCH_BLOCK", 2 * (hw + 2 * pad - 2) ** 2 * 9 * c)
    assert backend_numpy.image_blocks((b, hw, hw, c), pad) == [(i, min(i + 2, b))
                                                               for i in range(0, b, 2)]
    rng = np.random.default_rng(len(case) * 10 + pad)
    x = rng.integers(0, 2 ** (xw - 1), (b, hw, hw, c))  # nonnegative, like ReLU outputs
    x[0, 0, 0, 0] = 2 ** (xw - 1) - 1
    w = skewed(rng, (3, 3, c, n), xw, 1.0)
    ho = hw + 2 * pad - 2
    e = skewed(rng, (b, ho, ho, n), ew, big)
    y_ref, dw_ref = conv_refs(x, w, e, pad)
    be, dtype = backend(name), _f32(name)
    a_bound, w_bound, e_bound = int(x.max()), int(np.abs(w).max()), int(np.abs(e).max())
    e2 = e.reshape(-1, n)
    if xw <= 9:  # the torch backend's choice of runs, on the same data
        chunk = exact.plan(e2.shape[0], a_bound, e_bound)[1]
        got_runs = backend_numpy.image_runs(e.reshape(b, ho * ho, n).astype(np.float32), chunk,
                                            a_bound)
        assert runs == (None if got_runs is None else "one" if len(got_runs) == 1 else "several")
    y = be.conv(be.asarray(x, dtype), be.asarray(w.reshape(-1, n), dtype), pad=pad,
                a_bound=a_bound, b_bound=w_bound)
    dw = be.conv_weight(be.asarray(x, dtype), be.asarray(e2, dtype), pad=pad, a_bound=a_bound,
                        b_bound=e_bound)
    for got, want in ((y, y_ref), (dw, dw_ref)):
        assert np.array_equal(np.asarray(be.to_numpy(got)).astype(np.int64), want)

"""The int8-piece route for 16-bit GEMMs (golden.int8_gemm): exact on random and extreme values,
across K-chunks, and the torch backend's convolutions through it equal NumPy's bits."""

import numpy as np
import pytest
import torch

from golden import int8_gemm
from golden.backend_numpy import NumpyBackend
from golden.backend_torch import TorchBackend

LO, HI = -(1 << 15), (1 << 15) - 1


def exact_product(a, b):
    """a @ b in Python integers (no int64 or float shortcut)."""
    return np.array([[sum(int(x) * int(y) for x, y in zip(row, col)) for col in b.T] for row in a],
                    dtype=object)


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 37, 3), (20, 300, 9), (3, 40000, 2)])
def test_random_16_bit_products_are_exact(m, k, n):
    rng = np.random.default_rng(k)
    a, b = rng.integers(LO, HI + 1, (m, k)), rng.integers(LO, HI + 1, (k, n))
    got = int8_gemm.int_matmul(torch.from_numpy(a).double(), torch.from_numpy(b).double())
    assert got.dtype == torch.float64
    assert (got.numpy().astype(np.int64).astype(object) == exact_product(a, b)).all()


def test_extremes_across_k_chunks():
    # K = 2**17 + 5 terms: five K-chunks; every combination of the extreme values.
    k = 4 * int8_gemm.CHUNK + 5
    col = np.resize(np.array([LO, HI, -1, 0, 255, -256, 128, -129]), k)
    a = np.stack([np.full(k, LO), np.full(k, HI), col, -col - 1])
    b = np.stack([np.full(k, LO), np.full(k, HI), col[::-1].copy()], axis=1)
    got = int8_gemm.int_matmul(torch.from_numpy(a).float(), torch.from_numpy(b).float()).numpy()
    got = got.astype(np.int64)
    want = [[sum(int(x) * int(y) for x, y in zip(a[i], b[:, j])) for j in range(3)]
            for i in range(4)]
    assert got.tolist() == want
    assert got[0, 0] == k << 30    # (-2**15)**2 per term: an int32 chunk of 2**17 would wrap


def test_a_single_row_view_of_a_transpose():
    # (1, 2) with strides (1, 1): "contiguous" to torch, misread by the CPU _int_mm (found here)
    a = torch.tensor([[1.0], [2.0]]).T
    assert int8_gemm.int_matmul(a, torch.tensor([[3.0], [4.0]])).tolist() == [[11.0]]


def test_split_pieces_are_int8_and_recombine():
    x = torch.arange(LO, HI + 1, dtype=torch.float64)
    h, low, x16 = int8_gemm.split(x)   # every 16-bit value
    assert h.dtype == low.dtype == torch.int8 and x16.dtype == torch.int16
    assert torch.equal(256 * h.long() + low.long() + 128, x.long())
    assert torch.equal(x16.long(), x.long())
    # a transposed (non-contiguous) operand splits the same
    m = x[:6 * 1000].reshape(6, 1000)
    ht, lt, _ = int8_gemm.split(m.T)
    assert torch.equal(256 * ht.long() + lt.long() + 128, m.T.long())
    assert not int8_gemm.fits(9, 1 << 15, 1) and int8_gemm.fits(9, HI, HI)
    assert not int8_gemm.fits(1 << 22, HI, HI)       # 2 * 2**22 * (2**15 + 128)**2 > 2**53


def count_calls(monkeypatch):
    calls = []
    real = int8_gemm.int_matmul
    monkeypatch.setattr(int8_gemm, "int_matmul", lambda a, b: calls.append(a.shape) or real(a, b))
    return calls


@pytest.mark.parametrize("op", ["accumulate", "conv", "conv_weight"])
def test_torch_backend_takes_the_route_with_numpys_bits(monkeypatch, op):
    calls = count_calls(monkeypatch)
    rng = np.random.default_rng(1)
    x = rng.integers(LO, HI + 1, (2, 6, 6, 4)).astype(np.float32)
    bounds = dict(a_bound=HI, b_bound=HI)
    if op == "accumulate":
        args = (x.reshape(-1, 4 * 36)[:, :40], rng.integers(LO, HI + 1, (40, 7)).astype(np.float32))
        kw = bounds
    elif op == "conv":
        args, kw = (x, rng.integers(LO, HI + 1, (36, 5)).astype(np.float32)), dict(pad=1, **bounds)
    else:
        args, kw = (x, rng.integers(LO, HI + 1, (72, 5)).astype(np.float32)), dict(pad=1, **bounds)
    want = getattr(NumpyBackend(), op)(*args, **kw)
    got = getattr(TorchBackend("cpu"), op)(*map(torch.from_numpy, args), **kw)
    assert calls, "the int8 route was not taken"
    assert got.dtype == torch.float64 and np.array_equal(got.numpy(), want)
    assert want.dtype == np.float64


def test_float64_is_kept_when_asked_or_when_a_bound_is_2_to_the_15(monkeypatch):
    calls = count_calls(monkeypatch)
    a = torch.full((3, 4), float(LO))
    TorchBackend("cpu", int8=False).accumulate(a, a.T, a_bound=HI, b_bound=HI)
    TorchBackend("cpu").accumulate(a, a.T, a_bound=1 << 15, b_bound=1 << 15)
    assert not calls

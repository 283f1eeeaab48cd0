"""Backend agreement (torch == numpy, bit for bit) and the statistics of the two roundings."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from golden import GemmJob, Q, gemm, quantize
from golden.backends import get_backend
from tests.support.jobs import jobs
from tests.support.reference import ref_prng


@settings(max_examples=150, deadline=None)
@given(jobs(max_width=24, max_dim=8, max_k=16))
def test_torch_equals_numpy_bit_for_bit(j):
    assert gemm(j, backend="torch", device="cpu").same_bits(gemm(j, backend="numpy"))


def test_torch_equals_numpy_on_large_random_jobs():
    rng = np.random.default_rng(7)
    for width, (m, k, n) in [(4, (300, 2000, 40)), (8, (200, 1500, 30)), (16, (100, 700, 50))]:
        lo, hi = -2 ** (width - 1), 2 ** (width - 1)
        for rounding in (0, 1):
            j = GemmJob(a=rng.integers(lo, hi, (m, k)), b=rng.integers(lo, hi, (k, n)),
                        a_width=width, a_frac=width - 1, b_width=width, b_frac=width - 1,
                        out_width=width, out_frac=width - 4, rounding=rounding, seed=11)
            expected = gemm(j)
            assert 0 < expected.saturated < m * n  # the job exercises clamping too
            assert gemm(j, backend="torch", device="cpu").same_bits(expected)


def test_torch_refuses_what_it_cannot_accumulate_exactly():
    j = GemmJob(a=np.full((1, 4), -2 ** 31), b=np.full((4, 1), -2 ** 31), a_width=32, a_frac=0,
                b_width=32, b_frac=0, out_width=32, out_frac=0)
    with pytest.raises(ValueError, match=r"exceeds 2\*\*53; use the numpy backend"):
        gemm(j, backend="torch", device="cpu")
    assert gemm(j).y.tolist() == [[2 ** 31 - 1]]  # numpy computes it, saturating


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of numpy, torch, not 'jax'"):
        get_backend("jax")


# -- rounding statistics -----------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), s=st.integers(1, 40), value=st.integers(-2 ** 20, 2 ** 20))
def test_stochastic_rounding_is_unbiased(seed, s, value):
    # The same accumulator value at 4096 positions: each y is floor(acc/2**s) or one more, and
    # their mean estimates E[y] = acc / 2**s. For Bernoulli draws the mean's standard deviation
    # is at most 0.5/sqrt(4096) = 1/128; we allow 6 of those (a false alarm below 1e-8).
    rows, cols = 64, 64
    a = np.full((rows, 1), value)
    j = GemmJob(a=a, b=np.ones((1, cols), dtype=np.int64), a_width=22, a_frac=s, b_width=2,
                b_frac=0, out_width=32, out_frac=0, rounding=1, seed=seed)
    y = gemm(j).y
    exact = value / 2 ** s
    assert set(np.unique(y)) <= {np.floor(exact), np.floor(exact) + 1}
    assert abs(y.mean() - exact) <= 6 / 128


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-2 ** 30, 2 ** 30), min_size=1, max_size=50), st.integers(1, 30))
def test_nearest_even_error_is_at_most_half_an_ulp(values, s):
    j = GemmJob(a=np.array(values)[:, None], b=np.ones((1, 1), dtype=np.int64), a_width=32,
                a_frac=s, b_width=2, b_frac=0, out_width=32, out_frac=0)
    err = gemm(j).y[:, 0].astype(object) * 2 ** s - np.array(values, dtype=object)
    assert all(2 * abs(e) <= 2 ** s for e in err)


# -- quantize: float -> fixed ------------------------------------------------------------------

def test_quantize_hand_vectors():
    x = np.array([0.3, 0.375, 0.625, -0.375, 100.0, -100.0, 0.05, 0.0])
    q, saturated, underflow = quantize(x, Q(8, 2))
    # x * 4 = 1.2, 1.5, 2.5, -1.5, 400, -400, 0.2, 0 -> 1, 2, 2, -2, 127, -128, 0, 0
    assert q.tolist() == [1, 2, 2, -2, 127, -128, 0, 0]
    assert (saturated, underflow) == (2, 1)


def test_quantize_stochastic_uses_the_2d_view():
    x = np.full((2, 3, 4), 0.1, dtype=np.float32)   # viewed as 6 rows x 4 columns
    q, _, _ = quantize(x, Q(8, 3), rounding=1, seed=42)
    v = float(np.float32(0.1)) * 8                   # exact float64 value of x * 2**3
    f = v - np.floor(v)
    expected = [[int(np.floor(v)) + (f * 2 ** 32 >= 2 ** 32 - ref_prng(42, m, n))
                 for n in range(4)] for m in range(6)]
    assert q.reshape(6, 4).tolist() == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, width=32), min_size=1, max_size=40),
       st.integers(2, 32), st.integers(-10, 30), st.sampled_from([0, 1]), st.integers(0, 2**32 - 1))
def test_quantize_backends_agree(values, width, frac, rounding, seed):
    x = np.array(values, dtype=np.float32).reshape(1, -1)
    a = quantize(x, Q(width, frac), rounding=rounding, seed=seed)
    b = quantize(x, Q(width, frac), rounding=rounding, seed=seed, backend=get_backend("torch", device="cpu"))
    assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]


def test_quantize_rejects_non_finite_and_integers():
    with pytest.raises(ValueError, match="NaN or infinity"):
        quantize(np.array([np.nan]), Q(8, 0))
    with pytest.raises(TypeError, match="quantize takes float values, not int64"):
        quantize(np.array([1]), Q(8, 0))


def test_torch_backend_keeps_tensors_on_its_device():
    be = get_backend("torch", device="cpu")
    y, _, _ = be.gemm(be.asarray(np.eye(3)), be.asarray(np.ones((3, 2))), shift=0,
                      out_width=8, rounding=0, seed=0)
    assert isinstance(y, torch.Tensor) and y.device.type == "cpu"

"""The golden contract GEMM against hand vectors and the naive reference."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from golden import GemmJob, GemmResult, Q, Rounding, gemm, prng, round_shift, saturate
from golden.formats import FRAC_LIMIT
from tests.support.jobs import jobs
from tests.support.reference import ref_gemm, ref_prng


def job(a, b, *, aw=8, af=0, bw=8, bf=0, ow=16, of=0, rounding=0, seed=0):
    return GemmJob(a=np.array(a), b=np.array(b), a_width=aw, a_frac=af, b_width=bw,
                   b_frac=bf, out_width=ow, out_frac=of, rounding=rounding, seed=seed)


# -- the generator -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed, m, n, expected", [
    (0, 0, 0, 0x44AD31A8),
    (12345, 0, 0, 0xE2219E8D),
    (12345, 1, 0, 0x9ACF3462),
    (12345, 0, 1, 0x6DB488B3),
    (0xDEADBEEF, 70000, 3, 0xA752632E),
])
def test_prng_reference_values(seed, m, n, expected):
    assert int(prng(seed, m, n)) == expected
    assert ref_prng(seed, m, n) == expected


@given(seed=st.integers(0, 2**32 - 1), m=st.integers(0, 2**40), n=st.integers(0, 2**40))
def test_prng_matches_reference_and_wraps_indices(seed, m, n):
    assert int(prng(seed, m, n)) == ref_prng(seed, m % 2**32, n % 2**32)


def test_prng_vectorised_equals_scalar():
    grid = prng(99, np.arange(5)[:, None], np.arange(7)[None, :])
    assert grid.dtype == np.uint32 and grid.shape == (5, 7)
    assert [[int(v) for v in row] for row in grid] == \
        [[ref_prng(99, m, n) for n in range(7)] for m in range(5)]


# -- hand vectors ------------------------------------------------------------------------------

@pytest.mark.parametrize("acc, expected", [
    (3, 2), (5, 2), (7, 4), (1, 0), (-1, 0), (-3, -2), (-5, -2), (-7, -4), (4, 2), (6, 3),
])
def test_nearest_even_ties_with_shift_one(acc, expected):
    # acc / 2: 1.5 -> 2, 2.5 -> 2, 3.5 -> 4, 0.5 -> 0, -0.5 -> 0, -1.5 -> -2, -2.5 -> -2 ...
    assert gemm(job([[acc]], [[1]], bf=1)).y.tolist() == [[expected]]


def test_nearest_even_non_ties():
    # acc / 8 for acc = 11 (1.375 -> 1), 13 (1.625 -> 2), -11 (-1.375 -> -1), -13 (-2)
    r = gemm(job([[11], [13], [-11], [-13]], [[1]], bf=3))
    assert r.y.ravel().tolist() == [1, 2, -1, -2]


def test_most_negative_times_most_negative():
    # Q(4,0): -8 * -8 = 64, four times = 256, needs 10 bits; in Q(16,0) exact
    r = gemm(job([[-8] * 4], [[-8]] * 4, aw=4, bw=4))
    assert r.y.tolist() == [[256]] and r.saturated == 0


def test_saturation_both_ways_and_counter():
    # out Q(4,0): range [-8, 7]
    r = gemm(job([[7, 1], [-7, -2], [3, 4], [-8, 0]], [[1], [1]], ow=4))
    assert r.y.ravel().tolist() == [7, -8, 7, -8]
    assert r.saturated == 2  # 8 -> 7 and -9 -> -8 clamp; 3 + 4 = 7 and -8 fit
    assert r.underflow == 0


def test_negative_shift_scales_up_exactly():
    # s = 0 + 0 - 3 = -3: y = acc * 8
    r = gemm(job([[3, -5]], [[1], [1]], of=3))
    assert r.y.tolist() == [[-16]]


def test_underflow_counter():
    # acc / 2**4 for acc = 7 (0.4375 -> 0, underflow), 8 (0.5 -> 0 by ties-to-even, underflow),
    # 9 (0.5625 -> 1), 0 (zero, not an underflow)
    r = gemm(job([[7], [8], [9], [0]], [[1]], bf=4))
    assert r.y.ravel().tolist() == [0, 0, 1, 0] and r.underflow == 2


def test_stochastic_rounding_uses_generator_bits():
    # s = 2: r = prng(seed, m, 0) >> 30, y = floor((acc + r) / 4)
    seed, acc = 777, [[5], [6], [-7], [1]]
    r = gemm(job(acc, [[1]], bf=2, rounding=1, seed=seed))
    expected = [(v[0] + (ref_prng(seed, m, 0) >> 30)) // 4 for m, v in enumerate(acc)]
    assert r.y.ravel().tolist() == expected


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_stochastic_rounding_boundary_is_inclusive(backend):
    # s = 32 makes r = R itself: acc + R = 2**32 exactly must round up to 1, one less to 0.
    seed = 31337
    m = next(m for m in range(100) if ref_prng(seed, m, 0) > 2 ** 31 + 1)
    acc = 2 ** 32 - ref_prng(seed, m, 0)
    for value, expected in [(acc, 1), (acc - 1, 0)]:
        a = np.zeros((m + 1, 1), dtype=np.int64)
        a[m] = value
        j = job(a, [[1]], aw=32, af=32, rounding=1, seed=seed)
        assert gemm(j, backend=backend, device="cpu").y[m, 0] == expected


def test_stochastic_shift_above_32():
    # s = 40: r = prng << 8; y = floor((acc + r) / 2**40); acc = 2**39 + 1 lands on 0 or 1
    seed = 5
    a = [[2 ** 19], [2 ** 19 + 1], [-(2 ** 19)]]
    b = [[2 ** 20]]
    r = gemm(job(a, b, aw=24, bw=24, bf=40, rounding=1, seed=seed))
    expected = [(a[m][0] * 2 ** 20 + (ref_prng(seed, m, 0) << 8)) // 2 ** 40 for m in range(3)]
    assert r.y.ravel().tolist() == expected


# -- the naive reference on random jobs --------------------------------------------------------

def check_against_reference(j, result):
    y, saturated, underflow = ref_gemm(j.a.tolist(), j.b.tolist(), a_frac=j.a_frac,
                                       b_frac=j.b_frac, out_width=j.out_width,
                                       out_frac=j.out_frac, rounding=j.rounding, seed=j.seed)
    assert result.y.dtype == np.int64
    assert result.y.tolist() == y
    assert (result.saturated, result.underflow) == (saturated, underflow)


@settings(max_examples=300, deadline=None)
@given(jobs())
def test_numpy_matches_naive_reference(j):
    check_against_reference(j, gemm(j))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs(max_width=8, max_dim=3, max_k=3000))
def test_long_reductions_through_float32_chunks(j):
    check_against_reference(j, gemm(j))


def test_every_exactness_path_against_reference():
    # One job per path of golden.exact.plan: float32 in one GEMM, float32 K-chunks, float64,
    # and Python integers beyond 2**53.
    rng = np.random.default_rng(1)
    for width, k in [(4, 40), (8, 1500), (16, 300), (30, 5), (32, 4)]:
        lo, hi = -2 ** (width - 1), 2 ** (width - 1)
        a = rng.integers(lo, hi, (3, k))
        a[0, :] = lo                      # the most negative operand everywhere in one row
        b = rng.integers(lo, hi, (k, 2))
        b[:, 0] = lo
        for rounding in (0, 1):
            j = GemmJob(a=a, b=b, a_width=width, a_frac=width, b_width=width, b_frac=width,
                        out_width=32, out_frac=8, rounding=rounding, seed=3)
            check_against_reference(j, gemm(j))


# -- the array helpers named after the hardware ------------------------------------------------

def test_round_shift_and_saturate_helpers():
    acc = np.array([[3, 5, -3, 2 ** 60 + 2 ** 59]])
    assert round_shift(acc, 1).tolist() == [[2, 2, -2, 2 ** 59 + 2 ** 58]]
    y, n = saturate(np.array([[-9, -8, 7, 8]]), 4)
    assert y.tolist() == [[-8, -8, 7, 7]] and n == 2


# -- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(a=[[8]]), r"a\[0, 0\] = 8 is out of range for Q\(4,0\): allowed \[-8, 7\]"),
    (dict(b=[[-9]]), r"b\[0, 0\] = -9 is out of range"),
    (dict(a=[[1.0]]), "a must be an array of integers, not float64"),
    (dict(a=[1, 2]), r"a must be a non-empty 2-D array, not shape \(2,\)"),
    (dict(a=[[1, 2]]), "a's columns must equal b's rows"),
    (dict(a_width=1), r"a_width must be in \[2, 32\], not 1"),
    (dict(out_width=33), r"out_width must be in \[2, 32\], not 33"),
    (dict(seed=2 ** 32), r"seed must be in \[0, 4294967295\], not 4294967296"),
    (dict(seed=-1), r"seed must be in \[0, 4294967295\], not -1"),
    (dict(rounding=2), r"rounding must be 0 \(nearest-even\) or 1 \(stochastic\), not 2"),
    (dict(a_frac=FRAC_LIMIT + 1), rf"a_frac must be in \[-{FRAC_LIMIT}, {FRAC_LIMIT}\]"),
    (dict(b_width=4.0), "b_width must be an integer, not 4.0"),
])
def test_bad_jobs_are_refused_with_a_clear_message(kwargs, message):
    fields = dict(a=[[1]], b=[[1]], a_width=4, a_frac=0, b_width=4, b_frac=0, out_width=4,
                  out_frac=0, rounding=0, seed=0)
    fields.update(kwargs)
    fields["a"], fields["b"] = np.array(fields["a"]), np.array(fields["b"])
    with pytest.raises((ValueError, TypeError), match=message):
        GemmJob(**fields)


def test_format_object_states_range_and_step():
    q = Q(8, 3)
    assert (q.min_int, q.max_int, q.step, q.min_value, q.max_value) == \
        (-128, 127, 0.125, -16.0, 15.875)
    assert str(q) == "Q(8,3)"
    with pytest.raises(TypeError, match="width must be an integer, not True"):
        Q(True, 0)
    assert Rounding.parse("stochastic") is Rounding.STOCHASTIC


def test_job_and_result_files_round_trip(tmp_path):
    j = job([[1, -2]], [[3], [4]], rounding=1, seed=9)
    j.save(tmp_path / "job.npz")
    again = GemmJob.load(tmp_path / "job.npz")
    assert again.scalars() == j.scalars() and np.array_equal(again.a, j.a)
    r = gemm(again)
    r.save(tmp_path / "r.npz")
    assert GemmResult.load(tmp_path / "r.npz").same_bits(r)


def test_spec_is_the_job_less_its_operands():
    from golden import GemmSpec
    j = GemmJob(a=[[3, -2]], b=[[1], [1]], a_width=8, a_frac=1, b_width=6, b_frac=2,
                out_width=8, out_frac=1, rounding=1, seed=7)
    spec = j.spec
    assert spec.shift == j.shift == 2 and spec.out_fmt == Q(8, 1)
    assert spec.rounding is Rounding.STOCHASTIC and spec.seed == 7
    k = spec.job(j.a, j.b)
    assert k.scalars() == j.scalars() and gemm(k).same_bits(gemm(j))
    fmts = dict(a_fmt=Q(8, 0), b_fmt=Q(8, 0))
    with pytest.raises(TypeError, match=r"out_fmt must be a Q\(width, frac\), not 8"):
        GemmSpec(**fmts, out_fmt=8)
    with pytest.raises(ValueError, match=r"seed must be in \[0, 4294967295\], not -1"):
        GemmSpec(**fmts, out_fmt=Q(8, 0), seed=-1)
    with pytest.raises(TypeError):
        GemmSpec(Q(8, 0), Q(8, 0), Q(8, 0))  # keyword-only

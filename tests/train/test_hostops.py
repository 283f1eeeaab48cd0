"""Host operations of fixed-point training against naive references, on both backends."""

import numpy as np
import pytest

from golden.backend_torch import TorchBackend
from golden.backends import get_backend
from golden.train.engine_fixed import FixedEngine
from golden.formats import Q
from golden.train.hostops import host_ops
from golden.train.optim import GUARD, MOMENTUM, WEIGHT_DECAY, Dyadic, fixed_update

BACKENDS = ["numpy", "torch", "torch-tensor"]


def backend_for(name):
    """torch-tensor: the tensor code that a GPU runs, here on the CPU."""
    if name == "torch-tensor":
        return TorchBackend("cpu", fused=False)
    return get_backend(name, device="cpu" if name == "torch" else None)


def ops_for(name):
    return host_ops(backend_for(name))


def ints(rng, shape, lo=-100, hi=100):
    return rng.integers(lo, hi, shape).astype(np.float32)


def conv_ref(x, w, pad):
    """Naive 3x3 stride-1 convolution, NHWC input, weights (3, 3, Cin, Cout)."""
    b, h, wd, c = x.shape
    xp = np.pad(x.astype(np.int64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    ho, wo = h + 2 * pad - 2, wd + 2 * pad - 2
    out = np.zeros((b, ho, wo, w.shape[3]), np.int64)
    for ky in range(3):
        for kx in range(3):
            out += np.einsum("bhwc,cd->bhwd", xp[:, ky:ky + ho, kx:kx + wo, :], w[ky, kx])
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pad", [0, 1])
def test_im2col_gemm_is_the_convolution(backend, pad):
    ops, rng = ops_for(backend), np.random.default_rng(1)
    x, w = ints(rng, (2, 7, 6, 3)), rng.integers(-9, 9, (3, 3, 3, 4))
    a, (b, ho, wo) = ops.im2col(ops.from_host(x), pad)
    y = ops.to_host(a).astype(np.int64) @ w.reshape(27, 4)
    assert np.array_equal(y.reshape(b, ho, wo, 4), conv_ref(x, w, pad))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pad", [0, 1])
def test_backward_data_is_the_transposed_convolution(backend, pad):
    """dL/dx from the flipped-kernel GEMM equals the naive chain rule of conv_ref."""
    ops, rng = ops_for(backend), np.random.default_rng(2)
    cin, cout, h = 3, 4, 6
    w = rng.integers(-9, 9, (3, 3, cin, cout))
    e = ints(rng, (2, h + 2 * pad - 2, h + 2 * pad - 2, cout), -20, 20)
    ref = np.zeros((2, h + 2 * pad, h + 2 * pad, cin), np.int64)
    for ky in range(3):
        for kx in range(3):
            ref[:, ky:ky + e.shape[1], kx:kx + e.shape[2], :] += np.einsum(
                "bhwd,cd->bhwc", e.astype(np.int64), w[ky, kx])
    ref = ref[:, pad:pad + h, pad:pad + h, :]
    a, _ = ops.im2col(ops.from_host(e), 2 - pad)
    wf = ops.flip_kernel(ops.from_host(w.reshape(9 * cin, cout).astype(np.float32)), cin, cout)
    dx = ops.to_host(a).astype(np.int64) @ ops.to_host(wf).astype(np.int64)
    assert np.array_equal(dx.reshape(ref.shape), ref)


@pytest.mark.parametrize("backend", BACKENDS)
def test_maxpool_routes_to_the_first_positive_maximum(backend):
    ops = ops_for(backend)
    x = np.zeros((1, 5, 4, 1), np.float32)  # odd height: the last row is dropped
    x[0, 0:2, 0:2, 0] = [[3, 7], [7, 1]]     # tie: (0,1) comes before (1,0)
    x[0, 2:4, 2:4, 0] = [[0, 0], [0, 0]]     # all zero: routes nowhere
    x[0, 2:4, 0:2, 0] = [[2, 2], [2, 2]]     # all tied: the first
    x[0, 4, :, 0] = 99
    y, route = ops.maxpool(ops.from_host(x))
    assert np.array_equal(ops.to_host(y)[0, :, :, 0], [[7, 0], [2, 0]])
    d = ops.from_host(np.array([[[[10], [20]], [[30], [40]]]], np.float32))
    g = ops.to_host(ops.maxpool_backward(d, route, x.shape))[0, :, :, 0]
    want = np.zeros((5, 4))
    want[0, 1], want[2, 0] = 10, 30
    assert np.array_equal(g, want)


def _rne_ref(v, s):
    if s <= 0:
        return v << -s
    q, r = v >> s, v & ((1 << s) - 1)
    half = 1 << (s - 1)
    return q + (r > half or (r == half and q & 1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_shift_is_nearest_even(backend):
    ops = ops_for(backend)
    v = np.arange(-70, 71, dtype=np.int64)
    for s in (-2, 0, 1, 2, 3, 5):
        got = ops.to_host(ops.round_shift(ops.from_host(v), s))
        assert np.array_equal(got, [_rne_ref(int(x), s) for x in v]), s
    big = 2 ** 62 - 1  # the largest magnitude it takes
    v = np.array([big, -big, big - 2 ** 29, 3 * 2 ** 40 + 2 ** 29, -3 * 2 ** 40 - 2 ** 29,
                  5 * 2 ** 40 + 2 ** 29, 2 ** 61 + 2 ** 30 - 1], dtype=np.int64)
    for s in (1, 30, 61):
        got = ops.to_host(ops.round_shift(ops.from_host(v), s))
        assert np.array_equal(got, [_rne_ref(int(x), s) for x in v]), s


@pytest.mark.parametrize("backend", BACKENDS)
def test_fixed_update_matches_python_integers(backend):
    ops, rng = ops_for(backend), np.random.default_rng(3)
    w = rng.integers(-(1 << 30), 1 << 30, 200)
    v = rng.integers(-(1 << 20), 1 << 20, 200)
    g = rng.integers(-(1 << 15), 1 << 15, 200)
    bound = 2 ** 31 - 1
    lr3, lr_tiny = Dyadic(3, 7), Dyadic(1, 24)  # lr_tiny: a clamped gradient term stays visible
    for g_frac, m_frac, lr in ((20, 30, lr3), (45, 30, lr3), (-3, 30, lr3), (-20, 30, lr3),
                               (-20, 30, lr_tiny)):
        w2, v2, n = fixed_update(ops, ops.from_host(w), ops.from_host(v), ops.from_host(g),
                                 g_frac=g_frac, m_frac=m_frac, lr=lr)
        clamped = 0
        for i in range(len(w)):
            s = g_frac - (m_frac + GUARD)
            gi = int(g[i])
            if s < 0 and abs(gi) > 2 ** max(52 + s, 0):  # g bounded before a left shift
                gi, clamped = (2 ** max(52 + s, 0)) * (1 if gi > 0 else -1), clamped + 1
            gm = _rne_ref(gi, s)
            clamped += abs(gm) > 2 ** 52
            gm = max(-2 ** 52, min(2 ** 52, gm))
            total = gm + _rne_ref(int(w[i]) * WEIGHT_DECAY.num, WEIGHT_DECAY.exp - GUARD)
            vr = (_rne_ref(int(v[i]) * MOMENTUM.num, MOMENTUM.exp)
                  + _rne_ref(total * lr.num, lr.exp + GUARD))
            clamped += abs(vr) > bound
            vr = max(-bound, min(bound, vr))
            wr = int(w[i]) - vr
            clamped += abs(wr) > bound
            wr = max(-bound, min(bound, wr))
            assert int(ops.to_host(v2)[i]) == vr and int(ops.to_host(w2)[i]) == wr
        assert n == clamped
        assert (n > 0) == (g_frac < 0)  # the left shifts clamp, the right shifts do not


def test_dyadic_is_validated():
    with pytest.raises(ValueError, match=r"num must be an integer in \[0, 255\], not 256"):
        Dyadic(256, 3)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("width", [8, 22, 24])
def test_clamped_bias_saturates_like_the_exact_sum(backend, width):
    """The forward pass adds each layer's bias clamped to ±2**W (float32 up to W = 22): outputs
    and saturation counts equal Python integers' y + bias, saturated, for biases far past W."""
    ops, rng = ops_for(backend), np.random.default_rng(width)
    engine = FixedEngine(backend_for(backend), seed=0)
    hi = 1 << (width - 1)
    bias = np.concatenate([rng.integers(-(1 << 40), 1 << 40, 20),
                           rng.integers(-4 * hi, 4 * hi, 40), [2 * hi, -2 * hi - 1, hi, -hi]])
    engine.b, engine.b_frac = [ops.from_host(bias.astype(np.int64) << 3)], [3]
    y = rng.integers(-hi, hi, (50, bias.size))
    y[0] = hi - 1
    y[1] = -hi
    dtype = np.float32 if width <= 24 else np.float64
    got, sat = ops.saturate(ops.from_host(y.astype(dtype)) + engine._bias(0, Q(width, 0)), width)
    exact = [[v + int(b) for v, b in zip(row, bias)] for row in y.tolist()]
    want = np.clip(np.array(exact, dtype=object), -hi, hi - 1).astype(np.int64)
    assert np.array_equal(ops.to_host(got).astype(np.int64), want)
    assert sat == sum(v < -hi or v > hi - 1 for row in exact for v in row) > 0

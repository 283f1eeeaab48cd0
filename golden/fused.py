"""Fused CPU kernels (numba) for the element-wise fixed-point work of training.

Each kernel does in one pass over memory what the array code would do in many: the contract's
requantization (scale, round, saturate, count) and the integer SGD step of ``optim``. They
perform the same IEEE float64 and int64 operations in the same order as the array code, so
they give the same bits (tests/test_golden_fused.py checks them against the Python-integer
reference of docs/arithmetic.md); GPU tensors keep the array code.

numba loads when a kernel first runs, not on import: importing it and loading the cached
kernels costs about a second, more than a small job's whole work. ``requantize_`` of up to
``SMALL`` values therefore runs as NumPy array code with the kernel's operations, in the
kernel's order (the same bits; tests/test_golden_fused.py compares the two).
"""

import os

import numpy as np

from .data import cache_root
from .prng import KEY, ROTATIONS, prng_grid

SMALL = 1 << 14             # requantize_ sizes below which numba is not worth loading
_LAZY = []                  # (name, function, njit options), in definition order


def njit(**options):
    """``numba.njit(**options)``, applied when any kernel of this module is first called."""
    def register(func):
        _LAZY.append((func.__name__, func, options))

        def first_call(*args):
            _compile_all()
            return globals()[func.__name__](*args)
        return first_call
    return register


def _compile_all():
    # All at once, so that a kernel calling another finds a numba function under its name.
    # The compiled kernels are cached on disk (cache=True) in the user's cache, not beside the
    # source; numba reads NUMBA_CACHE_DIR when first imported.
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_root() / "numba"))
    import numba
    for name, func, options in _LAZY:
        if not isinstance(globals()[name], numba.core.registry.CPUDispatcher):
            globals()[name] = numba.njit(**options)(func)

MASK32 = 0xFFFFFFFF
TWO32 = float(1 << 32)
HALF32 = 1 << 31
NONE, NEAREST_EVEN, STOCHASTIC = 0, 1, 2  # how requantize_ rounds after scaling


def requantize_(src, dst, *, scale, mode, seed, width, row0=0, col0=0):
    """``dst = saturate(round(src * scale), width)`` over 2-D arrays (``dst`` may be ``src``;
    float32 only for outputs that fit it); ``mode`` is NONE (the product is already an
    integer), NEAREST_EVEN or STOCHASTIC (``floor(v + prng(seed, row0 + i, col0 + j) /
    2**32)``); ``width=None`` does not saturate. Returns ``(saturated, underflow)``: the outputs
    clamped, and those zero where ``src`` was not."""
    if width is None:
        lo, hi = -np.inf, np.inf
    else:
        lo, hi = -float(1 << (width - 1)), float((1 << (width - 1)) - 1)
    args = (float(scale), int(mode), int(seed) & MASK32, int(row0), int(col0), lo, hi)
    if src.size <= SMALL:
        return _requantize_array(src, dst, *args)
    # In place is its own kernel: a loop that might read what it wrote does not vectorize.
    s, u = _requantize_inplace(dst, *args) if dst is src else _requantize(src, dst, *args)
    return int(s), int(u)


def _requantize_array(src, dst, scale, mode, seed, row0, col0, lo, hi):
    """``_requantize`` as array code: ``_requantize_one``'s operations on every element."""
    a = src.astype(np.float64)
    v = a * scale
    if mode == NEAREST_EVEN:
        v = np.rint(v)
    elif mode == STOCHASTIC:
        r = prng_grid(seed, *src.shape, row0=row0, col0=col0).astype(np.float64)
        y = np.floor(v)
        v = y + np.where(y == -1.0, v * TWO32 >= -r, (v - y) * TWO32 >= TWO32 - r)
    c = np.minimum(np.maximum(v, lo), hi)
    saturated = int(np.count_nonzero(c != v))
    underflow = int(np.count_nonzero((c == 0.0) & (a != 0.0)))
    dst[...] = c
    return saturated, underflow


@njit(cache=True, nogil=True, inline="always")
def _prng(seed, m, n):
    # int64 words below 2**32: sums stay below 2**33 and shifted words below 2**61, so
    # masking gives the 32-bit arithmetic of prng.prng.
    x0 = (m ^ seed) & MASK32
    x1 = (n ^ seed ^ KEY) & MASK32
    for r in ROTATIONS:
        x0 = (x0 + x1) & MASK32
        x1 = (((x1 << r) | (x1 >> (32 - r))) & MASK32) ^ x0
    return x0


@njit(cache=True, nogil=True, inline="always")
def _round(v, mode, seed, m, n):
    if mode == NEAREST_EVEN:
        return np.rint(v)
    if mode == STOCHASTIC:
        # floor(v + r/2**32) without an inexact sum (docs/arithmetic.md): floor(v) + 1 exactly
        # when (v - floor(v)) * 2**32 >= 2**32 - r, or, for -1 < v < 0, v * 2**32 >= -r.
        # (r through int32: a conversion that AVX2 vectorizes; exact both ways)
        r = np.float64(np.int32(_prng(seed, m, n) - HALF32)) + HALF32
        y = np.floor(v)
        if y == -1.0:
            return y + (v * TWO32 >= -r)
        return y + ((v - y) * TWO32 >= TWO32 - r)
    return v


@njit(cache=True, nogil=True, inline="always")
def _requantize_one(a, scale, mode, seed, m, n, lo, hi):
    """One output: its value, whether it saturated, whether it underflowed."""
    v = _round(a * scale, mode, seed, m, n)
    c = min(max(v, lo), hi)
    return c, c != v, (c == 0.0) & (a != 0.0)


@njit(cache=True, nogil=True)
def _requantize(src, dst, scale, mode, seed, row0, col0, lo, hi):
    saturated = underflow = 0
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j], s, u = _requantize_one(np.float64(src[i, j]), scale, mode, seed,
                                              (row0 + i) & MASK32, (col0 + j) & MASK32, lo, hi)
            saturated, underflow = saturated + s, underflow + u
    return saturated, underflow


@njit(cache=True, nogil=True)
def _requantize_inplace(x, scale, mode, seed, row0, col0, lo, hi):
    saturated = underflow = 0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j], s, u = _requantize_one(np.float64(x[i, j]), scale, mode, seed,
                                            (row0 + i) & MASK32, (col0 + j) & MASK32, lo, hi)
            saturated, underflow = saturated + s, underflow + u
    return saturated, underflow


def sgd_update(w, v, g, *, g_shift, lr_num, lr_exp, wd_num, wd_shift, mu_num, mu_exp, bound,
               g_bound, m_bound):
    """``optim.fixed_update`` in one pass over flat int64 ``w``, ``v`` and integer-valued ``g``
    (any dtype); returns new ``(w, v, clamped)``. The shifts and bounds are those of
    ``fixed_update``."""
    w2, v2 = np.empty_like(w), np.empty_like(v)
    n = _sgd(w.reshape(-1), v.reshape(-1), g.reshape(-1), w2.reshape(-1), v2.reshape(-1),
             g_shift, lr_num, lr_exp, wd_num, wd_shift, mu_num, mu_exp, bound, g_bound, m_bound)
    return w2, v2, int(n)


@njit(cache=True, nogil=True)
def _shift_round(x, s):
    if s <= 0:
        return x << -s
    return (x + (((x >> s) & 1) + ((1 << (s - 1)) - 1))) >> s


@njit(cache=True, nogil=True)
def _clamp(x, b):
    if x > b:
        return b, 1
    if x < -b:
        return -b, 1
    return x, 0


@njit(cache=True, nogil=True)
def _sgd(w, v, g, w_out, v_out, g_shift, lr_num, lr_exp, wd_num, wd_shift, mu_num, mu_exp,
         bound, g_bound, m_bound):
    clamped = 0
    for i in range(w.shape[0]):
        gi = np.int64(g[i])
        if g_shift < 0:
            gi, c = _clamp(gi, g_bound)
            clamped += c
        gm, c = _clamp(_shift_round(gi, g_shift), m_bound)
        clamped += c
        total = gm + _shift_round(w[i] * wd_num, wd_shift)
        vi = _shift_round(v[i] * mu_num, mu_exp) + _shift_round(total * lr_num, lr_exp)
        vi, c = _clamp(vi, bound)
        clamped += c
        wi, c = _clamp(w[i] - vi, bound)
        clamped += c
        w_out[i] = wi
        v_out[i] = vi
    return clamped


def maxpool(x):
    """``hostops._Ops.maxpool`` of an NHWC array: the 2x2 maxima and the routing mask (the
    first maximum of each window in the order (0,0), (0,1), (1,0), (1,1), where positive)."""
    b, h, w, c = x.shape
    y = np.empty((b, h // 2, w // 2, c), x.dtype)
    route = np.empty((b, h // 2, 2, w // 2, 2, c), np.bool_)
    _maxpool(x, y, route)
    return y, route


@njit(cache=True, nogil=True)
def _maxpool(x, y, route):
    b, h2, w2, c = y.shape
    for n in range(b):
        for i in range(h2):
            for j in range(w2):
                for k in range(c):
                    a00, a01 = x[n, 2 * i, 2 * j, k], x[n, 2 * i, 2 * j + 1, k]
                    a10, a11 = x[n, 2 * i + 1, 2 * j, k], x[n, 2 * i + 1, 2 * j + 1, k]
                    m = max(max(a00, a01), max(a10, a11))
                    r00 = a00 == m
                    r01 = (a01 == m) & ~r00
                    r10 = (a10 == m) & ~(r00 | r01)
                    r11 = (a11 == m) & ~(r00 | r01 | r10)
                    pos = m > 0
                    route[n, i, 0, j, 0, k] = r00 & pos
                    route[n, i, 0, j, 1, k] = r01 & pos
                    route[n, i, 1, j, 0, k] = r10 & pos
                    route[n, i, 1, j, 1, k] = r11 & pos
                    y[n, i, j, k] = m


def maxpool_backward(d, route, shape):
    """``hostops._Ops.maxpool_backward``: ``d`` routed back into a zero map of ``shape``."""
    g = np.zeros(shape, d.dtype)
    _maxpool_backward(d, route, g)
    return g


@njit(cache=True, nogil=True)
def _maxpool_backward(d, route, g):
    b, h2, w2, c = d.shape
    for n in range(b):
        for i in range(h2):
            for di in range(2):
                for j in range(w2):
                    for dj in range(2):
                        for k in range(c):
                            if route[n, i, di, j, dj, k]:
                                g[n, 2 * i + di, 2 * j + dj, k] = d[n, i, j, k]

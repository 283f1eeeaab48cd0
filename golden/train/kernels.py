"""Fused CPU kernels (numba) for training's integer work: the SGD step of ``optim`` and the
2x2 max-pool of ``hostops``, each in one pass over memory with the same int64 operations in the
same order as the array code (tests/golden/test_fused.py checks them against it)."""

import numpy as np

from ..fused import njit, round_shift


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
def clamp_int(x, b):
    """``x`` clamped to [-b, b] and whether it was (``hostops.clamp_int`` of one int64)."""
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
            gi, c = clamp_int(gi, g_bound)
            clamped += c
        gm, c = clamp_int(round_shift(gi, g_shift), m_bound)
        clamped += c
        total = gm + round_shift(w[i] * wd_num, wd_shift)
        vi = round_shift(v[i] * mu_num, mu_exp) + round_shift(total * lr_num, lr_exp)
        vi, c = clamp_int(vi, bound)
        clamped += c
        wi, c = clamp_int(w[i] - vi, bound)
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

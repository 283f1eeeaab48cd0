"""Fused CPU kernels (numba) for the contract's element-wise work.

``requantize_`` does in one pass over memory what the array code would do in many: scale,
round, saturate, count. It performs the same IEEE float64 operations in the same order as the
array code, so it gives the same bits; the one-element kernels ``prng``, ``round_shift`` and
``saturate`` are named as in hw/ and tested against ``golden.ops`` (tests/golden/test_ops.py,
tests/golden/test_fused.py). GPU tensors keep the array code. ``njit`` here is the one numba
entry point (its compiled kernels cached in the user's cache): training's kernels
(``golden.train.kernels``) use it too.

numba loads when a kernel first runs, not on import: importing it and loading the cached
kernels costs about a second, more than a small job's whole work. ``requantize_`` of up to
``SMALL`` values therefore runs as NumPy array code with the kernel's operations, in the
kernel's order (the same bits; tests/golden/test_fused.py compares the two).
"""

import os

import numpy as np

from .files import cache_root
from .formats import Rounding
from .prng import KEY, ROTATIONS, prng_grid

SMALL = 1 << 14             # requantize_ sizes below which numba is not worth loading
_LAZY = {}                  # stand-in -> (function, njit options), in definition order


def njit(**options):
    """``numba.njit(**options)``, applied when any kernel registered here is first called."""
    def register(func):
        def first_call(*args):
            _compile_all()
            return func.__globals__[func.__name__](*args)
        _LAZY[first_call] = (func, options)
        return first_call
    return register


def _compile_all():
    # All at once, and every module-level name bound to a stand-in (a kernel imported by
    # another module too) rebound, so that a kernel calling another finds a numba function.
    # The compiled kernels are cached on disk (cache=True) in the user's cache, not beside the
    # source; numba reads NUMBA_CACHE_DIR when first imported.
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_root() / "numba"))
    import numba
    compiled = {id(stub): numba.njit(**options)(func) for stub, (func, options) in _LAZY.items()}
    for space in {id(f.__globals__): f.__globals__ for f, _ in _LAZY.values()}.values():
        for name, value in list(space.items()):
            if id(value) in compiled:
                space[name] = compiled[id(value)]
    _LAZY.clear()


MASK32 = 0xFFFFFFFF
TWO32 = float(1 << 32)
HALF32 = 1 << 31
# The kernels take the Rounding values as plain ints; -1: the scaled value is already an integer.
NO_ROUNDING, NEAREST_EVEN, STOCHASTIC = -1, int(Rounding.NEAREST_EVEN), int(Rounding.STOCHASTIC)


def requantize_(src, dst, *, scale, rounding, seed, width, row0=0, col0=0):
    """``dst = saturate(round(src * scale), width)`` over 2-D arrays (``dst`` may be ``src``;
    float32 only for outputs that fit it); ``rounding`` is a ``Rounding`` (stochastic:
    ``floor(v + prng(seed, row0 + i, col0 + j) / 2**32)``) or None (the product is already an
    integer); ``width=None`` does not saturate. Returns ``(saturated, underflow)``: the outputs
    clamped, and those zero where ``src`` was not."""
    if width is None:
        lo, hi = -np.inf, np.inf
    else:
        lo, hi = -float(1 << (width - 1)), float((1 << (width - 1)) - 1)
    mode = NO_ROUNDING if rounding is None else int(Rounding.parse(rounding))
    args = (float(scale), mode, int(seed) & MASK32, int(row0), int(col0), lo, hi)
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
def prng(seed, m, n):
    """``golden.prng.prng`` of one position, on int64 words below 2**32: sums stay below 2**33
    and shifted words below 2**61, so masking gives the 32-bit arithmetic."""
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
        r = np.float64(np.int32(prng(seed, m, n) - HALF32)) + HALF32
        y = np.floor(v)
        if y == -1.0:
            return y + (v * TWO32 >= -r)
        return y + ((v - y) * TWO32 >= TWO32 - r)
    return v


@njit(cache=True, nogil=True, inline="always")
def saturate(v, lo, hi):
    """``golden.ops.saturate`` of one float-held integer: ``v`` clamped to [lo, hi]."""
    return min(max(v, lo), hi)


@njit(cache=True, nogil=True, inline="always")
def _requantize_one(a, scale, mode, seed, m, n, lo, hi):
    """One output: its value, whether it saturated, whether it underflowed."""
    v = _round(a * scale, mode, seed, m, n)
    c = saturate(v, lo, hi)
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


@njit(cache=True, nogil=True)
def round_shift(x, s):
    """``golden.ops.round_shift`` to nearest, ties to even, of one int64 (|x| < 2**62)."""
    if s <= 0:
        return x << -s
    return (x + (((x >> s) & 1) + ((1 << (s - 1)) - 1))) >> s

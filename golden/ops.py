"""The contract's operations on exact integers (docs/arithmetic.md, steps 3 and 4).

These are the definitions: ``round_shift``, ``saturate`` and ``requantize`` on Python integers,
exact for any magnitude, named as in hw/quantizer.py. Every fast kernel (the backends' array
code, the numba kernels of ``golden.fused``, the int64 state arithmetic of training) is its own
implementation for speed and is tested bit for bit against these (tests/golden/test_ops.py).
"""

import numpy as np

from .formats import Rounding
from .prng import prng_grid


def round_shift(acc, shift, *, rounding=Rounding.NEAREST_EVEN, seed=0, row0=0, col0=0):
    """Step 3: ``acc / 2**shift`` of a 2-D integer array, rounded to nearest (ties to even) or
    stochastically (``floor((acc + r) / 2**shift)``, ``r`` the top ``shift`` bits of
    ``prng(seed, row0 + m, col0 + n)``); ``shift <= 0`` multiplies exactly. Returns an object
    array of Python ints."""
    acc = _ints(acc)
    if shift <= 0:
        return acc * (1 << -shift)
    if Rounding.parse(rounding) == Rounding.NEAREST_EVEN:
        half, mask = 1 << (shift - 1), (1 << shift) - 1

        def rne(v):
            q, r = v >> shift, v & mask
            return q + (r > half or (r == half and q & 1))
        return np.frompyfunc(rne, 1, 1)(acc).astype(object)
    rows, cols = acc.shape
    r = prng_grid(seed, rows, cols, row0=row0, col0=col0).astype(object)
    r = r >> (32 - shift) if shift <= 32 else r << (shift - 32)
    return (acc + r) >> shift


def saturate(y, width):
    """Step 4: clamp integers to ``width`` signed bits; returns ``(y as int64, n_clamped)``."""
    y = _ints(y)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    n = int(sum(1 for v in y.flat if v < lo or v > hi))
    return np.clip(y, lo, hi).astype(np.int64), n


def requantize(acc, shift, *, width, rounding=Rounding.NEAREST_EVEN, seed=0, row0=0, col0=0):
    """``saturate(round_shift(acc))`` with the job's counters: returns ``(y, saturated,
    underflow)``, underflow counting the outputs that are 0 where ``acc`` was not."""
    acc = _ints(acc)
    y, saturated = saturate(round_shift(acc, shift, rounding=rounding, seed=seed, row0=row0,
                                        col0=col0), width)
    underflow = int(sum(1 for a, v in zip(acc.flat, y.flat) if a != 0 and v == 0))
    return y, saturated, underflow


def _ints(x):
    """``x`` as an object array of Python ints (from any integer or integer-valued array)."""
    x = np.asarray(x)
    if x.dtype == object:
        return np.frompyfunc(int, 1, 1)(x).astype(object) if x.size else x
    if x.dtype.kind == "f":
        return x.astype(np.int64).astype(object)  # integer-valued floats below 2**63
    return x.astype(object)

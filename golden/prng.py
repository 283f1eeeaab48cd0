"""The contract's counter-based random generator: ``prng(seed, m, n)`` (docs/arithmetic.md).

An add-rotate-xor mix of two 32-bit words, with no multiplier, so that hardware can compute it
for any output position and software can compute it for a whole tensor at once.
"""

import numpy as np

KEY = 0x1BD11BDA
ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)


def prng(seed, m, n):
    """The 32-bit random word for output ``(m, n)`` under ``seed``; broadcasts like NumPy.

    ``m`` and ``n`` are taken modulo 2**32. Returns ``np.uint32`` (an array if any input is).
    """
    seed = np.uint32(int(seed) & 0xFFFFFFFF)
    x0 = np.bitwise_xor(_u32(m), seed)
    x1 = np.bitwise_xor(_u32(n), seed ^ np.uint32(KEY))
    x0, x1 = np.broadcast_arrays(x0, x1)
    x0, x1 = x0.copy(), x1.copy()
    tmp = np.empty_like(x1)
    for r in ROTATIONS:
        x0 += x1
        np.left_shift(x1, np.uint32(r), out=tmp)
        x1 >>= np.uint32(32 - r)
        x1 |= tmp
        x1 ^= x0
    return x0 if x0.ndim else x0[()]


def prng_grid(seed, rows, cols, *, row0=0, col0=0):
    """``prng`` over the grid ``m = row0 .. row0+rows-1`` × ``n = col0 .. col0+cols-1``."""
    m = np.arange(row0, row0 + rows, dtype=np.uint64)[:, None]
    n = np.arange(col0, col0 + cols, dtype=np.uint64)[None, :]
    return prng(seed, m, n)


def _u32(x):
    x = np.asarray(x)
    if x.dtype.kind == "u":
        return (x & 0xFFFFFFFF).astype(np.uint32)
    return (x.astype(np.int64) & 0xFFFFFFFF).astype(np.uint32)

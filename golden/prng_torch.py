"""The contract's generator (``golden.prng``) on tensors, for the torch backend's stochastic
rounding on a CPU tensor path or a GPU."""

import torch

from .prng import KEY, ROTATIONS

MASK32 = 0xFFFFFFFF
PRNG_BLOCK = 1 << 15  # elements per block of the generator on the CPU


def prng_grid(seed, rows, cols, *, row0=0, col0=0, device):
    """``prng`` on a grid, as int64 tensors holding unsigned 32-bit words.

    The mix runs on int32 words, in row blocks that stay in cache on the CPU: int32 ``+``
    wraps modulo 2**32 (two's complement) and ``^``, ``|``, ``<<`` act on the bit pattern,
    so every word carries the bits of the unsigned mix; the one signed difference, ``>>``
    (arithmetic), is undone by masking off the copied sign bits."""
    seed = int(seed) & MASK32
    out = torch.empty((rows, cols), dtype=torch.int64, device=device)
    step = rows if device.type != "cpu" else max(1, PRNG_BLOCK // max(cols, 1))
    n = _int32(torch.arange(col0, col0 + cols, device=device, dtype=torch.int64)
               ^ (seed ^ KEY))
    for i in range(0, rows, step):
        r = min(step, rows - i)
        m = _int32(torch.arange(row0 + i, row0 + i + r, device=device, dtype=torch.int64)
                   ^ seed)
        x0 = m[:, None].expand(r, cols).contiguous()
        x1 = n[None, :].expand(r, cols).contiguous()
        for rot in ROTATIONS:
            x0 += x1
            hi = x1 << rot
            x1 >>= 32 - rot
            x1 &= (1 << rot) - 1
            x1 |= hi
            x1 ^= x0
        out[i:i + r] = x0.to(torch.int64) & MASK32
    return out


def _int32(x):
    """int64 words in [0, 2**32) as int32 tensors with the same 32 bits."""
    return ((x & MASK32) - ((x & 0x80000000) << 1)).to(torch.int32)

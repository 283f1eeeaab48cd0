"""CPU kernels (numba) of the int8-piece route (``golden.int8_gemm``): the split into pieces,
the patch matrix of the pieces and the recombination, each one pass over memory with the
integer operations that the route's tensor code (the GPU's) performs; tests/golden/test_int8.py
checks each against it."""

import numpy as np

from .fused import njit


def pieces(x, off, pad, out):
    """``out[0]``, ``out[1]`` = H, L of ``x - off`` (int8, x - off = 256*H + L) for an NHWC
    ``x`` (any integer-valued dtype) zero-padded by ``pad`` pixels: a border pixel is x = 0,
    whose pieces are those of -off. ``out``: (2, B, H + 2*pad, W + 2*pad, C) int8."""
    _pieces(x, np.int32(off), pad, out)


@njit(cache=True, nogil=True)
def _pieces(x, off, pad, out):
    b, h, w, c = x.shape
    hb, lb = (128 - off) >> 8, -off - 256 * ((128 - off) >> 8)   # the pieces of x = 0
    for n in range(b):
        for y in range(out.shape[2]):
            for i in range(out.shape[3]):
                border = y < pad or y >= h + pad or i < pad or i >= w + pad
                for k in range(c):
                    if border:
                        out[0, n, y, i, k], out[1, n, y, i, k] = hb, lb
                    else:
                        v = np.int32(x[n, y - pad, i - pad, k]) - off
                        hv = (v + 128) >> 8
                        out[0, n, y, i, k], out[1, n, y, i, k] = hv, v - 256 * hv


def patches(src, dst):
    """The 3x3 patches of padded int8 maps ``src`` (G, B, Hp, Wp, C) into ``dst``
    (G*B*Ho*Wo, 9*C), rows in (g, image, y, x) order and columns in (ky, kx, c) order, as
    ``backend_torch.im2col`` of each map; copied as 8-byte words when C allows."""
    if src.shape[-1] % 8 == 0 and src.strides[-1] == 1 and dst.flags.c_contiguous:
        src, dst = src.view(np.uint64), dst.view(np.uint64)
    _patches(src, dst)


@njit(cache=True, nogil=True)
def _patches(src, dst):
    g, b, hp, wp, c = src.shape
    r = 0
    for q in range(g):
        for n in range(b):
            for y in range(hp - 2):
                for i in range(wp - 2):
                    for ky in range(3):
                        for kx in range(3):
                            o = (ky * 3 + kx) * c
                            for k in range(c):
                                dst[r, o + k] = src[q, n, y + ky, i + kx, k]
                    r += 1


@njit(cache=True, nogil=True)
def combine(r0, r1, out, add):
    """``out (+)= 2**16*HH + 2**8*(HL + LH) + LL`` with ``rj[i]`` piece i of the left operand
    times piece j of the right one (int32, (2, M, N)): int64 sums below 2**53, converted to
    float64 exactly."""
    m, c = out.shape
    for i in range(m):
        for k in range(c):
            v = (np.int64(r0[0, i, k]) * 65536
                 + (np.int64(r1[0, i, k]) + np.int64(r0[1, i, k])) * 256 + np.int64(r1[1, i, k]))
            if add:
                out[i, k] += v
            else:
                out[i, k] = v

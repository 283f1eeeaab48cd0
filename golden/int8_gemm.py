"""An exact GEMM of 16-bit integers through int8 x int8 -> int32 products (``torch._int_mm``).

Why it is exact. Let every entry of A (M, K) and B (K, N) be an integer in [-32768, 32767].
Write a = 256*h + l + 128 with h = floor(a / 256) in [-128, 127] and l = (a mod 256) - 128 in
[-128, 127]: both pieces are int8, and the identity holds for every 16-bit a. With P = A - 128
(entry-wise), P = 256*H + L; summing (p_a + 128)(p_b + 128) over k,

    A @ B = P_a @ P_b + 128 * (rowsum(P_a) + colsum(P_b)) + 128**2 * K
    P_a @ P_b = 2**16 * H_a @ H_b + 2**8 * (H_a @ L_b + L_a @ H_b) + L_a @ L_b.

The four piece products run on ``_int_mm`` in K-chunks of at most CHUNK = 2**15 terms. A term
is a product of two int8 values, |term| <= 128 * 128 = 2**14, so every partial sum that any
int32 kernel forms over a chunk, in any order, is at most 2**15 * 2**14 = 2**29 in magnitude,
and H_a @ L_b + L_a @ H_b, added in int32, at most 2**30 < 2**31 - 1: int32 never overflows.
(One chunk of 2**17 terms of (-128)*(-128) would reach 2**31, one past int32's maximum.)
The recombination runs in float64 on integers: every value it forms is a partial sum of
sum_k |p_a| * |p_b| + 128 * (|rowsum| + |colsum|) + 128**2 * K <= K * (2**15 + 128)**2 + ...,
below 2**53 for the K that ``fits`` admits, so every float64 operation is exact (an integer
below 2**53 is representable, and IEEE 754 returns a representable exact result exactly).
Zero padding of the pieces (for the GPU kernel's shape rules) adds products of zeros only.
"""

import sys

import torch

CHUNK = 1 << 15
LIMIT = 1 << 15  # operands must lie in [-LIMIT, LIMIT)
FLOAT64_EXACT = 1 << 53
# H @ L + L @ H over a chunk, summed in int32: |.| <= 2 * CHUNK * 2**14 = 2**30.
assert 2 * CHUNK * 128 * 128 <= 1 << 30
assert sys.byteorder == "little"  # split reads the bytes of int16 words


def fits(k, a_bound, b_bound):
    """Whether this route takes K terms with |a| <= a_bound and |b| <= b_bound. A bound of
    exactly 2**15 could be +32768, which has no int8 pair: refused (that job takes float64);
    so is a K at which K * (2**15 + 128)**2, twice over for the row and column sums, could
    pass 2**53 (the float64 recombination)."""
    return (int(a_bound) < LIMIT and int(b_bound) < LIMIT
            and 2 * k * (LIMIT + 128) ** 2 <= FLOAT64_EXACT)


def split(x):
    """(H, L, x16) of an integer-valued tensor in [-2**15, 2**15): int8 pieces with
    x = 256*H + L + 128, and x as int16. H = x >> 8 (arithmetic: floor(x / 256)); L is the low
    byte of x XOR 0x80 read as a signed byte (int16 -> int8 keeps the low byte, two's
    complement): the low byte u in [0, 255] of x becomes u - 128."""
    x16 = x.to(torch.int16).contiguous()
    return (x16 >> 8).to(torch.int8), (x16 ^ 0x80).to(torch.int8), x16


def int_matmul(a, b):
    """The exact integer product ``a @ b`` (float64) of integer-valued tensors in
    [-2**15, 2**15), on the tensors' device (``fits`` says when the route applies). With
    P = A - 128 entry-wise, P = 256*H + L and
    A @ B = P_a @ P_b + 128 * (rowsum(P_a) + colsum(P_b)) + 128**2 * K."""
    m, k = a.shape
    n = b.shape[1]
    ha, la, _ = split(a)
    hb, lb, _ = split(b)
    # Row sums of A's pieces and column sums of B's as int8 GEMMs against ones (the same chunk
    # bound holds; integer reductions are slow on a CPU); 8 ones, not 1, for CUDA's shape rule
    # and the CPU kernel's speed (an odd N of 33 took 1.7x the time of 32).
    ones_col = torch.ones((k, 8), dtype=torch.int8, device=a.device)
    ones_row = torch.ones((8, k), dtype=torch.int8, device=a.device)
    out, rows = None, torch.zeros((m, 1), dtype=torch.float64, device=a.device)
    cols = torch.zeros((1, n), dtype=torch.float64, device=a.device)
    for k0 in range(0, k, CHUNK):
        k1 = min(k, k0 + CHUNK)
        ha_, la_, hb_, lb_ = ha[:, k0:k1], la[:, k0:k1], hb[k0:k1], lb[k0:k1]
        t = _mm(ha_, hb_).to(torch.float64)
        t.mul_(256).add_(_mm(ha_, lb_).add_(_mm(la_, hb_)))     # int32 sum: |.| <= 2**30
        t.mul_(256).add_(_mm(la_, lb_))                          # P_a @ P_b of the chunk
        out = t if out is None else out.add_(t)
        # int32 * 256.0 would be float32 (inexact past 2**24): float64 first
        rows += _mm(ha_, ones_col[k0:k1])[:, :1].to(torch.float64) * 256
        rows += _mm(la_, ones_col[k0:k1])[:, :1]
        cols += _mm(ones_row[:, k0:k1], hb_)[:1].to(torch.float64) * 256
        cols += _mm(ones_row[:, k0:k1], lb_)[:1]
    # rows = rowsum(P_a), cols = colsum(P_b)
    return out.add_(128 * (rows + cols) + 128 * 128 * k)


def _mm(a, b):
    """int8 (m, c) @ int8 (c, n) -> int32 through ``_int_mm``. CUDA's kernel wants m > 16 and
    c, n multiples of 8: zero rows and columns are padded there and cropped off."""
    m, c = a.shape
    n = b.shape[1]
    if a.device.type == "cuda":
        pm, pc, pn = max(17, m) - m, -c % 8, -n % 8
        if pm or pc or pn:
            a = torch.nn.functional.pad(a, (0, pc, 0, pm))
            b = torch.nn.functional.pad(b, (0, pn, 0, pc))
    return torch._int_mm(_standard(a), _standard(b))[:m, :n]


def _standard(x):
    """``x`` with row-major strides (cols, 1). ``contiguous()`` is not enough: a tensor with a
    dimension of size 1 counts as contiguous whatever that dimension's stride, and torch
    2.13's CPU ``_int_mm`` takes the row stride as the leading dimension: a (1, 2) view of a
    transposed (2, 1) tensor (strides (1, 1)) multiplied to 0 in place of 12."""
    if x.stride() == (x.shape[1], 1):
        return x
    return torch.empty(x.shape, dtype=x.dtype, device=x.device).copy_(x)

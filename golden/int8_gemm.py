"""An exact GEMM of 16-bit integers through int8 x int8 -> int32 products (``torch._int_mm``).

Why it is exact. Let every entry of A (M, K) and B (K, N) be an integer in [-32768, 32767].
Write a = 256*h + l + 128 with h = floor(a / 256) in [-128, 127] and l = (a mod 256) - 128 in
[-128, 127]: both pieces are int8, and the identity holds for every 16-bit a. With P = A - 128
(entry-wise), P = 256*H + L, and

    A @ B = P_a @ P_b + 128 * rowsum(P_a) + 128 * colsum(P_b) + 128**2 * K
    P_a @ P_b = 2**16 * H_a @ H_b + 2**8 * (H_a @ L_b + L_a @ H_b) + L_a @ L_b.

Each of the four piece products runs on ``_int_mm`` in K-chunks of at most CHUNK = 2**16
terms. A term is a product of two int8 values, |term| <= 128 * 128 = 2**14, so every partial
sum that any int32 kernel forms over a chunk, in any order, has magnitude <= 2**16 * 2**14 =
2**30 < 2**31 - 1: int32 never overflows (one chunk of 2**17 terms of (-128)*(-128) would reach
exactly 2**31, one past int32's maximum; hence the power of two below). The chunks, the row and
column sums (of values below 2**16 in magnitude) and the recombination are int64, which holds
them while K * 2**30 < 2**63. The result leaves as float64, exact because the callers use this
route only where ``golden.exact.plan`` says a float64 GEMM would be exact (K*A*B <= 2**53).
Zero padding of the pieces (for the GPU kernel's shape rules) adds products of zeros only.
"""

import torch

CHUNK = 1 << 16
LIMIT = 1 << 15  # operands must lie in [-LIMIT, LIMIT)
assert CHUNK * 128 * 128 < (1 << 31) - 1


def fits(a_bound, b_bound):
    """Whether this route takes operands with |a| <= a_bound and |b| <= b_bound. A bound of
    exactly 2**15 could be +32768, which has no int8 pair: refused (that job takes float64)."""
    return int(a_bound) < LIMIT and int(b_bound) < LIMIT


def split(x):
    """(H, L, P) of an integer-valued tensor: int8 pieces with x = 256*H + L + 128 and
    P = x - 128 as int64."""
    xi = x.to(torch.int64)
    h = torch.div(xi, 256, rounding_mode="floor")
    low = xi - 256 * h - 128
    return h.to(torch.int8), low.to(torch.int8), xi - 128


def int_matmul(a, b):
    """The exact integer product ``a @ b`` (int64) of integer-valued tensors in
    [-2**15, 2**15), on the tensors' device."""
    m, k = a.shape
    n = b.shape[1]
    ha, la, pa = split(a)
    hb, lb, pb = split(b)
    out = torch.zeros((m, n), dtype=torch.int64, device=a.device)
    for k0 in range(0, k, CHUNK):
        k1 = min(k, k0 + CHUNK)
        hh = _mm(ha[:, k0:k1], hb[k0:k1])
        mixed = _mm(ha[:, k0:k1], lb[k0:k1]) + _mm(la[:, k0:k1], hb[k0:k1])
        out += (hh << 16) + (mixed << 8) + _mm(la[:, k0:k1], lb[k0:k1])
    out += 128 * pa.sum(dim=1, keepdim=True) + 128 * pb.sum(dim=0, keepdim=True)
    out += 128 * 128 * k
    return out


def _mm(a, b):
    """int8 (m, c) @ int8 (c, n) -> int64 through ``_int_mm``. CUDA's kernel wants m > 16 and
    c, n multiples of 8: zero rows and columns are padded there and cropped off."""
    m, c = a.shape
    n = b.shape[1]
    if a.device.type == "cuda":
        pm, pc, pn = max(17, m) - m, -c % 8, -n % 8
        if pm or pc or pn:
            a = torch.nn.functional.pad(a, (0, pc, 0, pm))
            b = torch.nn.functional.pad(b, (0, pn, 0, pc))
    return torch._int_mm(a.contiguous(), b.contiguous())[:m, :n].to(torch.int64)

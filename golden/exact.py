"""When an integer GEMM through floating-point BLAS is exact.

Every operand is an integer with |a| <= A and |b| <= B, so every product and every partial sum
that a BLAS kernel can form — in any order, blocked or fused (FMA) — is an integer of magnitude
at most K*A*B. A binary floating-point format with a p-bit significand holds every integer of
magnitude <= 2**p exactly, and an IEEE 754 operation whose exact result is representable returns
it exactly. So a float32 GEMM is exact while K*A*B <= 2**24 and a float64 GEMM while
K*A*B <= 2**53. A longer reduction of small operands is cut into K-chunks that each stay within
2**24 and are summed in float64 (exact by the same argument, since the total stays within
K*A*B <= 2**53). Beyond 2**53 only exact integer arithmetic will do.

A sharper bound cuts fewer chunks. A partial sum for output (m, n) over any subset of a chunk's
terms is at most sum over the chunk of |a[m,k]|*|b[k,n]| <= A * sum over the chunk of |b[k,n]|.
So a chunk is exact in float32 when A * max_n (sum over the chunk of |b[k,n]|) <= 2**24; on real
training data (backward-weight GEMMs, b = the errors, mostly far below their maximum) that takes
a handful of chunks where the K*A*B rule takes a hundred. ``l1_chunks`` finds such chunks from
exact column sums of |b| over blocks of rows.
"""

import numpy as np

FLOAT32_EXACT = 1 << 24
FLOAT64_EXACT = 1 << 53
# With fewer terms per chunk than this, one float64 GEMM is faster than many float32 ones.
MIN_FLOAT32_CHUNK = 256


def plan(k, a_bound, b_bound):
    """How to compute an exact (M,K)@(K,N) product of integers bounded by a_bound, b_bound.

    Returns ``("float32", chunk)`` (chunk = terms per float32 GEMM), ``("float64", k)`` or
    ``("exact", k)`` (needs integers wider than a float64 significand).
    """
    per_term = max(int(a_bound) * int(b_bound), 1)
    if k * per_term > FLOAT64_EXACT:
        return "exact", k
    chunk = FLOAT32_EXACT // per_term
    if chunk >= k:
        return "float32", k
    if chunk >= MIN_FLOAT32_CHUNK:
        return "float32", chunk
    return "float64", k


def l1_chunks(block_sums, block, k, a_bound):
    """K-chunks ``[(k0, k1), ...]`` whose float32 GEMMs are exact by the column-L1 bound.

    ``block_sums[j, n]`` is the exact sum of |b[k, n]| over rows k in ``[j*block,
    (j+1)*block)`` (the last block may be shorter). Consecutive blocks are merged greedily while
    ``a_bound * max_n(sum) <= 2**24``. With ``block`` no larger than the K*A*B chunk
    (``plan``) every single block qualifies on its own, so this never does worse than ``plan``.
    """
    chunks, start = [], 0
    a_bound = max(int(a_bound), 1)
    running = np.zeros(block_sums.shape[1], dtype=np.float64)
    for j, row in enumerate(block_sums.astype(np.float64)):
        merged = running + row  # integers below 2**53: exact, and so is the comparison
        if j > 0 and int(merged.max()) * a_bound > FLOAT32_EXACT:
            chunks.append((start, j * block))
            start, merged = j * block, row
        running = merged
    chunks.append((start, k))
    return chunks

"""When an integer GEMM through floating-point BLAS is exact.

Every operand is an integer with |a| <= A and |b| <= B, so every product and every partial sum
that a BLAS kernel can form — in any order, blocked or fused (FMA) — is an integer of magnitude
at most K*A*B. A binary floating-point format with a p-bit significand holds every integer of
magnitude <= 2**p exactly, and an IEEE 754 operation whose exact result is representable returns
it exactly. So a float32 GEMM is exact while K*A*B <= 2**24 and a float64 GEMM while
K*A*B <= 2**53. A longer reduction of small operands is cut into K-chunks that each stay within
2**24 and are summed in float64 (exact by the same argument, since the total stays within
K*A*B <= 2**53). Beyond 2**53 only exact integer arithmetic will do.
"""

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

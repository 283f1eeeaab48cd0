"""Naive reference models of docs/arithmetic.md on Python integers, written from the text alone,
and of the packed multiplier modes (``packed_reference``, from hw/multiplier.py's docstring).

They share no code with golden/ or hw/, so agreement between them means something.
"""

import math

MASK32 = 0xFFFFFFFF


def ref_prng(seed, m, n):
    x0 = (m ^ seed) & MASK32
    x1 = (n ^ seed ^ 0x1BD11BDA) & MASK32
    for r in (13, 15, 26, 6, 17, 29, 16, 24):
        x0 = (x0 + x1) & MASK32
        x1 = (((x1 << r) | (x1 >> (32 - r))) & MASK32) ^ x0
    return x0


def ref_round(acc, s, rounding, rand):
    """Step 3 of the contract for one output; ``rand`` is prng(seed, m, n)."""
    if s <= 0:
        return acc * 2 ** (-s)
    if rounding == 0:
        q, r = divmod(acc, 2 ** s)          # floor division: 0 <= r < 2**s
        if 2 * r > 2 ** s or (2 * r == 2 ** s and q % 2 == 1):
            q += 1
        return q
    r = rand >> (32 - s) if s <= 32 else rand << (s - 32)
    return (acc + r) // 2 ** s


def ref_gemm(a, b, *, a_frac, b_frac, out_width, out_frac, rounding, seed):
    """Returns (y as nested lists, saturated, underflow)."""
    rows, inner, cols = len(a), len(b), len(b[0])
    s = a_frac + b_frac - out_frac
    lo, hi = -2 ** (out_width - 1), 2 ** (out_width - 1) - 1
    y, saturated, underflow = [], 0, 0
    for m in range(rows):
        row = []
        for n in range(cols):
            acc = sum(int(a[m][k]) * int(b[k][n]) for k in range(inner))
            v = ref_round(acc, s, rounding, ref_prng(seed, m, n))
            if v < lo or v > hi:
                saturated += 1
                v = min(max(v, lo), hi)
            if acc != 0 and v == 0:
                underflow += 1
            row.append(v)
        y.append(row)
    return y, saturated, underflow


def packed_reference(width, group, a, b):
    """The spec: P = width // group signed fields, field 0 in the top bits; a's field g times
    b's field P-1-g, summed, at 2**(2*width - (P+1)*group)."""
    def field(word, g):
        bits = (word >> (width - (g + 1) * group)) & ((1 << group) - 1)
        return bits - (1 << group) if bits >> (group - 1) else bits
    count = width // group
    return sum(field(a, g) * field(b, count - 1 - g)
               for g in range(count)) << 2 * width - (count + 1) * group


def fused_reference(width, group, a, b, *, word):
    """The spec of the 2-D decomposed multiplier (hw/bricks.py's docstring) on ``word``-bit
    operand words: P = (width // group)**2 signed group-bit fields, field 0 in the top bits;
    a's field f times b's field P-1-f, summed, at 2**(2*width - 2*group - ceil(log2 P))."""
    def field(value, f):
        bits = (value >> (word - (f + 1) * group)) & ((1 << group) - 1)
        return bits - (1 << group) if bits >> (group - 1) else bits
    count = (width // group) ** 2
    at = 2 * width - 2 * group - math.ceil(math.log2(count))
    return sum(field(a, f) * field(b, count - 1 - f) for f in range(count)) << at

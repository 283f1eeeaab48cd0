"""Exact GEMMs and 3x3 convolutions of 16-bit integers from int8 x int8 -> int32 products
(``torch._int_mm``), for the torch backend's jobs that would otherwise need float64.

Why it is exact. Every operand x is an integer in [-2**15, 2**15). With an offset o in {0, 128},
x - o = 256*h + l, where l is the low byte of x - o read as a signed byte (l in [-128, 127],
l = x - o mod 256) and h = (x - o + 128) >> 8 = floor((x - o + 128) / 256). h is int8 exactly
when -32768 <= x - o + 128 <= 32767, that is, x - o in [-32896, 32639]: o = 0 (a *signed*
split) takes every x in [-2**15, SIGNED_MAX = 32639], o = 128 every x in [-2**15, 2**15). So
the route needs, per operand, x >= -2**15 and an upper bound x <= u < 2**15 (``upper_bounds``). With
A - o_a = 256*H_a + L_a and B - o_b = 256*H_b + L_b (entry-wise),

    A @ B = 2**16 * H_a@H_b + 2**8 * (H_a@L_b + L_a@H_b) + L_a@L_b
            + o_b * rowsum(A) + o_a * colsum(B) - o_a * o_b * K.

An operand whose bound is at most SIGNED_MAX takes o = 0, so the correction terms vanish when
both do (the usual case: a maximum of 32640..32767 is rare) and need the sums of one operand
only when one does. The four piece products come from two ``_int_mm`` per K-chunk, the pieces
of A stacked as rows [H_a; L_a] times H_b and times L_b (fewer, taller int8 GEMMs are faster
per product; past 64 columns the CPU kernel slows down, so B's pieces are not put side by
side). A term is a product of two int8 values,
|term| <= 128 * 128 = 2**14, so every partial sum that any int32 kernel forms over a chunk of at
most CHUNK = 2**15 terms, in any order, is at most 2**29 in magnitude, and H_a@L_b + L_a@H_b,
added in int32, at most 2**30 < 2**31: int32 never overflows. (A chunk of 2**17 terms of
(-128)*(-128) would reach 2**31, one past int32's maximum.) The recombination and the
corrections run in float64 on integers: each value formed is a partial sum of the exact
result's terms, at most K * (2**15 + 128)**2 + 2 * 128 * K * 2**15 in magnitude, below 2**53
for every K that ``fits`` admits, so every float64 operation is exact (an integer below 2**53
is representable, and IEEE 754 returns a representable exact result exactly); the row and
column sums (float64 sums of integers, below K * 2**15 in magnitude) are exact too. A convolution's border zeros are
padded onto x before it is split (a zero is x = 0, not a zero piece); zero padding of the pieces
for the GPU kernel's shape rules adds products of zeros only.
"""

import sys

import numpy as np
import torch

from . import int8_kernels

CHUNK = 1 << 15
LIMIT = 1 << 15             # operands must lie in [-LIMIT, LIMIT)
SIGNED_MAX = LIMIT - 129    # 32639: the largest value with an offset-free split
OFFSET = 128
FLOAT64_EXACT = 1 << 53
# int8 bytes of one block's stacked pieces (the tall operand of one _int_mm): blocks of about
# this size stayed in cache and ran 1.5-3x faster per product than twice the size (measured)
BLOCK_BYTES = 1 << 21
# H @ L + L @ H over a chunk, summed in int32: |.| <= 2 * CHUNK * 2**14 = 2**30.
assert 2 * CHUNK * 128 * 128 <= 1 << 30
assert sys.byteorder == "little"


def upper_bounds(k, a, a_bound, b, b_bound):
    """``(u_a, u_b)``, upper bounds of the operands' values for this route, or None where it does
    not take the job: K terms at which K * (2**15 + 128)**2, twice over for the corrections,
    could pass 2**53, or an operand that may hold +2**15 (no int8 pair). |x| <= bound < 2**15
    gives bound; a bound of exactly 2**15 (an exact maximum reached by -2**15, as a 16-bit
    input's is) gives 2**15 - 1 when x holds no +2**15 (one max pass)."""
    if 2 * k * (LIMIT + 128) ** 2 > FLOAT64_EXACT:
        return None
    ua, ub = _upper(a, a_bound), _upper(b, b_bound)
    return None if ua is None or ub is None else (ua, ub)


def _upper(x, bound):
    bound = int(bound)
    if bound < LIMIT:
        return bound
    if bound == LIMIT and (x.numel() == 0 or int(x.max()) < LIMIT):
        return LIMIT - 1
    return None


def offset(upper):
    """The split's offset for an operand x in [-2**15, upper]: 0 when its signed split fits."""
    return 0 if int(upper) <= SIGNED_MAX else OFFSET


def pieces(x, off, pad=0):
    """int8 pieces ``(2, *x.shape)`` of an integer-valued tensor: ``[H, L]`` with
    x - off = 256*H + L (the module's split; int32 -> int8 keeps the low byte, two's
    complement); an NHWC ``x`` zero-padded by ``pad`` pixels first. The caller guarantees
    x - off in [-32896, 32639]. On a CPU one numba pass."""
    x4 = x if x.dim() == 4 else x.reshape(1, 1, 1, -1)
    b, h, w, c = x4.shape
    out = torch.empty((2, b, h + 2 * pad, w + 2 * pad, c), dtype=torch.int8, device=x.device)
    if x.device.type == "cpu":
        int8_kernels.pieces(x4.numpy(), off, pad, out.numpy())
    else:
        _pieces_tensors(torch.nn.functional.pad(x4, (0, 0, pad, pad, pad, pad)), off, out)
    return out if x.dim() == 4 else out.reshape((2,) + tuple(x.shape))


def _pieces_tensors(x, off, out):
    x32 = x.to(torch.int32)
    if off:
        x32 -= off
    out[1].copy_(x32)
    out[0].copy_(x32.add_(128).bitwise_right_shift_(8))


def _patches(px, dst):
    """The patch matrix of padded int8 maps ``px`` (G, B, Hp, Wp, C) in ``dst``."""
    if px.device.type == "cpu":
        int8_kernels.patches(px.numpy(), dst.numpy())
    else:
        from .backend_torch import im2col
        dst.copy_(im2col(px.reshape((-1,) + tuple(px.shape[2:])), 0)[0])
    return dst


def int_matmul(a, b, *, a_bound, b_bound):
    """The exact integer product ``a @ b`` (float64) of integer-valued tensors with values in
    [-2**15, a_bound] and [-2**15, b_bound] (``upper_bounds``), on the tensors' device."""
    m, k = a.shape
    n = b.shape[1]
    oa, ob = offset(a_bound), offset(b_bound)
    a2, pb = pieces(a, oa).reshape(2 * m, k), pieces(b, ob)
    out = torch.empty((m, n), dtype=torch.float64, device=a.device)
    for k0 in range(0, k, CHUNK):
        a_ = a2[:, k0:k0 + CHUNK]
        _combine(_mm(a_, pb[0, k0:k0 + CHUNK]).reshape(2, m, n),
                 _mm(a_, pb[1, k0:k0 + CHUNK]).reshape(2, m, n), out, add=k0 > 0)
    return _offset_terms(out, oa, ob, k, rows=lambda: _sums(a, 1)[:, None],
                         cols=lambda: _sums(b, 0))


def conv(x, w, *, pad, a_bound, b_bound):
    """Exactly ``im2col(x, pad) @ w`` (float64) for an NHWC ``x`` in [-2**15, a_bound] and a
    (9*C, N) ``w`` in [-2**15, b_bound]: the patches of blocks of images built from x's pieces
    (int8: a quarter of the bytes of float32 patches), two ``_int_mm`` per block."""
    from .backend_torch import im2col
    b, h, wd, _ = x.shape
    k, n = w.shape
    if k > CHUNK:
        return int_matmul(im2col(x, pad)[0], w, a_bound=a_bound, b_bound=b_bound)
    oa, ob = offset(a_bound), offset(b_bound)
    px, pw = pieces(x, oa, pad), pieces(w, ob)
    hw = (h + 2 * pad - 2) * (wd + 2 * pad - 2)
    out = torch.empty((b * hw, n), dtype=torch.float64, device=x.device)
    step = min(b, max(1, BLOCK_BYTES // (2 * k * hw)))
    buf = torch.empty((2 * step * hw, k), dtype=torch.int8, device=x.device)
    for i in range(0, b, step):
        s = min(step, b - i)
        rows, blk = s * hw, out[i * hw:(i + s) * hw]
        p2 = _patches(px[:, i:i + s], buf[:2 * rows])
        _combine(_mm(p2, pw[0]).reshape(2, rows, n), _mm(p2, pw[1]).reshape(2, rows, n), blk,
                 add=False)
    # the patches' row sums: 3x3 window sums of x's channel sums
    return _offset_terms(out, oa, ob, k,
                         rows=lambda: _windows(_sums(_pad(x, pad), 3)).reshape(-1, 1),
                         cols=lambda: _sums(w, 0))


def _offset_terms(out, oa, ob, k, *, rows, cols):
    """``out`` (the product of the offset operands (A - oa)(B - ob)) plus what the offsets took
    away: ob * A's row sums + oa * B's column sums - oa * ob * K; the sums (``rows()`` as a
    column, ``cols()`` as a row) are computed only when their offset is non-zero."""
    if ob:
        out += ob * rows()
    if oa:
        out += oa * cols()
    if oa and ob:
        out -= oa * ob * k
    return out


def conv_weight(x, e, *, pad, a_bound, b_bound):
    """Exactly ``im2col(x, pad).T @ e`` (float64, (9*C, N)) for an NHWC ``x`` in
    [-2**15, a_bound] and errors ``e`` (B*Ho*Wo, N) in [-2**15, b_bound], as the transpose of
    e.T @ patches: per block of images (a K-chunk of at most CHUNK pixels) e's pieces as rows
    [H_e; L_e] times the patches of H_x and of L_x."""
    from .backend_torch import im2col
    b, h, wd, c = x.shape
    n = e.shape[1]
    hw = (h + 2 * pad - 2) * (wd + 2 * pad - 2)
    if hw > CHUNK:
        return int_matmul(e.T, im2col(x, pad)[0], a_bound=b_bound,
                          b_bound=a_bound).T.contiguous()
    ox, oe = offset(a_bound), offset(b_bound)
    px, pe = pieces(x, ox, pad), pieces(e, oe)
    acc = torch.empty((n, 9 * c), dtype=torch.float64, device=x.device)
    step = min(b, max(1, min(BLOCK_BYTES // (9 * c), CHUNK) // hw))
    buf = torch.empty((2, step * hw, 9 * c), dtype=torch.int8, device=x.device)
    for i in range(0, b, step):
        s = min(step, b - i)
        e2 = pe[:, i * hw:(i + s) * hw].transpose(1, 2).reshape(2 * n, s * hw)
        ph = _patches(px[0:1, i:i + s], buf[0, :s * hw])
        pl = _patches(px[1:2, i:i + s], buf[1, :s * hw])
        _combine(_mm(e2, ph).reshape(2, n, 9 * c), _mm(e2, pl).reshape(2, n, 9 * c), acc,
                 add=i > 0)
    if ox:
        acc += ox * _sums(e, 0)[:, None]
    if oe:  # the patches' column sums: per (ky, kx, c), x's window sums over the images
        acc += oe * _windows(_sums(_pad(x, pad), 0)[None], per_window=True)
    if ox and oe:
        acc -= ox * oe * e.shape[0]
    return acc.T.contiguous()


def _pad(x, pad):
    return torch.nn.functional.pad(x, (0, 0, pad, pad, pad, pad)) if pad else x


def _sums(x, dim):
    """Sums of an integer-valued tensor along ``dim`` in float64: integers below 2**53, exact in
    any order (on a CPU by NumPy: torch's reductions along a leading axis are several times
    slower)."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.add.reduce(x.numpy(), axis=dim, dtype=np.float64))
    return x.sum(dim=dim, dtype=torch.float64)


def _windows(s, *, per_window=False):
    """Sums over the 3x3 windows of a padded (B, Hp, Wp[, C]) float64 map ``s``: the sum for
    each output pixel (B, Ho, Wo), or with ``per_window`` the sum over all output pixels for
    each window offset (9 * C, in (ky, kx, c) order). Integers below 2**53: exact."""
    ho, wo = s.shape[1] - 2, s.shape[2] - 2
    shifted = [s[:, ky:ky + ho, kx:kx + wo] for ky in range(3) for kx in range(3)]
    if per_window:
        return torch.stack([t.sum(dim=(0, 1, 2)) for t in shifted]).reshape(-1)
    return sum(shifted[1:], shifted[0].clone())


def _combine(r0, r1, out, *, add):
    """``out (+)= 2**16*HH + 2**8*(HL + LH) + LL`` from the int32 piece products ``r0``, ``r1``
    (2, M, N): ``rj[i]`` is piece i of the left operand times piece j of the right one; ``out``
    (M, N) float64. On a CPU one numba pass (int64 sums of int32 values: |.| < 2**53, so the
    conversion to float64 is exact), elsewhere tensor operations: HL + LH in int32
    (|.| <= 2**30), the rest in float64 (int32 * 256.0 would be float32: float64 first)."""
    if out.device.type == "cpu":
        int8_kernels.combine(r0.numpy(), r1.numpy(), out.numpy(), add)
    else:
        _combine_tensors(r0, r1, out, add=add)


def _combine_tensors(r0, r1, out, *, add):
    t = r0[0].to(torch.float64) if add else out.copy_(r0[0])
    t.mul_(256).add_(r1[0] + r0[1]).mul_(256).add_(r1[1])
    if add:
        out.add_(t)


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

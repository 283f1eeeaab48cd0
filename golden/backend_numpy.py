"""The reference backend: the contract on NumPy arrays.

Exact integers travel as float64 arrays (exact below 2**53, see ``golden.exact``); a job whose
accumulation could pass 2**53 is computed on Python integers instead, slowly but exactly.
Rounding, saturation and counting run as the one-pass kernels of ``golden.fused``.
"""

import numpy as np

from . import exact, fused, ops
from .formats import Rounding

# Patch-matrix elements per block of images of a convolution GEMM: patches cut block by block
# stay in cache; the whole matrix at once was measured 1.4x (float64) and 1.6x (float32)
# slower.
PATCH_BLOCK = 1 << 18


class NumpyBackend:
    name = "numpy"

    # -- conversions ---------------------------------------------------------------------------
    @staticmethod
    def asarray(x, dtype=np.float64):
        return np.asarray(x, dtype=dtype)

    @staticmethod
    def to_numpy(x):
        return np.asarray(x)

    # -- the contract ---------------------------------------------------------------------------
    def matmul_exact(self, a, b, *, a_bound=None, b_bound=None):
        """``a @ b`` of integer-valued arrays, exactly: float64 (or object dtype past 2**53)."""
        a_bound = _abs_max(a) if a_bound is None else a_bound
        b_bound = _abs_max(b) if b_bound is None else b_bound
        how, chunk = exact.plan(a.shape[1], a_bound, b_bound)
        if how == "exact":
            return _object(a) @ _object(b)
        if how == "float64":
            return np.matmul(a.astype(np.float64, copy=False), b.astype(np.float64, copy=False))
        a32, b32 = a.astype(np.float32, copy=False), b.astype(np.float32, copy=False)
        k = a.shape[1]
        if chunk >= k:
            return np.matmul(a32, b32).astype(np.float64)
        acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.float64)
        for k0 in range(0, k, chunk):
            acc += np.matmul(a32[:, k0:k0 + chunk], b32[k0:k0 + chunk])
        return acc

    def accumulate(self, a, b, *, a_bound, b_bound):
        """``a @ b`` exactly, in the narrowest dtype that holds it: float32 when one float32
        GEMM is exact, float64 otherwise (object past 2**53), as ``golden.exact.plan`` says.
        With ``requantize_inplace`` this is ``gemm`` split open so that the caller can look
        at the accumulator (its maximum, its histogram) before choosing the shift."""
        how, chunk = exact.plan(a.shape[1], a_bound, b_bound)
        if how != "float32":
            return self.matmul_exact(a, b, a_bound=a_bound, b_bound=b_bound)
        a32, b32 = a.astype(np.float32, copy=False), b.astype(np.float32, copy=False)
        k = a.shape[1]
        chunks = [(0, k)] if chunk >= k else exact.l1_chunks(
            _block_abs_sums(b32, chunk), chunk, k, a_bound)
        if len(chunks) == 1:
            return np.matmul(a32, b32)
        acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.float64)
        for k0, k1 in chunks:
            acc += np.matmul(a32[:, k0:k1], b32[k0:k1])
        return acc

    def conv(self, x, w, *, pad, a_bound, b_bound):
        """``accumulate(im2col(x, pad), w)``: the GEMM of a 3x3 convolution of the NHWC map x
        with w (9*C, N); one GEMM per block of images when one float32 or float64 GEMM is
        exact."""
        k = w.shape[0]
        how, chunk = exact.plan(k, a_bound, b_bound)
        if how == "exact" or (how == "float32" and chunk < k):
            return self.accumulate(im2col(x, pad)[0], w, a_bound=a_bound, b_bound=b_bound)
        dtype = np.float32 if how == "float32" else np.float64
        # The map is widened once, 9x fewer elements than its patches.
        x, w, out = x.astype(dtype, copy=False), w.astype(dtype, copy=False), None
        for lo, hi, (a, (_, ho, wo)) in patch_blocks(x, pad):
            if out is None:
                out = np.empty((x.shape[0] * ho * wo, w.shape[1]), dtype)
            np.matmul(a, w, out=out[lo * ho * wo:hi * ho * wo])
        return out

    def conv_weight(self, x, e, *, pad, a_bound, b_bound):
        """``accumulate(im2col(x, pad).T, e)``, e (B*Ho*Wo, N): the weight gradient's GEMM, over
        runs of whole images that are each exact in one float32 GEMM (``image_runs``), or in
        float64, in blocks of images (the partial sums of an exact sum are exact too); run sums
        added in float64."""
        b, rows = x.shape[0], e.shape[0] // x.shape[0]
        how, chunk = exact.plan(e.shape[0], a_bound, b_bound)
        runs = {"float64": [(0, b)], "exact": None}.get(how)
        if how == "float32":
            runs = image_runs(e.reshape(b, rows, e.shape[1]), chunk, a_bound)
        if runs is None:
            return self.accumulate(im2col(x, pad)[0].T, e, a_bound=a_bound, b_bound=b_bound)
        dtype = np.float32 if how == "float32" else np.float64
        x, e, acc = x.astype(dtype, copy=False), e.astype(dtype, copy=False), None
        for r0, r1 in runs:
            part = None
            for lo, hi, (a, _) in patch_blocks(x[r0:r1], pad):
                lo, hi = (r0 + lo) * rows, (r0 + hi) * rows
                p = np.matmul(a.T, e[lo:hi])
                part = p if part is None else np.add(part, p, out=part)
            if len(runs) == 1:
                return part
            acc = part.astype(np.float64) if acc is None else np.add(acc, part, out=acc)
        return acc

    def requantize_inplace(self, acc, shift, width, rounding, seed, *, acc_abs_max=None):
        """``requantize`` of an accumulator the caller gives up (its memory may hold the
        result); the same bits. (``acc_abs_max``, the exact max |acc|, lets the torch backend's
        tensor path skip its saturation pass; the fused pass here saturates for free.)"""
        if acc.dtype == object:
            return self.requantize(acc, shift, width, rounding, seed)
        # A float32 accumulator rounded to nearest stays float32: acc * 2**-shift is exact (a
        # power of two; |shift| <= 100 keeps every nonzero value, an integer below 2**24 times
        # 2**-shift, normal and finite) and the outputs (< 2**23) are float32 integers.
        keep32 = (acc.dtype == np.float32 and rounding == Rounding.NEAREST_EVEN and width <= 24
                  and abs(shift) <= 100)
        out = acc if keep32 or acc.dtype == np.float64 else None
        return self._requantize(acc, 2.0 ** -shift, shift > 0, rounding, seed, width, out=out)

    def round_shift(self, acc, shift, rounding, seed, *, row0=0, col0=0):
        """``acc / 2**shift`` rounded by the contract (nearest-even or stochastic)."""
        if acc.dtype == object:
            return ops.round_shift(acc, shift, rounding=rounding, seed=seed, row0=row0,
                                   col0=col0)
        # Scaling by a power of two is exact while the result stays normal: |acc| < 2**53 and
        # |shift| <= 768 (formats bound |frac| by 256) keep it so.
        v = np.multiply(acc, 2.0 ** -shift, dtype=np.float64)
        return self._round_inplace(v, rounding, seed, row0, col0) if shift > 0 else v

    def round_scaled(self, v, rounding, seed, *, row0=0, col0=0):
        """Round exact values ``v`` to integers: nearest-even, or ``floor(v + R/2**32)``."""
        return self._round_inplace(np.array(v, dtype=np.float64), rounding, seed, row0, col0)

    @staticmethod
    def _round_inplace(v, rounding, seed, row0, col0):
        if rounding == Rounding.NEAREST_EVEN:
            return np.rint(v, out=v)
        fused.requantize_(v, v, scale=1.0, rounding=Rounding.STOCHASTIC, seed=seed,
                          width=None, row0=row0, col0=col0)
        return v

    @staticmethod
    def _requantize(src, scale, round_, rounding, seed, width, *, out=None, row0=0, col0=0):
        """``saturate(round(src * scale))`` of a 2-D ``src`` in one fused pass (``round_``:
        whether to round at all); returns ``(y, saturated, underflow)``, ``y`` in ``out`` or a
        new float64 array."""
        y = np.empty(src.shape, np.float64) if out is None else out
        saturated, underflow = fused.requantize_(src, y, scale=scale,
                                                 rounding=rounding if round_ else None,
                                                 seed=seed, width=width, row0=row0, col0=col0)
        return y, saturated, underflow

    @staticmethod
    def saturate(y, width):
        """``golden.ops.saturate`` of an integer-valued array (clamped in place unless object
        dtype); returns the clamped values and how many were clamped."""
        lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
        if y.dtype == object:
            n = int(sum(1 for v in y.flat if v < lo or v > hi))
            return np.clip(y, lo, hi).astype(np.float64), n
        if y.size == 0 or (y.min() >= lo and y.max() <= hi):
            return y, 0
        n = int(np.count_nonzero(y < lo) + np.count_nonzero(y > hi))
        return np.clip(y, lo, hi, out=y), n

    def requantize(self, acc, shift, width, rounding, seed, *, row0=0, col0=0):
        """round_shift, then saturate; returns ``(y, saturated, underflow)``."""
        if acc.dtype != object:
            return self._requantize(acc, 2.0 ** -shift, shift > 0, rounding, seed, width,
                                    row0=row0, col0=col0)
        nonzero = np.count_nonzero(acc)
        y = ops.round_shift(acc, shift, rounding=rounding, seed=seed, row0=row0, col0=col0)
        y, saturated = self.saturate(y, width)
        # y != 0 implies acc != 0 (rounding never lifts 0, clamping never yields 0), so the
        # outputs with acc != 0 and y == 0 number nnz(acc) - nnz(y).
        return y, saturated, int(nonzero - np.count_nonzero(y))

    def gemm(self, a, b, *, shift, out_width, rounding, seed, a_bound=None, b_bound=None):
        """The contract GEMM on integer-valued arrays; returns ``(y, saturated, underflow)``."""
        a_bound = _abs_max(a) if a_bound is None else a_bound
        b_bound = _abs_max(b) if b_bound is None else b_bound
        how, chunk = exact.plan(a.shape[1], a_bound, b_bound)
        if how == "float32" and chunk >= a.shape[1] and abs(shift) <= 100:
            # b * 2**-shift is exact (a power of two; |shift| <= 100 keeps it normal and
            # finite in float32) and so is the float32 GEMM with it, by the argument of
            # golden.exact applied to the integers acc = v * 2**shift.
            v = np.matmul(a.astype(np.float32, copy=False),
                          b.astype(np.float32) * np.float32(2.0 ** -shift))
            return self._requantize(v, 1.0, shift > 0, rounding, seed, out_width)
        acc = self.matmul_exact(a, b, a_bound=a_bound, b_bound=b_bound)
        y, saturated, underflow = self.requantize(acc, shift, out_width, rounding, seed)
        return y.astype(np.float64, copy=False), saturated, underflow

    def quantize(self, x, *, frac, width, rounding, seed):
        """Float values to ``Q(width, frac)`` integers; returns ``(q, saturated, underflow)``."""
        x = np.asarray(x, dtype=np.float64)
        flat = x.reshape(-1, x.shape[-1]) if x.ndim >= 2 else x.reshape(1, -1)
        q, saturated, underflow = self._requantize(flat, 2.0 ** frac, True, rounding, seed,
                                                   width)
        return q.reshape(x.shape), saturated, underflow


def may_saturate(acc_abs_max, shift, width):
    """Whether an accumulator with max |acc| = ``acc_abs_max`` can give an output that the
    saturation to ``width`` bits clamps. Both roundings give |y| <= ceil(|acc| / 2**shift)."""
    a = int(acc_abs_max)
    bound = a << -shift if shift <= 0 else -((-a) >> shift)
    return bound > (1 << (width - 1)) - 1


def im2col(x, pad):
    """(B, H, W, C) -> ((B*Ho*Wo, 9*C), (B, Ho, Wo)) for 3x3 windows at stride 1, zero padding
    ``pad``; columns in (ky, kx, c) order."""
    b, h, w, c = x.shape
    ho, wo = h + 2 * pad - 2, w + 2 * pad - 2
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    # The windows as one strided view (B, Ho, Wo, ky, kx, C) of x and a single copy: 2-3x
    # faster than concatenating 9 shifted slices along the short channel axis.
    s = x.strides
    win = np.lib.stride_tricks.as_strided(x, (b, ho, wo, 3, 3, c),
                                          (s[0], s[1], s[2], s[1], s[2], s[3]), writeable=False)
    return np.ascontiguousarray(win).reshape(b * ho * wo, 9 * c), (b, ho, wo)


def image_blocks(shape, pad):
    """[(first, end)] runs of images of an NHWC map whose 3x3 patches hold about
    ``PATCH_BLOCK`` elements (at least one image each)."""
    b, h, w, c = shape
    per_image = (h + 2 * pad - 2) * (w + 2 * pad - 2) * 9 * c
    step = max(1, PATCH_BLOCK // max(per_image, 1))
    return [(lo, min(lo + step, b)) for lo in range(0, b, step)]


def patch_blocks(x, pad):
    """``(first, end, im2col(x[first:end], pad))`` over ``image_blocks``; x padded once."""
    blocks = image_blocks(x.shape, pad)
    if pad and len(blocks) > 1:
        x, pad = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))), 0
    for lo, hi in blocks:
        yield lo, hi, im2col(x[lo:hi], pad)


def image_runs(e, chunk, a_bound):
    """Runs ``[(i0, i1), ...]`` of whole images whose weight-gradient sums are exact in
    float32 (``golden.exact.l1_chunks`` with one block per image), or None when one image
    alone may not be. ``e``: (B, positions, N); ``chunk``: the K*A*B chunk of ``plan``."""
    b, per_image, _ = e.shape
    if chunk >= b * per_image:
        return [(0, b)]
    sums = np.add.reduce(np.abs(e), axis=1, dtype=np.float64)  # exact: integers < 2**53
    if int(sums.max()) * max(int(a_bound), 1) > exact.FLOAT32_EXACT:
        return None
    return [(k0 // per_image, k1 // per_image)
            for k0, k1 in exact.l1_chunks(sums, per_image, b * per_image, a_bound)]


def _block_abs_sums(b, block):
    """Sums of |b| over consecutive blocks of ``block`` rows (the last may be shorter), per
    column, in float64: exact, as integers below 2**53."""
    k = b.shape[0]
    whole = k - k % block
    sums = np.abs(b[:whole]).reshape(whole // block, block, b.shape[1]).sum(axis=1,
                                                                           dtype=np.float64)
    if whole < k:
        sums = np.vstack([sums, np.abs(b[whole:]).sum(axis=0, dtype=np.float64)])
    return sums


def _abs_max(x):
    return 0 if x.size == 0 else int(max(abs(int(x.max())), abs(int(x.min()))))


def _object(x):
    return np.asarray(x).astype(np.int64).astype(object)
